"""One-file wall latency, as pre-commit sees it: `lintimg FILE` vs `hadolint FILE`.

    python3 benchmarks/latency.py [--runs 21] [--file fixtures/examples/webapp/Dockerfile]

Each run starts the console script afresh (interpreter start-up, imports,
plugin discovery, one lint). Runs of the two tools alternate. Reported: the
median and the spread of wall time, and the median CPU time. lintimg runs
with ShellCheck on (the default) and with its build context, as a hook does.
"""
from __future__ import annotations

import argparse
import statistics
import sys

from _common import ROOT, bytecode_env, load, timed, tool

TARGET_MS = 150


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--file", default=str(ROOT / "fixtures" / "examples" / "webapp" / "Dockerfile"))
    args = ap.parse_args()
    env = bytecode_env()
    cmds = {"lintimg": [tool("lintimg"), "--no-color", args.file], "hadolint": [tool("hadolint"), "--no-fail", args.file]}
    timed(cmds["lintimg"], env=env)  # compile the bytecode once, as an install would have
    print(f"{args.file}: {args.runs} runs each; {load()}")
    walls: dict[str, list[float]] = {n: [] for n in cmds}
    cpus: dict[str, list[float]] = {n: [] for n in cmds}
    for _ in range(args.runs):
        for name, cmd in cmds.items():
            r = timed(cmd, env=env)
            if r.returncode not in (0, 1) or "Traceback" in r.stderr:
                sys.exit(f"{name} failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
            walls[name].append(r.wall * 1000)
            cpus[name].append(r.cpu * 1000)
    print(f"{'tool':<10} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'median cpu ms':>14}")
    for name in cmds:
        w = walls[name]
        print(f"{name:<10} {statistics.median(w):>10.0f} {min(w):>8.0f} {max(w):>8.0f} {statistics.median(cpus[name]):>14.0f}")
    print(f"target: lintimg under {TARGET_MS} ms wall; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
