"""The secret engine: triggers cover their detectors, values never leave a scan, placeholders and
checksums are not secrets, inline allowlists, spans for redaction, thread safety."""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import random
import string
from pathlib import Path

import pytest

from benchmarks.secrets import planted_secrets, synthetic_corpus
from lintimg.secrets.engine import Engine, engine
from lintimg.secrets.formats import DETECTORS
from lintimg.secrets.scanner import SecretScanner
from lintimg.secrets.spans import mask, secret_spans
from lintimg.secrets.triggers import TRIGGERS, may_match, skipped_path

ORACLE = Path(__file__).resolve().parents[1].parent / "shared" / "oracle" / "secrets-cases.jsonl"
rng = random.Random(11)
ALNUM = string.ascii_letters + string.digits


def _rand(n: int, chars: str = ALNUM) -> str:
    return "".join(rng.choice(chars) for _ in range(n))


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, bytes]]:
    texts = synthetic_corpus(300_000, seed=5) + [(p.path, p.content) for p in planted_secrets()]
    if ORACLE.is_file():
        for line in ORACLE.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            texts.append((case.get("filename") or "case.txt", case["text"].encode("utf-8")))
    return texts


def test_every_detector_has_triggers_and_every_trigger_a_detector():
    assert {d.id for d in DETECTORS} == set(TRIGGERS)
    assert len({d.id for d in DETECTORS}) == len(DETECTORS)
    assert all(TRIGGERS[d.id] for d in DETECTORS)


def test_the_trigger_pass_loses_nothing(corpus):
    """Every hit found by running every detector everywhere is found through the triggers, and a
    text in which :func:`may_match` sees no trigger has no hit at all."""
    e = Engine()
    hits = 0
    for path, data in corpus:
        slow = e.scan(data, path, prefilter=False)
        assert e.scan(data, path) == slow, path
        if not may_match(data):
            assert slow == [], path
        hits += len(slow)
    assert hits > (2000 if ORACLE.is_file() else 10)  # the oracle's texts, when ../shared is there, and the planted secrets


def test_planted_secrets_are_found_and_never_kept():
    e = engine()
    for p in planted_secrets():
        hits = e.scan(p.content, p.path)
        assert hits, p.kind
        for h in hits:
            assert p.value not in repr(h)
            assert len(h.redacted.split("…")[0]) <= 4
        assert hashlib.sha256(p.value.encode()).hexdigest() in {h.fingerprint for h in hits}, p.kind


def test_line_and_column_point_at_the_value():
    token = "ghp_" + _rand(36)
    [h] = engine().scan(f"# config\nexport GITHUB_TOKEN={token}\n".encode())
    assert (h.detector, h.line, h.column) == ("github-token", 2, 21)
    [k] = engine().scan(b"x\n\xc3\xa9t\xc3\xa9 = '" + ("AKIA" + _rand(16, string.ascii_uppercase + string.digits)).encode() + b"'\n")
    assert (k.line, k.column) == (2, 8)  # characters, not bytes


@pytest.mark.parametrize("text", [
    'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    'api_key = "${API_KEY}"',
    'password = "<your-password-here>"',
    "token: {{ .Values.token }}",
    'secret = "AAAAAAAAAAAAAAAAAAAAAAAA"',
    'client_secret = "0123456789abcdef0123456789"',
    'SECRET_KEY = "changeme-changeme-changeme"',
    "postgres://user:password@db:5432/app",
    "mysql://scott:tiger@db.example.com/test",
    "https://deploy:s3cr3tPassw0rd99@ci.example.org/repo.git",
    'token = "ghp_abc..."',
])
def test_placeholders_and_documentation_values_are_not_secrets(text):
    assert engine().scan(text.encode()) == []


@pytest.mark.parametrize("text", [
    "ENV PHP_SHA256=" + "9f3c2a" * 10 + "abcd",
    "ARG NODE_CHECKSUM=sha512-" + _rand(86, ALNUM + "+/") + "==",
    'echo "' + "a1b2c3d4" * 8 + '  node.tar.gz" | sha256sum -c -',
    '"integrity": "sha512-' + _rand(86, ALNUM + "+/") + '=="',
    "token_manager.py,sha256=" + _rand(43, ALNUM + "-_") + ",4312",
    "GPG_KEY=" + "A1B2C3D4E5F6" * 3 + "ABCD",
    'secret_key_digest = "' + "0f" * 32 + '"',
    "auth-token-sha256: " + "e3" * 32,
])
def test_checksums_and_hashes_are_not_secrets(text):
    assert engine().scan(text.encode()) == []


def test_checksum_lists_and_templates_are_not_scanned():
    line = ("GITHUB_TOKEN=ghp_" + _rand(36) + "\n").encode()
    assert engine().scan(line, "app/deploy.env")
    for path in ("app/SHA256SUMS", "dl/node.tar.gz.sha256", "site-packages/x-1.0.dist-info/RECORD", "app/.env.example",
                 "etc/config.sample.yml", "settings.py.dist"):
        assert skipped_path(path) and engine().scan(line, path) == [], path


def test_a_provider_name_asks_for_its_format():
    hexkey = "".join(rng.choice("0123456789abcdef") for _ in range(40))
    assert engine().scan(f"meraki_api_key = {hexkey}\n".encode())
    assert engine().scan(f"meraki_api_key = {_rand(41)}\n".encode()) == []
    assert engine().scan(f"other_api_key = {_rand(41)}\n".encode())


def test_inline_pragma_allowlists_the_line_or_the_next():
    token = "ghp_" + _rand(36)
    assert engine().scan(f"TOKEN={token}  # pragma: allowlist secret\n".encode()) == []
    assert engine().scan(f"# pragma: allowlist nextline secret\nTOKEN={token}\n".encode()) == []
    assert engine().scan(f"# pragma: allowlist nextline secret\n\nTOKEN={token}\n".encode())


def test_disabled_detectors_do_not_run():
    text = f"GITHUB_TOKEN=ghp_{_rand(36)}\n".encode()
    assert [h.detector for h in engine().scan(text)] == ["github-token"]
    assert engine(["github-token"]).scan(text) == [h for h in engine(["github-token"]).scan(text) if h.detector != "github-token"]
    assert "github-token" not in {h.detector for h in SecretScanner({"detectors": {"github-token": "off"}}).scan_bytes(text, "a.env")}


def test_secret_spans_cover_detector_hits_named_assignments_and_url_passwords():
    token = "ghp_" + _rand(36)
    text = f"RUN export GH={token} DB_PASSWORD=hunter2 && curl https://bob:pa55w0rd@host/x — café"
    spans = secret_spans(text)
    shown = mask(text, spans)
    assert [text[s:e] for s, e in spans] == [token, "hunter2", "pa55w0rd"]
    for value in (token, "hunter2", "pa55w0rd"):
        assert value not in shown
    assert shown.endswith("café") and "DB_PASSWORD=" in shown
    assert secret_spans("FROM debian:12\nRUN apt-get install -y curl\n") == []


def test_thread_safe(corpus):
    e = Engine()
    expected = [e.scan(d, p) for p, d in corpus]
    fresh = Engine()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda pd: fresh.scan(pd[1], pd[0]), corpus))
    assert got == expected


def test_the_docs_list_every_detector():
    text = (Path(__file__).resolve().parents[1] / "docs" / "secrets.md").read_text(encoding="utf-8")
    assert [d.id for d in DETECTORS if f"| `{d.id}` |" not in text] == []
