"""Wall latency where users wait: one file, and a pre-commit run over 20 files, side by side.

    python3 benchmarks/latency.py [--runs 21] [--file PATH] [--precommit 20] [--lintimg PATH]

Every run starts the console script afresh (interpreter start-up, imports,
plugin discovery, the lint), in this machine's environment as it is
(``PYTHONDONTWRITEBYTECODE=1`` here: the install must bring its own
bytecode). The commands of one round run back to back, round after round, so
load changes hit all of them alike. Rows:

- ``python3 -c pass``: the interpreter lintimg runs on, starting and doing nothing;
- ``lintimg --no-context FILE`` with warm caches (filled by the first run, as
  a second pre-commit run finds them: the file's findings come from the
  results cache), with the file's findings dropped before each run but the
  ShellCheck cache warm (what a run sees after the file was edited), and
  with caches off (``LINTIMG_NO_CACHE=1``: ShellCheck runs every time);
- ``hadolint FILE``;
- pre-commit: ``lintimg F1 … FN`` as the hook runs it (build contexts on)
  against ``hadolint F1 … FN``, the first N Dockerfiles of
  ../shared/corpus/jessfraz-dockerfiles (real files, each in its own folder):
  with warm caches (``pre-commit run --all-files``, a re-run after a fix),
  and with every file's findings dropped but the ShellCheck cache warm (all N
  files edited since the last run).
- the same lintimg rows through the resident server (``--daemon``, docs/daemon.md),
  warm: the server is started by the first (untimed) run (a repeated run is
  answered from its memo before the client asks the server). A served run's CPU
  is mostly not the client's: the child the server forked for it reports its
  CPU (with ShellCheck's) and the server's own share (accept, fork, reap)
  through ``LINTIMG_DAEMON_USAGE``, and the row counts all three. A served client
  ends once its report is out and the child writes its caches after: the wall
  time is the client's, the CPU includes those writes, and the next command
  starts once the child has ended. An edited daemon run that was not served
  fails the benchmark.

Reported: median, min and max wall ms, median CPU ms (children included),
and each lintimg row as a ratio to ``python3 -c pass`` and to hadolint, on
wall and on CPU time.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

from _common import CORPUS, ROOT, cache_env, corpus_files, interpreter_of, load, timed, tool


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--file", default=str(ROOT / "fixtures" / "examples" / "webapp" / "Dockerfile"))
    ap.add_argument("--precommit", type=int, default=20, metavar="N", help="files in the pre-commit run (0: skip it)")
    ap.add_argument("--lintimg", help="the lintimg console script to time (default: the one next to this Python)")
    args = ap.parse_args()
    lintimg, hadolint = tool("lintimg", args.lintimg), tool("hadolint")
    python = interpreter_of(lintimg)
    files = corpus_files(("jessfraz-dockerfiles",))[: args.precommit] if args.precommit and CORPUS.is_dir() else []
    with tempfile.TemporaryDirectory(prefix="lintimg-latency-") as cache:
        warm, cold = cache_env(cache), cache_env(cache, LINTIMG_NO_CACHE="1")
        # The "edited" rows have a cache home of their own, whose kept findings are dropped before each run.
        edited_home = os.path.join(cache, "edited")
        edited = cache_env(edited_home)
        results = os.path.join(edited_home, "lintimg", "results")
        # The daemon rows: the same caches, a server of their own (stopped at the end), its CPU reported per run.
        folder = os.path.join(cache, "daemon")
        os.mkdir(folder, 0o700)
        usage = os.path.join(cache, "daemon-usage")
        served = {"LINTIMG_DAEMON_DIR": folder, "LINTIMG_DAEMON_USAGE": usage}
        d_warm, d_edited = {**warm, **served}, {**edited, **served}
        # name -> (command, environment, whether the kept findings are dropped before each run)
        cmds = {
            "python3 -c pass": ([python, "-c", "pass"], warm, False),
            "lintimg --no-context, warm cache": ([lintimg, "--no-color", "--no-context", args.file], warm, False),
            "lintimg --no-context, edited": ([lintimg, "--no-color", "--no-context", args.file], edited, True),
            "lintimg --no-context, no cache": ([lintimg, "--no-color", "--no-context", args.file], cold, False),
            "lintimg --daemon --no-context, warm cache": ([lintimg, "--daemon", "--no-color", "--no-context", args.file], d_warm, False),
            "lintimg --daemon --no-context, edited": ([lintimg, "--daemon", "--no-color", "--no-context", args.file], d_edited, True),
            "hadolint": ([hadolint, "--no-fail", args.file], warm, False),
        }
        if files:
            cmds[f"pre-commit lintimg, {len(files)} files, warm"] = ([lintimg, "--no-color", *files], warm, False)
            cmds[f"pre-commit lintimg, {len(files)} files, edited"] = ([lintimg, "--no-color", *files], edited, True)
            cmds[f"pre-commit lintimg --daemon, {len(files)} files, warm"] = ([lintimg, "--daemon", "--no-color", *files], d_warm, False)
            cmds[f"pre-commit lintimg --daemon, {len(files)} files, edited"] = ([lintimg, "--daemon", "--no-color", *files], d_edited, True)
            cmds[f"pre-commit hadolint, {len(files)} files"] = ([hadolint, "--no-fail", *files], warm, False)
        try:
            walls, cpus = _rounds(cmds, args.runs, cache, results, usage)
            print(f"daemon server: {_server(lintimg, d_warm)}")
        finally:
            timed([lintimg, "daemon", "stop"], env=d_warm, cwd=cache)
        print(f"{args.file}: {args.runs} rounds; lintimg {lintimg}; python {python}")
    print(f"finished; {load()}")
    med = {n: statistics.median(w) for n, w in walls.items()}
    cpu = {n: statistics.median(c) for n, c in cpus.items()}
    print(f"{'command':<40} {'median ms':>10} {'min':>6} {'max':>6} {'cpu ms':>7}  ratios (wall; cpu)")
    for name in cmds:
        w = walls[name]
        ratio = ""
        if name.startswith("lintimg"):
            ratio = (f"{med[name] / med['python3 -c pass']:.2f}x python3 -c pass, {med[name] / med['hadolint']:.2f}x hadolint; "
                     f"cpu {cpu[name] / cpu['python3 -c pass']:.2f}x, {cpu[name] / cpu['hadolint']:.2f}x")
        elif name.startswith("pre-commit lintimg"):
            # On a loaded machine wall time is mostly waiting for a CPU: the CPU ratio is the steadier figure.
            peer = next(n for n in cmds if n.startswith("pre-commit hadolint"))
            ratio = f"hadolint / lintimg = {med[peer] / med[name]:.2f}x; cpu {cpu[peer] / cpu[name]:.2f}x"
        print(f"{name:<48} {med[name]:>10.1f} {min(w):>6.0f} {max(w):>6.0f} {cpu[name]:>7.0f}  {ratio}")
    return 0


def _rounds(cmds: dict[str, tuple[list[str], dict[str, str], bool]], runs: int, cache: str, results: str,
            usage: str) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU ms of each command, round after round; a served run's CPU includes what the server reports."""
    for cmd, env, _ in cmds.values():  # fills lintimg's caches (and starts the server), as an earlier pre-commit run would have
        timed(cmd, env=env, cwd=cache)
    print(f"started; {load()}")
    walls: dict[str, list[float]] = {n: [] for n in cmds}
    cpus: dict[str, list[float]] = {n: [] for n in cmds}
    for _ in range(runs):
        for name, (cmd, env, drop) in cmds.items():
            if drop:  # (outside the timing) as if each file changed: its findings are not in the cache
                shutil.rmtree(results, ignore_errors=True)
            if os.path.exists(usage):
                os.unlink(usage)
            r = timed(cmd, env=env, cwd=cache)
            if r.returncode not in (0, 1) or "Traceback" in r.stderr:
                sys.exit(f"{name} failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
            served = 0.0
            if "--daemon" in cmd:  # a repeated run is answered from its memo by the client; an edited one goes to the server
                try:
                    served = _served_cpu(usage, wait=drop)
                except OSError:
                    if drop:
                        sys.exit(f"{name}: the run was not served by the resident server (nothing in {usage})")
            walls[name].append(r.wall * 1000)
            cpus[name].append((r.cpu + served) * 1000)
    return walls, cpus


def _served_cpu(usage: str, wait: bool) -> float:
    """The CPU seconds the server reported for the run (``OSError`` when it reported none). A served client ends
    once the report is out, and the server logs the CPU when the run's processes have written their caches too:
    with ``wait``, that line is waited for (up to 10 s), so the next command does not share the CPUs with those
    writes."""
    deadline = time.monotonic() + (10.0 if wait else 0.0)
    while True:
        try:
            with open(usage) as fh:
                text = fh.read()
            if text.endswith("\n") or time.monotonic() >= deadline:
                return sum(float(x) for x in text.split())
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.001)


def _server(lintimg: str, env: dict[str, str]) -> str:
    """The daemon rows' server: its status line and resident memory."""
    r = timed([lintimg, "daemon", "status"], env=env, capture=True)
    words = r.stdout.split()
    rss = ""
    if r.stdout.startswith("running: pid "):
        try:
            with open(f"/proc/{words[2].rstrip(',')}/status") as fh:
                rss = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("VmRSS:")), "")
        except OSError:
            pass
    return f"{r.stdout.strip()}; resident memory {rss or 'unknown'}"


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
