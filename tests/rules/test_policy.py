"""LI9xx: organisation policy settings and the label schema."""
import pytest

from tests.rulespec import catches, passes

TRUSTED = {"trusted-registries": ["registry.example.com", "*.gcr.io"]}


def test_untrusted_registry_only_when_configured():
    passes("LI901", "FROM quay.io/team/app:1\n")
    catches("LI901", "FROM quay.io/team/app:1\n", config=TRUSTED, message="'quay.io'")
    catches("LI901", "FROM debian:12\n", config=TRUSTED, message="'docker.io'")
    catches("LI901", "FROM registry.example.com/a:1\nCOPY --from=ghcr.io/x/y:1 /a /b\n", config=TRUSTED, line=2)
    passes("LI901", "FROM eu.gcr.io/p/app:1\nFROM registry.example.com/base:1\nFROM scratch\n", config=TRUSTED)
    passes("LI901", "FROM debian:12\n", config={"trusted-registries": ["docker.io"]})


def test_require_digest_is_opt_in():
    text = "FROM python:3.12-slim\n"
    passes("LI902", text)
    catches("LI902", text, config={"require-digest": True}, line=1)
    passes("LI902", "FROM python:3.12-slim@sha256:" + "c" * 64 + "\nFROM scratch\n", config={"require-digest": True})


def test_allowed_base_images():
    allowed = {"allowed-base-images": ["registry.example.com/base/*", "debian:12*"]}
    passes("LI903", "FROM alpine:3.20\n")
    catches("LI903", "FROM alpine:3.20\n", config=allowed)
    catches("LI903", "FROM debian:11\n", config=allowed)
    passes("LI903", "FROM debian:12-slim\nFROM registry.example.com/base/py:3\n", config=allowed)


def test_invalid_label_key():
    for key in ("Version", "com.docker.thing", "9lives", "a..b", "trailing-"):
        catches("LI910", f"FROM a:1\nLABEL {key}=x\n", line=2)
    passes("LI910", "FROM a:1\nLABEL org.opencontainers.image.version=1 build_id=7\n")


SCHEMA = {"label-schema": {"org.example.source": "url", "owner": "email"}}


def test_required_label_missing_per_shipped_stage():
    catches("LI911", "FROM a:1\nLABEL owner=x@example.com\n", config=SCHEMA, count=1, message="org.example.source")
    # a builder stage used by COPY --from ships nothing; the labelled stage built on another inherits
    passes("LI911", "FROM a:1 AS build\nFROM b:1 AS base\nLABEL org.example.source=https://x owner=a@b\nFROM base\nCOPY --from=build /a /b\n", config=SCHEMA)
    catches("LI911", "FROM a:1 AS one\nFROM b:1\n", config=SCHEMA, count=4)  # two labels in two images (one is a --target)
    # an unnamed stage nothing uses is an image of its own to the classic builder, which builds every stage
    catches("LI911", "FROM a:1\nFROM b:1\n", config=SCHEMA, count=4)
    passes("LI911", "FROM a:1\n")


def test_label_not_in_schema_with_strict_labels():
    strict = {**SCHEMA, "strict-labels": True}
    catches("LI912", "FROM a:1\nLABEL team=payments\n", config=strict)
    passes("LI912", "FROM a:1\nLABEL team=payments\n", config=SCHEMA)
    passes("LI912", "FROM a:1\nLABEL owner=a@b.example\n", config=strict)


def test_label_empty():
    catches("LI913", 'FROM a:1\nLABEL owner=""\n', config=SCHEMA)
    passes("LI913", 'FROM a:1\nLABEL other=""\n', config=SCHEMA)


def _typed(kind: str, value: str) -> tuple[str, dict]:
    return f'FROM a:1\nLABEL v="{value}"\n', {"label-schema": {"v": kind}}


