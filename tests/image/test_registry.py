"""docker:// against real docker-registry processes: anonymous, TLS + basic auth, bearer tokens,
identity tokens via a credential helper, retries, redirects and the one-line errors."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import urllib.request

import pytest

from lintimg.errors import LintimgError
from lintimg.image import open_image
from tests.dockerengine import unavailable
from tests.image.support import SAMPLE_TAG, snapshot
from tests.registry import FaultProxy, free_port, htpasswd_file, make_cert

pytestmark = [pytest.mark.engine, pytest.mark.registry]
REPO = "lintimg/sample"


@pytest.fixture(scope="module")
def anon(docker, registry, sample_archive):
    """The anonymous registry, holding the sample image pushed by the engine."""
    reg = registry.start("anon")
    target = f"{reg.host}/{REPO}:1"
    docker.run("tag", SAMPLE_TAG, target)
    docker.run("push", target)
    return reg


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    """Write a Docker config.json for this test only; returns a writer."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dockercfg"))
    monkeypatch.delenv("DOCKER_AUTH_CONFIG", raising=False)
    (tmp_path / "dockercfg").mkdir()

    def write(cfg: dict) -> None:
        (tmp_path / "dockercfg" / "config.json").write_text(json.dumps(cfg))

    write({})
    return write


def auth_entry(user: str, password: str) -> dict:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_same_image_from_registry_archive_and_daemon(anon, sample_archive, docker_config):
    pulled = open_image(f"docker://{anon.host}/{REPO}:1")
    assert snapshot(pulled) == snapshot(open_image(f"docker-archive:{sample_archive}"))
    assert snapshot(pulled) == snapshot(open_image(f"docker-daemon:{SAMPLE_TAG}"))
    # pushed layers are gzip blobs, so the blob digest is not the diff_id
    assert all(la.media_type.endswith("gzip") and la.digest != la.diff_id for la in pulled.layers)
    by_digest = open_image(f"docker://{anon.host}/{REPO}@{pulled.digest}")
    assert by_digest.digest == pulled.digest and snapshot(by_digest) == snapshot(pulled)
    assert pulled.name == f"{anon.host}/{REPO}"


