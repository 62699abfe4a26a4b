"""Size facts of an image (lintimg.image.stats): what counts as wasted bytes."""
from __future__ import annotations

from lintimg.image.stats import waste
from tests.imagebuild import layer, make_image
from tests.imagespec import BASE, MB


def test_waste_counts_removable_bytes_only() -> None:
    img = make_image([
        BASE,
        layer("/bin/sh -c big", files={"big": 10 * MB, "keep": 3 * MB}),
        layer("/bin/sh -c rewrite", files={"keep": 3 * MB}),  # overwrite: the old 3 MB is waste, the new is not
        layer("/bin/sh -c rm -rf /big", delete=["big"]),
    ])
    w = waste(img)
    assert w.wasted_bytes == 13 * MB
    assert {(f.path, f.added_layer, f.removed_layer, f.overwritten) for f in w.files} == {("big", 1, 3, False), ("keep", 1, 2, True)}
    total = 900_060 + 13 * MB + 3 * MB
    assert w.total_bytes == total
    assert abs(w.efficiency - (total - 13 * MB) / total) < 1e-12


def test_files_under_a_deleted_directory_are_waste() -> None:
    img = make_image([BASE, layer("/bin/sh -c build", files={"src/a.o": 2 * MB, "src/b.o": 1 * MB}), layer("/bin/sh -c rm -rf /src", delete=["src"])])
    assert {(f.path, f.removed_layer) for f in waste(img).files} == {("src/a.o", 2), ("src/b.o", 2)}
