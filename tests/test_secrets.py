"""The secret detector: prefilter exactness, policy, redaction, cache, thread safety."""
from __future__ import annotations

import concurrent.futures
import hashlib
import json

import pytest

from benchmarks.secrets import planted_secrets, synthetic_corpus
from lintimg.config import config_from_dict
from lintimg.errors import LintimgError
from lintimg.image.model import EntryType, LayerEntry
from lintimg.image.secrets import analyzer, scan_config
from lintimg.secrets.redact import fingerprint, redact
from lintimg.secrets.scanner import SecretScanner


@pytest.fixture(scope="module")
def corpus():
    # generated source/config/lock/prose, the planted secrets, and lines built to trip near misses
    near = "\n".join([
        "ghp_short", "AKIA lower", "password = get_password(user)", 'secret = "{secret}"', "x = '0123456789abcdef'",
        'token = "${TOKEN}"', "see https://user@host/ and ftp://a:b", "xoxb- nothing", "-----BEGIN PUBLIC KEY-----",
        'apı_key = "Qm9vbGVhbkZhY3Rvcnk4MjM0NTY3ODk"', "K\u212aey = 'x'",
    ]).encode()
    return synthetic_corpus(300_000, seed=3) + [(p.path, p.content) for p in planted_secrets()] + [("app/near.py", near)]


def _all(scanner, corpus):
    return {path: scanner.scan_bytes(data, path) for path, data in corpus}


def test_prefilter_gives_exactly_detect_secrets_results(corpus):
    fast = _all(SecretScanner(disk_cache=False), corpus)
    slow = _all(SecretScanner(prefilter=False, disk_cache=False), corpus)
    assert fast == slow
    assert sum(map(len, fast.values())) >= len(planted_secrets())


def test_recall_on_planted_secrets_is_identical_and_complete(corpus):
    for prefilter in (True, False):
        found = _all(SecretScanner(prefilter=prefilter, disk_cache=False), corpus)
        missed = [p.kind for p in planted_secrets() if not found[p.path]]
        assert missed == [], (prefilter, missed)


def test_hits_never_hold_the_value():
    sc = SecretScanner(disk_cache=False)
    for p in planted_secrets():
        for h in sc.scan_bytes(p.content, p.path):
            assert p.value not in h.redacted and p.value not in repr(h)
            assert len(h.fingerprint) == 64


@pytest.mark.parametrize("value", ["", "a", "abc", "abcdefgh", "ghp_" + "x" * 36])
def test_redact_never_shows_the_whole_value(value):
    r = redact(value)
    shown = r.split("…")[0]
    assert len(shown) <= 4 and (not value or len(shown) < len(value))
    assert f"({len(value)} chars)" in r


def test_fingerprint_is_sha256_of_value():
    assert fingerprint("abc") == hashlib.sha256(b"abc").hexdigest()


def test_line_numbers():
    text = "a\nb\n\nAWS_KEY = 'AKIAQX7Z2M4K9R3T6W8Y'\n"
    assert [h.line for h in SecretScanner(disk_cache=False).scan_text(text, "x.py")] == [4]


def test_binary_oversize_excluded_and_lockfiles_are_skipped():
    line = b"k = 'AKIAQX7Z2M4K9R3T6W8Y'\n"
    sc = SecretScanner({"max-file-size": "1KiB", "exclude-paths": ["vendor", "*.min.js"]}, disk_cache=False)
    assert sc.scan_bytes(line, "a.py")
    assert sc.scan_bytes(b"\x7fELF\0\0" + line, "bin/app") == []
    assert sc.scan_bytes(line + b"#" * 2000, "a.py") == []
    assert sc.scan_bytes(line, "vendor/lib/a.py") == []
    assert sc.scan_bytes(line, "static/app.min.js") == []
    assert sc.scan_bytes(line, "web/package-lock.json") == []
    assert sc.scan_bytes(line, "img/logo.png") == []


def test_allowlist_by_fingerprint_and_regex():
    line = b"k = 'AKIAQX7Z2M4K9R3T6W8Y'\n"
    fp = SecretScanner(disk_cache=False).scan_bytes(line, "a.py")[0].fingerprint
    assert SecretScanner({"allowlist": [fp]}, disk_cache=False).scan_bytes(line, "a.py") == []
    assert SecretScanner({"allowlist": ["^AKIAQX"]}, disk_cache=False).scan_bytes(line, "a.py") == []
    assert SecretScanner({"allowlist": ["^AKIAZZ"]}, disk_cache=False).scan_bytes(line, "a.py")


