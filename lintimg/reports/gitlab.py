"""GitLab Code Quality report (the ``codequality`` artifact): a JSON array of issues."""
from __future__ import annotations

import json

from lintimg.findings import Finding, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import (
    artifact_path,
    fingerprints,
    region_of,
    security_rule_ids,
)

# GitLab's scale: info, minor, major, critical, blocker.
SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "minor", Severity.STYLE: "info"}


def render(findings: list[Finding], info: RunInfo) -> str:
    security = security_rule_ids(info)
    issues = []
    for f, fp in zip(findings, fingerprints(findings, info)):
        r = region_of(f, info)
        issues.append({
            "type": "issue",
            "description": f"{f.rule_id} {f.message}",
            "check_name": f"{f.rule_id} {f.slug}",
            "categories": ["Security"] if f.rule_id in security else ["Bug Risk"] if f.severity >= Severity.ERROR else ["Style"],
            "fingerprint": fp,
            "severity": SEVERITIES[f.severity],
            "location": {"path": artifact_path(f.location.path, info.image), "lines": {"begin": r.start_line, "end": r.end_line}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
