"""The layer cache: results by layer digest, reused across images and sources, never trusted when damaged."""
from __future__ import annotations

import gzip
import json
import multiprocessing
import os

import pytest

from lintimg.image import Limits, open_image
from lintimg.image.layercache import LayerCache, _columns, _entries, spec_key
from lintimg.image.model import CapturePaths, EntryType, FunctionAnalyzer, LayerEntry
from lintimg.image.packages import PackagesAnalyzer
from lintimg.image.reader import all_clean, analyse_layer, assemble, clean_path
from lintimg.image.secrets import analyzer
from lintimg.secrets.scanner import SecretScanner
from tests.image.layouts import digest, layout_from_blobs, legacy_archive, tar_bytes, write_dir
from tests.image.support import snapshot

GHP = "ghp_" + "Zx81Kq2Lm9Np3Rt7Vw4Yb6Cd0Ef5Gh1Jk2Lm"
BASE = tar_bytes([("etc", "dir", None), ("etc/passwd", "file", b"root:x:0:0::/root:/bin/sh\n"),
                  ("etc/shadow", "file", b"root:$6$salt$c2VjcmV0aGFzaA:19000:0:99999:7:::\napp::19000::::::\n"),
                  ("etc/base.env", "file", f"export GH={GHP}\n".encode())])
MID = tar_bytes([("app", "dir", None), ("app/a.txt", "file", b"hello\n")])


def _scan_kit(settings=None):
    return [analyzer(SecretScanner(settings)), PackagesAnalyzer()], CapturePaths(frozenset({"etc/passwd", "etc/shadow"}))


def _open(ref, cache, settings=None):
    analyzers, capture = _scan_kit(settings)
    return open_image(ref, analyzers=analyzers, want_content=capture, cache=cache)


def _view(img):
    return snapshot(img), img.contents, sorted(map(repr, img.analysis.get("secrets", [])))


def _archive(tmp_path, name, layers):
    return "docker-archive:" + legacy_archive(layers, str(tmp_path / name))


def test_a_warm_read_serves_every_layer_from_the_cache_and_equals_the_cold_one(tmp_path):
    ref = _archive(tmp_path, "a.tar", [BASE, MID])
    cold_cache = LayerCache(tmp_path / "cache")
    cold = _open(ref, cold_cache)
    assert (cold_cache.hits, cold_cache.misses, cold_cache.stores) == (0, 2, 2)
    warm_cache = LayerCache(tmp_path / "cache")
    warm = _open(ref, warm_cache)
    assert (warm_cache.hits, warm_cache.stores) == (2, 0)
    assert _view(warm) == _view(cold)
    assert [la.digest for la in warm.layers] == [la.digest for la in cold.layers]
    assert [la.media_type for la in warm.layers] == [la.media_type for la in cold.layers]
    assert cold.analysis["secrets"] and cold.analysis["secrets"][0].layer == 0


def test_an_image_sharing_base_layers_reads_only_its_new_layers(tmp_path):
    cache = LayerCache(tmp_path / "cache")
    _open(_archive(tmp_path, "a.tar", [BASE, MID]), cache)
    other = tar_bytes([("srv", "dir", None), ("srv/b.txt", "file", b"world\n")])
    second = LayerCache(tmp_path / "cache")
    img = _open(_archive(tmp_path, "b.tar", [BASE, other]), second)
    assert (second.hits, second.misses) == (1, 1)
    # the same layer at another index: its results carry the index of this image
    third = LayerCache(tmp_path / "cache")
    moved = _open(_archive(tmp_path, "c.tar", [other, BASE]), third)
    assert third.hits == 2
    assert [s.layer for s in moved.analysis["secrets"]] == [1]
    assert moved.files["etc/base.env"].layer == 1 and (1, "etc/passwd") in moved.contents
    assert img.files["srv/b.txt"].layer == 1


def test_the_same_layer_from_a_registry_layout_and_an_archive_shares_one_entry(tmp_path):
    cache = LayerCache(tmp_path / "cache")
    plain = _open(_archive(tmp_path, "a.tar", [BASE, MID]), cache)
    blobs = [gzip.compress(BASE), gzip.compress(MID)]
    layout = "oci:" + write_dir(layout_from_blobs(blobs, [digest(BASE), digest(MID)]), str(tmp_path / "layout"))
    again = LayerCache(tmp_path / "cache")
    gz = _open(layout, again)
    assert again.hits == 2
    assert _view(gz)[1:] == _view(plain)[1:] and gz.files == plain.files
    # this source's own blob digests and media types, not the archive's
    assert [la.digest for la in gz.layers] == [digest(b) for b in blobs]
    assert all(la.media_type.endswith("+gzip") for la in gz.layers)


