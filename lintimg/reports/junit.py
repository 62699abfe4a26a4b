"""JUnit XML: one test suite per run, one test case per file and rule.

A clean file is one passing test case; each rule that reports on a file is
a failing test case whose body lists every finding of that rule there.
CI systems (GitLab, Jenkins, Azure) show these as test results.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from lintimg.findings import Finding
from lintimg.reports import RunInfo
from lintimg.reports.places import artifact_path


def render(findings: list[Finding], info: RunInfo) -> str:
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.location.path, []).append(f)
    files = list(dict.fromkeys([*info.files, *by_file]))
    suite = ET.Element("testsuite", name="lintimg", tests="0", failures="0", errors="0", skipped="0")
    tests = failures = 0
    for path in files:
        shown = artifact_path(path, info.image)
        own = sorted(by_file.get(path, []), key=lambda f: (f.rule_id, f.location.line, f.location.column))
        if not own:
            ET.SubElement(suite, "testcase", classname=shown, name="lintimg")
            tests += 1
            continue
        for rule_id, group in groupby(own, key=lambda f: f.rule_id):
            items = list(group)
            case = ET.SubElement(suite, "testcase", classname=shown, name=f"{rule_id} {items[0].slug}")
            worst = max(f.severity for f in items)
            failure = ET.SubElement(case, "failure", message=f"{len(items)} finding{'s' if len(items) != 1 else ''}: {items[0].message}", type=str(worst))
            failure.text = "\n".join(
                f"{shown}:{f.location.line}:{f.location.column}: {f.severity} {f.message}" + (f" (fix: {f.fix})" if f.fix else "")
                for f in items
            )
            tests += 1
            failures += 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    root = ET.Element("testsuites", name="lintimg", tests=str(tests), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
