"""Checkstyle XML: one ``<file>`` per file checked, one ``<error>`` per finding.

Read by Jenkins (warnings-ng), reviewdog (``-f=checkstyle``), SonarQube
importers and most CI dashboards. Severities map to checkstyle's ``error``,
``warning`` and ``info`` (style is ``info``); ``source`` is ``lintimg.<rule id>``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from lintimg.findings import Finding, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import artifact_path

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info", Severity.STYLE: "info"}


def render(findings: list[Finding], info: RunInfo) -> str:
    root = ET.Element("checkstyle", version="4.3")
    files: dict[str, ET.Element] = {}
    for path in dict.fromkeys([*info.files, *(f.location.path for f in findings)]):
        files[path] = ET.SubElement(root, "file", name=artifact_path(path, info.image))
    for f in findings:
        message = f"{f.slug}: {f.message}" + (f" (fix: {f.fix})" if f.fix else "")
        ET.SubElement(files[f.location.path], "error", line=str(f.location.line), column=str(f.location.column),
                      severity=LEVELS[f.severity], message=message, source=f"lintimg.{f.rule_id}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
