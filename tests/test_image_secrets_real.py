"""Secrets on real images built here: none reported at warning or error on clean images from Debian,
PyPI and npm packages; every planted position found and attributed; no whole value in any output.

The clean images (:mod:`tests.cleanimages`) are built once and kept by tag; the planted image is
built on the test busybox base, on top of a "base image" that holds a secret of its own.
"""
from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.clirun import lintimg
from tests.dockerengine import DockerEngine

pytestmark = pytest.mark.engine

SECRET_RULES = ("LI503", "LI540", "LI550", "LI551", "LI552", "LI553")
FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")


@pytest.fixture(scope="session")
def clean(docker: DockerEngine) -> dict[str, Path]:
    from tests.cleanimages import clean_images, saved

    return {name: saved(docker, tag) for name, tag in clean_images(docker).items()}


def _findings(proc: subprocess.CompletedProcess) -> list[dict]:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


@pytest.mark.parametrize("name", ["minbase", "python", "node", "java"])
def test_clean_images_have_no_warning_or_error_secret_findings(clean, name, capsys):
    # a cold scan of up to 450 MB of layers: minutes, not seconds, on a loaded 2-CPU machine
    proc = lintimg("image", f"docker-archive:{clean[name]}", "--format", "json", "--select", ",".join(SECRET_RULES), timeout=900)
    found = [f for f in _findings(proc) if f["rule"] in SECRET_RULES]
    loud = [f for f in found if f["severity"] in ("error", "warning")]
    with capsys.disabled():
        counts = Counter((f["rule"], f["severity"]) for f in found)
        print(f"\nclean-{name}: {len(found)} secret findings {dict(counts)}; "
              f"in packages: {sorted({f['message'].split('(a file of ')[1].split(' (')[0] for f in found if f['rule'] == 'LI553'})[:12]}")
    assert loud == [], [(f["rule"], f["message"]) for f in loud]
    assert proc.returncode == 0  # a secrets gate with the default failure threshold passes


def test_with_its_dockerfile_a_clean_image_reports_base_layers_apart(clean, tmp_path):
    """The Python image mapped to its Dockerfile: minbase's layer is the base image's, and nothing is an error."""
    from tests.cleanimages import dockerfile

    (tmp_path / "Dockerfile").write_text(dockerfile("python"))
    found = _findings(lintimg("image", f"docker-archive:{clean['python']}", "--dockerfile", str(tmp_path / "Dockerfile"), "--format", "json", timeout=900))
    assert not [f for f in found if f["rule"] in SECRET_RULES and f["severity"] in ("error", "warning")]


# --- every position, planted ---------------------------------------------------------------

GHP = "ghp_" + "Lq4Zx8Nw2Tb7Vk1Rm5Jc9Hd3Gf6Ys0Pa2Ue8"
AWS_ID = "AKIA" + "ZQ4T7W2MX9K3R6BN"
NPM = "npm_" + "Wq2Lx7Kd9Zt4Rb8Mv1Nc6Yh3Fg5Js0Pa2Qe4"
SLACK = "xoxb-" + "284751930264-2847519302641-" + "kT9wQ2zL7xR4mB8vN1cY6dH3"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dcXk2"
BASE_KEY = "ghr_" + "Bn3Xq8Lm2Zk7Wt4Rv9Jc1Hy6Df5Gs0Pa3Ue2"
LABEL_TOKEN = "glpat-" + "Xq7Lm2Zk9Wt4Rv8JcHy6"
ENV_TOKEN = "ghp_" + "Ey7Rk2Lq9Zx4Nw8Tb1Vm6Jc3Hd5Gf0Ys2Pa4"
ARCHIVE_TOKEN = "ghs_" + "Tz5Wq1Lm8Kx3Rb7Nv2Jc9Hd4Gf6Ys0Pa1Ue5"
ZIP_TOKEN = "ghu_" + "Vm3Lq8Zx1Nw6Tb9Rk4Jc2Hd7Gf5Ys0Pa8Ue3"
STAGE_TOKEN = "gho_" + "Kd6Wq2Lm9Zx4Rb8Nv1Jc3Hd5Gf7Ys0Pa6Ue1"
PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW" + c * 6 for c in "QRST")
       + "\n-----END OPENSSH PRIVATE KEY-----\n")
VALUES = (GHP, AWS_ID, NPM, SLACK, STRIPE, BASE_KEY, LABEL_TOKEN, ENV_TOKEN, ARCHIVE_TOKEN, ZIP_TOKEN, STAGE_TOKEN, PEM.splitlines()[2])

BASE_DOCKERFILE = """\
FROM {base}
COPY netrc /root/.netrc
"""
APP_DOCKERFILE = """\
FROM lintimg-test/planted-base:1 AS builder
COPY stage.env /build/stage.env
RUN echo built > /build/out

FROM lintimg-test/planted-base:1
COPY --from=builder /build/out /app/out
COPY app.env /app/.env
COPY id_ed25519 /root/.ssh/id_ed25519
RUN rm /root/.ssh/id_ed25519
COPY creds /app/creds
RUN echo 'region = eu-west-1' > /app/creds
COPY bundle.tgz /opt/bundle.tgz
COPY site.zip /opt/site.zip
ENV SERVICE_TOKEN={env_token}
LABEL com.acme.registry-token={label_token}
ARG NPM_TOKEN
RUN echo "//registry.npmjs.org/:_authToken=$NPM_TOKEN" > /dev/null && echo done > /app/done
RUN echo {slack} > /dev/null
"""


