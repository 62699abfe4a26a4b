"""Shared by the benchmarks: the corpus, the tools, and running a command under /usr/bin/time."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
FOLDERS = ("binnacle-icse2020-gold", "jessfraz-dockerfiles", "shipwright-broken-dockerfiles", "vsoch-dockerfiles")
GNU_TIME = "/usr/bin/time"


def corpus_files(folders=FOLDERS) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from lintimg.sources import is_dockerfile_name

    out: list[str] = []
    for folder in folders:
        for root, dirs, files in os.walk(CORPUS / folder):
            dirs.sort()
            out.extend(os.path.join(root, f) for f in sorted(files) if is_dockerfile_name(f))
    return out


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} not found on PATH (pip install -e '.[bench,shellcheck]')")
    return path


def bytecode_env() -> dict[str, str]:
    """An installed lintimg runs from compiled bytecode; this machine sets
    PYTHONDONTWRITEBYTECODE, which would recompile every module on every run.
    Keep the bytecode in a temp dir instead (the tree stays clean)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "lintimg-bench-pycache")
    return env


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the process and the children it waited for (ShellCheck)
    max_rss_kb: int
    returncode: int
    stderr: str


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Run:
    """Run ``cmd`` under GNU time: wall, CPU and peak RSS (largest single process)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        proc = subprocess.run([GNU_TIME, "-f", "%e %U %S %M", "-o", out.name, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
        wall, user, sys_, rss = out.read().split()[-4:]
    return Run(float(wall), float(user) + float(sys_), int(rss), proc.returncode, proc.stderr)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"
