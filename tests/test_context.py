"""The build context end to end: the book's app and variants, the CLI, COPY resolution, cache, bad input."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.book.variants import VARIANTS, make_variant
from lintimg.context import BuildContext, ContextAttacher
from lintimg.dockerfile import parse_dockerfile
from tests.rulespec import lint

REPO = Path(__file__).resolve().parent.parent


def context_findings(dockerfile: Path, config: dict | None = None) -> list[tuple[str, int]]:
    """(rule id, line) of every context finding: LI4xx and LI540."""
    findings = lint(dockerfile.read_text(), config, path=str(dockerfile), attach=ContextAttacher())
    assert not [f for f in findings if f.rule_id == "LI002"], [f.message for f in findings if f.rule_id == "LI002"]
    return sorted((f.rule_id, f.location.line) for f in findings if f.rule_id.startswith("LI4") or f.rule_id == "LI540")


EXPECTED = {
    "app": [],
    "no-dockerignore": [("LI401", 7)],
    "copy-first": [("LI406", 4)],
    "dotenv": [("LI402", 7), ("LI540", 7)],
    "id-rsa": [("LI402", 7), ("LI540", 7)],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_book_app_and_variants_give_exactly_the_expected_findings(tmp_path: Path, monkeypatch, variant: str) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_variant(variant, tmp_path / variant)
    assert context_findings(root / "Dockerfile") == EXPECTED[variant]


def test_book_app_secrets_are_never_printed_whole(tmp_path: Path) -> None:
    root = make_variant("dotenv", tmp_path / "app")
    key = (root / ".env").read_text().split("STRIPE_LIVE=")[1].strip()
    for fmt in ("text", "json", "sarif"):
        proc = run_cli(str(root / "Dockerfile"), "--format", fmt, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
        assert proc.returncode == 1
        assert "LI540" in proc.stdout and key not in proc.stdout and key[8:] not in proc.stdout


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "lintimg", *args], input=stdin, capture_output=True, text=True, env=e, cwd=cwd or REPO, timeout=120)


def test_cli_context_flags(tmp_path: Path) -> None:
    root = make_variant("no-dockerignore", tmp_path / "app")
    other = tmp_path / "other"
    other.mkdir()
    df = str(root / "Dockerfile")
    assert "LI401" in run_cli(df, "--select", "LI401,LI404").stdout
    assert "LI4" not in run_cli(df, "--no-context", "--select", "LI401,LI404").stdout
    # Another context directory: package*.json is not there.
    out = run_cli(df, "--context", str(other), "--select", "LI401,LI404").stdout
    assert "LI404" in out and "package*.json" in out
    # stdin has no context unless one is given.
    text = (root / "Dockerfile").read_text()
    assert "LI401" not in run_cli("-", "--select", "LI401", stdin=text).stdout
    assert "LI401" in run_cli("-", "--context", str(root), "--select", "LI401", stdin=text).stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--context", "/nonexistent/ctx"], "build context is not a directory"),
        (["--context", ".", "--no-context"], "cannot be used together"),
    ],
)
def test_cli_bad_context_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    root = make_variant("app", tmp_path / "app")
    proc = run_cli(str(root / "Dockerfile"), *args)
    assert proc.returncode == 2 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def copies_of(root: Path, dockerfile: str):
    (root / "Dockerfile").write_text(dockerfile)
    ctx = BuildContext(str(root), str(root / "Dockerfile"))
    return ctx, ctx.copies(parse_dockerfile(dockerfile, str(root / "Dockerfile")))


def write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def test_what_each_copy_sends(tmp_path: Path) -> None:
    write(tmp_path, {"src/a.py": "12345", "src/pkg/b.py": "1", "src/c.txt": "12", "README.md": "x", "docs/x.md": "y", ".dockerignore": "src/c.txt\n"})
    df = "FROM python:3.12\nCOPY src /app\nCOPY *.md src/*.py /docs/\nCOPY <<EOF /etc/motd\nhello\nEOF\nCOPY --from=0 /app /x\n"
    _, copies = copies_of(tmp_path, df)
    assert [c.ins.line for c in copies] == [2, 3, 4]
    src, mixed, heredoc = copies
    assert heredoc.files == [] and heredoc.bytes == len("hello\n")
    assert {e.rel: e.size for e in src.files} == {"src/a.py": 5, "src/pkg/b.py": 1}  # c.txt is ignored
    assert src.bytes == 6
    assert sorted(e.rel for e in mixed.files) == ["README.md", "src/a.py"]  # * stays in one segment
    assert [s.kind for s in mixed.sources] == ["glob", "glob"]


def test_heredoc_sources_count_their_content_and_remote_ones_are_left_out(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": "12345"})
    _, copies = copies_of(tmp_path, "FROM alpine\nCOPY <<EOF a.txt /x/\nhi there\nEOF\nADD https://example.com/a.tgz /y\n")
    assert len(copies) == 1
    assert [s.kind for s in copies[0].sources] == ["heredoc", "path"]
    assert [e.rel for e in copies[0].files] == ["a.txt"] and copies[0].bytes == 5 + len("hi there\n")


def test_lazy_walk_reads_only_what_sources_need(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": "{}", **{f"big/{i}/f.txt": "x" for i in range(20)}})
    ctx, copies = copies_of(tmp_path, "FROM node:20\nCOPY package.json ./\n")
    assert [e.rel for e in copies[0].files] == ["package.json"]
    assert ctx.tree._lists == {}  # not a single directory listed


def test_no_copy_means_no_context_work(tmp_path: Path) -> None:
    ctx, copies = copies_of(tmp_path, "FROM alpine\nRUN echo hi\n")
    assert copies == [] and ctx.tree._lists == {} and ctx.tree._stats == {}


def test_warm_run_reads_no_file_contents(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "ctx"
    token = "ghp_" + "k3Jx9Qm2Lp7Rv4Tz8Wb1Yc6Nd0Fh5Gs2Ae7U"[:36]
    write(root, {**{f"src/m{i}.py": f"x = {i}\n" * 20 for i in range(30)}, "src/conf.py": f"GH = '{token}'\n", ".dockerignore": ".git\n"})
    past = time.time() - 3600
    for p in root.rglob("*"):
        os.utime(p, (past, past))
    df = "FROM python:3.12\nCOPY src /app\n"
    reads = []
    for _ in range(2):
        ctx, copies = copies_of(root, df)
        os.utime(root / "Dockerfile", (past, past))
        scanner = ctx.secrets(None)
        found = scanner.scan(copies[0].files)
        assert list(found) == ["src/conf.py"]
        reads.append(scanner.read_files)
    assert reads[0] == 31 and reads[1] == 0
    # A changed file is read again.
    (root / "src" / "m1.py").write_text("y = 2\n" * 20)
    os.utime(root / "src" / "m1.py", (past + 10, past + 10))
    ctx, copies = copies_of(root, df)
    scanner = ctx.secrets(None)
    scanner.scan(copies[0].files)
    assert scanner.read_files == 1


def test_cache_file_holds_no_secret(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_variant("dotenv", tmp_path / "app")
    past = time.time() - 3600
    for p in root.rglob("*"):
        os.utime(p, (past, past))
    key = (root / ".env").read_text().split("STRIPE_LIVE=")[1].strip()
    assert ("LI540", 7) in context_findings(root / "Dockerfile")
    cached = list((tmp_path / "cache" / "lintimg").rglob("*.json"))
    assert cached and all(key[8:] not in p.read_text() for p in cached)
    assert any(json.loads(p.read_text()).get(".env") for p in cached if p.parent.name == "context")


def test_unreadable_entries_are_findings_not_crashes(tmp_path: Path) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to bite")
    root = tmp_path / "ctx"
    write(root, {"sub/a": "x", "b": "y", "Dockerfile": "FROM scratch\nCOPY . /x\n", ".dockerignore": ".git\n"})
    os.chmod(root / "sub", 0)
    os.chmod(root / "b", 0)
    try:
        cmd = [sys.executable, "-m", "lintimg", str(root / "Dockerfile"), "--select", "LI410,LI540"]
        if os.geteuid() == 0:  # drop root's permission bypass
            caps = "-dac_override,-dac_read_search"
            cmd = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO), "LINTIMG_NO_CACHE": "1"}, timeout=120)
    finally:
        os.chmod(root / "sub", 0o755)
        os.chmod(root / "b", 0o644)
    assert proc.returncode == 1, proc.stderr
    assert "sub cannot be read (permission denied)" in proc.stdout and "b cannot be read (permission denied)" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_symlink_loop_inside_a_copied_tree_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path, {"app/a": "x"})
    (tmp_path / "app" / "self").symlink_to(".")
    (tmp_path / "app" / "up").symlink_to("..")
    _, copies = copies_of(tmp_path, "FROM alpine\nCOPY app /app\nCOPY app/self/self/self/a /a\n")
    assert sorted(e.rel for e in copies[0].files) == ["app/a", "app/self", "app/up"]
    assert [e.rel for e in copies[1].files] == ["app/a"]


def test_copy_exclude_flag_filters_relative_to_the_source(tmp_path: Path) -> None:
    write(tmp_path, {"app/a.py": "x", "app/notes.md": "x", "app/sub/b.md": "x", "top.md": "x"})
    _, copies = copies_of(tmp_path, "FROM alpine\nCOPY --exclude=*.md app /app\nCOPY --exclude=**/*.md . /all\n")
    assert sorted(e.rel for e in copies[0].files) == ["app/a.py", "app/sub/b.md"]
    assert sorted(e.rel for e in copies[1].files) == ["Dockerfile", "app/a.py"]