def _tgz(files: dict[str, str]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            t.addfile(info, io.BytesIO(text.encode()))
    return buf.getvalue()


def _zip(files: dict[str, str]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def planted(docker: DockerEngine, tmp_path_factory) -> tuple[Path, Path]:
    """The planted image's archive and its Dockerfile."""
    ctx = tmp_path_factory.mktemp("planted")
    (ctx / "netrc").write_text(f"machine github.com login ci password {BASE_KEY}\n")
    (ctx / "Dockerfile.base").write_text(BASE_DOCKERFILE.format(base=docker.base_image()))
    docker.build(ctx, "lintimg-test/planted-base:1", ctx / "Dockerfile.base")
    (ctx / "stage.env").write_text(f"GITHUB_TOKEN={STAGE_TOKEN}\n")
    (ctx / "app.env").write_text(f"GITHUB_TOKEN={GHP}\nSTRIPE_SECRET_KEY={STRIPE}\n")
    (ctx / "id_ed25519").write_text(PEM)
    (ctx / "creds").write_text(f"[default]\naws_access_key_id = {AWS_ID}\n")
    (ctx / "bundle.tgz").write_bytes(_tgz({"config/deploy.env": f"DEPLOY_TOKEN={ARCHIVE_TOKEN}\n"}))
    (ctx / "site.zip").write_bytes(_zip({"conf/site.ini": f"token = {ZIP_TOKEN}\n"}))
    (ctx / "Dockerfile").write_text(APP_DOCKERFILE.format(env_token=ENV_TOKEN, label_token=LABEL_TOKEN, slack=SLACK))
    docker.build(ctx, "lintimg-test/planted:1", ctx / "Dockerfile", "--build-arg", f"NPM_TOKEN={NPM}")
    archive = ctx / "planted.tar"
    docker.run("save", "-o", str(archive), "lintimg-test/planted:1")
    return archive, ctx / "Dockerfile"


def _messages(findings: list[dict], rule: str) -> list[str]:
    return [f["message"] for f in findings if f["rule"] == rule]


def test_every_planted_position_is_found_and_attributed(planted):
    archive, dockerfile = planted
    found = _findings(lintimg("image", f"docker-archive:{archive}", "--dockerfile", str(dockerfile), "--format", "json"))
    li550 = _messages(found, "LI550")
    text = "\n".join(li550)
    lines = Path(dockerfile).read_text().splitlines()

    def line_of(prefix: str) -> int:
        return next(i for i, s in enumerate(lines, 1) if s.startswith(prefix) and i > 4)

    expect = {
        "/app/.env (": ("GitHub token", "COPY app.env"),
        "Stripe": ("/app/.env", "COPY app.env"),
        "/root/.ssh/id_ed25519": ("private key", "deleted in layer"),
        "/app/creds": ("AWS access key id", "overwritten in layer"),
        "/opt/bundle.tgz!/config/deploy.env": ("GitHub token", "COPY bundle.tgz"),
        "/opt/site.zip!/conf/site.ini": ("GitHub token", "COPY site.zip"),
        "ENV SERVICE_TOKEN": ("GitHub token",),
        "LABEL com.acme.registry-token": ("GitLab token",),
        "build argument NPM_TOKEN": ("npm access token", "recorded in the image history"),
        "Slack token in the image history": (),
    }
    for needle, words in expect.items():
        hits = [m for m in li550 if needle in m]
        assert hits, f"{needle} not found in:\n{text}"
        for w in words:
            assert any(w in m for m in hits), (needle, w, hits)
    by_path = {(f.get("image") or {}).get("path"): f for f in found if f["rule"] == "LI550"}
    assert by_path["/root/.ssh/id_ed25519"]["line"] == line_of("COPY id_ed25519")
    assert by_path["/opt/bundle.tgz"]["line"] == line_of("COPY bundle.tgz")
    env = next(f for f in found if f["rule"] == "LI550" and "ENV SERVICE_TOKEN" in f["message"])
    assert env["line"] == line_of("ENV SERVICE_TOKEN")
    # the base image's own secret: LI552 on the FROM line, never an error
    (base,) = [f for f in found if f["rule"] == "LI552"]
    assert "/root/.netrc" in base["message"] and base["line"] == line_of("FROM lintimg-test/planted-base:1")
    # nothing from the discarded build stage
    assert not [f for f in found if "stage.env" in f["message"] or "/build/" in f["message"]]
    assert len([m for m in li550 if "/app/.env (" in m or ("/app/.env" in m and "Stripe" in m)]) == 2  # one per secret


def test_base_layers_policy_on_a_real_image(planted, tmp_path):
    archive, dockerfile = planted
    for policy, rule in (("ignore", None), ("error", "LI550")):
        (tmp_path / ".lintimg.yaml").write_text(f"secrets:\n  base-layers: {policy}\n")
        found = _findings(lintimg("image", f"docker-archive:{archive}", "--dockerfile", str(dockerfile), "--format", "json", cwd=tmp_path))
        netrc = [f["rule"] for f in found if "/root/.netrc" in f["message"]]
        assert netrc == ([rule] if rule else []), policy


def test_no_output_log_cache_or_error_holds_a_whole_planted_value(planted, tmp_path):
    archive, dockerfile = planted
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache), "LINTIMG_LAYER_CACHE": str(cache / "layers")}
    runs = []
    for fmt in FORMATS:
        runs.append(lintimg("image", f"docker-archive:{archive}", "--dockerfile", str(dockerfile), "--format", fmt, env=env))
        runs.append(lintimg("image", f"docker-archive:{archive}", "--format", fmt, env=env))
    # the history rebuilt as a Dockerfile, and the build path (its context holds the planted files)
    runs.append(lintimg("build", "--format", "json", "--tag", "lintimg-test/planted:2", "--build-arg", f"NPM_TOKEN={NPM}",
                        str(Path(dockerfile).parent), env={**env, "LINTIMG_DOCKER": DockerEngine().cli}))
    assert all(r.returncode == 1 for r in runs), [r.stderr[-300:] for r in runs if r.returncode != 1]
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert stored, "the cache was written"
    import zstandard

    stored += b"".join(zstandard.ZstdDecompressor().decompress(p.read_bytes()) for p in cache.rglob("*.json.zst"))
    for value in VALUES:
        for r in runs:
            assert value not in r.stdout and value not in r.stderr, value
        assert value.encode() not in stored, value


