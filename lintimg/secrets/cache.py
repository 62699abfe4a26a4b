"""The secret scanner's disk cache: hits per file content, for files big enough to be worth it.

Under ``$XDG_CACHE_HOME/lintimg/secrets/<detector version>/``: a new
detect-secrets release or plugin table starts a new folder. Entries hold
fingerprints and redactions only — never a secret value.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from lintimg import cachefiles
from lintimg.secrets.detect import SecretHit

CACHE_FORMAT = 1


class HitCache:
    """``key -> hits`` on disk; absent, torn or malformed entries read as missing."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else cachefiles.cache_root("secrets")
        self.on = cachefiles.enabled()
        self._dir: Path | None = None  # versioned by the detector set, resolved on first use

    def _path(self, key: str) -> Path:
        if self._dir is None:
            from lintimg.secrets.detect import detector_version

            self._dir = self.root / f"{detector_version()}-{CACHE_FORMAT}"
        return self._dir / key[:2] / key

    def get(self, key: str) -> tuple[SecretHit, ...] | None:
        if not self.on:
            return None
        data = cachefiles.read_json(self._path(key))
        try:
            return tuple(SecretHit(**d) for d in data) if isinstance(data, list) else None
        except TypeError:
            return None  # malformed: scan again

    def put(self, key: str, hits: tuple[SecretHit, ...]) -> None:
        if self.on:
            cachefiles.write_json(self._path(key), [asdict(h) for h in hits])
