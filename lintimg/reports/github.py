"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding.

GitHub shows these as annotations on the changed lines of a pull request.
Data is escaped as the runner expects (``%``, CR, LF); property values also
escape ``:`` and ``,``, which would otherwise end a property.
"""
from __future__ import annotations

from lintimg.findings import Finding, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import artifact_path, region_of

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice", Severity.STYLE: "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render(findings: list[Finding], info: RunInfo) -> str:
    out = []
    for f in findings:
        r = region_of(f, info)
        props = {
            "file": artifact_path(f.location.path, info.image),
            "line": r.start_line,
            "endLine": r.end_line,
            "col": r.start_column,
            "endColumn": r.end_column,
            "title": f"{f.rule_id} {f.slug}",
        }
        head = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
        message = f.message + (f"\nFix: {f.fix}" if f.fix else "")
        out.append(f"::{COMMANDS[f.severity]} {head}::{escape_data(message)}")
    return "".join(line + "\n" for line in out)
