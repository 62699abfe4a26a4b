"""LI540: secrets in the files COPY sends (rules/context_secrets.py)."""
from __future__ import annotations

from pathlib import Path

from tests.rulespec import ctx_lint, only


def test_li540_names_file_line_detector_and_redacts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    token = "ghp_" + "k3Jx9Qm2Lp7Rv4Tz8Wb1Yc6Nd0Fh5Gs2Ae7U"[:36]
    files = {"app/settings.py": f"DEBUG = False\nNAME = 'x'\nGITHUB = '{token}'\n", ".dockerignore": ".git\n"}
    root = tmp_path / "c"
    root.mkdir()
    f = only(ctx_lint(root, "FROM python:3.12\nCOPY app /app\n", files, rule="LI540"))
    assert f.location.line == 2 and f.location.column == 6
    assert "app/settings.py" in f.message and "line 3" in f.message and "GitHub" in f.message
    assert token not in f.message and token[6:] not in f.message
    assert f.properties["file_line"] == 3


def test_li540_only_copied_files_and_not_excluded_ones(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    token = "ghp_" + "k3Jx9Qm2Lp7Rv4Tz8Wb1Yc6Nd0Fh5Gs2Ae7U"[:36]
    files = {"server.js": "x\n", "secrets.txt": f"GITHUB='{token}'\n", ".dockerignore": "secrets.txt\n"}
    root = tmp_path / "c"
    root.mkdir()
    assert not ctx_lint(root, "FROM node:20\nCOPY server.js /app/\n", files, rule="LI540")
    assert not ctx_lint(root, "FROM node:20\nCOPY . /app/\n", files, rule="LI540")
