"""The secret scanner's disk caches: hits per file content (for files big enough to be worth it),
and any scan result a caller names by a key of its own (a Dockerfile's findings: :func:`remembered`).

Under ``$XDG_CACHE_HOME/lintimg/secrets/<detector version>/``: a new
detect-secrets release or plugin table starts a new folder. Entries hold
fingerprints and redactions only — never a secret value.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lintimg import cachefiles
from lintimg.secrets.plugins import detector_version

if TYPE_CHECKING:
    from lintimg.secrets.detect import SecretHit

CACHE_FORMAT = 1


def _hit_fields(d: Any) -> bool:
    """A SecretHit as asdict() wrote it: the four fields, of their types."""
    return (isinstance(d, dict) and set(d) == {"detector", "line", "redacted", "fingerprint"} and isinstance(d["line"], int)
            and all(isinstance(d[k], str) for k in ("detector", "redacted", "fingerprint")))


class HitCache:
    """``key -> hits`` on disk; absent, torn or malformed entries read as missing."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else cachefiles.cache_root("secrets")
        self.on = cachefiles.enabled()
        self._dir: Path | None = None  # versioned by the detector set, resolved on first use

    def _path(self, key: str) -> Path:
        if self._dir is None:
            self._dir = self.root / f"{detector_version()}-{CACHE_FORMAT}"
        return self._dir / key[:2] / key

    def get(self, key: str) -> tuple[SecretHit, ...] | None:
        if not self.on:
            return None
        data = cachefiles.read_json(self._path(key))
        from lintimg.secrets.detect import SecretHit

        if not isinstance(data, list) or not all(map(_hit_fields, data)):
            return None  # absent or malformed: scan again
        return tuple(SecretHit(**d) for d in data)

    def put(self, key: str, hits: tuple[SecretHit, ...]) -> None:
        if self.on:
            cachefiles.write_json(self._path(key), [asdict(h) for h in hits])


def remembered(kind: str, key: str, compute: Callable[[], list[list[Any]]],
               valid: Callable[[list[Any]], bool] = lambda row: True) -> list[list[Any]]:
    """``compute()`` (a JSON list of lists, redacted), remembered on disk under ``kind`` and ``key``.

    A warm pre-commit run then reads one small file per Dockerfile instead of
    loading detect-secrets (~0.25 s) for a file whose text it has already seen.
    An entry whose rows are not lists that pass ``valid`` is computed again.
    """
    if not cachefiles.enabled():
        return compute()
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    path = cachefiles.cache_root("secrets") / f"{detector_version()}-{CACHE_FORMAT}" / kind / digest[:2] / f"{digest}.json"
    found = cachefiles.read_json(path)
    if isinstance(found, list) and all(isinstance(row, list) and valid(row) for row in found):
        return found
    fresh = compute()
    cachefiles.write_json(path, fresh)
    return fresh