def test_index_platform_selection_skips_attestations(anon, docker_config):
    base = f"http://{anon.host}/v2/{REPO}/manifests"
    req = urllib.request.Request(f"{base}/1", headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req) as r:
        body, mtype = r.read(), r.headers["Content-Type"]
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    desc = {"mediaType": mtype, "digest": digest, "size": len(body)}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        # listed first so that a reader ignoring attestations would pick it
        {**desc, "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": digest}},
        {**desc, "platform": {"os": "linux", "architecture": "amd64"}},
    ]}
    put = urllib.request.Request(f"{base}/multi", data=json.dumps(index).encode(), method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    urllib.request.urlopen(put).close()
    img = open_image(f"docker://{anon.host}/{REPO}:multi", platform="linux/amd64")
    assert img.digest == digest and len(img.layers) == 5
    with pytest.raises(LintimgError, match=rf"docker://{anon.host}/{REPO}:multi: no image for platform linux/arm64/v8 \(available: linux/amd64\)"):
        open_image(f"docker://{anon.host}/{REPO}:multi", platform="linux/arm64")
    with pytest.raises(LintimgError, match="the image is linux/amd64, not linux/s390x"):
        open_image(f"docker://{anon.host}/{REPO}:1", platform="linux/s390x")


def test_tls_with_basic_auth(anon, registry, docker_config, tmp_path, monkeypatch):
    key, cert = make_cert(tmp_path)
    pw = htpasswd_file(tmp_path / "htpasswd", "bob", "s3cret-pw")
    reg = registry.start("basic", tls=(key, cert), auth=f"htpasswd:\n  realm: lintimg\n  path: {pw}\n")
    ref = f"docker://{reg.host}/{REPO}:1"
    docker_config({"auths": {f"https://{reg.host}/v1/": auth_entry("bob", "s3cret-pw")}})
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(LintimgError, match=rf"^{ref}: TLS certificate of {reg.host} is not trusted"):
        open_image(ref)
    assert len(open_image(ref, ca_file=str(cert)).layers) == 5
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert len(open_image(ref).layers) == 5
    docker_config({"auths": {reg.host: auth_entry("bob", "wrong")}})
    with pytest.raises(LintimgError, match=r"authentication required \(401\)") as err:
        open_image(ref)
    assert "wrong" not in str(err.value)
    docker_config({})
    with pytest.raises(LintimgError, match=r"authentication required \(401\)"):
        open_image(ref)


@pytest.fixture(scope="module")
def token_registry(anon, registry, tmp_path_factory):
    try:
        from tests.tokenserver import TokenServer
    except ImportError:
        unavailable("the token server needs the cryptography package")
    ts = TokenServer(tmp_path_factory.mktemp("token"), users={"alice": "alice-pw"}, identity_tokens={"idtok-123": "alice"})
    reg = registry.start("token", auth=ts.registry_auth())
    yield reg, ts
    ts.close()


def test_bearer_token_with_password(token_registry, docker_config):
    reg, ts = token_registry
    docker_config({"auths": {reg.host: auth_entry("alice", "alice-pw")}})
    ts.requests.clear()
    assert len(open_image(f"docker://{reg.host}/{REPO}:1").layers) == 5
    gets = [r for r in ts.requests if r[0] == "GET"]
    assert gets and all(h.get("Authorization", "").startswith("Basic ") for _, _, h in gets)
    assert "scope=repository%3Alintimg%2Fsample%3Apull" in gets[0][1]


def test_bearer_identity_token_from_credential_helper(token_registry, docker_config, tmp_path, monkeypatch):
    reg, ts = token_registry
    helper = tmp_path / "bin" / "docker-credential-lintimgtest"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\nread server\necho "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"<token>\\",\\"Secret\\":\\"idtok-123\\"}"\n')
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{helper.parent}{os.pathsep}{os.environ['PATH']}")
    docker_config({"credHelpers": {reg.host: "lintimgtest"}})
    ts.requests.clear()
    assert len(open_image(f"docker://{reg.host}/{REPO}:1").layers) == 5
    assert ts.requests and all(m == "POST" for m, _, _ in ts.requests)
    # the same identity token stored in config.json auths
    docker_config({"auths": {reg.host: {"identitytoken": "idtok-123"}}})
    assert len(open_image(f"docker://{reg.host}/{REPO}:1").layers) == 5


def test_bearer_anonymous_is_refused(token_registry, docker_config):
    reg, _ = token_registry
    with pytest.raises(LintimgError, match=rf"^docker://{reg.host}/{REPO}:1: authentication required \(401\)"):
        open_image(f"docker://{reg.host}/{REPO}:1")
    docker_config({"credsStore": "lintimg-absent-helper"})
    with pytest.raises(LintimgError, match="docker-credential-lintimg-absent-helper .* is not installed"):
        open_image(f"docker://{reg.host}/{REPO}:1")


def test_retries_redirects_and_no_auth_leak(anon, docker_config):
    proxy = FaultProxy(anon.host, user="carol", password="carol-pw", failures=2, forbidden="/v2/lintimg/private/")
    try:
        docker_config({"auths": {proxy.host: auth_entry("carol", "carol-pw")}})
        img = open_image(f"docker://{proxy.host}/{REPO}:1")
        assert len(img.layers) == 5
        assert proxy.statuses.count(503) == 1 and proxy.statuses.count(429) == 1
        assert len(proxy.seen_by_storage) >= 6  # config + 5 layers came from the other host
        assert not any("Authorization" in h for h in proxy.seen_by_storage)
        with pytest.raises(LintimgError, match=r"access denied \(403\)"):
            open_image(f"docker://{proxy.host}/lintimg/private:1")
    finally:
        proxy.close()


def test_registry_errors(anon, docker_config):
    with pytest.raises(LintimgError, match=rf"^docker://{anon.host}/{REPO}:nope: manifest nope not found \(404\)$"):
        open_image(f"docker://{anon.host}/{REPO}:nope")
    with pytest.raises(LintimgError, match=rf"^docker://{anon.host}/lintimg/absent:1: manifest 1 not found \(404\)$"):
        open_image(f"docker://{anon.host}/lintimg/absent:1")
    port = free_port()
    with pytest.raises(LintimgError, match=rf"^docker://127.0.0.1:{port}/x:1: registry 127.0.0.1:{port} is unreachable"):
        open_image(f"docker://127.0.0.1:{port}/x:1")
    with pytest.raises(LintimgError, match=r"refusing http:// to example\.invalid"):
        from lintimg.dockerfile.reference import parse_docker_ref
        from lintimg.image.registry import Registry

        Registry(parse_docker_ref("example.invalid/x:1"))._connect("http://example.invalid/v2/", 5.0)


def test_bare_reference_falls_back_to_the_registry(anon, docker, docker_config):
    only_remote = f"{anon.host}/{REPO}:remote"
    docker.run("tag", SAMPLE_TAG, only_remote)
    docker.run("push", only_remote)
    docker.run("rmi", only_remote)
    img = open_image(only_remote)
    assert img.digest is not None and img.layers[0].media_type.endswith("gzip")  # came from the registry


def push_layout(host: str, repo: str, tag: str, files: dict[str, bytes]) -> None:
    """Upload an OCI layout's blobs and its manifest through the distribution API (monolithic uploads)."""
    index = json.loads(files["index.json"])
    man_digest = index["manifests"][0]["digest"]
    for name, data in files.items():
        if not name.startswith("blobs/") or name.endswith(man_digest[7:]):
            continue
        start = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/", method="POST")
        with urllib.request.urlopen(start) as r:
            loc = r.headers["Location"]
        loc = loc if loc.startswith("http") else f"http://{host}{loc}"
        sep = "&" if "?" in loc else "?"
        put = urllib.request.Request(f"{loc}{sep}digest=sha256:{name[13:]}", data=data, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put).close()
    body = files["blobs/sha256/" + man_digest[7:]]
    put = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", data=body, method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(put).close()


def test_oci_manifest_with_zstd_and_plain_layers(anon, sample_archive, docker_config):
    from tests.image import layouts

    files = layouts.build_layout(layouts.read_legacy(str(sample_archive)), compression=["zstd", "none", "gzip", "zstd", "none"], manifest_json=False)
    push_layout(anon.host, "lintimg/oci", "zstd", files)
    img = open_image(f"docker://{anon.host}/lintimg/oci:zstd")
    assert snapshot(img) == snapshot(open_image(f"docker-archive:{sample_archive}"))
    assert [la.media_type.rsplit(".", 1)[-1] for la in img.layers] == ["tar+zstd", "tar", "tar+gzip", "tar+zstd", "tar"]


def test_plain_http_beyond_loopback_needs_insecure(anon, registry, docker_config):
    from tests.registry import lan_address

    address = lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    reg = registry.start("lan", address=address)
    ref = f"docker://{reg.host}/{REPO}:1"
    with pytest.raises(LintimgError, match=rf"^{ref}: TLS with {reg.host} failed .*allow that with --insecure$"):
        open_image(ref)
    assert len(open_image(ref, insecure=True).layers) == 5
