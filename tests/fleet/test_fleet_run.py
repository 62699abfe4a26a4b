"""``lintimg fleet`` against a real registry holding 16 images over 3 bases, on the embedded pool and on a Dask cluster."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clirun import REPO
from tests.fleet.support import AWS_ID, NS, fleet_cli, results, summary
from tests.shared import SARIF_SCHEMA

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@dataclass
class Run:
    out: Path
    cache: Path
    proc: subprocess.CompletedProcess

    @property
    def summary(self) -> dict:
        return summary(self.out)


def _run(fleet, work: Path, *extra: str, env: dict | None = None, target: str | None = None) -> Run:
    out, cache = work / "out", work / "cache"
    proc = fleet_cli(target or fleet.target, "-o", str(out), "--layer-cache", str(cache), "--format", "json", *extra, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1, 3), (proc.returncode, proc.stderr)
    return Run(out, cache, proc)


def _diff_ids(fleet) -> set[str]:
    """Every layer digest of the fleet's images, read from the registry by the test itself."""
    out: set[str] = set()
    for ref, digest in fleet.images.items():
        repo = ref.split(":")[0]
        req = urllib.request.Request(f"http://{fleet.host}/v2/{repo}/manifests/{digest}",
                                     headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
        config = json.loads(urllib.request.urlopen(req, timeout=30).read())["config"]["digest"]
        cfg = json.loads(urllib.request.urlopen(f"http://{fleet.host}/v2/{repo}/blobs/{config}", timeout=30).read())
        out.update(cfg["rootfs"]["diff_ids"])
    return out


def _elsewhere(reports: dict[str, dict[str, str]], host: str) -> dict[str, dict[str, str]]:
    """Reports as they compare between two addresses of one registry: the address and the fingerprints made from it taken out."""
    import re

    fp = re.compile(r'"(fingerprint|primaryLocationLineHash)": "[0-9a-f]+:(\d+)"')
    return {d: {k: fp.sub(r'"\1": "*:\2"', v.replace(host, "REGISTRY")) for k, v in r.items()} for d, r in reports.items()}


@pytest.fixture(scope="module")
def cold_pool(fleet, tmp_path_factory) -> Run:
    return _run(fleet, tmp_path_factory.mktemp("pool"), "--workers", "2")


@pytest.fixture(scope="module")
def cold_dask(fleet, cluster, tmp_path_factory) -> Run:
    return _run(fleet, tmp_path_factory.mktemp("dask"), "--scheduler", cluster.address)


def test_each_image_is_checked_once_and_each_layer_analysed_once(fleet, cold_pool):
    s = cold_pool.summary
    assert set(results(cold_pool.out)) == fleet.digests and len(fleet.digests) == 16
    assert s["images"] | {"by_severity": None} == {"selected": 16, "checked": 16, "scanned_now": 16, "reused": 0, "resumed": 0, "failed": 0,
                                                  "with_findings": 16, "failing": 16, "by_severity": None}
    distinct = _diff_ids(fleet)
    assert s["layers"]["distinct"] == len(distinct) and s["layers"]["submitted"] == len(distinct)
    assert s["layers"]["analysed"] == len(distinct) and s["layers"]["cached"] == 0 and s["layers"]["reread"] == 0
    # two tags on one image: one scan, both tags on its record
    rec = json.loads((cold_pool.out / "images" / f"{fleet.images[f'{NS}/app01:1'].replace(':', '-')}.fleet.json").read_text())
    assert rec["tags"] == ["1", "latest"]
    # the tag no image of this platform answers fails alone, with its reason; the exit code says the fleet is incomplete
    assert s["failures"] == [{"stage": "resolve", "what": f"{fleet.host}/{fleet.broken}",
                              "reason": f"docker://{fleet.host}/{NS}/broken: no image for platform linux/amd64 (available: linux/s390x); "
                                        "choose one with --platform"}]
    assert cold_pool.proc.returncode == 3 and s["exit_code"] == 3
    assert json.loads(cold_pool.proc.stdout) == s


def test_embedded_pool_and_dask_cluster_report_what_lintimg_image_reports(fleet, cluster, cold_pool, cold_dask, tmp_path, monkeypatch):
    from lintimg.cli import main

    pool, dask = results(cold_pool.out), results(cold_dask.out)
    assert pool == dask
    assert cold_dask.summary["layers"]["analysed"] == cold_pool.summary["layers"]["distinct"]
    assert cold_dask.summary["runner"] == f"Dask scheduler {cluster.address}, 2 workers"
    assert cold_pool.summary["runner"] == "embedded process pool, 2 workers"
    monkeypatch.setenv("LINTIMG_LAYER_CACHE", str(tmp_path / "alone"))  # each image read on its own, from nothing
    for digest, reports in pool.items():
        rec = json.loads((cold_pool.out / "images" / f"{digest.replace(':', '-')}.fleet.json").read_text())
        out = tmp_path / "alone.json"
        main(["image", rec["reference"], "--format", "json", "-o", str(out)])
        assert reports["json"] == out.read_text(), rec["reference"]


def test_sarif_has_one_run_per_image_each_with_its_own_id(fleet, cold_pool):
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text()) if SARIF_SCHEMA.exists() else None
    ids = []
    for digest, reports in results(cold_pool.out).items():
        doc = json.loads(reports["sarif"])
        assert len(doc["runs"]) == 1
        run = doc["runs"][0]
        ids.append(run["automationDetails"]["id"])
        assert run["properties"]["image"].endswith(digest)
        if schema:
            jsonschema.validate(doc, schema)
    assert len(set(ids)) == len(ids) == 16
    assert f"lintimg/fleet/{fleet.host}/{NS}/app01:1/" in ids
    combined = json.loads((cold_pool.out / "fleet.sarif").read_text())
    assert sorted(r["automationDetails"]["id"] for r in combined["runs"]) == sorted(ids)
    if schema:
        jsonschema.validate(combined, schema)


