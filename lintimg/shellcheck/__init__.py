"""ShellCheck over RUN scripts (rule LI390): which binary runs, and the batch runner of :mod:`.batch`.

The batch runner's names (``prepare``, ``hits``, …) load on first use, so that asking
which ShellCheck a run would use costs no import of the Dockerfile model.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any


def binary() -> str | None:
    """The shellcheck to run, when one is on PATH.

    When lintimg[shellcheck] put one next to this interpreter, that one is used: PATH often holds
    a version-manager shim (pyenv) that costs a quarter second per call to re-resolve it.
    """
    found = _on_path("shellcheck")
    if found is None:
        return None
    sibling = os.path.join(os.path.dirname(sys.executable), "shellcheck")
    return sibling if os.path.isfile(sibling) and os.access(sibling, os.X_OK) else found


def _on_path(name: str) -> str | None:
    """The first executable ``name`` in the folders of PATH, as ``shutil.which`` finds it (importing shutil
    loads bz2 and lzma, a tenth of a cached run's start-up)."""
    for folder in os.get_exec_path():
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def identity() -> str:
    """Which ShellCheck a run would use, as a short string that changes when the binary does
    (path, size, mtime; the same stamp :func:`lintimg.shellcheck.cache.version` remembers)."""
    exe = binary()
    if exe is None:
        return "shellcheck: none"
    try:
        st = os.stat(exe)
    except OSError:
        return f"shellcheck: {exe} unreadable"
    return f"shellcheck: {os.path.abspath(exe)} {st.st_size} {st.st_mtime_ns}"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(importlib.import_module(f"{__name__}.batch"), name)
