"""``lintimg pin`` against a real registry (Debian docker-registry on 127.0.0.1), the digest checked
against what ``docker push`` reported."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clirun import lintimg

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@pytest.fixture(scope="module")
def pinned_base(docker, registry):
    """(registry host, repository, digest as docker push reported it) for an image tagged 1 and latest."""
    reg = registry.start("pin")
    repo = f"{reg.host}/lintimg/pinbase"
    base = docker.base_image()
    digests = set()
    for tag in ("1", "latest"):
        docker.run("tag", base, f"{repo}:{tag}")
        out = docker.run("push", f"{repo}:{tag}").stdout.decode()
        digests.add(re.search(r"digest: (sha256:[0-9a-f]{64})", out).group(1))
    assert len(digests) == 1
    return reg.host, repo, digests.pop()


@pytest.fixture
def no_docker_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dockercfg"))
    (tmp_path / "dockercfg").mkdir()
    (tmp_path / "dockercfg" / "config.json").write_text(json.dumps({}))


def test_pin_writes_digests_and_keeps_tags(pinned_base, no_docker_config, tmp_path: Path) -> None:
    host, repo, digest = pinned_base
    (tmp_path / ".git").mkdir()
    df = tmp_path / "Dockerfile"
    df.write_text(
        "ARG BASE=scratch\n"
        f"FROM {repo}:1 AS build\r\n".replace("\r\n", "\n")
        + "FROM build AS again\n"
        + "FROM ${BASE}\n"
        + "FROM scratch\n"
        + f"from --platform=linux/amd64 {repo}\n"
    )
    proc = lintimg("pin", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert df.read_text() == (
        "ARG BASE=scratch\n"
        f"FROM {repo}:1@{digest} AS build\n"
        "FROM build AS again\n"
        "FROM ${BASE}\n"
        "FROM scratch\n"
        f"from --platform=linux/amd64 {repo}:latest@{digest}\n"
    )
    assert "pinned 2 FROM images in 1 file" in proc.stderr
    assert "Dockerfile:4: FROM ${BASE} depends on a build argument" in proc.stderr
    again = lintimg("pin", "--diff", "Dockerfile", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == ""


def test_pin_update_replaces_a_digest_that_moved(pinned_base, no_docker_config, tmp_path: Path) -> None:
    host, repo, digest = pinned_base
    stale = "sha256:" + "0" * 64
    df = tmp_path / "Dockerfile"
    df.write_text(f"FROM {repo}:1@{stale}\r\n")
    assert lintimg("pin", "--diff", str(df), cwd=tmp_path).stdout == ""  # pinned already: left alone
    proc = lintimg("pin", "--diff", "--update", str(df), cwd=tmp_path)
    assert proc.returncode == 1
    assert f"-FROM {repo}:1@{stale}\n+FROM {repo}:1@{digest}\n" in proc.stdout
    assert df.read_bytes() == f"FROM {repo}:1@{stale}\r\n".encode()  # --diff writes nothing
    assert lintimg("pin", "--update", str(df), cwd=tmp_path).returncode == 0
    assert df.read_bytes() == f"FROM {repo}:1@{digest}\r\n".encode()  # CRLF kept


def test_pin_failure_names_the_line_and_writes_nothing(pinned_base, no_docker_config, tmp_path: Path) -> None:
    host, repo, digest = pinned_base
    df = tmp_path / "Dockerfile"
    text = f"FROM {repo}:1\nFROM {repo}:no-such-tag\n"
    df.write_text(text)
    proc = lintimg("pin", str(df), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"Dockerfile:2: cannot pin {repo}:no-such-tag" in proc.stderr and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("lintimg: nothing written: ") and len(proc.stderr.splitlines()) == 1  # one failure, one line
    assert df.read_text() == text
    df.write_text(f"FROM {repo}:no-such-tag\nFROM {repo}:nor-this\n")
    proc = lintimg("pin", str(df), cwd=tmp_path)
    assert proc.returncode == 2 and "nothing written: 2 FROM images could not be resolved" in proc.stderr
    assert "Dockerfile:1: cannot pin" in proc.stderr and "Dockerfile:2: cannot pin" in proc.stderr


def test_pin_resolves_through_the_base_facts_service_and_asks_the_registry(pinned_base, no_docker_config, tmp_path: Path) -> None:
    """A tag's digest comes from the registry even when the shared cache still holds an older one."""
    from lintimg.image.basefacts import BaseFactsService, Unavailable

    host, repo, digest = pinned_base
    svc = BaseFactsService("registry", cache_dir=tmp_path / "cache")
    if not svc.cache.on:
        pytest.skip("LINTIMG_NO_CACHE is set: no cache to be stale")
    svc.cache.put("tags", f"{repo}:1", "sha256:" + "0" * 64)
    assert svc.tag_digest(f"{repo}:1") == digest
    assert svc.cache.fresh("tags", f"{repo}:1", 60) == digest  # the answer is shared with the other lookups
    offline = BaseFactsService("local", cache_dir=tmp_path / "cache").tag_digest(f"{repo}:1")
    assert isinstance(offline, Unavailable) and offline.kind == "offline"