def test_the_summary_counts_findings_waste_and_bases(fleet, cold_pool):
    s = cold_pool.summary
    images_with: dict[tuple[str, str], int] = {}
    for reports in results(cold_pool.out).values():
        seen = {(f["rule"], f["severity"]) for f in json.loads(reports["json"])["findings"]}
        for key in seen:
            images_with[key] = images_with.get(key, 0) + 1
    assert {(r["rule"], r["severity"]): r["images"] for r in s["findings"]} == images_with
    assert images_with[("LI550", "error")] >= 9  # the creds, env and overwritten-key apps on every base
    # the wasteful base and its four apps waste the 2 MiB blob it deleted
    top = s["waste"][:5]
    assert {w["image"] for w in top} == {f"{NS}/base-wasteful:1", *(f"{NS}/app{n:02d}:1" for n in (9, 10, 11, 12))}
    assert all(w["bytes"] >= 2 << 20 and w["largest"][0]["path"] == "opt/blob.bin" for w in top)
    bases = {b["base"]: b for b in s["bases"]}
    # busybox: both bases, apps 1-4 and the older app01 build; the other bases: their four apps each
    assert {k: b["images"] for k, b in bases.items()} == {f"{NS}/busybox:1": 7, f"{NS}/base-app:1": 4, f"{NS}/base-wasteful:1": 4}
    assert bases[f"{NS}/busybox:1"]["layers"] == 1 and bases[f"{NS}/base-wasteful:1"]["layers"] == 4
    assert bases[f"{NS}/base-wasteful:1"]["uncompressed"] > 2 << 20
    text = (cold_pool.out / "summary.txt").read_text()
    assert "Images with findings, by rule and severity" in text and "Base images in use" in text and "Could not scan (1)" in text


