"""LI550/LI551: secrets in image layers, config and history (rules/image_secrets.py)."""
from __future__ import annotations

import pytest

from lintimg.config import Config
from lintimg.engine.target import Target
from lintimg.image.model import EntryType, LayerEntry
from lintimg.image.secrets import scan_entry
from lintimg.secrets.scanner import SecretScanner
from tests.imagebuild import layer, make_image
from tests.rulespec import engine

GHP = "ghp_" + "Zx81Kq2Lm9Np3Rt7Vw4Yb6Cd0Ef5Gh1Jk2Lm3N"[:36]


AWS_ID = "AKIA" + "QX7Z2M4K9R3T6W8Y"


def _scan(img, specs, scanner):
    img.analysis["secrets"] = [
        s for i, spec in enumerate(specs) for path, data in spec.content.items()
        for s in scan_entry(scanner, i, LayerEntry(path, EntryType.FILE, len(data), 0o644, 0, 0), data)
    ]
    return img


def _run(img, rule_id, dockerfile=None):
    eng = engine()
    t = Target(path="Dockerfile" if dockerfile else "image", config=Config(), image=img, dockerfile=dockerfile)
    return [f for f in eng.run(t) if f.rule_id == rule_id]


def test_li550_deleted_overwritten_base_layer_and_config():
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEpAIBAAKCAQEA7b" * 4 + "\n-----END RSA PRIVATE KEY-----\n"
    specs = [
        layer("ADD file:base in /", content={"etc/app/base.env": f"PASSWORD_HINT=none\nexport GH={GHP}\n".encode()}),
        layer("COPY id_rsa /root/.ssh/id_rsa", content={"root/.ssh/id_rsa": key.encode()}),
        layer("RUN rm /root/.ssh/id_rsa", delete=["root/.ssh/id_rsa"]),
        layer("COPY creds /app/creds", content={"app/creds": f"aws_access_key_id = {AWS_ID}\n".encode()}),
        layer("RUN echo x > /app/creds", content={"app/creds": b"nothing secret here at all\n"}),
    ]
    img = _scan(make_image(specs, config={"Env": [f"API_TOKEN={GHP}", "PATH=/usr/bin"]}), specs, SecretScanner(disk_cache=False))
    got = _run(img, "LI550")
    by_path = {f.image.path: f for f in got if f.image.path}
    assert by_path["/root/.ssh/id_rsa"].image.layer_index == 1 and "deleted in layer 2" in by_path["/root/.ssh/id_rsa"].message
    assert "overwritten in layer 4" in by_path["/app/creds"].message
    assert by_path["/etc/app/base.env"].image.layer_index == 0  # base layers are scanned too
    assert by_path["/etc/app/base.env"].image.layer_digest == img.layers[0].digest
    assert any("config Env" in f.message for f in got)
    for f in got:
        assert GHP not in f.message and AWS_ID not in f.message and "MIIEpAIB" not in f.message
        assert f.key and len(f.key) == 64


def test_li550_clean_image():
    specs = [layer("ADD file:base in /", content={"etc/os-release": b'NAME="Alpine Linux"\nID=alpine\n'})]
    img = _scan(make_image(specs, config={"Env": ["PATH=/usr/bin"]}), specs, SecretScanner(disk_cache=False))
    assert _run(img, "LI550") == []


def test_li551_config_and_history_names():
    img = make_image([layer("ADD file:base in /")], config={"Env": ["DB_PASSWORD=hunter2", "PATH=/bin", "GPG_KEY=ABCD"]},
                     empty_history=[(1, "/bin/sh -c #(nop)  ENV API_TOKEN=abc")])
    got = _run(img, "LI551")
    assert sorted(f.key for f in got) == ["API_TOKEN", "DB_PASSWORD"]
    img2 = make_image([layer("ADD file:base in /")], config={"Env": ["DB_PASSWORD=", "PATH=/bin"]})
    assert _run(img2, "LI551") == []


@pytest.mark.engine
def test_li550_on_a_real_image_in_every_format(docker, tmp_path):
    import json as _json

    from tests.clirun import lintimg

    base = docker.base_image()
    key_body = "MIIEowIBAAKCAQEAzR8" + "q7Xw2Lp9Kd4Mn6Bv3Cx1Zs" * 3
    (tmp_path / "id_rsa").write_text(f"-----BEGIN RSA PRIVATE KEY-----\n{key_body}\n-----END RSA PRIVATE KEY-----\n")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base}\n"
        "COPY id_rsa /root/.ssh/id_rsa\n"
        "RUN rm /root/.ssh/id_rsa\n"
        f"ENV API_TOKEN={GHP}\n"
        "ARG NPM_TOKEN\n"
        "RUN echo built > /built\n"
    )
    tag = "lintimg-test/secrets:1"
    docker.build(tmp_path, tag, None, "--build-arg", f"NPM_TOKEN=npm_{'Q' * 4}{'a1B2c3' * 6}")
    archive = tmp_path / "img.tar"
    docker.run("save", "-o", str(archive), tag)
    outputs = {fmt: lintimg("image", f"docker-archive:{archive}", "--format", fmt) for fmt in ("text", "json", "sarif")}
    for fmt, proc in outputs.items():
        assert proc.returncode == 1, (fmt, proc.stderr)
        for secret in (GHP, key_body[:24], "a1B2c3a1B2c3"):
            assert secret not in proc.stdout, f"{fmt} output prints a secret whole"
    findings = [f for f in _json.loads(outputs["json"].stdout)["findings"] if f["rule"] == "LI550"]
    key = next(f for f in findings if (f.get("image") or {}).get("path") == "/root/.ssh/id_rsa")
    assert "Private Key" in key["message"] and "deleted in layer" in key["message"]
    assert key["image"]["layer_digest"].startswith("sha256:")
    assert any("GitHub Token" in f["message"] and "config Env" in f["message"] for f in findings)
    assert any("history" in f["message"] for f in findings), [f["message"] for f in findings]
    # with the Dockerfile, the layer's finding points at the COPY that made it
    mapped = lintimg("image", f"docker-archive:{archive}", "--dockerfile", str(tmp_path / "Dockerfile"), "--format", "json")
    key = next(f for f in _json.loads(mapped.stdout)["findings"] if f["rule"] == "LI550" and (f.get("image") or {}).get("path") == "/root/.ssh/id_rsa")
    assert key["line"] == 2 and key["file"].endswith("Dockerfile")
