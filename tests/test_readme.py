"""Every shell command in README.md runs as written from a clone of the repository.

The commands run with bash in a copy of the repository's files (tracked and
new, made a git repository with one commit, like a fresh clone) that has no
``../shared`` beside it, with lintimg from this environment on PATH and an
empty HOME. A command runs to completion without a traceback or a usage error
and exits 0 or 1 (findings). Commands that need more than a clone carry a
``# needs …`` comment in README: they run too and may fail for want of it,
but only with lintimg's one-line error (exit 2), never a usage error, so a
flag that stops existing is still caught. Not run: the two Quick start
set-up commands' ``pip install -e .`` (it is how this environment was made,
and it would re-point it at the copy) and ``bash tests/run.sh`` (this suite).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import REPO, copy_checkout

README = (REPO / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    out = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        out += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return out


def _runnable(cmd: str) -> str | None:
    """The part of a command this test runs (None: not run, see the module docstring)."""
    if cmd.startswith("bash tests/run.sh"):
        return None
    if cmd.startswith("pip install -e ."):
        rest = cmd.split("&&", 1)
        return rest[1].strip() if len(rest) == 2 else None
    return cmd


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("readme") / "lintimg", commit=True)


def test_readme_has_the_commands_it_promises() -> None:
    cmds = commands()
    assert any(c.startswith("pip install -e . && lintimg ") for c in cmds) and "bash tests/run.sh" in cmds
    assert any(c.startswith("lintimg baseline") for c in cmds) and any("--ignore DL3008" in c for c in cmds)


@pytest.mark.parametrize("cmd", commands())
def test_readme_command_runs_from_a_clone(cmd: str, clone: Path, tmp_path: Path) -> None:
    runnable = _runnable(cmd)
    if runnable is None:
        pytest.skip("sets up this test run (see the module docstring)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINTIMG_")}
    env.update({"PATH": os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")]), "HOME": str(tmp_path), "NO_COLOR": "1"})
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", runnable], cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in out and "usage:" not in proc.stderr, out
    if "# needs" in cmd:
        assert proc.returncode in (0, 1) or (proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1), out
    else:
        assert proc.returncode in (0, 1), out
