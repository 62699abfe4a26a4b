"""ShellCheck results cached on disk: a warm run starts no ShellCheck, the key holds everything the
answer depends on, concurrent runs are safe, and corrupt entries are checked again."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import REPO

REAL = shutil.which("shellcheck")
pytestmark = pytest.mark.skipif(REAL is None, reason="shellcheck not on PATH (pip install lintimg[shellcheck])")

DOCKERFILE = "FROM debian:12\nARG NAME\nRUN echo $1 $NAME && cd /tmp\nRUN for f in $(ls /srv); do echo \"$f\"; done\n"


def counting_shellcheck(tmp: Path, version: str | None = None) -> tuple[Path, Path]:
    """A shellcheck that logs each call and runs the real one (optionally claiming another version)."""
    log = tmp / "calls.log"
    exe = tmp / "bin" / "shellcheck"
    exe.parent.mkdir(parents=True, exist_ok=True)
    fake_version = f'if [ "$1" = --version ]; then echo "version: {version}"; exit 0; fi\n' if version else ""
    exe.write_text(f'#!/bin/sh\necho "$@" >> {log}\n{fake_version}exec {REAL} "$@"\n')
    exe.chmod(0o755)
    return exe, log


def interpreter_without_shellcheck(where: Path) -> Path:
    """This Python under another path with no shellcheck next to it, so PATH decides which one runs."""
    venv = where / "py"
    python = venv / "bin" / "python3"
    if not venv.exists():
        python.parent.mkdir(parents=True)
        os.symlink(sys.executable, python)
        if sys.prefix != sys.base_prefix:  # run from a venv: the stand-in needs its pyvenv.cfg and site-packages
            shutil.copy(Path(sys.prefix) / "pyvenv.cfg", venv / "pyvenv.cfg")
            os.symlink(Path(sys.prefix) / "lib", venv / "lib")
    return python


def run(dockerfile: Path, cache: Path, exe: Path) -> list[tuple[str, int, str]]:
    """LI390 findings of one CLI run with ``exe`` as the shellcheck it finds (on PATH, no sibling of python).

    Kept findings are dropped first: the file is checked, so what is measured is ShellCheck's cache.
    """
    shutil.rmtree(cache / "lintimg" / "results", ignore_errors=True)
    python = interpreter_without_shellcheck(dockerfile.parent)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PATH": f"{exe.parent}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    env.pop("LINTIMG_NO_CACHE", None)
    proc = subprocess.run([str(python), "-m", "lintimg", "--format", "json", "--no-context", "--select", "LI390", str(dockerfile)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((f["message"][:6], f["line"], f["message"]) for f in json.loads(proc.stdout)["findings"])


def script_calls(log: Path) -> int:
    """How many scripts were given to ShellCheck (a batch may split them over several processes)."""
    return sum(w.endswith(".sh") for line in log.read_text().splitlines() for w in line.split()) if log.exists() else 0


def test_a_warm_run_starts_no_shellcheck_and_reports_the_same(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text(DOCKERFILE)
    exe, log = counting_shellcheck(tmp_path)
    cold = run(df, tmp_path / "cache", exe)
    assert cold and script_calls(log) == 2  # the two RUNs
    log.unlink()
    assert run(df, tmp_path / "cache", exe) == cold
    assert not log.exists()  # not even `shellcheck --version`: it is remembered per binary


def test_the_shell_the_known_variables_and_the_version_are_in_the_key(tmp_path):
    df = tmp_path / "Dockerfile"
    exe, log = counting_shellcheck(tmp_path)
    cache = tmp_path / "cache"
    df.write_text(DOCKERFILE)
    run(df, cache, exe)
    variants = [
        DOCKERFILE.replace("FROM debian:12\n", 'FROM debian:12\nSHELL ["/bin/bash", "-c"]\n'),  # another dialect
        DOCKERFILE.replace("ARG NAME\n", ""),  # $NAME no longer a known variable
    ]
    for text in variants:
        df.write_text(text)
        before = script_calls(log)
        run(df, cache, exe)
        assert script_calls(log) > before, text
    df.write_text(DOCKERFILE)
    other, other_log = counting_shellcheck(tmp_path / "other", version="0.0.1-other")
    run(df, cache, other)
    assert script_calls(other_log) == 2  # a different ShellCheck version checks again


def test_corrupt_and_foreign_entries_are_checked_again(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text(DOCKERFILE)
    exe, log = counting_shellcheck(tmp_path)
    cache = tmp_path / "cache"
    cold = run(df, cache, exe)
    entries = [p for p in (cache / "lintimg" / "shellcheck").rglob("*.json") if p.name != "version.json"]
    assert entries
    for i, p in enumerate(entries):
        p.write_text(['{"torn', '[["row", 1]]', "[[1, 2, 3]]"][i % 3])
    log.unlink()
    assert run(df, cache, exe) == cold
    assert script_calls(log) == len(entries)


def test_concurrent_runs_share_the_cache_safely(tmp_path):
    files = []
    for n in range(6):
        d = tmp_path / f"p{n}"
        d.mkdir()
        (d / "Dockerfile").write_text(DOCKERFILE + "".join(f"RUN echo $x{k} step{n}_{k}\n" for k in range(30)))
        files.append(d / "Dockerfile")
    exe, _ = counting_shellcheck(tmp_path)
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(REPO)}
    env.pop("LINTIMG_NO_CACHE", None)
    cmd = [sys.executable, "-m", "lintimg", "--format", "json", "--no-context", "--select", "LI390", *map(str, files)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode in (0, 1) for p in procs), [e for _, e in outs]
    results = [json.loads(o)["findings"] for o, _ in outs]
    assert all(r == results[0] for r in results) and results[0]
    leftovers = [p for p in (cache / "lintimg" / "shellcheck").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    for p in (cache / "lintimg" / "shellcheck").rglob("*.json"):
        json.loads(p.read_text())  # every entry whole
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert json.loads(warm.stdout)["findings"] == results[0]


def test_no_cache_turns_it_off(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text(DOCKERFILE)
    exe, log = counting_shellcheck(tmp_path)
    env_cache = tmp_path / "cache"
    os.environ["LINTIMG_NO_CACHE"] = "1"
    try:
        python = interpreter_without_shellcheck(tmp_path)
        env = {**os.environ, "XDG_CACHE_HOME": str(env_cache), "PATH": f"{exe.parent}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
        for _ in range(2):
            subprocess.run([str(python), "-m", "lintimg", "--no-context", "--select", "LI390", str(df)], env=env, capture_output=True, timeout=120)
    finally:
        del os.environ["LINTIMG_NO_CACHE"]
    assert script_calls(log) == 4  # both RUNs, both times
    assert not (env_cache / "lintimg" / "shellcheck").exists()
