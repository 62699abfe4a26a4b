"""Scan results remembered on disk under a key of the caller's (a Dockerfile's findings: :func:`remembered`).

Under ``$XDG_CACHE_HOME/lintimg/secrets/<detector version>/``: a changed
detector set starts a new folder. Entries hold fingerprints and redactions
only — never a secret value.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lintimg import cachefiles

CACHE_FORMAT = 2
_ENGINE_SOURCES = ("engine.py", "formats.py", "values.py", "triggers.py")


@lru_cache(maxsize=1)
def detector_version() -> str:
    """Names the detector set: a hash of the engine's source files (a changed detector is a new version).

    Read from the files, not imported: naming a cached result loads no detector.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for name in _ENGINE_SOURCES:
        try:
            with open(os.path.join(here, name), "rb") as fh:
                parts.append(fh.read())
        except OSError:  # an install without sources: its version names it
            from lintimg.distributions import version

            parts.append(f"lintimg {version('lintimg')}".encode())
    # BLAKE2b (cachefiles.digest), not hashlib: the redaction layer names its span cache with this in
    # every run, and hashlib loads OpenSSL, which a cached run must not pay for
    return cachefiles.digest(b"\0".join(parts))[:16]


def remembered(kind: str, key: str, compute: Callable[[], list[list[Any]]],
               valid: Callable[[list[Any]], bool] = lambda row: True) -> list[list[Any]]:
    """``compute()`` (a JSON list of lists, redacted), remembered on disk under ``kind`` and ``key``.

    A warm pre-commit run then reads one small file per Dockerfile instead of
    scanning a text it has already seen. An entry whose rows are not lists that
    pass ``valid`` is computed again.
    """
    if not cachefiles.enabled():
        return compute()
    digest = cachefiles.digest(key.encode("utf-8", "surrogatepass"))
    path = cachefiles.cache_root("secrets") / f"{detector_version()}-{CACHE_FORMAT}" / kind / digest[:2] / f"{digest}.json"
    found = cachefiles.read_json(path)
    if isinstance(found, list) and all(isinstance(row, list) and valid(row) for row in found):
        return found
    fresh = compute()
    cachefiles.write_json(path, fresh)
    return fresh
