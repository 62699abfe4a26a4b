"""docs/kubernetes/fleet.yaml: every command it runs is one the image's tools accept, and credentials reach pods as files."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lintimg.cli import build_parser
from tests.clirun import REPO

MANIFEST = REPO / "docs" / "kubernetes" / "fleet.yaml"


def _docs() -> dict[str, dict]:
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(MANIFEST.read_text())}


def _pod(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def _dask_options(command: str) -> set[str]:
    exe = Path(sys.executable).with_name("dask")
    if not exe.exists():
        pytest.fail("the dask command is missing: pip install -e '.[test]' installs distributed")
    text = subprocess.run([str(exe), command, "--help"], capture_output=True, text=True, timeout=120, check=True).stdout
    return set(re.findall(r"(--[a-z][a-z-]+)", text))


def test_the_driver_runs_lintimg_fleet_with_options_it_accepts():
    docs = _docs()
    driver = _pod(docs["Job/lintimg-fleet"])["containers"][0]
    args = build_parser().parse_args(driver["args"])
    assert args.command == "fleet" and args.scheduler == "tcp://lintimg-dask-scheduler:8786"
    service = docs["Service/lintimg-dask-scheduler"]["spec"]
    assert args.scheduler.endswith(f":{service['ports'][0]['port']}")
    cache = next(e["value"] for e in _pod(docs["Job/lintimg-dask-workers"])["containers"][0]["env"] if e["name"] == "LINTIMG_LAYER_CACHE")
    assert args.layer_cache == cache  # the driver and every worker use one cache folder on the shared volume


def test_workers_are_an_indexed_job_and_every_dask_option_exists():
    docs = _docs()
    workers = docs["Job/lintimg-dask-workers"]
    assert workers["spec"]["completionMode"] == "Indexed"
    for name, cmd in (("worker", _pod(workers)["containers"][0]["command"]),
                      ("scheduler", _pod(docs["Deployment/lintimg-dask-scheduler"])["containers"][0]["command"])):
        assert cmd[:2] == ["dask", name]
        unknown = {a for a in cmd if a.startswith("--")} - _dask_options(name)
        assert not unknown, f"dask {name} has no {sorted(unknown)}"


def test_one_image_one_shared_volume_and_credentials_as_a_mounted_docker_config():
    docs = _docs()
    pods = [_pod(d) for k, d in docs.items() if k.split("/")[0] in ("Job", "Deployment")]
    assert len({c["image"] for p in pods for c in p["containers"]}) == 1
    assert docs["PersistentVolumeClaim/lintimg-fleet"]["spec"]["accessModes"] == ["ReadWriteMany"]
    for key in ("Job/lintimg-fleet", "Job/lintimg-dask-workers"):
        pod = _pod(docs[key])
        container = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        secret = next(v for v in pod["volumes"] if "secret" in v)
        assert env["DOCKER_CONFIG"] == mounts[secret["name"]]
        assert secret["secret"]["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
        assert "claimName" in str(pod["volumes"]) and mounts["fleet"] == "/fleet"
        # no credential in any argument: they come from the mounted file only
        assert not [a for a in container.get("args", []) + container.get("command", []) if re.search(r"pass|token|auth", str(a), re.I)]
