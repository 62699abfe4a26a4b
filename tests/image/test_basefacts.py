"""The base-image facts service against the real engine and real docker-registry processes:
where facts come from in each mode, measured sizes, the cache by digest, tag lists, bounded time."""
from __future__ import annotations

import json
import os
import socket
import urllib.request
from pathlib import Path

import pytest

from lintimg.dockerfile.reference import parse_docker_ref
from lintimg.image import open_image
from lintimg.image.basefacts import BaseFacts, BaseFactsService, Unavailable, same_version_tags, smaller_variants, split_tag
from lintimg.image.registry import Registry
from tests.dockerengine import BASE_TAG, DockerEngine
from tests.registry import RegistryFarm

# --- tags of the same version (no services) ---------------------------------------


@pytest.mark.parametrize("tag, version, variant", [
    ("3.11", "3.11", ""), ("3.11-slim-bookworm", "3.11", "slim-bookworm"), ("alpine", "", "alpine"),
    ("latest", "latest", ""), ("lts-alpine", "lts", "alpine"), ("17-jre", "17", "jre"), ("v1.2-rc1", "v1.2", "rc1"),
])
def test_a_tag_splits_into_version_and_variant(tag: str, version: str, variant: str) -> None:
    assert split_tag(tag) == (version, variant)


def test_same_version_tags_keep_the_version_and_put_small_variants_first() -> None:
    tags = ["3.11", "3.11-slim", "2.7-alpine", "3.11-bookworm", "3.11-alpine", "3.11.9-slim", "3.12-slim", "slim", "latest"]
    assert same_version_tags("3.11", tags) == ["3.11-alpine", "3.11-slim", "3.11-bookworm"]
    assert same_version_tags("latest", tags) == ["slim"]
    assert same_version_tags("3.11-slim", tags) == ["3.11-alpine", "3.11", "3.11-bookworm"]


def test_off_mode_consults_nothing_and_unresolved_references_are_reported() -> None:
    svc = BaseFactsService("off")
    got = svc.lookup(BASE_TAG)
    assert isinstance(got, Unavailable) and got.kind == "off"
    got = BaseFactsService("local").lookup("python:${TAG}")
    assert isinstance(got, Unavailable) and got.kind == "unresolved"


# --- the engine ----------------------------------------------------------------------


@pytest.mark.engine
def test_local_mode_reads_the_engine(docker: DockerEngine, tmp_path: Path) -> None:
    base = docker.base_image()
    got = BaseFactsService("local", cache_dir=tmp_path).lookup(base)
    assert isinstance(got, BaseFacts), got
    inspect = json.loads(docker.run("image", "inspect", base).stdout)[0]
    assert got.source == "engine" and got.uncompressed_size == inspect["Size"] and got.image_id == inspect["Id"]
    assert got.compressed_size is None, "the engine does not know what a pull downloads"
    assert got.layers == len(inspect["RootFS"]["Layers"])
    missing = BaseFactsService("local", cache_dir=tmp_path).lookup("lintimg-test/no-such-base:1")
    assert isinstance(missing, Unavailable) and missing.kind == "offline" and "base-image-lookup: registry" in missing.reason


# --- the registry --------------------------------------------------------------------