def test_bad_secrets_config_is_a_one_line_error():
    with pytest.raises(LintimgError, match="'secrets'"):
        config_from_dict({"secrets": {"allowlist": ["(unclosed"]}})
    with pytest.raises(LintimgError, match="'secrets'"):
        config_from_dict({"secrets": {"max-file-size": "lots"}})
    assert config_from_dict({"secrets": {"exclude-paths": ["a/*"], "max-file-size": "1MB"}}).settings["secrets"]


def test_disk_cache_is_versioned_holds_no_values_and_survives_torn_files(tmp_path):
    value = "AKIAQX7Z2M4K9R3T6W8Y"
    data = (f"k = '{value}'\n" + "# filler line\n" * 6000).encode()
    first = SecretScanner(cache_dir=tmp_path).scan_bytes(data, "a.py")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1 and value not in files[0].read_text()
    assert json.loads(files[0].read_text())[0]["fingerprint"] == first[0].fingerprint
    assert SecretScanner(cache_dir=tmp_path).scan_bytes(data, "a.py") == first
    files[0].write_text("{torn")
    assert SecretScanner(cache_dir=tmp_path).scan_bytes(data, "a.py") == first


def test_thread_safe(corpus):
    sc = SecretScanner(disk_cache=False)
    expected = _all(SecretScanner(disk_cache=False), corpus)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = dict(zip([p for p, _ in corpus], pool.map(lambda pd: sc.scan_bytes(pd[1], pd[0]), corpus)))
    assert got == expected


def test_analyzer_selects_regular_files_within_policy():
    a = analyzer(SecretScanner({"exclude-paths": ["usr/share/doc"]}, disk_cache=False))
    wants, run = a.wants, a.analyse
    assert a.name == "secrets"
    assert wants(LayerEntry("app/.env", EntryType.FILE, 100, 0o644, 0, 0))
    assert not wants(LayerEntry("app", EntryType.DIR, 0, 0o755, 0, 0))
    assert not wants(LayerEntry("usr/share/doc/x/README", EntryType.FILE, 100, 0o644, 0, 0))
    assert not wants(LayerEntry("big.txt", EntryType.FILE, 3 << 20, 0o644, 0, 0))
    out = run(3, LayerEntry("app/.env", EntryType.FILE, 30, 0o644, 0, 0), b"GITHUB_TOKEN=ghp_" + b"a1B2c3D4e5" * 3 + b"F6g7H8\n")
    assert [(s.path, s.layer, s.hit.detector) for s in out] == [("app/.env", 3, "GitHub Token")]


def test_config_env_labels_and_history():
    ghp = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
    cfg = {"config": {"Env": [f"API_TOKEN={ghp}"], "Labels": {"k": "v"}}, "history": [{"created_by": f"|1 NPM={ghp} /bin/sh -c make"}]}
    got = scan_config(SecretScanner(disk_cache=False), cfg)
    assert sorted((s.source, s.path) for s in got) == [("env", "config.Env"), ("history", "history[0]")]


def test_documentation_and_example_placeholders_are_skipped():
    sc = SecretScanner(disk_cache=False)
    real = b"aws_access_key_id = AKIAQX7Z2M4K9R3T6W8Y\n"
    assert sc.scan_bytes(real, "app/aws.ini")
    assert sc.scan_bytes(real, "usr/lib/python3/awscli/examples/s3/cp.rst") == []
    assert sc.scan_bytes(real, "app/examples/aws.ini") == []
    assert sc.scan_bytes(real, "usr/share/doc/aws/README") == []
    assert sc.scan_bytes(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "app/aws.ini") == []


def test_package_trees_get_vendor_detectors_only():
    sc = SecretScanner(disk_cache=False)
    data = b'CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015"\nTOKEN = "ghp_' + b"a1B2c3D4e5" * 3 + b'F6g7H8"\n'
    assert {h.detector for h in sc.scan_bytes(data, "app/settings.py")} == {"Hex High Entropy String", "GitHub Token"}
    assert {h.detector for h in sc.scan_bytes(data, "usr/lib/python3/site-packages/x/settings.py")} == {"GitHub Token"}
