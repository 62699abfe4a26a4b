"""Run the real ``lintimg`` console entry (``python -m lintimg``) in a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "fixtures" / "examples"
EXAMPLE_RULES = EXAMPLES / "rules"


def copy_checkout(dest: Path, commit: bool = False) -> Path:
    """This repository's files (tracked and new, not ignored: no build leftovers) copied to ``dest``, as a clone has them;
    ``commit``: also a git repository with them in one commit."""
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True)
    for name in names.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    if commit:
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
            subprocess.run([*git, *args], cwd=dest, check=True, capture_output=True)
    return dest


def lintimg(*args: str, cwd: Path | str | None = None, stdin: bytes | None = None, env: dict[str, str] | None = None,
            timeout: int = 120) -> subprocess.CompletedProcess:
    """``lintimg ARGS`` with text stdout/stderr; never raises on a non-zero exit."""
    # A LINTIMG_CONFIG or NO_COLOR of the developer's shell must not change what a test sees.
    base = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "NO_COLOR")}
    full_env = {**base, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "lintimg", *args],
        cwd=cwd or REPO, input=stdin, capture_output=True, env=full_env, timeout=timeout,
    )
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Assert exit 2 with one line on stderr, no traceback, mentioning every needle."""
    err = proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}, stderr: {err!r}, stdout: {proc.stdout[:300]!r}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    assert proc.stdout == "", "no partial report on a usage error"
    return lines[0]


def example_run(cwd: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``lintimg`` with the example rules loaded and only them selected (so results do not move with the built-in set)."""
    return lintimg("--rules-dir", str(EXAMPLE_RULES), "--select", "EX100,EX101", *args, cwd=cwd, stdin=stdin, env=env)


def json_findings(proc: subprocess.CompletedProcess) -> list[dict]:
    """The findings of a ``--format json`` run (no traceback allowed)."""
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)["findings"]