# --- an rpm database, written by the real rpm ---------------------------------------------------

RPM_SHIPPED = "ghp_" + "Hc5Wq2Lm8Zx3Rb7Nv1Jk9Td4Gf6Ys0Pa3Ue7"
RPM_ADDED = "ghp_" + "Jd8Xq3Lm1Zw6Rb4Nv9Kc2Ty5Gf7Hs0Pa6Ue3"
RPM_SPEC = f"""\
Name: acme-agent
Version: 1.0
Release: 1
Summary: an agent whose package ships a token
License: MIT
BuildArch: noarch

%description
A package made for the test.

%install
mkdir -p %{{buildroot}}/etc/acme
printf 'api_token = %s\\n' '{RPM_SHIPPED}' > %{{buildroot}}/etc/acme/agent.conf
printf 'api_token = %s\\nregion = eu-west-1\\n' '{RPM_SHIPPED}' > %{{buildroot}}/etc/acme/site.conf

%files
/etc/acme/agent.conf
/etc/acme/site.conf
"""
RPM_DOCKERFILE = """\
FROM {minbase} AS rpm
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends rpm >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*

FROM rpm AS build
COPY acme-agent.spec /root/acme-agent.spec
RUN rpmbuild -bb --nodeps --define "_topdir /tmp/rpmbuild" /root/acme-agent.spec >/dev/null

FROM rpm
COPY --from=build /tmp/rpmbuild/RPMS/noarch/acme-agent-1.0-1.noarch.rpm /tmp/
RUN rpm --dbpath /var/lib/rpm -i --nodeps /tmp/acme-agent-1.0-1.noarch.rpm && rm /tmp/acme-agent-1.0-1.noarch.rpm
RUN echo 'token = {added}' >> /etc/acme/site.conf
"""


def test_files_an_rpm_package_installed_are_the_package_s(docker: DockerEngine, tmp_path):
    """Debian's rpm builds and installs a package into an sqlite rpmdb (rpm's own default): the file it
    left unchanged is LI553 "rpm package acme-agent-1.0-1"; the one a later RUN appended to is the
    user's for the added value and the package's for the value it shipped; no message shows a value."""
    from tests.cleanimages import MINBASE_TAG, kept

    tag = kept(docker, "lintimg-test/rpm-package:1", RPM_DOCKERFILE.format(minbase=MINBASE_TAG, added=RPM_ADDED), {"acme-agent.spec": RPM_SPEC})
    archive = tmp_path / "rpm.tar"
    docker.run("save", "-o", str(archive), tag)
    proc = lintimg("image", f"docker-archive:{archive}", "--format", "json")
    found = [(f["rule"], f["severity"], f["message"]) for f in _findings(proc) if f["rule"] in SECRET_RULES]
    at = {(rule, path): sev for rule, sev, msg in found for path in ("/etc/acme/agent.conf", "/etc/acme/site.conf") if f" {path} " in msg}
    assert at == {("LI553", "/etc/acme/agent.conf"): "style", ("LI553", "/etc/acme/site.conf"): "style", ("LI550", "/etc/acme/site.conf"): "error"}, found
    assert all("rpm package acme-agent-1.0-1 (unchanged)" in msg for rule, _, msg in found if rule == "LI553"), found
    text = lintimg("image", f"docker-archive:{archive}", "--format", "text").stdout
    for value in (RPM_SHIPPED, RPM_ADDED):
        assert value not in proc.stdout and value not in text  # nor in the layer's RUN line the messages quote

