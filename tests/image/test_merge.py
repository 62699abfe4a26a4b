"""The merge of layers (lintimg.image.reader.assemble): a layer of new paths merged by column reads as the one-by-one merge."""
from __future__ import annotations

import pytest

from lintimg.image.model import Entries, EntryType, Files, Layer, LayerEntry, with_mode
from lintimg.image.reader import LayerResult, assemble
from lintimg.image.stats import waste


def _layer(index: int, entries: list[LayerEntry], whiteouts: tuple[str, ...] = ()) -> LayerResult:
    return LayerResult(Layer(index, f"sha256:{index}", f"sha256:{index}", 0, "", Entries(entries), list(whiteouts)))


def _f(path: str, mode: int = 0o644, size: int = 1, etype: EntryType = EntryType.FILE, link: str = "") -> LayerEntry:
    return LayerEntry(path, etype, size, mode, 0, 0, link)


def _image(by_column: bool, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    if not by_column:
        monkeypatch.setattr(Files, "add_new", lambda self, entries, layer, changed: False)
    layers = [
        _layer(0, [_f("etc", 0o755, 0, EntryType.DIR), _f("etc/passwd"), _f("usr/bin/su", 0o4755), _f("tmp/w", 0o666), _f("big", size=9)]),
        _layer(1, [_f("opt/a", 0o2755), _f("opt/b"), _f("opt/c", 0o777)]),  # new paths again: by column too
        _layer(2, [_f("usr/bin/su", 0o755), _f("tmp/w", 0o644), _f("big", size=5), _f("opt/b", 0o4700), _f("new")]),
        _layer(3, [_f("later/x", 0o6755), _f("later/y")]),
        _layer(4, [_f("etc/passwd", 0o600), _f("gone/z")], ("later/x", "opt/c")),  # deletes paths held by row and as given
    ]
    with monkeypatch.context() as m:
        img = assemble(reference="r", name="n", digest=None, config={}, results=layers)
        m.undo()
    return img


def test_a_layer_merged_by_column_reads_as_one_merged_entry_by_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    real = Files.add_new
    monkeypatch.setattr(Files, "add_new", lambda self, *a: calls.append(r := real(self, *a)) or r)
    by_column = _image(True, monkeypatch)
    monkeypatch.undo()
    assert calls == [True, True, False, True]  # layers 0, 1 and 3 went by column (4 has whiteouts: one by one)
    one_by_one = _image(False, monkeypatch)
    assert dict(by_column.files) == dict(one_by_one.files) and list(by_column.files) == list(one_by_one.files)
    assert dict(by_column.history_by_path) == dict(one_by_one.history_by_path)
    assert len(by_column.history_by_path) == len(one_by_one.history_by_path) == 12
    for bits in (0o6000, 0o4000, 0o002, 0o700, 0o1000):
        assert with_mode(by_column.files, bits) == with_mode(one_by_one.files, bits) == sorted(
            (p, f) for p, f in one_by_one.files.items() if f.entry.mode & bits)
    assert [p for p, _ in with_mode(by_column.files, 0o6000)] == ["opt/a", "opt/b"]  # su and later/x lost their bits
    # 9 (big) + 1 each: su, tmp/w, opt/b, etc/passwd (overwritten), later/x, opt/c (deleted)
    assert waste(by_column).files == waste(one_by_one).files and waste(by_column).wasted_bytes == 15
    assert [(e.layer, e.action.value) for e in by_column.history_by_path["later/x"]] == [(3, "added"), (4, "deleted")]
    assert by_column.history_by_path["new"][0].entry == _f("new") and "opt/c" not in by_column.files


def test_the_view_of_one_layer_merged_at_once_shares_its_searched_paths() -> None:
    """view_paths gives the layer's own searched paths (one joined text for the layer's and the view's searches) only
    when the view is that layer's paths as they are; a second layer, a deletion or a path written twice make it anew."""
    from lintimg.image.model import view_paths

    one = assemble(reference="r", name="n", digest=None, config={}, results=[_layer(0, [_f("a"), _f("b/c"), _f("d")])])
    assert view_paths(one) is one.layers[0].entries.searched() and list(view_paths(one)) == ["a", "b/c", "d"]
    for results in (
        [_layer(0, [_f("a"), _f("b")]), _layer(1, [_f("c")])],  # two layers
        [_layer(0, [_f("a"), _f("b")]), _layer(1, [], ("a",))],  # a deletion by a layer without entries
        [_layer(0, [_f("a"), _f("b"), _f("a", size=2)])],  # a path twice: merged one by one
    ):
        img = assemble(reference="r", name="n", digest=None, config={}, results=results)
        assert list(view_paths(img)) == list(img.files) and all(view_paths(img) is not r.layer.entries.searched() for r in results)