def test_a_warm_run_analyses_no_layer_and_a_rerun_of_the_same_folder_checks_nothing(fleet, cold_pool, tmp_path):
    import shutil

    def run(out: str, *extra: str) -> dict:
        proc = fleet_cli(fleet.target, "-o", str(tmp_path / out), "--layer-cache", str(cold_pool.cache), "--format", "json", *extra)
        assert "Traceback" not in proc.stderr and proc.returncode == 3, proc.stderr
        return json.loads(proc.stdout)

    distinct = cold_pool.summary["layers"]["distinct"]
    # the layer cache warm, the first run's image results set aside: every image checked again, no layer read
    shutil.move(cold_pool.cache / "fleet-images", tmp_path / "aside")
    s = run("warm")
    assert s["layers"] == {"distinct": distinct, "submitted": distinct, "analysed": 0, "cached": distinct, "reread": 0, "pulled_bytes": 0}
    assert s["images"]["scanned_now"] == 16 and s["images"]["reused"] == 0
    assert results(tmp_path / "warm") == results(cold_pool.out)
    # into another folder with the image results in the cache too: copied, nothing checked, no task at all
    s2 = run("again")
    assert s2["images"]["reused"] == 16 and s2["images"]["scanned_now"] == 0 and s2["runner"] == "" and s2["layers"]["submitted"] == 0
    assert results(tmp_path / "again") == results(cold_pool.out)
    # the same folder again: resumed
    s3 = run("warm")
    assert s3["images"]["resumed"] == 16 and s3["images"]["scanned_now"] == 0
    assert s3["findings"] == s["findings"] == s2["findings"] and s3["bases"] == s["bases"] and s3["waste"] == s["waste"]
    # the same folder with another rule selection: nothing resumed or reused (made with other rules); the layers still cached
    s4 = run("warm", "--ignore", "LI750")
    assert s4["images"]["scanned_now"] == 16 and s4["images"]["resumed"] == s4["images"]["reused"] == 0
    assert s4["layers"]["analysed"] == 0 and s4["layers"]["cached"] == distinct
    assert "LI750" in {r["rule"] for r in s["findings"]} and "LI750" not in {r["rule"] for r in s4["findings"]}


