"""Default settings on curated real Dockerfiles: how many pass, lintimg next to hadolint, from one run.

    python3 benchmarks/gold_defaults.py            # the 432 binnacle gold-set files
    python3 benchmarks/gold_defaults.py --why      # also: the rules that fail the files lintimg fails

"Pass" is what a CI gate sees with no configuration at all: exit code 0.
Both tools run from an empty folder with an empty HOME (so neither finds a
config file), over the same files, back to back: hadolint with its defaults,
lintimg with its defaults and ``--no-context`` (the gold files come without
their build contexts, and hadolint reads none). Each tool gets all files in
one process (``--no-fail -f json``) and a file passes when it has no finding
at or above the tool's default failure threshold; that derivation is checked
against real per-file exit codes on a sample of files for both tools, and the
benchmark stops if they ever disagree. Wall and CPU time of the batch runs are
printed with their ratio and the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _common import CORPUS, ROOT, Run, load, timed, tool

GOLD = CORPUS / "binnacle-icse2020-gold"
LEVELS = {"style": 1, "info": 2, "warning": 3, "error": 4}


def default_threshold() -> str:
    sys.path.insert(0, str(ROOT))
    from lintimg.config import Config

    return Config().failure_threshold


def blocking(findings: list[dict], key: str, threshold: str) -> dict[str, list[str]]:
    """file -> the codes of its findings at or above ``threshold``."""
    out: dict[str, list[str]] = {}
    for f in findings:
        if LEVELS.get(f[key], 0) >= LEVELS[threshold]:
            out.setdefault(f["file"], []).append(f["rule"] if "rule" in f else f["code"])
    return out


def findings_of(run: Run, name: str) -> list[dict]:
    if run.returncode not in (0, 1):
        sys.exit(f"{name} failed (exit {run.returncode}): {run.stderr.strip()[-400:]}")
    doc = json.loads(run.stdout or "[]")
    return doc["findings"] if isinstance(doc, dict) else doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--why", action="store_true", help="list the rules that fail the files lintimg fails")
    ap.add_argument("--sample", type=int, default=12, help="files whose real exit codes check the derivation (default 12)")
    ap.add_argument("--lintimg", help="the lintimg console script (default: the one next to this Python)")
    args = ap.parse_args()
    if not GOLD.is_dir():
        sys.exit(f"gold set not found at {GOLD}")
    files = sorted(str(p) for p in GOLD.glob("*.Dockerfile"))
    lintimg, hadolint = tool("lintimg", args.lintimg), tool("hadolint")
    ours_cmd = [lintimg, "--no-context", "--no-color"]
    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "HOME": empty, "XDG_CONFIG_HOME": empty, "XDG_CACHE_HOME": os.path.join(empty, "cache")}
        env.pop("LINTIMG_CONFIG", None)
        print(f"{len(files)} gold-set files, default settings; {load()}", flush=True)
        t_h = timed([hadolint, "--no-fail", "-f", "json", *files], env=env, cwd=empty, capture=True)
        t_l = timed([*ours_cmd, "--no-fail", "-f", "json", *files], env=env, cwd=empty, capture=True)
        theirs = blocking(findings_of(t_h, "hadolint"), "level", "info")
        ours = blocking(findings_of(t_l, "lintimg"), "severity", default_threshold())
        step = max(1, len(files) // max(1, args.sample))
        for f in files[::step]:  # the derivation against real exit codes, both tools
            h = subprocess.run([hadolint, f], env=env, cwd=empty, capture_output=True).returncode
            o = subprocess.run([*ours_cmd, f], env=env, cwd=empty, capture_output=True).returncode
            if (h == 0) != (f not in theirs) or (o == 0) != (f not in ours):
                sys.exit(f"derived pass/fail disagrees with the exit code on {f}: hadolint {h}, lintimg {o}")
    passes_l = [f for f in files if f not in ours]
    passes_h = [f for f in files if f not in theirs]
    both = set(passes_l) & set(passes_h)
    print(f"passes with defaults: lintimg {len(passes_l)}, hadolint {len(passes_h)} (both {len(both)}, "
          f"lintimg only {len(passes_l) - len(both)}, hadolint only {len(passes_h) - len(both)})")
    print(f"time for all files in one process: lintimg {t_l.wall:.1f} s wall / {t_l.cpu:.1f} s CPU, "
          f"hadolint {t_h.wall:.1f} s wall / {t_h.cpu:.1f} s CPU (lintimg/hadolint wall {t_l.wall / t_h.wall:.2f})")
    if args.why:
        blockers = Counter(rule for f in files if f in ours for rule in set(ours[f]))
        sole = Counter(ours[f][0] for f in files if f in ours and len(set(ours[f])) == 1)
        print("rules failing files (files):", ", ".join(f"{r} {n}" for r, n in blockers.most_common(20)))
        print("sole failing rule (files):", ", ".join(f"{r} {n}" for r, n in sole.most_common(12)))
        only_h = sorted(set(passes_h) - both)
        for f in only_h[:10]:
            print(f"  hadolint passes, lintimg fails: {Path(f).name}: {sorted(set(ours[f]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
