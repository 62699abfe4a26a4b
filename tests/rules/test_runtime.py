"""LI70x: runtime shape read from the Dockerfile."""
import pytest

from tests.rulespec import catches, passes, stage_scope


def test_final_user_root():
    catches("LI701", "FROM a:1\nUSER root\n", line=2)
    catches("LI701", "FROM a:1\nUSER app\nUSER 0:0\n", line=3)
    catches("LI701", "FROM a:1 AS base\nUSER root\nFROM base\nRUN x\n", line=2)  # inherited by the final stage
    passes("LI701", "FROM a:1\nUSER root\nRUN apt-get update\nUSER 10001\n")
    passes("LI701", "FROM a:1 AS build\nUSER root\nFROM b:1\nUSER app\n")  # builder stage is discarded
    passes("LI701", "FROM a:1\nUSER rooter\n")


def test_missing_user():
    catches("LI702", "FROM a:1\nCOPY . /app\n", line=1)
    catches("LI702", "FROM a:1 AS build\nUSER app\nFROM b:1\n", line=3)
    passes("LI702", "FROM a:1 AS base\nUSER app\nFROM base\n")
    passes("LI702", "not a dockerfile\n")  # nothing missing without a stage


def test_missing_user_follows_what_the_base_image_runs_as():
    # known root: a warning that says so
    got = catches("LI702", "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n", line=1, message="runs as root (a scratch image")
    assert {str(f.severity) for f in got} == {"warning"}
    # the base image's user unknown (no engine, no cache): softened to style, and it says why instead of claiming root
    got = catches("LI702", "FROM node:22\nCMD [\"node\", \"server.js\"]\n", message="could not check")
    assert {str(f.severity) for f in got} == {"style"} and "runs as root" not in got[0].message
    # names that say non-root by convention: nothing to report
    passes("LI702", "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\nENTRYPOINT [\"/app\"]\n")
    passes("LI702", "FROM cgr.dev/chainguard/static:latest-nonroot\nCOPY app /app\n")
    passes("LI702", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY app.exe C:/app/\n")
    passes("LI702", "FROM gcr.io/distroless/static-debian12:nonroot AS run\nFROM run\nCOPY app /app\n")  # through a stage
    # a configured severity wins over the softening
    got = catches("LI702", "FROM node:22\n", config={"rules": {"LI702": "error"}})
    assert {str(f.severity) for f in got} == {"error"}
    # a base chosen by a build argument cannot be looked up
    got = catches("LI702", "ARG BASE\nFROM $BASE\nCMD [\"node\"]\n", config={"base-image-lookup": "local"}, message="build argument")
    assert {str(f.severity) for f in got} == {"style"}


def test_missing_user_with_lookups_on_but_the_base_not_at_hand(monkeypatch):
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    (f,) = catches("LI702", "FROM example.invalid/team/base:1\nCMD [\"/app\"]\n", config={"base-image-lookup": "local"})
    assert f.severity is not None and str(f.severity) == "style"
    assert "could not check" in f.message and "not in the local engine" in f.message and "runs as root" not in f.message


@pytest.mark.engine
def test_missing_user_and_healthcheck_read_the_base_images_config(docker, tmp_path, monkeypatch):
    """Real images in the engine: one that sets a non-root user and a health check, and the root busybox base."""
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    base = docker.base_image()
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nUSER 20000\nHEALTHCHECK CMD [\"true\"]\n")
    docker.build(tmp_path, "lintimg-test/adopt-user-health:1")
    app = "\nCOPY app /app\nCMD [\"/app\"]\n"
    local, health = {"base-image-lookup": "local"}, {"base-image-lookup": "local", "rules": {"LI705": "on"}}
    passes("LI702", f"FROM lintimg-test/adopt-user-health:1{app}", config=local)
    passes("LI705", f"FROM lintimg-test/adopt-user-health:1{app}", config=health)
    # the root base: a warning that says where the user was read
    (f,) = catches("LI702", f"FROM {base}{app}", config=local, message="runs as root")
    assert str(f.severity) == "warning" and "read from the engine" in f.message
    catches("LI705", f"FROM {base}{app}", config=health)
    # a root image that runs nothing of its own (a base or toolbox image): style
    (f,) = catches("LI702", f"FROM {base}\nRUN true\n", config=local, message="runs no program of its own")
    assert str(f.severity) == "style"
    # the environment asks for lookups as the config does
    monkeypatch.setenv("LINTIMG_BASE_IMAGE_LOOKUP", "local")
    passes("LI702", f"FROM lintimg-test/adopt-user-health:1{app}")
    # without lookups asked for, the same image is not looked up: softened, never "runs as root"
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP")
    (f,) = catches("LI702", f"FROM lintimg-test/adopt-user-health:1{app}", message="could not check")
    assert str(f.severity) == "style" and "base-image-lookup: local" in f.message


def test_user_not_numeric():
    catches("LI703", "FROM a:1\nUSER app\n", line=2)
    catches("LI703", "FROM a:1\nUSER 1000:staff\n")
    passes("LI703", "FROM a:1\nUSER 1000:1000\nUSER $APP_UID\n")


def test_copy_chown_flag():
    catches("LI704", "FROM a:1\nCOPY --chown=app:app . /app\n", line=2)
    catches("LI704", "FROM a:1\nADD --chown=1000 x.tar /app/\n")
    passes("LI704", "FROM a:1\nCOPY --chmod=0644 . /app\n")


def test_missing_healthcheck_is_off_by_default_and_looks_at_the_shipped_image():
    on = {"rules": {"missing-healthcheck": "on"}}
    passes("LI705", "FROM a:1\nCMD [\"x\"]\n")  # off by default, as hadolint's DL3057
    catches("LI705", "FROM a:1\nCMD [\"x\"]\n", line=1, config=on)
    catches("LI705", "FROM a:1 AS build\nHEALTHCHECK CMD [\"x\"]\nFROM b:1\n", line=3, config=on)
    passes("LI705", "FROM a:1 AS base\nHEALTHCHECK CMD [\"x\"]\nFROM base\n", config=on)
    passes("LI705", "FROM a:1\nHEALTHCHECK NONE\n", config=on)
    catches("LI705", "FROM example.invalid/team/base:1\nCMD [\"x\"]\n", config={**on, "base-image-lookup": "local"})  # base not at hand


def test_expose_ssh_port():
    catches("LI706", "FROM a:1\nEXPOSE 8080 22/tcp\n", count=1, message="22/tcp")
    passes("LI706", "FROM a:1\nEXPOSE 2222 220\n")


def test_volume_sensitive_dir():
    catches("LI707", "FROM a:1\nVOLUME /dev\n")
    catches("LI707", 'FROM a:1\nVOLUME ["/data", "/proc/sys"]\n', count=1)
    passes("LI707", "FROM a:1\nVOLUME /data /devices\n")


def test_stage_scope():
    # a stage that is not shipped, or that no build can tag, never runs as a container
    for rule_id, body in (("LI703", "USER app"), ("LI704", "COPY --chown=app:app . /app"), ("LI706", "EXPOSE 22"), ("LI707", "VOLUME /dev")):
        stage_scope(rule_id, body, shipped_only=True, onbuild=False, runs_only=True)
