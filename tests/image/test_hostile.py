"""Hostile and broken input, written in Python: every case is a one-line error or a recorded anomaly."""
from __future__ import annotations

import gzip
import os
import tracemalloc

import pytest

from lintimg.dockerfile.reference import parse_docker_ref
from lintimg.errors import LintimgError
from lintimg.image import Limits, open_image
from lintimg.image.model import Action, CapturePaths, EntryType, FunctionAnalyzer
from lintimg.image.transport import parse_source
from tests.image.layouts import digest, layout_from_blobs, legacy_archive, tar_bytes, write_dir, write_tar


def archive(tmp_path, layers, **kw) -> str:
    return "docker-archive:" + legacy_archive(layers, str(tmp_path / "img.tar"), **kw)


def oci_dir(tmp_path, blobs: list[bytes], diff_ids: list[str] | None = None, *, tamper=None) -> str:
    """An OCI layout directory of the given layer blobs; ``tamper`` edits its files first."""
    files = layout_from_blobs(blobs, diff_ids or [digest(gzip.decompress(b)) for b in blobs])
    if tamper:
        tamper(files)
    return "oci:" + write_dir(files, str(tmp_path / "layout"))


def test_escaping_and_absolute_paths_are_anomalies_and_nothing_is_written(tmp_path):
    layer = tar_bytes([
        ("../../escape", "file", b"x"),
        ("/abs/file", "file", b"abs"),
        ("a/../b", "file", b"b"),
        ("d", "dir", None, 0o755),
        ("d/link", "symlink", "../../../etc/shadow"),
        ("d/ok", "symlink", "../b"),
        ("d/hard", "hardlink", "../../../etc/passwd"),
    ])
    before = sorted(os.listdir(tmp_path.parent)), sorted(os.listdir(tmp_path))
    img = open_image(archive(tmp_path, [layer]))
    reasons = {(a.path, a.reason) for a in img.anomalies}
    assert ("../../escape", "path escapes the image root") in reasons
    assert ("/abs/file", "absolute path") in reasons
    assert ("d/link", "symlink target escapes the image root") in reasons
    assert ("d/hard", "hardlink target escapes the image root") in reasons
    assert not any(p == "d/ok" for p, _ in reasons)
    assert set(img.files) == {"abs/file", "b", "d", "d/link", "d/ok"}
    assert img.files["d/link"].entry.linkname == "../../../etc/shadow"
    assert not any(".." in p.split("/") for p in img.files)
    assert (sorted(os.listdir(tmp_path.parent)), sorted(os.listdir(tmp_path))) == (before[0], before[1] + ["img.tar"])



def test_whiteouts_opaque_first_and_never_within_the_layer(tmp_path):
    base = tar_bytes([("etc", "dir", None), ("etc/a", "file", b"1"), ("etc/sub", "dir", None), ("etc/sub/b", "file", b"2"),
                      ("var", "dir", None), ("var/x", "file", b"3"), ("opt", "dir", None), ("opt/y", "file", b"4")])
    # the opaque marker comes after the layer's own etc/new: it must still hide only the lower etc/*
    top = tar_bytes([("etc/new", "file", b"n"), ("etc/.wh..wh..opq", "file", b""), (".wh.var", "file", b""),
                     ("opt/.wh.y", "file", b""), ("opt/y", "file", b"again"), ("etc/sub", "file", b"now a file")])
    img = open_image(archive(tmp_path, [base, top]))
    assert set(img.files) == {"etc", "etc/new", "etc/sub", "opt", "opt/y"}
    assert img.files["etc/sub"].entry.type is EntryType.FILE
    assert [(e.layer, e.action) for e in img.history_by_path["etc/sub/b"]] == [(0, Action.ADDED), (1, Action.DELETED)]
    assert [(e.layer, e.action) for e in img.history_by_path["var/x"]] == [(0, Action.ADDED), (1, Action.DELETED)]
    # deleted below and written again in the same layer: the new version survives
    assert [(e.layer, e.action) for e in img.history_by_path["opt/y"]] == [(0, Action.ADDED), (1, Action.DELETED), (1, Action.ADDED)]
    assert img.layers[1].opaque_dirs == ["etc"] and sorted(img.layers[1].whiteouts) == ["opt/y", "var"]
    assert img.layers[0].history_index == 0 and img.layers[1].created_by == "layer 1"


