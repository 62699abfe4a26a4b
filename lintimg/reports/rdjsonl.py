"""reviewdog's diagnostic format, one JSON object per line (``reviewdog -f=rdjsonl``).

Each line is a ``Diagnostic``: ``message``, ``location`` (path and a 1-based
range, end column exclusive as lintimg's), ``severity`` (``ERROR``,
``WARNING``, ``INFO``; style is ``INFO``), ``source`` and ``code`` (the rule id
with its documentation URL). reviewdog posts them as review comments on the
changed lines of a pull request.
"""
from __future__ import annotations

import json
from typing import Any

from lintimg.findings import Finding, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import artifact_path, region_of

LEVELS = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO", Severity.STYLE: "INFO"}
SOURCE = {"name": "lintimg", "url": "https://lintimg.dev/"}


def diagnostic(f: Finding, info: RunInfo, help_uri: str | None) -> dict[str, Any]:
    r = region_of(f, info)
    code: dict[str, Any] = {"value": f.rule_id}
    if help_uri:
        code["url"] = help_uri
    return {
        "message": f"{f.slug}: {f.message}" + (f" (fix: {f.fix})" if f.fix else ""),
        "location": {
            "path": artifact_path(f.location.path, info.image),
            "range": {"start": {"line": r.start_line, "column": r.start_column}, "end": {"line": r.end_line, "column": r.end_column}},
        },
        "severity": LEVELS[f.severity],
        "source": SOURCE,
        "code": code,
    }


def render(findings: list[Finding], info: RunInfo) -> str:
    docs = {r.id: r.help_uri for r in info.rules}
    return "".join(json.dumps(diagnostic(f, info, docs.get(f.rule_id)), ensure_ascii=False) + "\n" for f in findings)
