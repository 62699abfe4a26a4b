"""Dockerfile throughput: lintimg and hadolint over ../shared/corpus in the same run.

    python3 benchmarks/corpus.py              # the whole corpus (36,043 files)
    python3 benchmarks/corpus.py --every 10   # every 10th file

Both tools get the same batches of 400 files (like the hadolint baseline in
corpus/hadolint-baseline.json), one process per batch, and for each batch the
tools run back to back, so a change in machine load hits all of them alike.
Reported: files/s on wall time and on CPU time (user+sys, ShellCheck child
processes included), and the peak RSS of the largest single process.

Like with like: hadolint always runs ShellCheck (linked in as a library)
over every RUN; its `--ignore SCxxxx` only filters the output afterwards, so
there is no hadolint run without ShellCheck. The fair comparison is
**lintimg with ShellCheck** (the `shellcheck` extra, LI390 on — the default)
against hadolint. lintimg without ShellCheck (LI390 off) is shown for what a
pre-commit user who turns it off gets; it has no hadolint counterpart.

hadolint reads no build context, and the corpus folders are not build
contexts (thousands of unrelated Dockerfiles side by side), so lintimg runs
with `--no-context`; `--context` adds a run with each file's folder as its
context, as the CLI does by default.

ShellCheck results are cached on disk (under ``$XDG_CACHE_HOME/lintimg``):
the benchmark gives lintimg an empty cache directory, so "lintimg" is a cold
run, and "lintimg, warm cache" runs each batch again right after it, as a
second run over the same files (a pre-commit re-run) finds it: the same
command line in the same environment, answered from the run memo.
"lintimg, warm results cache" runs it once more without the memo (its folder
removed first), as a CI re-run finds the caches (another environment: CI
sets variables of its own for each run): every file's findings come from
the results cache.

    python3 benchmarks/corpus.py --every 4 --lintimg /path/to/venv/bin/lintimg   # another install
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import defaultdict

from _common import CORPUS, ROOT, Run, cache_env, corpus_files, load, timed, tool


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="take every Nth corpus file (default: all)")
    ap.add_argument("--batch", type=int, default=400)
    ap.add_argument("--context", action="store_true", help="also time lintimg with each file's folder as build context")
    ap.add_argument("--lintimg", help="the lintimg console script to time (default: the one next to this Python)")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    files = corpus_files()[:: args.every]
    lintimg, hadolint = tool("lintimg", args.lintimg), tool("hadolint")
    with tempfile.TemporaryDirectory() as tmp:
        env = cache_env(os.path.join(tmp, "cache"))  # empty: the first lintimg run per batch is cold
        nosc = os.path.join(tmp, "nosc.yaml")
        with open(nosc, "w") as fh:
            fh.write("rules:\n  LI390: off\n")
        plain = os.path.join(tmp, "plain.yaml")
        with open(plain, "w") as fh:
            fh.write("{}\n")
        base = [lintimg, "--format", "json", "--no-color"]
        tools = {
            "hadolint": [hadolint, "--no-fail", "-f", "json"],
            "lintimg": [*base, "--no-context", "--config", plain],
            "lintimg, warm cache": [*base, "--no-context", "--config", plain],
            "lintimg, warm results cache": [*base, "--no-context", "--config", plain],
            "lintimg (no ShellCheck)": [*base, "--no-context", "--config", nosc],
        }
        if args.context:
            tools["lintimg (with context)"] = [*base, "--config", plain]
        print(f"{len(files)} files in batches of {args.batch}; {load()}", flush=True)
        runs: dict[str, list[Run]] = defaultdict(list)
        for i in range(0, len(files), args.batch):
            batch = files[i : i + args.batch]
            for name, cmd in tools.items():
                if name == "lintimg, warm results cache":
                    shutil.rmtree(os.path.join(tmp, "cache", "lintimg", "runs"), ignore_errors=True)
                r = timed([*cmd, *batch], env=env, cwd=tmp)
                bad = r.returncode not in (0, 1) or "Traceback" in r.stderr
                if bad:
                    print(f"  {name} failed on batch {i // args.batch} (exit {r.returncode}): {r.stderr.strip()[-300:]}", file=sys.stderr)
                runs[name].append(r)
            done = min(i + args.batch, len(files))
            print(f"  {done}/{len(files)} files: " + ", ".join(f"{n} {sum(r.wall for r in rs):.0f}s" for n, rs in runs.items()), flush=True)
    print(f"\nfinished; {load()}")
    rate = {}
    print(f"{'tool':<28} {'wall s':>8} {'files/s':>9} {'cpu s':>8} {'files/cpu-s':>12} {'peak RSS':>10}")
    for name, rs in runs.items():
        wall, cpu = sum(r.wall for r in rs), sum(r.cpu for r in rs)
        rate[name] = (len(files) / wall, len(files) / cpu)
        print(f"{name:<28} {wall:>8.1f} {rate[name][0]:>9.1f} {cpu:>8.1f} {rate[name][1]:>12.1f} {max(r.max_rss_kb for r in rs) / 1024:>8.0f}MB")
    h = rate["hadolint"]
    for name in [n for n in runs if n != "hadolint"]:
        print(f"{name} / hadolint: {rate[name][0] / h[0]:.2f}x files/s (wall), {rate[name][1] / h[1]:.2f}x files per CPU second")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