def test_diff_id_mismatch(tmp_path):
    layer = tar_bytes([("f", "file", b"data")])
    with pytest.raises(LintimgError, match=r"layer 0 .*does not match diff_id"):
        open_image(archive(tmp_path, [layer], diff_ids=[digest(b"other")]))


def test_blob_digest_mismatch(tmp_path):
    def swap(files):
        name = next(n for n, b in files.items() if b[:2] == b"\x1f\x8b")
        files[name] = gzip.compress(tar_bytes([("f", "file", b"evil")]))

    with pytest.raises(LintimgError, match=r"layer 0 \(sha256:[0-9a-f]{64}\): blob does not match its digest"):
        open_image(oci_dir(tmp_path, [gzip.compress(tar_bytes([("f", "file", b"good")]))], tamper=swap))


def test_truncated_gzip(tmp_path):
    layer = tar_bytes([("f", "file", os.urandom(50_000))])
    blob = gzip.compress(layer)[:-2000]
    with pytest.raises(LintimgError, match=r"^oci:.*: layer 0 \(sha256:[0-9a-f]+\): corrupt layer: .*truncated gzip"):
        open_image(oci_dir(tmp_path, [blob], [digest(layer)]))


def _gunzip_all(blob: bytes, inflater: object) -> tuple[bytes, str]:
    """Everything :class:`_Gunzip` hands out of ``blob`` with ``inflater`` as its deflate module, and the error it ends on."""
    import io
    import zlib

    from lintimg.image import reader

    g = reader._Gunzip(reader._Hashing(io.BytesIO(blob)))
    g.zlib, g.d = inflater, inflater.decompressobj(31)  # type: ignore[attr-defined]
    out = []
    try:
        while chunk := g.read(1 << 12):
            out.append(chunk)
    except zlib.error as e:
        return b"".join(out), f"zlib.error: {e}"
    return b"".join(out), ""


def test_zlib_ng_inflates_as_the_standard_zlib_does() -> None:
    """The faster inflater (a dependency, optional at run time) reads every stream the standard one reads, to the same
    bytes, and refuses the same damaged ones with the same message: whole, multi-member, truncated, trailing bytes,
    flipped bits in the header, the data, the CRC and the length."""
    import random
    import zlib

    zlib_ng = pytest.importorskip("zlib_ng.zlib_ng")
    layer = tar_bytes([("f", "file", os.urandom(3000) + bytes(20_000)), ("g", "file", b"abc" * 2000)])
    whole = gzip.compress(layer)
    cases = [whole, whole + gzip.compress(b"more"), whole[:-5], whole + b"junk", whole + b"\x1f\x8b"]
    rnd = random.Random(4)
    for at in [3, 8, 9, 12, len(whole) - 8, len(whole) - 2, *rnd.sample(range(10, len(whole) - 8), 40)]:
        damaged = bytearray(whole)
        damaged[at] ^= 1 << rnd.randrange(8)
        cases.append(bytes(damaged))
    outcomes = [(_gunzip_all(c, zlib), _gunzip_all(c, zlib_ng)) for c in cases]
    assert all(mine == theirs for mine, theirs in outcomes), [i for i, (a, b) in enumerate(outcomes) if a != b]
    assert outcomes[0][0] == (layer, "") and sum(1 for (_, err), _ in outcomes if err) >= 30  # a test that can fail


def bomb(size: int) -> bytes:
    """A gzip layer holding one file of ``size`` zero bytes (about 1000:1)."""
    import io
    import tarfile
    import zlib

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("zeros")
        info.size = size
        t.addfile(info, io.BytesIO(bytes(size)))
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    return z.compress(raw.getvalue()) + z.flush()


