"""GitHub annotations, JUnit XML, GitLab Code Quality, text and JSON: each parsed back."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lintimg.findings import Finding, Location, Severity
from lintimg.reports import RunInfo, github
from tests.clirun import EXAMPLE_RULES, lintimg

SECRET = "s3cr3t-Pa55w0rd-value"
TWO_FILES = {
    "a/Dockerfile": "FROM alpine\nENV DB_PASSWORD=" + SECRET + "\n",
    "b/Dockerfile": "FROM alpine:3.19\nRUN echo ok\n",
    "c/Dockerfile": "FROM alpine:3.19\nRUNN echo typo\n",
}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for name, text in TWO_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def report(tree: Path, fmt: str) -> str:
    proc = lintimg("--format", fmt, "--rules-dir", str(EXAMPLE_RULES), "--select", "EX100,EX101", ".", cwd=tree)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert SECRET not in proc.stdout, f"{fmt} printed the secret whole"
    return proc.stdout


_COMMAND = re.compile(r"^::(error|warning|notice) ((?:[a-zA-Z]+=[^,:]*,?)+)::(.*)$")


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    m = _COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    unescape = lambda s: s.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")  # noqa: E731
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))


def test_github_annotations(tree: Path) -> None:
    lines = report(tree, "github").splitlines()
    parsed = [parse_workflow_command(line) for line in lines]
    by_title = {props["title"]: (level, props, msg) for level, props, msg in parsed}
    assert set(by_title) == {"EX100 example-latest-tag", "EX101 example-password-env", "LI001 parse-error"}
    level, props, msg = by_title["EX101 example-password-env"]
    assert level == "error"
    assert props["file"] == "a/Dockerfile" and props["line"] == "2" and props["col"] == "5"
    assert int(props["endColumn"]) > int(props["col"])
    level, props, msg = by_title["EX100 example-latest-tag"]
    assert level == "warning" and props["file"] == "a/Dockerfile"
    assert "\nFix: use an explicit version tag" in msg
    assert by_title["LI001 parse-error"][1]["file"] == "c/Dockerfile"


def test_github_escaping() -> None:
    f = Finding("LI001", "parse-error", Severity.INFO, "100% bad\r\nsecond line", Location("dir,with:odd/Dockerfile", 3, 2, 3, 5))
    out = github.render([f], RunInfo(rules=[], files=[]))
    assert out.count("\n") == 1, "one finding is one line"
    level, props, msg = parse_workflow_command(out.rstrip("\n"))
    assert level == "notice"
    assert props["file"] == "dir,with:odd/Dockerfile"
    assert msg == "100% bad\r\nsecond line"
    assert "::100%25 bad%0D%0Asecond line" in out


def test_junit(tree: Path) -> None:
    root = ET.fromstring(report(tree, "junit"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    by = {(c.get("classname"), c.get("name")): c for c in cases}
    assert ("b/Dockerfile", "lintimg") in by and by[("b/Dockerfile", "lintimg")].find("failure") is None
    fail = by[("a/Dockerfile", "EX101 example-password-env")].find("failure")
    assert fail is not None and fail.get("type") == "error"
    assert "a/Dockerfile:2:5" in fail.text
    assert by[("c/Dockerfile", "LI001 parse-error")].find("failure") is not None
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("tests")) == len(cases) == 4
    assert int(suite.get("failures")) == len(failures) == 3
    assert root.get("failures") == "3"


def test_gitlab_code_quality(tree: Path) -> None:
    issues = json.loads(report(tree, "gitlab"))
    assert len(issues) == 3
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == 3
    pw = next(i for i in issues if i["check_name"].startswith("EX101"))
    assert pw["location"]["path"] == "a/Dockerfile" and pw["location"]["lines"]["begin"] == 2
    assert pw["severity"] == "critical" and pw["categories"] == ["Security"]
    latest = next(i for i in issues if i["check_name"].startswith("EX100"))
    assert latest["severity"] == "major"


def test_text_groups_by_file_and_masks_secret_lines(tree: Path) -> None:
    out = report(tree, "text")
    assert out.index("a/Dockerfile\n") < out.index("a/Dockerfile:1:6") < out.index("c/Dockerfile\n")
    assert "ENV DB_P" in out  # the excerpt is there, cut before the secret
    assert "\x1b[" not in out  # not a TTY: no colour
    assert out.rstrip().endswith("3 findings in 3 files (2 error, 1 warning)")


def test_json_findings(tree: Path) -> None:
    doc = json.loads(report(tree, "json"))
    assert doc["kind"] == "dockerfile"
    assert sorted(doc["files"]) == sorted(TWO_FILES)
    pw = next(f for f in doc["findings"] if f["rule"] == "EX101")
    assert (pw["file"], pw["line"], pw["column"], pw["severity"]) == ("a/Dockerfile", 2, 5, "error")


def test_unknown_format_is_a_usage_error(tree: Path) -> None:
    proc = lintimg("--format", "xml", ".", cwd=tree)
    assert proc.returncode == 2
    assert "unknown format 'xml'" in proc.stderr and "sarif" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
