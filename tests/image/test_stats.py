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


def test_affixed_finds_what_a_test_of_each_path_finds() -> None:
    """The joined search (one RE2 pass, then a test of each path where it found something) misses no path and keeps
    none that is not asked for: odd characters in needles and paths, non-ASCII paths, matches in every position."""
    import random

    from lintimg.image.model import FEW, affixed

    rnd = random.Random(7)
    ends, starts, names, parts = (".pem", "a b", "/x+y"), ("etc/", "[0]"), ("id_rsa", "é"), ("/.", "\\d")
    pieces = ["etc", "a b", "x+y", "id_rsa", ".pem", "/", ".", "\\d", "[0]", "é", "\udcff", "usr", "lib", "z"]
    paths = ["/".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 4))) for _ in range(3 * FEW)]
    paths[FEW : 2 * FEW] = [f"data/f{i}" for i in range(FEW)]  # a chunk with nothing to find
    paths[FEW + 100] = "data/x.pem"

    def asked(p: str) -> bool:
        return p.endswith(ends) or p.startswith(starts) or p in names or any(part in p for part in parts)

    want = [i for i, p in enumerate(paths) if asked(p)]
    assert affixed(paths, ends=ends, starts=starts, names=names, parts=parts) == want
    assert FEW + 100 in want and len(want) > FEW // 2
    quiet = [f"data/f{i}" for i in range(FEW)]
    for planted in ["data/x+y/a b", "etc/f", "[0]/f", "id_rsa", "é", "data/.f", "data\\d"]:  # each needle kind alone
        assert affixed([*quiet, planted], ends=ends, starts=starts, names=names, parts=parts) == [FEW], planted
    assert affixed(paths) == [] and affixed(paths, ends=(".pem",)) == [i for i, p in enumerate(paths) if p.endswith(".pem")]


def test_prefilters_keep_every_empty_file_wants_accepts() -> None:
    """A consumer's prefilter may keep more than its ``wants`` accepts, never fewer (the reader asks ``wants`` only
    about what a prefilter kept): the rules' capture, the shape files and the package databases, on paths of every
    depth, script places, config endings in any case, package databases and non-ASCII names."""
    import random

    from lintimg.image.model import EntryType, LayerEntry
    from lintimg.image.packages import PackagesAnalyzer
    from lintimg.image.shape import SHAPE_FILES
    from lintimg.run.image import RuleCapture

    rnd = random.Random(3)
    pieces = ["usr", "local", "bin", "sbin", "etc", "var", "lib", "dpkg", "status", "apk", "db", "installed", "rpm", "Packages",
              "passwd", "group", "entrypoint.sh", "start", "run", "x.conf", "Y.INI", "supervisord.conf", "é", "data", "f1"]
    deep = [f"data/d{i % 7}/" + "/".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 4))) for i in range(3000)]
    for consumer in (RuleCapture(), SHAPE_FILES, PackagesAnalyzer()):
        found = 0
        ascii_deep = [p for p in deep if p.isascii()]
        for paths in (deep, [*deep, "run.sh"], ascii_deep, [*ascii_deep, "run.sh"], ["etc/passwd", "bin/start", "var/lib/dpkg/status"]):
            kept = set(consumer.prefilter(paths, 0))
            wanted = {i for i, p in enumerate(paths) if consumer.wants(LayerEntry(p, EntryType.FILE, 0, 0o644, 0, 0))}
            assert wanted <= kept, (type(consumer).__name__, [paths[i] for i in wanted - kept][:5])
            assert len(kept) < len(paths) or len(paths) < 5 or "run.sh" in paths  # and rules most out, or all: a shallow path
            found += len(wanted)
        assert found >= 1, type(consumer).__name__  # the paths hold what each consumer wants
