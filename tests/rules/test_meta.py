"""LI001 parse-error and LI004 ignore-pragma-used (rules/meta.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import example_run as run
from tests.clirun import json_findings as findings
from tests.rulespec import lint


def lines_of(rule: str, text: str, config: dict | None = None) -> list[int]:
    return sorted(f.location.line for f in lint(text, config) if f.rule_id == rule)


TWO = "FROM a:1\n{p}WORKDIR one\nWORKDIR two\n"


def test_pragma_use_is_reported_only_when_li004_is_on():
    text = TWO.format(p="# hadolint ignore=DL3000\n")
    assert lines_of("LI004", text) == []
    assert lines_of("LI004", text, {"rules": {"ignore-pragma-used": "on"}}) == [2]
    assert lines_of("LI004", "# a comment\n" + TWO.format(p=""), {"rules": {"LI004": "on"}}) == []




@pytest.mark.parametrize("content, message", [
    (bytes(range(256)) * 64, "not a text file"),
    (b"", "no instructions"),
    (b"# only a comment\n\n", "no instructions"),
    (b"x" * (10 * 1024 * 1024), "larger than"),
    (b"\xff\xfe" + "FROM alpine:3.19\n".encode("utf-16-le"), "not a text file"),
], ids=["binary", "empty", "comment-only", "10MB", "utf16"])
def test_unusable_contents_are_a_parse_error_finding(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "Dockerfile").write_bytes(content)
    proc = run(tmp_path, "--format", "json", "Dockerfile")
    assert proc.returncode == 1, proc.stderr
    got = findings(proc)
    assert [(f["rule"], f["line"]) for f in got] == [("LI001", 1)]
    assert message in got[0]["message"]
    assert proc.stderr == ""
