"""System vs application containers on real images built by the local engine (fixtures/shape/).

Each fixture is built by ``lintimg build`` (Dockerfile, context and image together: LI730 reports from
the Dockerfile's lines) and read back by ``lintimg image docker-daemon:…`` without its Dockerfile
(LI780 reports from the image's config and files). Small offline images whose files and config show
the evidence, plus one realistic build from real Debian packages.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import REPO
from tests.dockerengine import DockerEngine
from tests.imagebuild import toolchain_slim
from tests.test_image_cli import lintimg, of, report

pytestmark = pytest.mark.engine
SHAPE = REPO / "fixtures" / "shape"


def _build(docker: DockerEngine, name: str, tmp_path: Path) -> tuple[dict, dict]:
    """(the build run's report, the image-only run's report) for fixture ``name``."""
    tag = f"lintimg-test/shape-{name}:1"
    built = report(lintimg("build", "--format", "json", "--tag", tag, str(SHAPE / name), env={"LINTIMG_DOCKER": docker.cli, "XDG_CACHE_HOME": str(tmp_path)}))
    alone = report(lintimg("image", "--format", "json", f"docker-daemon:{tag}", env={"XDG_CACHE_HOME": str(tmp_path)}))
    return built, alone


@pytest.fixture(scope="module")
def busybox(docker: DockerEngine) -> str:
    return docker.base_image()


def _lines(name: str) -> list[str]:
    return (SHAPE / name / "Dockerfile").read_text().splitlines()


def _line_of(name: str, prefix: str) -> int:
    return next(i for i, s in enumerate(_lines(name), 1) if s.startswith(prefix))


def test_sshd_cron_rsyslog_under_supervisord(docker: DockerEngine, busybox: str, tmp_path: Path) -> None:
    built, alone = _build(docker, "supervisord-services", tmp_path)
    (f,) = of(built, "LI730")
    assert of(built, "LI780") == [], "with the Dockerfile, the image rule adds nothing the Dockerfile shows"
    assert f["line"] == _line_of("supervisord-services", "CMD") and "running 3 programs" in f["message"]
    assert "services.conf:2, copied to /etc/supervisor/conf.d/services.conf on line" in f["message"]
    assert {"sshd", "cron", "syslog"} <= set(f["properties"]["services"])
    (g,) = of(alone, "LI780")
    where = {e["where"] for e in g["properties"]["evidence"]}
    assert "/etc/supervisor/conf.d/services.conf:2" in where and any(w.startswith("/etc/ssh/ssh_host_ed25519_key (layer ") for w in where)
    assert any(w.startswith("/var/spool/cron/crontabs/root (layer ") for w in where)
    assert g["image"]["path"] == "/etc/supervisor/conf.d/services.conf"


def test_systemd_as_init(docker: DockerEngine, busybox: str, tmp_path: Path) -> None:
    built, alone = _build(docker, "systemd-init", tmp_path)
    (f,) = of(built, "LI730")
    assert f["line"] == _line_of("systemd-init", "CMD") and "init system (systemd)" in f["message"]
    (g,) = of(alone, "LI780")
    assert "with 3 services enabled" in g["message"]
    assert {e["service"] for e in g["properties"]["evidence"] if "enabled" in e["what"]} == {"nginx", "cron", "ssh"}


def test_a_chain_of_service_starts_kept_alive_by_tail(docker: DockerEngine, busybox: str, tmp_path: Path) -> None:
    built, alone = _build(docker, "service-chain", tmp_path)
    (f,) = of(built, "LI730")
    assert f["line"] == _line_of("service-chain", "CMD") and "2 services (nginx, cron)" in f["message"] and "`tail -f /dev/null`" in f["message"]
    (g,) = of(alone, "LI780")
    assert "2 services (nginx, cron)" in g["message"] and "image config" in g["message"]


@pytest.mark.parametrize("name", ["tini-app", "sshd-bastion", "supervisord-one"])
def test_application_containers_are_not_flagged(docker: DockerEngine, busybox: str, tmp_path: Path, name: str) -> None:
    built, alone = _build(docker, name, tmp_path)
    assert of(built, "LI730") == [] and of(built, "LI780") == [] and of(alone, "LI780") == []
    if name == "sshd-bastion":
        assert of(built, "LI706"), "the open SSH port is still its own finding"


def test_real_debian_packages_under_supervisord(docker: DockerEngine, busybox: str, tmp_path: Path) -> None:
    """openssh-server, cron, rsyslog and supervisor from the Debian mirror (the one networked build here)."""
    toolchain_slim(docker)
    built, alone = _build(docker, "debian-supervisord", tmp_path)
    (f,) = of(built, "LI730")
    assert "running 3 programs" in f["message"] and "openssh-server installed (line " in f["message"]
    (g,) = of(alone, "LI780")
    where = " ".join(e["where"] for e in g["properties"]["evidence"])
    assert "running 3 programs" in g["message"], "not the supervisor package's test configs nor openssh-server's runit folder"
    assert "/etc/supervisor/conf.d/services.conf:2" in where
    assert "/etc/ssh/ssh_host_rsa_key (layer" in where or "/etc/ssh/ssh_host_ed25519_key (layer" in where, "the package's postinst made host keys"
    installed = {e["service"] for e in g["properties"]["evidence"] if e["what"].endswith("installed")}
    assert {"sshd", "cron", "syslog", "supervisord"} <= installed
