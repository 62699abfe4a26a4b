"""docs/policy.example.yaml, run on fixtures/policy/: directly, and through `extends:` from a path and from a package."""
from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.clirun import REPO, lintimg
from tests.dockerengine import DockerEngine
from tests.registry import RegistryFarm

POLICY = REPO / "docs" / "policy.example.yaml"
FIXTURES = REPO / "fixtures" / "policy"


def _check(dockerfile: Path, config: Path, env: dict[str, str] | None = None) -> tuple[int, list[dict]]:
    proc = lintimg("check", "--format", "json", "--config", str(config), str(dockerfile), env=env)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def test_the_example_policy_catches_every_violation(tmp_path: Path) -> None:
    code, findings = _check(FIXTURES / "violating" / "Dockerfile", POLICY, {"LINTIMG_BASE_IMAGE_LOOKUP": "off", "XDG_CACHE_HOME": str(tmp_path)})
    got = {f["rule"]: f for f in findings}
    assert code == 1
    assert {"LI901", "LI902", "LI903", "LI904", "LI905", "LI911", "LI914", "LI918", "LI631", "LI630"} <= set(got), sorted(got)
    assert "Python 2 is end of life; use registry.example.com/base/python:3.12-slim" in got["LI904"]["message"]
    assert "'1000'" in got["LI905"]["message"] and got["LI905"]["line"] == 6
    assert got["LI631"]["severity"] == "error", "the policy makes shipping on an SDK image blocking"
    assert got["LI630"]["properties"]["measured"] is False, "with lookups off the size is not guessed"
    missing = {f["message"].split("'")[1] for f in findings if f["rule"] == "LI911"}
    assert missing == {"org.opencontainers.image.revision", "org.opencontainers.image.licenses", "org.opencontainers.image.created"}


def test_the_compliant_image_only_lacks_a_measurement_offline(tmp_path: Path) -> None:
    code, findings = _check(FIXTURES / "compliant" / "Dockerfile", POLICY, {"LINTIMG_BASE_IMAGE_LOOKUP": "off", "XDG_CACHE_HOME": str(tmp_path)})
    assert [(f["rule"], f["properties"].get("measured")) for f in findings] == [("LI630", False)]
    assert code == 1, "a size limit that could not be checked fails the gate"


@pytest.mark.engine
@pytest.mark.registry
def test_the_example_through_extends_passes_the_compliant_image_against_a_real_registry(docker: DockerEngine, registry: RegistryFarm, tmp_path: Path) -> None:
    reg = registry.start("policy")
    ref = f"{reg.host}/base/python:3.12-slim"
    docker.run("tag", docker.base_image(), ref)
    docker.run("push", ref)
    docker.run("rmi", ref)
    req = urllib.request.Request(f"http://{reg.host}/v2/base/python/manifests/3.12-slim", method="HEAD",
                                 headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req) as r:
        digest = r.headers["Docker-Content-Digest"]
    project = tmp_path / "repo"
    shutil.copytree(FIXTURES / "compliant", project)
    text = (project / "Dockerfile").read_text()
    (project / "Dockerfile").write_text(text.replace(next(w for w in text.split() if w.startswith("registry.example.com/")), f"{ref}@{digest}"))
    overrides = f"trusted-registries: [{reg.host}]\nallowed-base-images: ['{reg.host}/base/*']\n"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "LINTIMG_BASE_IMAGE_LOOKUP": ""}
    # from a path ...
    (project / ".lintimg.yaml").write_text(f"extends: {os.path.relpath(POLICY, project)}\n{overrides}")
    code, findings = _check(project / "Dockerfile", project / ".lintimg.yaml", env)
    assert (code, findings) == (0, []), [(f["rule"], f["message"]) for f in findings]
    # ... and from an installed package, with the violating file for contrast
    site = tmp_path / "site" / "acme_policy"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    shutil.copy(POLICY, site / "lintimg-policy.yaml")
    (project / ".lintimg.yaml").write_text(f"extends: package:acme_policy\n{overrides}")
    pkg_env = {**env, "PYTHONPATH": os.pathsep.join((str(REPO), str(tmp_path / "site")))}
    assert _check(project / "Dockerfile", project / ".lintimg.yaml", pkg_env) == (0, [])
    shutil.copy(FIXTURES / "violating" / "Dockerfile", project / "Dockerfile")
    code, findings = _check(project / "Dockerfile", project / ".lintimg.yaml", pkg_env)
    assert code == 1 and {"LI901", "LI904", "LI905"} <= {f["rule"] for f in findings}