def test_decompression_bomb_total_limit_with_bounded_memory(tmp_path):
    blob = bomb(96 << 20)
    ref = oci_dir(tmp_path, [blob])
    tracemalloc.start()
    try:
        with pytest.raises(LintimgError, match=r"layers expand to more than 16777216 bytes \(limit; a decompression bomb\?\)"):
            open_image(ref, limits=Limits(max_uncompressed=16 << 20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20  # streamed in bounded chunks, never the whole 96 MiB


def test_decompression_bomb_ratio_limit(tmp_path):
    with pytest.raises(LintimgError, match=r"layer 0 expands more than 50x"):
        open_image(oci_dir(tmp_path, [bomb(8 << 20)]), limits=Limits(max_ratio=50, ratio_floor=1 << 20))


def test_entry_limit(tmp_path):
    layer = tar_bytes([(f"f{i}", "file", b"") for i in range(20)])
    with pytest.raises(LintimgError, match="more than 10 tar entries"):
        open_image(archive(tmp_path, [layer]), limits=Limits(max_entries=10))


def test_manifest_lists_missing_blob(tmp_path):
    layers = [tar_bytes([("a", "file", b"a")]), tar_bytes([("b", "file", b"b")])]
    with pytest.raises(LintimgError, match=r"manifest lists a missing blob 0{63}1/layer.tar"):
        open_image(archive(tmp_path, layers, drop=1))

    def drop_layer(files):
        del files[next(n for n, b in files.items() if b[:2] == b"\x1f\x8b")]

    with pytest.raises(LintimgError, match=r"^oci:.*: manifest lists a missing blob sha256:"):
        open_image(oci_dir(tmp_path / "o", [gzip.compress(layers[0])], tamper=drop_layer))


def test_layer_count_must_match_diff_ids(tmp_path):
    layer = tar_bytes([("a", "file", b"a")])
    with pytest.raises(LintimgError, match="lists 1 layers but the config has 2 diff_ids"):
        open_image(archive(tmp_path, [layer], diff_ids=[digest(layer), digest(layer)]))


def test_contents_are_bounded_and_analyzers_see_every_layer(tmp_path):
    big, small = os.urandom(3000), b"token=abc"
    layers = [tar_bytes([("big", "file", big), ("s", "file", small)]), tar_bytes([(".wh.s", "file", b"")])]
    img = open_image(
        archive(tmp_path, layers), want_content=CapturePaths(frozenset({"big", "s"})), limits=Limits(max_content=1000),
        analyzers=[FunctionAnalyzer("find", lambda e: True, lambda i, e, data: [(i, e.path, len(data))])],
    )
    assert img.contents == {(0, "s"): small}  # "big" is over the capture limit
    assert img.analysis["find"] == [(0, "big", 3000), (0, "s", len(small))]
    assert "s" not in img.files and img.content("s") is None and img.content("s", layer=0) == small


def test_compressed_outer_archive(tmp_path):
    path = legacy_archive([tar_bytes([("a", "file", b"a")])], str(tmp_path / "img.tar"))
    with open(path, "rb") as f, open(tmp_path / "img.tar.gz", "wb") as g:
        g.write(gzip.compress(f.read()))
    assert set(open_image(f"docker-archive:{tmp_path / 'img.tar.gz'}").files) == {"a"}


@pytest.mark.parametrize("content, message", [
    (b"not a tar at all" * 100, "not a readable tar archive"),
    (None, "no such file"),
])
def test_bad_archives(tmp_path, content, message):
    path = tmp_path / "bad.tar"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LintimgError, match=rf"^docker-archive:{path}: {message}"):
        open_image(f"docker-archive:{path}")


def test_archive_without_image_metadata(tmp_path):
    path = write_tar({"hello": b"x"}, str(tmp_path / "x.tar"))
    with pytest.raises(LintimgError, match="no manifest.json or index.json"):
        open_image(f"docker-archive:{path}")


def test_corrupt_config_json(tmp_path):
    path = write_tar({"manifest.json": b"[{]"}, str(tmp_path / "x.tar"))
    with pytest.raises(LintimgError, match=r"manifest.json: invalid JSON"):
        open_image(f"docker-archive:{path}")


def test_references():
    r = parse_docker_ref("busybox")
    assert (r.registry, r.repository, r.tag, r.api_host, r.name) == ("docker.io", "library/busybox", "latest", "registry-1.docker.io", "busybox")
    r = parse_docker_ref("127.0.0.1:5000/a/b:v1@sha256:" + "a" * 64)
    assert (r.registry, r.repository, r.tag, r.version) == ("127.0.0.1:5000", "a/b", "v1", "sha256:" + "a" * 64)
    assert parse_docker_ref("localhost/x").registry == "localhost"
    for bad in ("Upper", "a:b:c", "x@sha256:short", ""):
        with pytest.raises(LintimgError, match="invalid image reference"):
            parse_docker_ref(bad)
    assert parse_source("docker-daemon:x:1").selector == "x:1"
    assert (parse_source("oci:/nonexistent/dir:tag").path, parse_source("oci:/nonexistent/dir:tag").selector) == ("/nonexistent/dir:tag", "")


def _zip(names: list[str], payload: bytes = b"") -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for n in names:
            z.writestr(zipfile.ZipInfo(n), payload)
    return buf.getvalue()


def test_a_zip_directory_is_counted_before_zipfile_holds_it() -> None:
    from lintimg.image.archives import ArchiveLimits, walk, zip_entries

    assert zip_entries(_zip([f"{i:x}" for i in range(70_000)])) == 70_000  # past 65,535: the zip64 end record
    assert zip_entries(b"PK\x03\x04 not a whole zip") is None
    token = b"GITHUB_TOKEN=ghp_" + b"a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + b"\n"
    small = _zip(["a.env", "b.env"], token)
    assert [label for label, _ in walk(small, "app.jar")] == ["app.jar!/a.env", "app.jar!/b.env"]
    crowded = _zip([f"{i}.env" for i in range(60)], token)
    assert list(walk(crowded, "app.jar", ArchiveLimits(max_directory=50))) == [], "a directory over the bound is not opened"


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_a_sparse_file_is_put_together_as_the_runtime_unpacks_it(tmp_path, fmt: str) -> None:
    """GNU tar stores only a sparse file's data chunks: the reader hands out the whole file (holes as zeros),
    so a file stored sparse is checked like any other (an /etc/passwd too)."""
    import io
    import shutil
    import subprocess
    import tarfile

    from lintimg.image.tarstream import TarReader

    tar = shutil.which("tar")
    if not tar or b"GNU tar" not in subprocess.run([tar, "--version"], capture_output=True).stdout:
        pytest.skip("GNU tar is not installed")
    (tmp_path / "root").mkdir()
    body = bytearray(300_000)
    with open(tmp_path / "root" / "f", "wb") as f:  # holes made by seeking: the file system keeps them
        for at, part in ((0, b"head\n"), (150_000, b"middle"), (len(body) - 4, b"end\n")):
            f.seek(at)
            f.write(part)
            body[at : at + len(part)] = part
    subprocess.run([tar, "--sparse", f"--format={fmt}", "-cf", str(tmp_path / "l.tar"), "-C", str(tmp_path / "root"), "f"], check=True)
    data = (tmp_path / "l.tar").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        want_map = tuple(t.getmember("f").sparse or ())
    tar = TarReader(io.BytesIO(data))
    (h,) = list(_with_content(tar))
    assert h[0].size == len(body) and h[0].sparse == want_map and len(want_map) > 1
    assert h[1] == bytes(body)


def _with_content(tar):
    from lintimg.image.reader import _content

    for h in tar:
        yield h, _content(h.name, h.size, h.sparse, tar) if h.sparse is not None else None


def test_a_null_config_field_reads_as_absent() -> None:
    """JSON null (``"created_by": null``, found by the fuzzer) is no value: rules never see None where the spec
    gives a string, list or map (``h.get("created_by", "")`` was None, and the history rebuild crashed)."""
    from lintimg.image.config import checked

    anomalies: list = []
    config = checked({"config": {"User": None, "Env": None}, "history": [{"created_by": None, "empty_layer": True}]}, anomalies)
    assert config["history"] == [{"empty_layer": True}] and "User" not in config["config"] and "Env" not in config["config"]
    assert anomalies == []
