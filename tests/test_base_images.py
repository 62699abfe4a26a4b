"""Base-image size measured through the real CLI: a ~680 MB Debian toolchain base and its ~150 MB slim
variant in a real docker-registry, `max-base-image-size` between the two, then the registry stopped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dockerengine import DockerEngine
from tests.imagebuild import toolchain_base, toolchain_slim
from tests.registry import RegistryFarm, RunningRegistry, push_fast
from tests.test_image_cli import lintimg, of

pytestmark = [pytest.mark.engine, pytest.mark.registry]
LIMIT = "400MB"


@pytest.fixture(scope="module")
def sdk_registry(docker: DockerEngine, registry: RegistryFarm) -> tuple[RunningRegistry, dict[str, int]]:
    """A registry of its own holding shape/debian-sdk:12 (the toolchain base), :12-slim and, of another version, :11-slim."""
    docker.base_image()
    sizes = {}
    reg = registry.start("base-size")
    for tag, src in (("12", toolchain_base(docker)), ("12-slim", toolchain_slim(docker)), ("11-slim", docker.base_image())):
        push_fast(docker, src, reg.host, "shape/debian-sdk", tag)  # only the registry has them under this name
        sizes[tag] = int(docker.run("image", "inspect", "-f", "{{.Size}}", src).stdout)
    assert sizes["12"] >= 300_000_000 > sizes["12-slim"], sizes
    return reg, sizes


def _check(tmp_path: Path, base: str, cache: Path) -> tuple[int, dict, str]:
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nCOPY app /app\nUSER 65534\nHEALTHCHECK NONE\nENTRYPOINT [\"/app\"]\n")
    (tmp_path / ".lintimg.yaml").write_text(f"max-base-image-size: {LIMIT}\nbase-image-lookup: registry\n")
    proc = lintimg("check", "--no-context", "--format", "json", "--config", str(tmp_path / ".lintimg.yaml"), str(tmp_path / "Dockerfile"),
                   env={"XDG_CACHE_HOME": str(cache)})
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_the_large_base_is_flagged_with_its_measured_size_and_the_slim_tag(sdk_registry, tmp_path: Path) -> None:
    reg, sizes = sdk_registry
    code, doc, _ = _check(tmp_path, f"{reg.host}/shape/debian-sdk:12", tmp_path / "cache")
    (f,) = of(doc, "LI630")
    assert code == 1 and f["line"] == 1
    props = f["properties"]
    assert props["measured"] is True and props["source"] == "registry"
    # the unpacked size from the gzip trailers: the tar bytes, a little over what the engine counts
    assert sizes["12"] <= props["bytes"] <= sizes["12"] * 1.05 and props["compressed_bytes"] < props["bytes"]
    (slim,) = props["variants"]
    assert slim["image"] == f"{reg.host}/shape/debian-sdk:12-slim", "11-slim is another version"
    assert sizes["12-slim"] <= slim["bytes"] <= sizes["12-slim"] * 1.05
    assert "debian-sdk:12-slim (" in f["message"] and "over max-base-image-size 400.0 MB" in f["message"]
    assert f"use {reg.host}/shape/debian-sdk:12-slim" in f["fix"]


def test_the_slim_base_passes(sdk_registry, tmp_path: Path) -> None:
    reg, _ = sdk_registry
    code, doc, _ = _check(tmp_path, f"{reg.host}/shape/debian-sdk:12-slim", tmp_path / "cache")
    assert of(doc, "LI630") == [] and code == 0, doc["findings"]


def test_with_the_registry_stopped_the_size_is_not_guessed(sdk_registry, tmp_path: Path) -> None:
    reg, _ = sdk_registry
    warm = tmp_path / "warm-cache"
    base = f"{reg.host}/shape/debian-sdk:12"
    assert of(_check(tmp_path, base, warm)[1], "LI630")[0]["properties"]["measured"] is True
    reg.stop()
    # a fresh cache: nothing to go on
    code, doc, stderr = _check(tmp_path, base, tmp_path / "cold-cache")
    (f,) = of(doc, "LI630")
    assert code == 1 and stderr == ""
    assert "could not be measured" in f["message"] and f"registry {reg.host} is unreachable" in f["message"] and "no size is assumed" in f["message"]
    assert f["properties"]["measured"] is False and "bytes" not in f["properties"]
    # the cache by digest still knows the tag within its TTL: measured, and said to be cached
    (f,) = of(_check(tmp_path, base, warm)[1], "LI630")
    assert f["properties"]["measured"] is True and "(measured from the registry, cached)" in f["message"]
