"""The secret scanner's policy, redaction, the image analyzer (archives included) and the config scan."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile

import pytest

from benchmarks.secrets import planted_secrets
from lintimg.config import config_from_dict, load_config
from lintimg.errors import LintimgError
from lintimg.image.model import EntryType, LayerEntry
from lintimg.image.secrets import analyzer, build_args, scan_config
from lintimg.secrets.redact import fingerprint, redact
from lintimg.secrets.scanner import SecretScanner
from tests.clirun import lintimg

GHP = "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8"
AWS_ID = "AKIAQX7Z2M4K9R3T6W8Y"
LINE = f"k = '{AWS_ID}'\n".encode()


def _tar(files: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_hits_never_hold_the_value():
    sc = SecretScanner()
    for p in planted_secrets():
        hits = sc.scan_bytes(p.content, p.path)
        assert hits, p.kind
        for h in hits:
            assert p.value not in repr(h) and len(h.fingerprint) == 64


@pytest.mark.parametrize("value", ["", "a", "abc", "abcdefgh", "ghp_" + "x" * 36])
def test_redact_never_shows_the_whole_value(value):
    r = redact(value)
    shown = r.split("…")[0]
    assert len(shown) <= 4 and (not value or len(shown) < len(value))
    assert f"({len(value)} chars)" in r


def test_fingerprint_is_sha256_of_value():
    assert fingerprint("abc") == hashlib.sha256(b"abc").hexdigest()
    [h] = SecretScanner().scan_bytes(LINE, "a.py")
    assert h.fingerprint == fingerprint(AWS_ID)


def test_binary_oversize_and_excluded_files_are_skipped():
    sc = SecretScanner({"max-file-size": "1KiB", "exclude-paths": ["vendor", "*.min.js"]})
    assert sc.scan_bytes(LINE, "a.py")
    assert sc.scan_bytes(b"\x7fELF\0\0" + LINE, "bin/app") == []
    assert sc.scan_bytes(LINE + b"#" * 2000, "a.py") == []
    assert sc.scan_bytes(LINE, "vendor/lib/a.py") == []
    assert sc.scan_bytes(LINE, "static/app.min.js") == []


def test_allowlist_by_fingerprint_and_regex():
    fp = SecretScanner().scan_bytes(LINE, "a.py")[0].fingerprint
    assert SecretScanner({"allowlist": [fp]}).scan_bytes(LINE, "a.py") == []
    assert SecretScanner({"allowlist": ["^AKIAQX"]}).scan_bytes(LINE, "a.py") == []
    assert SecretScanner({"allowlist": ["^AKIAZZ"]}).scan_bytes(LINE, "a.py")


def _baseline(tmp_path, entries, filters=()):
    doc = {"version": "1.5.0", "plugins_used": [], "filters_used": list(filters), "results": {"app/a.py": entries}}
    (tmp_path / ".secrets.baseline").write_text(json.dumps(doc))
    return tmp_path / ".secrets.baseline"


def test_a_detect_secrets_baseline_is_an_allowlist(tmp_path):
    sha1 = hashlib.sha1(AWS_ID.encode()).hexdigest()
    _baseline(tmp_path, [{"type": "AWS Access Key", "filename": "app/a.py", "hashed_secret": sha1, "is_verified": False, "line_number": 1}])
    (tmp_path / ".lintimg.yaml").write_text("secrets:\n  baseline: .secrets.baseline\n")
    cfg = load_config(tmp_path / ".lintimg.yaml")
    assert SecretScanner(cfg.settings["secrets"]).scan_bytes(LINE, "anywhere/else.py") == []
    # a value the team marked as a real secret stays reported
    _baseline(tmp_path, [{"type": "AWS Access Key", "hashed_secret": sha1, "is_secret": True, "line_number": 1}])
    assert SecretScanner(load_config(tmp_path / ".lintimg.yaml").settings["secrets"]).scan_bytes(LINE, "a.py")


def test_baseline_filters_and_discovery(tmp_path, monkeypatch):
    _baseline(tmp_path, [], [{"path": "detect_secrets.filters.regex.should_exclude_file", "pattern": ["^tests/"]},
                              {"path": "detect_secrets.filters.regex.should_exclude_secret", "pattern": ["^AKIAQX"]}])
    monkeypatch.chdir(tmp_path)
    settings = load_config(None).settings["secrets"]  # found in the working directory without a config file
    sc = SecretScanner(settings)
    assert sc.scan_bytes(LINE, "tests/x.py") == [] and sc.scan_bytes(LINE, "src/x.py") == []
    assert SecretScanner(settings).scan_bytes(f"t = '{GHP}'\n".encode(), "src/x.py")


@pytest.mark.parametrize("settings, message", [
    ({"allowlist": ["(unclosed"]}, "'secrets.allowlist'"),
    ({"max-file-size": "lots"}, "'secrets.max-file-size'"),
    ({"detectors": {"github-token": "maybe"}}, "'secrets.detectors'"),
    ({"base-layers": "sometimes"}, "'secrets.base-layers'"),
    ({"baseline": "missing.baseline"}, "missing.baseline"),
    ({"surprise": 1}, "unknown key 'secrets.surprise'"),
])
def test_bad_secrets_config_is_a_one_line_error(settings, message, tmp_path):
    with pytest.raises(LintimgError, match=message.replace("(", r"\(").replace(".", r"\.")):
        config_from_dict({"secrets": settings}, str(tmp_path / ".lintimg.yaml"))


def test_a_malformed_baseline_is_a_one_line_error(tmp_path):
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(LintimgError, match="b.json: not a detect-secrets baseline"):
        config_from_dict({"secrets": {"baseline": str(tmp_path / "b.json")}})


def test_analyzer_selects_regular_files_within_policy_and_archives_by_name():
    a = analyzer(SecretScanner({"exclude-paths": ["usr/share/doc"]}))
    assert a.name == "secrets"
    assert a.wants(LayerEntry("app/.env", EntryType.FILE, 100, 0o644, 0, 0))
    assert not a.wants(LayerEntry("app", EntryType.DIR, 0, 0o755, 0, 0))
    assert not a.wants(LayerEntry("usr/share/doc/x/README", EntryType.FILE, 100, 0o644, 0, 0))
    assert not a.wants(LayerEntry("big.txt", EntryType.FILE, 3 << 20, 0o644, 0, 0))
    assert a.wants(LayerEntry("big.tgz", EntryType.FILE, 3 << 20, 0o644, 0, 0))
    data = f"GITHUB_TOKEN={GHP}\n".encode()
    out = a.analyse(3, LayerEntry("app/.env", EntryType.FILE, len(data), 0o644, 0, 0), data)
    assert [(s.place, s.layer, s.hit.detector) for s in out] == [("app/.env", 3, "github-token")]
    assert out[0].digests is not None and out[0].digests.md5 == hashlib.md5(data).hexdigest()


def test_secrets_inside_archives_are_found_with_the_member_named():
    env = f"GITHUB_TOKEN={GHP}\n".encode()
    key = f"aws_access_key_id = {AWS_ID}\n".encode()
    a = analyzer(SecretScanner())
    nested = _tar({"conf/.env": env, "lib/app.jar": _zip({"META-INF/creds.properties": key})})
    for name, blob, places in [
        ("opt/bundle.tgz", nested, {"opt/bundle.tgz!/conf/.env", "opt/bundle.tgz!/lib/app.jar!/META-INF/creds.properties"}),
        ("srv/site.zip", _zip({"a/.env": env}), {"srv/site.zip!/a/.env"}),
        ("srv/plain.tar", _tar({"b/.env": env}, "w"), {"srv/plain.tar!/b/.env"}),
        ("srv/c.txz", _tar({"c/.env": env}, "w:xz"), {"srv/c.txz!/c/.env"}),
        ("usr/share/man/man5/app.env.5.gz", gzip.compress(env), set()),  # a lone compressed file is no archive
    ]:
        found = a.analyse(1, LayerEntry(name, EntryType.FILE, len(blob), 0o644, 0, 0), blob)
        assert {s.place for s in found} == places, name
        assert all(s.path == name for s in found)
        assert all(GHP not in repr(s) and AWS_ID not in repr(s) for s in found)


def test_hostile_archives_end_quietly_within_their_budget():
    a = analyzer(SecretScanner())
    bomb = _tar({f"f{i}": b"\0" * (8 << 20) for i in range(12)})  # 96 MiB of zeros in a few KiB
    assert len(bomb) < 1 << 20
    assert a.analyse(0, LayerEntry("x.tgz", EntryType.FILE, len(bomb), 0o644, 0, 0), bomb) == []
    broken = _zip({"a/.env": f"GITHUB_TOKEN={GHP}\n".encode()})[:-30]
    assert a.analyse(0, LayerEntry("x.zip", EntryType.FILE, len(broken), 0o644, 0, 0), broken) == []
    deep = f"GITHUB_TOKEN={GHP}\n".encode()
    for i in range(5):
        deep = _zip({f"level{i}.zip" if i else ".env": deep})
    assert a.analyse(0, LayerEntry("deep.zip", EntryType.FILE, len(deep), 0o644, 0, 0), deep) == []


def test_config_env_labels_build_args_and_history_are_named():
    cfg = {"config": {"Env": [f"API_TOKEN={GHP}", "PATH=/usr/bin"], "Labels": {"com.example.deploy-token": GHP, "k": "v"}},
           "history": [{"created_by": f"|2 NPM_TOKEN={GHP} OTHER=1 /bin/sh -c make"},
                       {"created_by": f"RUN |1 NPM_TOKEN={GHP} /bin/sh -c npm ci # buildkit"},
                       {"created_by": f"/bin/sh -c echo {GHP} > /root/.token"}]}
    got = {(s.source, s.key, s.history) for s in scan_config(SecretScanner(), cfg)}
    assert got == {("env", "API_TOKEN", None), ("label", "com.example.deploy-token", None), ("build-arg", "NPM_TOKEN", 0),
                   ("build-arg", "NPM_TOKEN", 1), ("history", "", 2)}


def test_build_args_are_read_from_both_builders_history_lines():
    assert build_args("|2 A=1 B=two /bin/sh -c make") == ([("A", "1"), ("B", "two")], "/bin/sh -c make")
    assert build_args("RUN |1 T=x /bin/sh -c make # buildkit") == ([("T", "x")], "/bin/sh -c make # buildkit")
    assert build_args("/bin/sh -c make") == ([], "/bin/sh -c make")


def test_an_unknown_detector_id_is_a_one_line_usage_error(tmp_path):
    from tests.clirun import one_line_error

    (tmp_path / ".lintimg.yaml").write_text("secrets:\n  detectors:\n    github-tokne: off\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\n")
    proc = lintimg("--no-context", "Dockerfile", cwd=tmp_path)
    one_line_error(proc, "unknown detector 'github-tokne'", "did you mean 'github-token'")