def test_the_key_holds_the_policy_and_the_analyzer_set(tmp_path):
    ref = _archive(tmp_path, "a.tar", [BASE, MID])
    _open(ref, LayerCache(tmp_path / "cache"))
    other_policy = LayerCache(tmp_path / "cache")
    img = _open(ref, other_policy, {"exclude-paths": ["etc/base.env"]})
    assert other_policy.hits == 0 and "secrets" not in img.analysis
    limits = Limits()
    analyzers, capture = _scan_kit()
    assert spec_key(analyzers, capture, limits) != spec_key(analyzers, None, limits)
    assert spec_key(analyzers, capture, limits) != spec_key(analyzers, capture, Limits(max_analyze=1 << 20))
    # an analyzer without a cache form makes the request uncacheable, never wrongly cached
    adhoc = FunctionAnalyzer("grep", lambda e: True, lambda i, e, d: [])
    assert spec_key([*analyzers, adhoc], capture, limits) is None


def test_entry_columns_round_trip_and_tampered_ones_are_refused():
    odd = [LayerEntry(".profile", EntryType.FILE, 2**70, 0o644, 0, 0), LayerEntry("a\nb", EntryType.SYMLINK, 0, 0o777, 1, 1, "x\ny"),
           LayerEntry("c/d", EntryType.HARDLINK, 0, 0o4755, 2**40, 7, "e"), LayerEntry("f", EntryType.FIFO, 0, 0, 0, 0)]
    wide = [LayerEntry(f"w{i}", EntryType.FILE, i * 9000, 0o600, i, 65536 + i) for i in range(300)]
    for entries in (odd, odd[:1], odd[2:], [], [LayerEntry(f"d/f{i}", EntryType.FILE, i, 0o644, 0, 0) for i in range(500)], wide):
        assert _entries(json.loads(json.dumps(_columns(entries)))) == entries
    # each number column in the narrowest width that holds it
    assert [list(_columns(wide)[c]) for c in ("sizes", "modes", "uids", "gids")] == [["u32"], ["u16"], ["u16"], ["u32"]]
    assert [list(_columns(odd[2:])[c]) for c in ("sizes", "modes", "uids", "gids")] == [["u8"], ["u16"], ["u64"], ["u8"]]
    good = _columns(odd[2:])
    for key, value in [("paths", "../x\nf"), ("paths", "c/d\n/f"), ("paths", "c//d\nf"), ("paths", "c/d"), ("types", "hz"), ("types", "h"),
                       ("sizes", [0, -1]), ("sizes", [0, True]), ("sizes", [0, 1.0]), ("sizes", {"u64": "AAAA"}), ("sizes", {"u9": "AAA="}),
                       ("sizes", {"u8": "AAA=", "u16": "AAAAAA=="}), ("sizes", {"u16": "AA=="}), ("links", ["e", 5]),
                       ("links", "e")]:
        with pytest.raises((ValueError, TypeError, KeyError)):
            _entries({**good, key: value})


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign"])
def test_damaged_entries_are_misses_and_get_rewritten(tmp_path, damage):
    ref = _archive(tmp_path, "a.tar", [BASE, MID])
    cold = _open(ref, LayerCache(tmp_path / "cache"))
    entries = sorted(p for p in (tmp_path / "cache").rglob("*.json.zst"))
    assert len(entries) == 2
    for p in entries:
        raw = p.read_bytes()
        if damage == "truncate":
            p.write_bytes(raw[: len(raw) // 2])
        elif damage == "garbage":
            p.write_bytes(os.urandom(len(raw)))
        elif damage == "empty":
            p.write_bytes(b"")
    if damage == "foreign":  # a whole, valid entry of another layer under this layer's name
        entries[0].write_bytes(entries[1].read_bytes())
    cache = LayerCache(tmp_path / "cache")
    again = _open(ref, cache)
    assert _view(again) == _view(cold)
    assert cache.hits == (1 if damage == "foreign" else 0) and cache.stores == (1 if damage == "foreign" else 2)


def test_stored_entries_are_checked_as_the_reader_makes_them():
    """A cache file is input: a tampered path, type or number is refused as a whole (the layer is read again)."""
    good = [LayerEntry("etc/skel/.bashrc", EntryType.FILE, 3, 0o644, 0, 0), LayerEntry(".hidden/..x", EntryType.DIR, 0, 0o755, 1, 1),
            LayerEntry("", EntryType.DIR, 0, 0o755, 0, 0), LayerEntry("a/b", EntryType.SYMLINK, 0, 0o777, 0, 0, "../c")]
    def stored(entries):  # as a cache file holds them
        return json.loads(json.dumps(_columns(entries)))

    assert _entries(stored(good)) == good
    for bad_path in ("../etc/passwd", "/etc/passwd", "etc//passwd", "etc/./passwd", "etc/", ".", "a/..", "a\0/../../x", "x" * 5000):
        with pytest.raises(ValueError):
            _entries(stored([*good, good[0]._replace(path=bad_path)]))
    for column, bad in (("sizes", -1), ("modes", True), ("uids", 1.0), ("gids", "0")):  # a number column stored as a list
        doc = stored(good)
        doc[column] = [0] * (len(good) - 1) + [bad]
        with pytest.raises((TypeError, ValueError)):
            _entries(doc)
    for field, bad in (("linkname", None), ("path", 7)):
        with pytest.raises((TypeError, ValueError)):
            _entries(stored([*good, good[0]._replace(**{field: bad})]))


def test_many_paths_at_once_are_judged_as_one_by_one():
    import random

    rng = random.Random(5)
    parts = ["a", "bc", "/", ".", "..", "\0", ".x", "x.", "//"]
    for _ in range(20_000):
        name = "".join(rng.choice(parts) for _ in range(rng.randint(0, 6)))
        alone = name == "" or clean_path(name) == (name, "")
        assert not all_clean(["ok/x", name, ".y"]) or alone, name  # never passes a name the reader would change
        assert all_clean([name]) == alone or "\0" in name, name  # and, but for a NUL, passes every one it keeps


def test_entries_hold_no_secret_value_and_no_password_hash(tmp_path):
    import zstandard

    _open(_archive(tmp_path, "a.tar", [BASE, MID]), LayerCache(tmp_path / "cache"))
    text = b"".join(zstandard.ZstdDecompressor().decompress(p.read_bytes()) for p in (tmp_path / "cache").rglob("*.json.zst"))
    assert GHP.encode() not in text and b"c2VjcmV0aGFzaA" not in text
    assert b"ghp_" in text  # the redacted hit is there


def test_off_switch_and_unwritable_folder(tmp_path, monkeypatch):
    ref = _archive(tmp_path, "a.tar", [BASE, MID])
    monkeypatch.setenv("LINTIMG_NO_CACHE", "1")
    _open(ref, LayerCache(tmp_path / "off"))
    assert not (tmp_path / "off").exists()
    monkeypatch.delenv("LINTIMG_NO_CACHE")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    cache = LayerCache(blocked)
    assert _view(_open(ref, cache)) == _view(_open(ref, None))
    assert cache.stores == 0


def _worker(args):
    root, ref = args
    img = _open(ref, LayerCache(root))
    return _view(img)


def test_concurrent_processes_share_one_folder(tmp_path):
    ref = _archive(tmp_path, "a.tar", [BASE, MID])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        views = pool.map(_worker, [(str(tmp_path / "cache"), ref)] * 4)
    assert all(v == views[0] for v in views)
    assert not [p for p in (tmp_path / "cache").rglob(".tmp-*")]
    assert len(list((tmp_path / "cache").rglob("*.json.zst"))) == 2


def test_layers_analysed_apart_assemble_into_the_same_image(tmp_path):
    """The fleet scan's split: "analyse layer L" tasks, then one assembly from their results."""
    from lintimg.image.archive import open_docker_archive
    from lintimg.image.oci import platform_of

    path = legacy_archive([BASE, MID], str(tmp_path / "a.tar"))
    analyzers, capture = _scan_kit()
    resolved = open_docker_archive(path, "", None, str(tmp_path))
    cache = LayerCache(tmp_path / "cache")
    parts = [analyse_layer(src, ref="x", analyzers=analyzers, want_content=capture, cache=cache) for src in resolved.sources]
    img = assemble(reference="x", name=resolved.name, digest=resolved.digest, config=resolved.config, results=parts,
                   platform=platform_of(resolved.config))
    whole = _open("docker-archive:" + path, None)
    assert snapshot(img) == snapshot(whole) and img.contents == whole.contents
    assert cache.stores == 2


@pytest.mark.engine
def test_lintimg_image_reuses_the_cache_and_reports_the_same(sample_archive, tmp_path):
    from tests.clirun import lintimg

    env = {"LINTIMG_LAYER_CACHE": str(tmp_path / "layers")}
    cold = lintimg("image", f"docker-archive:{sample_archive}", "--format", "json", env=env)
    stored = sorted(p.stat().st_mtime_ns for p in (tmp_path / "layers").rglob("*.json.zst"))
    warm = lintimg("image", f"docker-archive:{sample_archive}", "--format", "json", env=env)
    assert cold.returncode == warm.returncode and cold.stdout == warm.stdout
    assert len(stored) == 5  # one entry per layer, not rewritten by the warm run
    assert sorted(p.stat().st_mtime_ns for p in (tmp_path / "layers").rglob("*.json.zst")) == stored
