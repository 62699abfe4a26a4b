"""Damaged image metadata never crashes the reader: it is read, or it is a LintimgError."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lintimg.errors import LintimgError
from lintimg.image import open_image
from tests.image.layouts import digest, layout_from_blobs, legacy_archive, tar_bytes, write_dir, write_tar

LAYER = tar_bytes([("etc", "dir", None), ("etc/a", "file", b"a"), (".wh.x", "file", b"")])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2**40) | st.text(max_size=8) | st.just("sha256:" + "0" * 64),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def damage(doc, path: list[int], value):
    """Replace the node reached by walking ``path`` (indexes into keys/items) with ``value``."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    k = keys[path[0] % len(keys)]
    doc[k] = damage(doc[k], path[1:], value)
    return doc


def opens_or_fails_cleanly(ref: str) -> None:
    try:
        open_image(ref)
    except LintimgError as e:
        assert "\n" not in str(e) and str(e)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["manifest.json", "config"]), path=st.lists(st.integers(0, 50), max_size=4), value=JSON)
def test_damaged_docker_archive_metadata(tmp_path, which, path, value):
    src = legacy_archive([LAYER], str(tmp_path / "ok.tar"))
    import tarfile

    with tarfile.open(src) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    name = "manifest.json" if which == "manifest.json" else next(n for n in files if n.endswith(".json") and n != "manifest.json")
    files[name] = json.dumps(damage(json.loads(files[name]), path, value)).encode()
    opens_or_fails_cleanly("docker-archive:" + write_tar(files, str(tmp_path / "bad.tar")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["index.json", "manifest"]), path=st.lists(st.integers(0, 50), max_size=4), value=JSON)
def test_damaged_oci_layout_metadata(tmp_path, which, path, value):
    files = layout_from_blobs([LAYER], [digest(LAYER)], media="application/vnd.oci.image.layer.v1.tar")
    if which == "index.json":
        files["index.json"] = json.dumps(damage(json.loads(files["index.json"]), path, value)).encode()
    else:  # the damaged manifest is stored under its own digest, so the damage is what gets read
        old = next(n for n, b in files.items() if n.startswith("blobs/") and b'"layers"' in b)
        doc = json.dumps(damage(json.loads(files.pop(old)), path, value)).encode()
        files["blobs/sha256/" + digest(doc)[7:]] = doc
        files["index.json"] = files["index.json"].replace(old[13:].encode(), digest(doc)[7:].encode())
    root = tmp_path / f"layout-{digest(repr((which, path, value)).encode())[7:19]}"
    opens_or_fails_cleanly("oci:" + write_dir(files, str(root)))
