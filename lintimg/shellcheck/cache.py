"""ShellCheck results on disk, so a script already checked is never checked again.

An entry is keyed by a digest (:func:`lintimg.cachefiles.digest`) of everything ShellCheck's answer depends on:
the script, its shell and the ARG/ENV names known before it (from which the
file ShellCheck is given is made: a shebang, an ``export`` line, the script),
the excluded codes, the ShellCheck version and this cache's format. Entries live under
``$XDG_CACHE_HOME/lintimg/shellcheck/<2 hex>/<key>.json`` and are written
atomically, so concurrent runs (pre-commit in two repositories, a corpus
run) never read half an entry; a missing, torn or malformed entry is a miss.
``LINTIMG_NO_CACHE=1`` turns it off.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lintimg import cachefiles

FORMAT = 1


def version(exe: str) -> str | None:
    """ShellCheck's version, remembered on disk per binary (path, size, mtime): asking costs a process."""
    try:
        st = os.stat(exe)
    except OSError:
        return None
    stamp = [os.path.abspath(exe), st.st_size, st.st_mtime_ns]
    path = cachefiles.cache_root("shellcheck") / "version.json"
    known = cachefiles.read_json(path) if cachefiles.enabled() else None
    if isinstance(known, dict) and known.get("binary") == stamp and isinstance(known.get("version"), str):
        return str(known["version"])
    import subprocess

    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.lower().startswith("version:")), None)
    if found and cachefiles.enabled():
        cachefiles.write_json(path, {"binary": stamp, "version": found})
    return found


class ResultCache:
    """``script key -> ShellCheck comments`` for one ShellCheck version and set of options."""

    def __init__(self, shellcheck_version: str, options: str, root: Path | None = None):
        self.root = root or cachefiles.cache_root("shellcheck")
        self.salt = f"{FORMAT}\0{shellcheck_version}\0{options}\0"
        self.on = cachefiles.enabled()

    def _path(self, text: str) -> Path:
        # BLAKE2b, not hashlib's sha256: hashlib loads OpenSSL, which an edited file's run would pay for only here
        key = cachefiles.digest((self.salt + text).encode("utf-8", "surrogateescape"))
        return self.root / key[:2] / f"{key}.json"

    def get(self, text: str) -> list[list[Any]] | None:
        """The comments ShellCheck gave ``text`` (``[row, column, code, level, message]``), or ``None``."""
        if not self.on:
            return None
        data = cachefiles.read_json(self._path(text))
        if not isinstance(data, list) or not all(_valid(c) for c in data):
            return None  # absent, torn or not ours: check again
        return data

    def put(self, text: str, comments: list[list[Any]]) -> None:
        if self.on:
            cachefiles.write_json(self._path(text), comments)


def _valid(c: Any) -> bool:
    return (isinstance(c, list) and len(c) == 5 and isinstance(c[0], int) and isinstance(c[1], int) and isinstance(c[2], int)
            and isinstance(c[3], str) and isinstance(c[4], str))