def test_a_killed_run_resumes_to_the_same_results(fleet, cold_pool, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LINTIMG_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "lintimg", "fleet", fleet.target, "-o", str(out), "--layer-cache", str(cache),
                             "--workers", "1"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not list((out / "images").glob("*.fleet.json")):
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its pool workers, mid-run
        proc.wait(30)
    done_before = len(list((out / "images").glob("*.fleet.json")))
    assert 0 < done_before < 16
    again = _run(fleet, tmp_path, "--workers", "2")
    s = again.summary
    assert s["images"]["resumed"] == done_before and s["images"]["scanned_now"] == 16 - done_before
    assert results(out) == results(cold_pool.out)
    assert not list(out.rglob(".tmp-*"))
    assert s["findings"] == cold_pool.summary["findings"] and s["bases"] == cold_pool.summary["bases"]


def test_a_registry_answering_429_to_every_third_request_is_scanned_completely(fleet, cold_pool, tmp_path):
    from tests.registry import ThrottlingProxy

    proxy = ThrottlingProxy(fleet.host, every=3, retry_after="1", first_only=True)
    try:
        run = _run(fleet, tmp_path, "--workers", "2", target=f"{proxy.host}/{NS}")
    finally:
        proxy.close()
    s = run.summary
    throttled = [(t, path) for t, path, status in proxy.log if status == 429]
    assert len(throttled) >= 20 and any("/blobs/" in path for _, path in throttled)  # workers were throttled too
    st = s["registry"][proxy.host]
    assert st["throttled"] == len(throttled) and st["statuses"] == {"429": len(throttled)} and st["retry_after"] == 1
    assert st["backoff_seconds"] >= 1.0
    # every image, with the same reports as without the throttling (but for the registry's address)
    assert json.dumps(s["failures"]) == json.dumps(cold_pool.summary["failures"]).replace(fleet.host, proxy.host)
    assert s["images"]["checked"] == 16
    assert _elsewhere(results(run.out), proxy.host) == _elsewhere(results(cold_pool.out), fleet.host)
    text = (run.out / "summary.txt").read_text()
    assert f"{len(throttled)} asked us to slow down (429: {len(throttled)}; Retry-After named 1 times)" in text
    # the pause the registry asked for held every sender (the driver's listing threads, both workers): after the first
    # 429 the registry heard nothing for most of the second it asked for. Counting the requests inside that second
    # measured the machine's load (a sender held up between the pacer and the socket, or the thread that read the 429
    # not yet run); test_pacing.py measures the pause across processes exactly.
    first = throttled[0][0]
    after = sorted(t for t, _, _ in proxy.log if first <= t < first + 10.0)
    assert max((b - a for a, b in zip(after, after[1:])), default=0.0) >= 0.8, "no pause after the first 429"


@pytest.mark.parametrize("engine", ["pool", "dask"])
def test_credentials_reach_workers_from_their_environment_and_appear_nowhere(fleet, cold_pool, tmp_path, engine, request,
                                                                            worker_docker_config):
    from tests.registry import ThrottlingProxy

    plant = "FLEETPLANT-" + hashlib.sha256(os.urandom(16)).hexdigest()[:20]
    proxy = ThrottlingProxy(fleet.host, every=0, user="fleet-reader", password=plant)
    needles = [plant, base64.b64encode(f"fleet-reader:{plant}".encode()).decode()]
    cfg = {"auths": {proxy.host: {"auth": needles[1]}}}
    (worker_docker_config / "config.json").write_text(json.dumps(cfg))  # the Dask workers' own DOCKER_CONFIG
    driver_cfg = tmp_path / "driver-docker"
    driver_cfg.mkdir()
    (driver_cfg / "config.json").write_text(json.dumps(cfg))
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{NS}/app02\n{NS}/app06\n")  # two images, on two bases: enough to pull blobs on workers
    extra = ["--repos", str(repos)]
    recorder = None
    if engine == "dask":
        from distributed import Client

        from tests.fleet.daskcluster import SpecRecorder, recorded_specs

        cluster = request.getfixturevalue("cluster")
        recorder = Client(cluster.address, timeout=30)
        recorder.register_plugin(SpecRecorder())
        extra += ["--scheduler", cluster.address]
    try:
        run = _run(fleet, tmp_path, *extra, env={"DOCKER_CONFIG": str(driver_cfg)}, target=f"{proxy.host}/{NS}")
        specs = recorded_specs(recorder) if recorder is not None else []
    finally:
        proxy.close()
        if recorder is not None:
            recorder.close()
    s = run.summary
    assert s["images"]["checked"] == 2 and not s["failures"] and s["layers"]["analysed"] > 0
    blob_gets = [p for _, p, status in proxy.log if status == 200 and "/blobs/sha256" in p]
    assert blob_gets, "the workers pulled blobs through the authenticating proxy"
    places = {"stdout": run.proc.stdout, "stderr": run.proc.stderr}
    for root in (run.out, run.cache):
        for p in root.rglob("*"):
            if p.is_file():
                places[str(p)] = p.read_bytes().decode("latin-1")
    if engine == "dask":
        cluster = request.getfixturevalue("cluster")
        places["dask logs"] = cluster.log_text()
        assert any("analyse_layer_task" in r for _, r, _ in specs) and any("check_image_task" in r for _, r, _ in specs)
        assert all(proxy.host.encode() in raw for _, _, raw in specs)  # the tasks carry references...
        for key, text, raw in specs:
            places[f"task {key}"] = text + raw.decode("latin-1")
    for where, text in places.items():
        for needle in needles:  # ...and never the credentials
            assert needle not in text, f"credentials in {where}"
    assert AWS_ID not in "".join(places.values())  # nor a secret found in the images (app02 and app06 hold one)
