"""Installed distributions, read from their metadata folders without ``importlib.metadata``.

Importing ``importlib.metadata`` (and the email parser it pulls in) and
walking every distribution cost a one-file run ~40 ms, more than the lint.
The lookup here is the one importlib.metadata makes: ``*.dist-info`` and
``*.egg-info`` folders on ``sys.path``, the first distribution of a
normalised name wins; ``tests/test_distributions.py`` checks that both find
the same entry points and versions.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator


def _parts(folder: str) -> tuple[str, str]:
    """(normalised name, version or "") of ``name-version.dist-info`` / ``name.egg-info``."""
    stem = folder.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    return re.sub(r"[-_.]+", "_", name).lower(), rest.split("-", 1)[0]


# sys.path's distributions as the resident server listed them at its start (lintimg.resident.server): each request
# it runs has a key that is a digest of sys.path and of every metadata folder's name on it, so the listing holds.
_remembered: list[tuple[str, str, str]] | None = None


def remember() -> None:
    """List sys.path's distributions once, for every later :func:`distributions` of sys.path (the resident server)."""
    global _remembered
    _remembered = list(distributions())


def distributions(path: Iterable[str] | None = None) -> Iterator[tuple[str, str, str]]:
    """``(normalised name, version, metadata folder)`` of every distribution, first of a name only."""
    if path is None and _remembered is not None:
        yield from _remembered
        return
    seen: set[str] = set()
    for entry in sys.path if path is None else path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue  # a zip file or a missing folder: no metadata folders to read
        for folder in names:
            if not folder.endswith((".dist-info", ".egg-info")):
                continue
            name, version = _parts(folder)
            if name not in seen:
                seen.add(name)
                yield name, version, os.path.join(entry or ".", folder)


def version(name: str) -> str | None:
    """The installed version of distribution ``name``: from its metadata folder's name, else its metadata file."""
    want = re.sub(r"[-_.]+", "_", name).lower()
    for n, v, folder in distributions():
        if n == want:
            return v or _metadata_version(folder)
    return None


def _metadata_version(folder: str) -> str | None:
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, file), encoding="utf-8") as fh:
                for line in fh:
                    if line.lower().startswith("version:"):
                        return line.split(":", 1)[1].strip()
                    if not line.strip():
                        break  # the headers end at the first blank line
        except OSError:
            continue
    return None


def entry_points(group: str, path: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """``(name, "module[:attr]")`` for every entry point of ``group``."""
    out: list[tuple[str, str]] = []
    for _, _, folder in distributions(path):
        try:
            with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            continue
        out += _group(text, group)
    return out


def _group(text: str, group: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.split("[", 1)[0].strip()))
    return found