def test_label_formats_each_have_their_rule():
    cases = {
        "LI914": ("url", ["https://github.com/org/repo", "git://host/x"], ["github.com/org/repo", "not a url"]),
        "LI915": ("rfc3339", ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00"], ["2024-05-01", "2024-13-01T00:00:00Z"]),
        "LI916": ("spdx", ["Apache-2.0", "BSD-3-Clause"], ["Apache 2", "mit"]),
        "LI917": ("hash", ["0123456789abcdef0123456789abcdef01234567", "abc1234"], ["main", "0123456789ABCDEF"]),
        "LI918": ("semver", ["1.4.2", "1.0.0-rc.1+build.5"], ["v1.2.0", "1.2"]),
        "LI919": ("email", ["team@example.com"], ["Jane <jane@example.com>", "jane"]),
    }
    for rid, (kind, good, bad) in cases.items():
        for value in good:
            passes(rid, *_typed(kind, value)[:1], config=_typed(kind, value)[1])
        for value in bad:
            text, cfg = _typed(kind, value)
            catches(rid, text, config=cfg, line=2)
        # a wrong value of another type is not this rule's business
        text, cfg = _typed("text", "anything at all")
        passes(rid, text, config=cfg)


def test_label_values_with_variables_are_not_judged():
    passes("LI914", 'FROM a:1\nARG SRC\nLABEL v="$SRC"\n', config={"label-schema": {"v": "url"}})


DENIED = {"denied-base-images": {"*python:2*": "Python 2 is end of life; use python:3.12-slim", "*centos*": "CentOS Linux is end of life"}}


def test_denied_base_images_show_the_reason():
    (f,) = catches("LI904", "FROM python:2.7-slim\n", config=DENIED, line=1)
    assert "(*python:2*): Python 2 is end of life; use python:3.12-slim" in f.message and f.fix == DENIED["denied-base-images"]["*python:2*"]
    catches("LI904", "FROM docker.io/library/centos:7\n", config=DENIED, message="CentOS Linux is end of life")
    catches("LI904", "FROM alpine:3.20\nCOPY --from=quay.io/centos/centos:stream9 /etc/os-release /x\n", config=DENIED, line=2)
    catches("LI904", "ARG PY=2.7\nFROM python:${PY}\n", config=DENIED, line=2)  # ARG defaults applied
    passes("LI904", "FROM python:3.12-slim\n", config=DENIED)
    passes("LI904", "FROM python:2.7-slim\n")  # no policy, no finding
    passes("LI904", "FROM python:2.7 AS legacy\nFROM legacy\n", config={"denied-base-images": {"legacy*": "x"}})  # a stage is no image


ALLOWED = {"allowed-users": ["10000-65535", "nobody"]}


def test_allowed_users_judge_the_final_user():
    (f,) = catches("LI905", "FROM debian:12\nUSER 1000\n", config=ALLOWED, line=2)
    assert "'1000'" in f.message and "10000-65535" in f.message
    catches("LI905", "FROM debian:12\nUSER root\n", config=ALLOWED, message="'root'")
    catches("LI905", "FROM debian:12\nUSER 0:0\n", config=ALLOWED)
    catches("LI905", "FROM debian:12\nUSER app\n", config={"allowed-users": ["10000-65535"]}, message="cannot check it")
    passes("LI905", "FROM debian:12\nUSER 10001:10001\n", config=ALLOWED)
    passes("LI905", "FROM debian:12\nUSER nobody\n", config=ALLOWED)
    passes("LI905", "FROM debian:12\nARG UID\nUSER $UID\n", config=ALLOWED)  # left to --build-arg
    passes("LI905", "FROM debian:12 AS build\nUSER 0\nFROM debian:12\nUSER 20000\n", config=ALLOWED)  # builder stage discarded
    catches("LI905", "FROM debian:12 AS base\nUSER 1000\nFROM base\nRUN true\n", config=ALLOWED, line=2)  # inherited
    passes("LI905", "FROM debian:12\nUSER root\n", config={"allowed-users": ["root", "10000-65535"]})
    passes("LI905", "FROM debian:12\nUSER 1000\n")


def test_allowed_users_without_a_user_line_ask_the_base_image(monkeypatch):
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    (f,) = catches("LI905", "FROM example.invalid/team/base:1\nCMD [\"/app\"]\n", config=ALLOWED, line=1)
    assert "could not be looked up" in f.message and "registry lookups are off" in f.message
    catches("LI905", "FROM scratch\nCOPY app /app\n", config=ALLOWED, message="'root'")


@pytest.mark.engine
def test_allowed_users_read_the_base_images_user_from_the_engine(docker, tmp_path, monkeypatch):
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    base = docker.base_image()
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nUSER 20000\n")
    docker.build(tmp_path, "lintimg-test/policy-user:1")
    passes("LI905", "FROM lintimg-test/policy-user:1\nCMD [\"/app\"]\n", config=ALLOWED)
    (f,) = catches("LI905", f"FROM {base}\nCMD [\"/app\"]\n", config=ALLOWED, message="runs as 'root' from base image")
    assert "read from the engine" in f.message


def test_quoted_label_keys_are_read_dequoted():
    # Dockerfile reference, LABEL: the key is the word with its quotes removed
    passes("LI910", 'FROM alpine:3.19\nLABEL "org.opencontainers.image.title"="x"\n')
    catches("LI910", 'FROM alpine:3.19\nLABEL "Org.Example"="x"\n')
