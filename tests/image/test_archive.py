"""docker-archive: (three layouts), oci-archive: and oci:DIR read the engine's real image identically."""
from __future__ import annotations

import pytest

from lintimg.errors import LintimgError
from lintimg.image import open_image
from lintimg.image.model import Action, CapturePaths, EntryType, FunctionAnalyzer
from tests.image import layouts
from tests.image.support import SAMPLE_TAG, snapshot

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def legacy_img(sample_archive):
    return open_image(f"docker-archive:{sample_archive}", want_content=CapturePaths(frozenset({"keep", "x", "pw"})))


def actions(img, path):
    return [(ev.layer, ev.action) for ev in img.history_by_path.get(path, [])]


def test_layers_map_to_history(legacy_img):
    assert len(legacy_img.layers) == 5
    assert "COPY" in legacy_img.layers[3].created_by and "x" in legacy_img.layers[3].created_by
    assert "echo again" in legacy_img.layers[4].created_by
    # ENV made an empty-layer history entry between the COPY and the last RUN
    assert legacy_img.layers[4].history_index == legacy_img.layers[3].history_index + 2
    assert legacy_img.name == "lintimg-test/image-sample"
    assert legacy_img.container_config["Env"][-1] == "FOO=bar"


def test_deleted_file_stays_in_history(legacy_img):
    assert "pw" not in legacy_img.files
    assert actions(legacy_img, "pw") == [(1, Action.ADDED), (2, Action.DELETED)]
    assert "pw" in legacy_img.layers[2].whiteouts
    # the deleted file's bytes are still in layer 1
    assert legacy_img.content("pw", layer=1) == b"secret\n"


def test_opaque_directory_hides_lower_children(legacy_img):
    assert "d" in legacy_img.layers[2].opaque_dirs
    assert "d/sub/a" not in legacy_img.files and "d/sub" not in legacy_img.files
    assert (2, Action.DELETED) in actions(legacy_img, "d/sub/a")
    assert legacy_img.files["d/new"].layer == 2


def test_modified_file_and_surviving_content(legacy_img):
    assert actions(legacy_img, "keep") == [(1, Action.ADDED), (4, Action.MODIFIED)]
    assert legacy_img.content("keep") == b"again\n"
    assert legacy_img.content("keep", layer=1) == b"keep\n"
    first = legacy_img.history_by_path["keep"][0].entry
    assert first.mode & 0o4000 and first.type is EntryType.FILE and first.size == 5
    lnk = legacy_img.files["lnk"].entry
    assert lnk.type is EntryType.SYMLINK and lnk.linkname == "/keep"
    assert legacy_img.content("x") == b"hello"
    assert legacy_img.files["bin/busybox"].layer == 0


def test_analyzers_run_on_every_layer_in_the_same_pass(sample_archive):
    img = open_image(
        f"docker-archive:{sample_archive}",
        analyzers=[FunctionAnalyzer("grep", lambda e: e.size < 100, lambda i, e, data: [(i, e.path)] if b"secret" in data else [])],
    )
    assert img.analysis["grep"] == [(1, "pw")]  # found although deleted in layer 2


LAYOUTS = {
    "docker25-oci-in-archive": dict(manifest_json=True),
    "containerd-store": dict(compression=["gzip", "zstd", "gzip", "none", "zstd"], manifest_json=True, multi_platform=True),
    "containerd-no-manifest-json": dict(compression=["zstd", "gzip", "gzip", "gzip", "gzip"], manifest_json=False, multi_platform=True),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_other_docker_save_layouts_read_the_same(layout, sample_archive, legacy_img, tmp_path):
    files = layouts.build_layout(layouts.read_legacy(str(sample_archive)), **LAYOUTS[layout])
    tar = layouts.write_tar(files, str(tmp_path / "img.tar"))  # sorted: manifest.json comes last
    img = open_image(f"docker-archive:{tar}")
    assert snapshot(img) == snapshot(legacy_img)
    assert img.digest and img.digest.startswith("sha256:")
    if "compression" in LAYOUTS[layout]:
        assert img.layers[0].media_type.endswith(LAYOUTS[layout]["compression"][0].replace("none", "tar"))


def test_oci_archive_and_dir(sample_archive, legacy_img, tmp_path):
    files = layouts.build_layout(layouts.read_legacy(str(sample_archive)), compression=["gzip"] * 5, manifest_json=False, ref_name="1")
    tar = layouts.write_tar(files, str(tmp_path / "img.oci.tar"))
    d = layouts.write_dir(files, str(tmp_path / "layout"))
    assert snapshot(open_image(f"oci-archive:{tar}")) == snapshot(legacy_img)
    assert snapshot(open_image(f"oci:{d}:1")) == snapshot(legacy_img)
    with pytest.raises(LintimgError, match="no image named 'nope'"):
        open_image(f"oci:{d}:nope")


def test_archive_selectors(sample_archive, docker, tmp_path):
    docker.run("tag", SAMPLE_TAG, "lintimg-test/image-sample:other")
    both = tmp_path / "two.tar"
    docker.run("save", "-o", str(both), SAMPLE_TAG, docker.base_image())
    with pytest.raises(LintimgError, match="holds 2 images"):
        open_image(f"docker-archive:{both}")
    img = open_image(f"docker-archive:{both}:{SAMPLE_TAG}")
    assert len(img.layers) == 5
    assert len(open_image(f"docker-archive:{both}:{docker.base_image()}").layers) == 1


def test_platform_mismatch_is_an_error(sample_archive, tmp_path):
    files = layouts.build_layout(layouts.read_legacy(str(sample_archive)), manifest_json=False, multi_platform=True)
    tar = layouts.write_tar(files, str(tmp_path / "mp.tar"))
    with pytest.raises(LintimgError, match=r"no image for platform linux/arm64/v8 \(available: linux/amd64, linux/s390x\)"):
        open_image(f"oci-archive:{tar}", platform="linux/arm64")
    # the s390x manifest is listed but its blobs were not exported
    with pytest.raises(LintimgError, match="missing blob"):
        open_image(f"oci-archive:{tar}", platform="linux/s390x")
