"""Shared by the benchmarks: the corpus, the tools, and timing a command (wall, CPU, peak RSS)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
FOLDERS = ("binnacle-icse2020-gold", "jessfraz-dockerfiles", "shipwright-broken-dockerfiles", "vsoch-dockerfiles")


def corpus_files(folders=FOLDERS) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from lintimg.dockerfile.sources import is_dockerfile_name

    out: list[str] = []
    for folder in folders:
        for root, dirs, files in os.walk(CORPUS / folder):
            dirs.sort()
            out.extend(os.path.join(root, f) for f in sorted(files) if is_dockerfile_name(f))
    return out


def tool(name: str, given: str | None = None) -> str:
    """The executable to time. The one next to this interpreter wins over PATH: on a pyenv
    machine PATH holds shims, bash scripts that cost ~0.1 s per call to re-resolve."""
    if given:
        return given
    sibling = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(sibling) and os.access(sibling, os.X_OK):
        return sibling
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} not found on PATH (pip install -e '.[bench,shellcheck]')")
    return path


def interpreter_of(script: str) -> str:
    """The Python a console script runs on (its shebang), for timing that interpreter's bare start-up."""
    with open(script, "rb") as fh:
        first = fh.readline().decode("utf-8", "replace").strip()
    if first.startswith("#!"):
        words = first[2:].split()
        if words and os.path.basename(words[0]) != "env":
            return words[0]
    return sys.executable


def cache_env(cache_home: str | None = None, **extra: str) -> dict[str, str]:
    """This machine's environment as it is (PYTHONDONTWRITEBYTECODE included: an install must
    bring its own bytecode), with lintimg's caches under ``cache_home``."""
    env = dict(os.environ)
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = cache_home
    env.update(extra)
    return env


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the process and the children it waited for (ShellCheck)
    max_rss_kb: int
    returncode: int
    stderr: str
    stdout: str = ""  # with capture=True


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None, capture: bool = False) -> Run:
    """Run ``cmd``: wall time, CPU (from wait4, children it reaped included) and peak RSS; ``capture`` keeps stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out if capture else subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace") if capture else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, err.decode("utf-8", "replace"), text)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"
