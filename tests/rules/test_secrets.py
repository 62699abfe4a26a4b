"""LI5xx secret rules, written from each rule's meaning (peer oracle cases are measured separately)."""
from __future__ import annotations

import pytest

from lintimg.config import Config
from lintimg.image.model import EntryType, LayerEntry
from lintimg.secrets import SecretScanner
from lintimg.target import Target
from tests.imagebuild import layer, make_image
from tests.rulespec import catches, engine, passes

GHP = "ghp_" + "Zx81Kq2Lm9Np3Rt7Vw4Yb6Cd0Ef5Gh1Jk2Lm3N"[:36]
AWS_ID = "AKIA" + "QX7Z2M4K9R3T6W8Y"


# LI500 secret-in-arg-or-env -------------------------------------------------

@pytest.mark.parametrize("decl", ["ARG GITHUB_TOKEN", "ENV DB_PASSWORD=x", "ARG openai_api_key", "ENV PGPASSWORD=x",
                                  "ARG ARTIFACTORY_PSW", "ENV app.secret=x", "ARG npm-auth"])
def test_li500_catches_secret_names(decl):
    catches("LI500", f"FROM alpine:3.20\n{decl}\n", line=2)


@pytest.mark.parametrize("decl", ["ENV PUBLIC_KEY=x", "ARG KEY_FILE", "ENV TOKENIZERS_PARALLELISM=false", "ENV GPG_KEY=ABCDEF",
                                  "ARG NODE_VERSION=20", "ENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json",
                                  "ENV MONKEY=banana", "ARG SSL_KEY_PATH=/etc/ssl/k.pem", "ENV OS_AUTH_URL=https://keystone:5000",
                                  "ENV DHPARAM_KEY_SIZE=2048"])
def test_li500_passes_public_or_reference_names(decl):
    passes("LI500", f"FROM alpine:3.20\n{decl}\n")


def test_li500_global_arg_and_every_pair():
    catches("LI500", "ARG AWS_SECRET_ACCESS_KEY\nFROM alpine:3.20\n", line=1)
    catches("LI500", "FROM alpine:3.20\nENV A=1 API_TOKEN=2 B=3\n", count=1, message="API_TOKEN")


def test_li500_honours_hadolint_pragma():
    passes("LI500", "FROM alpine:3.20\n# hadolint ignore=DL3064\nARG GITHUB_TOKEN\n")


# LI501 secret-file-copied-into-image -----------------------------------------

def test_li501_env_under_copy_destination():
    catches("LI501", "FROM python:3.12\nCOPY src /app/\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\n", line=3, message="line 2")
    catches("LI501", "FROM python:3.12\nCOPY . .\nARG AWS_CONFIG_FILE=./aws/config\n", line=3)


def test_li501_copy_to_the_variable():
    catches("LI501", "FROM python:3.12\nCOPY ./config ${AWS_CONFIG_FILE}\n", line=2)


def test_li501_passes_when_not_copied_or_not_final():
    passes("LI501", "FROM python:3.12\nENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json\n")
    passes("LI501", "FROM python:3.12\nCOPY src /src\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\n")
    passes("LI501", "FROM python:3.12 AS build\nCOPY . /app\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\nFROM python:3.12\nCOPY --from=build /app/dist /dist\n")


# LI502 cloud-credentials-in-run -----------------------------------------------

@pytest.mark.parametrize("cmd", [
    'aws configure set aws_secret_access_key "$KEY"',
    "gcloud auth activate-service-account --key-file=/tmp/k.json",
    "az login --service-principal -u app -p \"$PW\" --tenant t",
    "doctl auth init -t $DO_TOKEN",
])
def test_li502_catches_cli_logins(cmd):
    catches("LI502", f"FROM alpine:3.20\nRUN apk add --no-cache curl && \\\n    {cmd}\n", line=3)


def test_li502_passes_with_secret_mount_or_harmless_commands():
    passes("LI502", "FROM alpine:3.20\nRUN --mount=type=secret,id=aws aws configure set aws_secret_access_key $(cat /run/secrets/aws)\n")
    passes("LI502", "FROM alpine:3.20\nRUN aws configure set region eu-west-1 && az login --identity && gcloud auth list\n")


# LI503 secret-in-dockerfile ---------------------------------------------------

def test_li503_value_in_env_run_heredoc_label():
    got = catches("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", line=2, message="GitHub Token")
    assert GHP not in got[0].message and GHP[:4] in got[0].message
    catches("LI503", f"FROM alpine:3.20\nRUN <<EOF\nexport K={AWS_ID}\nEOF\n", line=3, message="AWS Access Key")
    catches("LI503", "FROM alpine:3.20\nRUN git clone https://ci:Xr7pQ2wL9zK4@git.example.com/r.git\n", line=2, message="Basic Auth")
    catches("LI503", 'FROM alpine:3.20\nLABEL signing="Zq8X2mP9vL4nR7tK1wY6bH3cJ5dF0gS8aE2uI"\n', line=2, message="High Entropy")


def test_li503_passes_references_and_allowlist():
    passes("LI503", "FROM alpine:3.20\nARG GITHUB_TOKEN\nRUN --mount=type=secret,id=t GITHUB_TOKEN=$(cat /run/secrets/t) make\n")
    passes("LI503", 'FROM alpine:3.20\nENV PASSWORD="${DB_PASSWORD}"\n')
    fp = catches("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n")[0].key
    passes("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", config={"secrets": {"allowlist": [fp]}})
    passes("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", config={"secrets": {"allowlist": ["^ghp_"]}})


# LI550 / LI551 on images built in Python -----------------------------------------

def _scan(img, specs, scanner):
    img.analysis["secrets"] = [
        s for i, spec in enumerate(specs) for path, data in spec.content.items()
        for s in scanner.scan_entry(i, LayerEntry(path, EntryType.FILE, len(data), 0o644, 0, 0), data)
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


# A real image: secrets in a file deleted later, in ENV, and in a build arg -----

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


def test_li503_checksums_are_not_secrets_but_hex_under_a_secret_name_is():
    sha = "e3f745a645fa7a4bf6629914b967e24e1522f65ea17c07d9d16d8d2223fc03c5"
    passes("LI503", f"FROM alpine:3.20\nENV H2O_SHA256 {sha}\nRUN echo \"{sha}  h2o.tgz\" | sha256sum -c -\n")
    catches("LI503", f"FROM alpine:3.20\nENV DEPLOY_TOKEN={sha}\n", line=2, message="Hex High Entropy")


def test_li503_unquoted_shell_assignments_and_sudoers():
    catches("LI503", 'FROM alpine:3.20\nRUN echo "aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYzz12" > /root/.aws/credentials\n', line=2)
    passes("LI503", "FROM alpine:3.20\nRUN echo 'app ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers\n")


def test_li503_one_finding_per_env_value():
    catches("LI503", "FROM alpine:3.20\nENV A=1 \\\n    DB_PASSWORD=s3cr3tHunter2x \\\n    B=2\n", line=3, count=1)