@pytest.fixture(scope="module")
def pushed(docker: DockerEngine, registry: RegistryFarm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A registry of its own holding a small base under four tags (1, 1-slim, 1-alpine, 2-slim): the engine keeps none of them."""
    base = docker.base_image()
    ctx = tmp_path_factory.mktemp("basefacts-big")
    (ctx / "blob").write_bytes(os.urandom(3_000_000))
    (ctx / "Dockerfile").write_text(f"FROM {base}\nCOPY blob /blob\nENV SERVICE_TOKEN=tok-0123456789abcdef0123\n")
    docker.build(ctx, "lintimg-test/basefacts-big:1")
    reg = registry.start("basefacts")
    refs = {}
    for tag, src in (("1", "lintimg-test/basefacts-big:1"), ("1-slim", base), ("1-alpine", base), ("2-slim", base)):
        ref = f"{reg.host}/shape/base:{tag}"
        docker.run("tag", src, ref)
        docker.run("push", ref)
        docker.run("rmi", ref)  # only the registry has it now
        refs[tag] = ref
    refs["host"] = reg.host
    return refs




def _manifest(ref: str) -> tuple[dict, str]:
    d = parse_docker_ref(ref)
    req = urllib.request.Request(f"http://{d.registry}/v2/{d.repository}/manifests/{d.tag}",
                                 headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read()), r.headers["Docker-Content-Digest"]


@pytest.mark.engine
@pytest.mark.registry
def test_registry_sizes_are_measured_from_the_manifest_and_the_gzip_trailers(pushed: dict[str, str], tmp_path: Path) -> None:
    got = BaseFactsService("registry", cache_dir=tmp_path).lookup(pushed["1"])
    assert isinstance(got, BaseFacts), got
    manifest, digest = _manifest(pushed["1"])
    assert got.source == "registry" and got.index_digest == digest and got.digest == digest
    assert got.compressed_size == sum(la["size"] for la in manifest["layers"])
    pulled = open_image(f"docker://{pushed['1']}")
    assert got.uncompressed_size == sum(la.uncompressed_size for la in pulled.layers), "the trailers give the tar lengths the reader measures"
    assert got.uncompressed_size > 3_000_000 > got.compressed_size / 2
    assert got.config["Env"] and "tok-0123456789abcdef0123" not in json.dumps(got.config), "secret-looking Env values are masked"
    assert "tok-0123456789abcdef0123" not in "".join(p.read_text() for p in tmp_path.rglob("*.json")), "and never cached"


@pytest.mark.engine
@pytest.mark.registry
def test_local_mode_never_asks_the_registry(pushed: dict[str, str], tmp_path: Path) -> None:
    got = BaseFactsService("local", cache_dir=tmp_path).lookup(pushed["1"])
    assert isinstance(got, Unavailable) and got.kind == "offline"
    assert isinstance(BaseFactsService("local", cache_dir=tmp_path).tags(pushed["1"]), Unavailable)


@pytest.mark.engine
@pytest.mark.registry
def test_tags_follow_the_link_pages(pushed: dict[str, str]) -> None:
    reg = Registry(parse_docker_ref(pushed["1"]))
    assert sorted(reg.tags(page=1)) == ["1", "1-alpine", "1-slim", "2-slim"]
    assert sorted(reg.tags(max_tags=2, page=1)) != sorted(reg.tags()) and len(reg.tags(max_tags=2, page=1)) == 2


@pytest.mark.engine
@pytest.mark.registry
def test_smaller_variants_are_of_the_same_version_and_really_smaller(pushed: dict[str, str], tmp_path: Path) -> None:
    svc = BaseFactsService("registry", cache_dir=tmp_path)
    big = svc.lookup(pushed["1"])
    assert isinstance(big, BaseFacts)
    found = smaller_variants(svc, big)
    assert isinstance(found, list)
    assert sorted(f.reference.rsplit(":", 1)[1] for f in found) == ["1-alpine", "1-slim"], "2-slim is another version"
    assert all(f.size is not None and big.size is not None and f.size < big.size for f in found)


@pytest.mark.engine
@pytest.mark.registry
def test_cache_by_digest_answers_when_the_registry_is_gone(docker: DockerEngine, registry: RegistryFarm, pushed: dict[str, str], tmp_path: Path) -> None:
    # a second registry process over the same storage, stopped after the first lookup
    other = registry.start("basefacts-stopped")
    ref = pushed["1-slim"].replace(pushed["host"], other.host)
    first = BaseFactsService("registry", cache_dir=tmp_path).lookup(ref)
    assert isinstance(first, BaseFacts) and not first.cached
    other.stop()
    again = BaseFactsService("registry", cache_dir=tmp_path).lookup(ref)
    assert isinstance(again, BaseFacts) and again.cached and again.uncompressed_size == first.uncompressed_size
    expired = BaseFactsService("registry", cache_dir=tmp_path, tag_ttl=0).lookup(ref)
    assert isinstance(expired, Unavailable) and expired.kind == "unreachable" and other.host in expired.reason
    pinned = BaseFactsService("registry", cache_dir=tmp_path, tag_ttl=0).lookup(f"{ref.rsplit(':', 1)[0]}@{first.index_digest}")
    assert isinstance(pinned, BaseFacts) and pinned.cached, "a digest-pinned reference needs no tag lookup"


def test_an_unreachable_registry_is_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    got = BaseFactsService("registry", cache_dir=None).lookup(f"127.0.0.1:{port}/team/base:1")
    assert isinstance(got, Unavailable) and got.kind == "unreachable"
    assert f"127.0.0.1:{port}" in got.reason and "\n" not in got.reason


def test_a_registry_that_never_answers_is_cut_off_by_the_deadline(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # connections are accepted by the kernel and never answered
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        svc = BaseFactsService("registry", cache_dir=tmp_path, request_timeout=30)
        got = svc.lookup_many([(f"{host}/team/base:1", None), (f"{host}/team/base:2", None)], deadline=1.0)
    assert {g.kind for g in got.values() if isinstance(g, Unavailable)} == {"timeout"} and len(got) == 2
