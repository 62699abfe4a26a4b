"""``lintimg image`` and ``lintimg build`` against the real engine and registry, on the book's fixtures."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import REPO, one_line_error
from tests.dockerengine import BASE_TAG, DockerEngine
from tests.imagebuild import TOOLCHAIN_TAG, toolchain_base
from tests.shared import SARIF_SCHEMA, need

BOOK = REPO / "fixtures" / "book"
BIGFILE_BYTES = 20_000_000
BIGFILE_TAG = "lintimg-test/bigfile:1"


def lintimg(*args: str, env: dict[str, str] | None = None, timeout: int = 1200) -> subprocess.CompletedProcess:
    """The real console entry; builds can take minutes, so a longer timeout than tests.clirun's."""
    base = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "NO_COLOR")}
    return subprocess.run([sys.executable, "-m", "lintimg", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**base, "PYTHONPATH": str(REPO), **(env or {})})


def report(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def of(doc: dict, rule: str) -> list[dict]:
    return [f for f in doc["findings"] if f["rule"] == rule]


@pytest.fixture(scope="module")
def bigfile_context(docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BigFile fixture with a 20 MB BigFile written next to it (never stored in the repository)."""
    docker.base_image()
    ctx = tmp_path_factory.mktemp("bigfile") / "bigfile"
    shutil.copytree(BOOK / "bigfile", ctx)
    with open(ctx / "BigFile", "wb") as fh:
        fh.write(os.urandom(BIGFILE_BYTES))
    return ctx


@pytest.mark.engine
@pytest.mark.parametrize("builder", ["classic", "detected"])
def test_bigfile_build_reports_the_wasted_bytes_with_both_layers_and_lines(docker: DockerEngine, bigfile_context: Path, builder: str, tmp_path: Path) -> None:
    env = {"LINTIMG_DOCKER": docker.cli, **({"DOCKER_BUILDKIT": "0"} if builder == "classic" else {})}
    config = tmp_path / "lintimg.yaml"
    config.write_text("max-copy-size: 10MB\n")  # a context rule's limit: shows the context is checked too
    proc = lintimg("build", "--format", "json", "--config", str(config), "--tag", BIGFILE_TAG, str(bigfile_context), env=env)
    doc = report(proc)
    assert proc.stderr == "", "no progress or build output when not on a terminal"
    assert doc["kind"] == "image"
    dockerfile = str(bigfile_context / "Dockerfile")
    lines = (bigfile_context / "Dockerfile").read_text().splitlines()
    add_line = lines.index("COPY BigFile /BigFile") + 1
    rm_line = lines.index("RUN rm /BigFile") + 1
    (waste,) = of(doc, "LI600")
    assert waste["file"] == dockerfile and waste["line"] == add_line
    assert f"line {add_line}" in waste["message"] and f"line {rm_line}" in waste["message"]
    assert "/BigFile (20.0 MB)" in waste["message"]
    assert waste["properties"]["wasted_bytes"] == BIGFILE_BYTES
    added, removed = waste["properties"]["added_layer"], waste["properties"]["removed_layer"]
    assert removed == added + 1 and waste["image"]["layer_index"] == added and waste["image"]["path"] == "/BigFile"
    copied = [f for f in doc["findings"] if f["rule"].startswith("LI4") and f["line"] == add_line and "BigFile" in f["message"]]
    assert copied, "the build context was checked with the Dockerfile and the image"
    policy = " | ".join(f["message"] for f in of(doc, "LI601"))
    assert "max-wasted-percent" in policy and "min-efficiency" in policy
    assert proc.returncode == 1


@pytest.fixture(scope="module")
def bigfile_image(docker: DockerEngine, bigfile_context: Path) -> str:
    docker.build(bigfile_context, BIGFILE_TAG)
    return BIGFILE_TAG


def _comparable(doc: dict) -> list[tuple]:
    """Findings without the reference as given; the fingerprint stays in: it hashes the path in the
    image and the layer's instruction, never the registry or the transport, so a baseline written
    from one source matches the image read from another."""
    out = []
    for f in doc["findings"]:
        im = dict(f.get("image") or {})
        im.pop("image", None)
        out.append((f["rule"], f["file"], f["line"], f["message"], json.dumps(im, sort_keys=True), json.dumps(f.get("properties"), sort_keys=True),
                    f["fingerprint"]))
    return sorted(out)


@pytest.mark.engine
@pytest.mark.registry
def test_same_image_from_registry_archive_and_daemon_gives_identical_findings(docker: DockerEngine, registry, bigfile_image: str, tmp_path: Path) -> None:
    archive = tmp_path / "bigfile.tar"
    docker.run("save", "-o", str(archive), bigfile_image)
    reg = registry.start("image-cli")
    pushed = f"{reg.host}/{bigfile_image}"
    docker.run("tag", bigfile_image, pushed)
    docker.run("push", pushed)
    refs = [f"docker://{pushed}", f"docker-archive:{archive}", f"docker-daemon:{bigfile_image}"]
    dockerfile = str(BOOK / "bigfile" / "Dockerfile")
    for extra in ([], ["--dockerfile", dockerfile]):
        docs = [report(lintimg("image", "--format", "json", ref, *extra)) for ref in refs]
        assert of(docs[0], "LI600"), "the BigFile waste is found at all"
        first = _comparable(docs[0])
        for ref, doc in zip(refs[1:], docs[1:]):
            assert _comparable(doc) == first, f"{ref} differs from {refs[0]}"
    alone = report(lintimg("image", "--format", "json", refs[1]))
    (waste,) = of(alone, "LI600")
    assert waste["file"] == "bigfile/BigFile", "no Dockerfile: a stable synthetic path named after the image"


@pytest.mark.engine
@pytest.mark.registry
def test_tls_registry_needs_its_ca_on_the_command_line(docker: DockerEngine, registry, bigfile_image: str, tmp_path: Path, monkeypatch) -> None:
    from tests.registry import make_cert

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    plain = registry.start("image-cli-push")
    pushed = f"{plain.host}/{bigfile_image}"
    docker.run("tag", bigfile_image, pushed)
    docker.run("push", pushed)
    key, cert = make_cert(tmp_path)
    tls = registry.start("image-cli-tls", tls=(key, cert))  # same storage: the pushed image is there
    ref = f"docker://{tls.host}/{bigfile_image}"
    untrusted = lintimg("image", "--format", "json", ref)
    assert untrusted.returncode == 2 and "Traceback" not in untrusted.stderr
    assert "not trusted" in untrusted.stderr and len(untrusted.stderr.strip().splitlines()) == 1
    trusted = report(lintimg("image", "--format", "json", "--ca-file", str(cert), ref))
    assert of(trusted, "LI600"), "the BigFile waste is found through the TLS registry"
    missing = lintimg("image", "--ca-file", str(tmp_path / "nope.pem"), ref)
    assert missing.returncode == 2 and "CA file not found" in missing.stderr


@pytest.mark.engine
def test_image_sarif_is_valid_and_every_result_has_a_colon_free_uri(docker: DockerEngine, bigfile_image: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    need(SARIF_SCHEMA, "the SARIF 2.1.0 schema")
    proc = lintimg("image", "--format", "sarif", f"docker-daemon:{bigfile_image}")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(doc)
    results = [r for run in doc["runs"] for r in run["results"]]
    assert any(r["ruleId"] == "LI600" for r in results)
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri and ":" not in uri, uri


# --- the kuard-like app, single- and multi-stage ------------------------------------


@pytest.fixture(scope="module")
def toolchain(docker: DockerEngine) -> str:
    docker.base_image()
    return toolchain_base(docker)


@pytest.mark.engine
def test_single_stage_kuard_ships_its_toolchains(docker: DockerEngine, toolchain: str) -> None:
    ctx = BOOK / "kuard"
    proc = lintimg("build", "--format", "json", "--tag", "lintimg-test/kuard-single:1", str(ctx), env={"LINTIMG_DOCKER": docker.cli})
    doc = report(proc)
    assert proc.returncode == 1
    dockerfile = (ctx / "Dockerfile").read_text().splitlines()
    from_line = next(i for i, s in enumerate(dockerfile, 1) if s.startswith("FROM "))
    run_line = next(i for i, s in enumerate(dockerfile, 1) if s.startswith("RUN ") and "go build" in s)
    tools = {f["properties"]["toolchain"]: f for f in of(doc, "LI603")}
    assert set(tools) == {"Go toolchain", "Node.js"}, [f["message"] for f in of(doc, "LI603")]
    go = tools["Go toolchain"]
    assert go["line"] == from_line and "base image" in go["message"] and "golang" in go["fix"]
    # the numbers: the Go toolchain is a large part of the image, and the message says how much
    assert go["properties"]["bytes"] > 100_000_000 and go["properties"]["bytes"] < go["properties"]["image_bytes"]
    assert "of the image's" in go["message"]
    caches = {f["properties"]["cache"]: f for f in of(doc, "LI602")}
    assert caches["Go build cache"]["line"] == run_line and caches["Go build cache"]["properties"]["bytes"] > 1_000_000
    # the toolchains' own test keys and samples are the distribution's (LI553) or the base image's, never errors
    assert not [f for f in doc["findings"] if f["rule"] in ("LI550", "LI552") or (f["rule"].startswith("LI5") and f["severity"] == "error")], \
        [f["message"] for f in doc["findings"] if f["rule"] in ("LI550", "LI552")][:5]


@pytest.mark.engine
def test_multi_stage_kuard_is_not_flagged(docker: DockerEngine, toolchain: str) -> None:
    ctx = BOOK / "kuard"
    proc = lintimg("build", "--format", "json", "--file", str(ctx / "Dockerfile.multistage"), "--tag", "lintimg-test/kuard-multi:1", str(ctx),
                   env={"LINTIMG_DOCKER": docker.cli})
    doc = report(proc)
    assert doc["findings"] == [], [(f["rule"], f["message"]) for f in doc["findings"]]
    assert proc.returncode == 0
    size = int(docker.run("image", "inspect", "-f", "{{.Size}}", "lintimg-test/kuard-multi:1").stdout)
    single = int(docker.run("image", "inspect", "-f", "{{.Size}}", TOOLCHAIN_TAG).stdout)
    assert size * 20 < single, "the runtime image is a small fraction of the toolchain image"


# --- errors and progress ------------------------------------------------------------


@pytest.mark.engine
def test_a_failing_build_is_one_line_and_exit_2(docker: DockerEngine, tmp_path: Path) -> None:
    docker.base_image()
    (tmp_path / "Dockerfile").write_text(f"FROM {BASE_TAG}\nRUN echo about to fail && false\n")
    line = one_line_error(lintimg("build", str(tmp_path), env={"LINTIMG_DOCKER": docker.cli}), "build of", "failed")
    assert "non-zero" in line or "returned" in line or "exit" in line


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    one_line_error(lintimg("image", f"docker-archive:{tmp_path / 'missing.tar'}"), "missing.tar")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a tar at all")
    one_line_error(lintimg("image", f"docker-archive:{garbage}"), "garbage.tar")
    one_line_error(lintimg("image", "docker-archive:/dev/null", "--dockerfile", str(tmp_path / "nope")), "nope", "not found")
    one_line_error(lintimg("build", str(tmp_path / "no-such-context")), "no-such-context")
    one_line_error(lintimg("image", "docker://Bad//ref::x"), "Bad//ref::x", "invalid image reference")


@pytest.mark.engine
def test_unknown_local_image_is_one_line(docker: DockerEngine) -> None:
    one_line_error(lintimg("image", "docker-daemon:lintimg-test/no-such-image:9"), "no-such-image")


def test_engine_unreachable_is_one_line(tmp_path: Path) -> None:
    cli = shutil.which("docker") or "/usr/bin/docker"
    if not os.path.exists(cli):
        pytest.skip("no docker CLI")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
    env = {"LINTIMG_DOCKER": cli, "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    one_line_error(lintimg("build", str(tmp_path), env=env), "docker engine unreachable")


@pytest.mark.engine
def test_history_checks_on_a_real_image_without_its_dockerfile(docker: DockerEngine, tmp_path: Path) -> None:
    base = docker.base_image()
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nARG FLAVOUR=plain\nRUN if false; then sudo true; fi; echo done > /done\nUSER 65534\n")
    docker.build(tmp_path, "lintimg-test/history:1", None, "--build-arg", "FLAVOUR=extra")
    doc = report(lintimg("image", "--format", "json", "docker-daemon:lintimg-test/history:1"))
    from_history = [f for f in doc["findings"] if f["file"] == "history/history.Dockerfile"]
    (sudo,) = [f for f in from_history if "sudo" in f["message"].lower()]
    assert sudo["line"] > 1, "on the line rebuilt from the RUN's history entry"
    assert sudo["image"]["created_by"] == "|1 FLAVOUR=extra /bin/sh -c if false; then sudo true; fi; echo done > /done"
    assert sudo["image"]["layer_index"] == 1
