"""Distributions read from their metadata folders agree with importlib.metadata on this machine."""
from __future__ import annotations

import importlib.metadata as md
import sys

import pytest

from lintimg.distributions import distributions, entry_points, version


@pytest.mark.parametrize("group", ["console_scripts", "lintimg", "pytest11"])
def test_entry_points_are_the_ones_importlib_metadata_finds(group):
    # importlib.metadata lists every distribution; the first of a name is the one Python imports from
    first = {}
    for d in md.distributions():
        first.setdefault(md.Prepared.normalize(d.metadata["Name"]), d)
    expected = sorted({(e.name, e.value) for d in first.values() for e in d.entry_points if e.group == group})
    assert sorted(set(entry_points(group))) == expected
    if group == "lintimg":
        assert ("builtin", "lintimg.rules") in expected and ("reports", "lintimg.reports") in expected


def test_versions_are_the_ones_importlib_metadata_reads():
    names = [n for n, _, _ in distributions()]
    assert len(names) > 10
    for name in names:
        assert version(name) == md.version(name), name
    assert version("no-such-distribution-here") is None


def test_a_path_without_metadata_folders_has_no_entry_points(tmp_path):
    assert entry_points("lintimg", [str(tmp_path), str(tmp_path / "missing"), sys.executable]) == []
