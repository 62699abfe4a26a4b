"""reviewdog's diagnostic format, one JSON object per line (``reviewdog -f=rdjsonl``).

Each line is a ``Diagnostic``: ``message``, ``location`` (path and a 1-based
range, end exclusive as lintimg's), ``severity`` (``ERROR``, ``WARNING``,
``INFO``; style is ``INFO``), ``source``, ``code`` (the rule id with its
documentation URL) and, for a finding with an exact fix, ``suggestions``
(the fix's edits, which reviewdog offers as suggested changes on a pull
request; an unsafe fix says so in the message; none that touches a line
holding a secret). reviewdog counts columns in UTF-8 bytes where lintimg counts code
points, so every column is converted on the line it lies on.
"""
from __future__ import annotations

import json
from typing import Any

from lintimg.findings import Edit, Finding, Safety, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import artifact_path, region_of, secret_lines, shown_edits, source_line

LEVELS = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO", Severity.STYLE: "INFO"}
SOURCE = {"name": "lintimg", "url": "https://lintimg.dev/"}


def byte_column(text: str, column: int) -> int:
    """The 1-based UTF-8 byte column of the 1-based code-point ``column`` of ``text`` (past its end: one byte each)."""
    before = text[: column - 1]
    return len(before.encode("utf-8", "surrogatepass")) + (column - 1 - len(before)) + 1


def _position(info: RunInfo, path: str, line: int, column: int) -> dict[str, int]:
    return {"line": line, "column": byte_column(source_line(info, path, line), column)}


def _range(info: RunInfo, path: str, start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    return {"start": _position(info, path, *start), "end": _position(info, path, *end)}


def suggestion(f: Finding, e: Edit, info: RunInfo) -> dict[str, Any]:
    """One edit of a finding's fix as a reviewdog ``Suggestion`` (an empty range inserts)."""
    return {"range": _range(info, f.location.path, (e.line, e.column), (e.end_line, e.end_column)), "text": e.text}


def diagnostic(f: Finding, info: RunInfo, help_uri: str | None, edits: tuple[Edit, ...] = ()) -> dict[str, Any]:
    r = region_of(f, info)
    code: dict[str, Any] = {"value": f.rule_id}
    if help_uri:
        code["url"] = help_uri
    d: dict[str, Any] = {
        "message": f"{f.slug}: {f.message}" + (f" (fix: {f.fix})" if f.fix else ""),
        "location": {
            "path": artifact_path(f.location.path, info.image),
            "range": _range(info, f.location.path, (r.start_line, r.start_column), (r.end_line, r.end_column)),
        },
        "severity": LEVELS[f.severity],
        "source": SOURCE,
        "code": code,
    }
    if edits:
        d["suggestions"] = [suggestion(f, e, info) for e in edits]
        if f.safety is Safety.UNSAFE:  # reviewdog has no field for it: a reviewer must know before accepting it
            d["message"] += " [unsafe fix: the suggested change alters what the build or the container does]"
    return d


def render(findings: list[Finding], info: RunInfo) -> str:
    docs = {r.id: r.help_uri for r in info.rules}
    hidden = secret_lines(findings, info)  # no suggestion that touches a line holding a secret
    return "".join(json.dumps(diagnostic(f, info, docs.get(f.rule_id), shown_edits(f, hidden)), ensure_ascii=False) + "\n"
                   for f in findings)
