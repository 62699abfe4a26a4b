"""Build-context cost: a 50,000-file context, cold and warm, and the corpus with and without contexts.

    python3 benchmarks/context.py                 # both parts
    python3 benchmarks/context.py --files 50000 --corpus-every 20

Part 1 generates a context of ``--files`` files (source tree, a node_modules
and a .git that .dockerignore excludes, a few planted fake secrets) and times
the CLI on it: ``--no-context`` (baseline), a cold run (empty cache), a warm
run (cache filled), a warm-OS-cache run with lintimg's cache off (to separate
the two caches), and a pre-commit-style run of a Dockerfile that copies only
``package*.json`` (the walk stays lazy).

Part 2 lints ../shared/corpus (or every Nth file) in-process, in runs of 400
files like the CLI batches of benchmarks/corpus.py, ShellCheck off, with and
without each file's folder attached as context, alternating runs so that
machine load hits both alike. The corpus folders hold thousands of unrelated
Dockerfiles, so ``COPY . .`` there sends whole folders: this is a worst case
for the context, not a typical one.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH = 400  # files per lint run, as benchmarks/corpus.py gives each CLI process
WORDS = "const let return function import export from await async value result data config item index user request response error".split()


def source_text(rng: random.Random, lines: int) -> str:
    return "".join(f"{rng.choice(WORDS)} {rng.choice(WORDS)}_{rng.randint(0, 999)} = {rng.choice(WORDS)}({rng.randint(0, 99)});\n" for _ in range(lines))


def generate(root: Path, total: int, seed: int = 7) -> dict[str, int]:
    """Write the context; returns how many files went where."""
    rng = random.Random(seed)
    counts = {"src": int(total * 0.5), "node_modules": int(total * 0.4), ".git": int(total * 0.06)}
    counts["docs"] = total - sum(counts.values()) - 4
    for area, n in counts.items():
        for i in range(n):
            d = root / area / f"d{i // 100:03d}"
            if i % 100 == 0:
                d.mkdir(parents=True, exist_ok=True)
            ext = {"src": ".js", "node_modules": ".js", ".git": "", "docs": ".md"}[area]
            (d / f"f{i:05d}{ext}").write_text(source_text(rng, rng.randint(5, 40)))
    (root / "package.json").write_text('{"name": "bench", "dependencies": {"express": "^4"}}\n')
    (root / ".dockerignore").write_text("node_modules\n.git\n*.log\n")
    (root / "Dockerfile").write_text("FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n")
    (root / "deps.Dockerfile").write_text("FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\n")
    token = "ghp_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789") for _ in range(36))
    (root / "src" / "d000" / "settings.js").write_text(f"module.exports = {{ token: '{token}' }};\n")
    past = time.time() - 7200
    for dirpath, _, names in os.walk(root):
        for n in names:
            os.utime(os.path.join(dirpath, n), (past, past))
    return counts


def cli(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lintimg", *args], capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"lintimg failed: {proc.stderr}")
    return elapsed, proc


def part_context(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ctx"
        t = time.perf_counter()
        counts = generate(root, files)
        print(f"generated {files} files in {time.perf_counter() - t:.1f} s: {counts}")
        cache = Path(tmp) / "cache"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
        df = str(root / "Dockerfile")
        base = ["--format", "json", "--ignore", "LI390"]
        runs = [
            ("--no-context (baseline)", [df, *base, "--no-context"], env),
            ("cold (empty cache)", [df, *base], env),
            ("warm (cache filled)", [df, *base], env),
            ("warm OS cache, lintimg cache off", [df, *base], {**env, "LINTIMG_NO_CACHE": "1"}),
            ("pre-commit: COPY package*.json only", [str(root / "deps.Dockerfile"), *base], env),
        ]
        for label, args, e in runs:
            elapsed, proc = cli(args, e)
            found = sorted({f["rule"] for f in __import__("json").loads(proc.stdout)["findings"] if f["rule"].startswith(("LI4", "LI540"))})
            print(f"{label:40s} {elapsed:6.2f} s   context findings: {', '.join(found) or '-'}")


def part_corpus(every: int, rounds: int) -> None:
    from benchmarks._common import corpus_files
    from lintimg.config import config_from_dict
    from lintimg.context import ContextAttacher
    from lintimg.engine import Engine
    from lintimg.run.check import lint_paths

    files = corpus_files()[::every]
    eng = Engine(config_from_dict({"rules": {"LI390": "off"}}))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp
        times: dict[str, list[float]] = {"no context": [], "context, cold": [], "context, warm": []}
        for _ in range(rounds):
            for label in times:
                if label == "context, cold":
                    shutil.rmtree(os.path.join(tmp, "lintimg"), ignore_errors=True)
                t = time.process_time()
                for i in range(0, len(files), BATCH):  # like the CLI runs of benchmarks/corpus.py
                    lint_paths(eng, files[i : i + BATCH], context=None if label == "no context" else ContextAttacher())
                times[label].append(time.process_time() - t)
        best = {k: min(v) for k, v in times.items()}
        print(f"corpus: {len(files)} files (every {every}), ShellCheck off, CPU seconds (best of {rounds})")
        for label, sec in best.items():
            over = "" if label == "no context" else f"   {100 * (sec / best['no context'] - 1):+.1f}%"
            print(f"  {label:16s} {sec:6.2f} s  {len(files) / sec:7.0f} files/s{over}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--corpus-every", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2, help="corpus passes per setting (best is kept)")
    ap.add_argument("--skip-corpus", action="store_true")
    args = ap.parse_args()
    part_context(args.files)
    if not args.skip_corpus:
        part_corpus(args.corpus_every, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
