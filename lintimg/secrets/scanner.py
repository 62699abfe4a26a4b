"""The secret scanner: detection under the ``secrets:`` policy, with a per-content cache.

Policy (``secrets:`` in ``.lintimg.yaml``): ``max-file-size`` (default 2 MiB;
bigger files are skipped), ``exclude-paths`` (globs, matched on the path, its
basename, or as a directory prefix), ``allowlist`` (a 64-hex entry is a
fingerprint — sha256 of the value, as reported — anything else a regex
searched in the value). Binaries (a NUL byte in the first 8 KiB) are skipped.

Results are cached per content (sha256 + extension + policy) in memory and,
for files of 64 KiB or more, on disk (:mod:`lintimg.secrets.cache`). Cache
entries hold fingerprints and redactions only — never a secret value.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from lintimg.config import parse_size
from lintimg.secrets import detect
from lintimg.secrets.cache import HitCache
from lintimg.secrets.detect import SecretHit

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
BINARY_SNIFF = 8192
DISK_CACHE_MIN = 64 * 1024
MIN_FILE_SIZE = 10  # nothing any plugin reports fits in fewer bytes


class SecretScanner:
    """Finds secrets in text and file contents under a policy. Thread-safe.

    ``settings`` is the ``secrets:`` map of the config (``max-file-size``,
    ``exclude-paths``, ``allowlist``); ``prefilter=False`` sends every line
    to detect-secrets (for measuring the prefilter, never needed otherwise).
    """

    def __init__(self, settings: dict[str, Any] | None = None, *, prefilter: bool = True, cache_dir: Path | str | None = None,
                 disk_cache: bool = True):
        s = dict(settings or {})
        self.max_file_size = parse_size(s.get("max-file-size", DEFAULT_MAX_FILE_SIZE))
        self.exclude = [p.strip("/").removeprefix("./") for p in s.get("exclude-paths", [])]
        allow = list(s.get("allowlist", []))
        self.allow_fingerprints = {a.lower() for a in allow if re.fullmatch(r"[0-9a-fA-F]{64}", a)}
        self.allow_regexes = [re.compile(a) for a in allow if a.lower() not in self.allow_fingerprints]
        self.prefilter = prefilter
        policy = json.dumps([a.pattern for a in self.allow_regexes])
        self._policy = hashlib.sha256(policy.encode()).hexdigest()[:12]
        self._settings = json.dumps(s, sort_keys=True, default=str)
        self._disk = HitCache(cache_dir) if disk_cache else None
        self._memo: dict[str, tuple[SecretHit, ...]] = {}
        self._lock = threading.Lock()

    # -- policy -------------------------------------------------------------

    @property
    def key(self) -> str:
        """Names everything a result depends on besides the bytes: the detector set and this policy."""
        from lintimg.secrets.plugins import detector_version

        return hashlib.sha256(f"{detector_version()}\0{self._settings}\0{self.prefilter}".encode()).hexdigest()[:32]

    def excluded(self, path: str, by_name: bool = True) -> bool:
        """True when policy (exclude-paths, or the name filters) skips ``path``.

        ``by_name=False`` checks exclude-paths only and so never loads detect-secrets
        (its name filters cost ~0.15 s to import); ``scan_bytes`` applies them to hits anyway.
        """
        return self._glob_excluded(path) or (by_name and self._name_filtered(path))

    def _glob_excluded(self, path: str) -> bool:
        p = path.lstrip("/").removeprefix("./")
        base = p.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(p, pat) or fnmatch.fnmatchcase(base, pat) or p.startswith(pat + "/") for pat in self.exclude)

    @staticmethod
    def _name_filtered(path: str) -> bool:
        p = path.lstrip("/").removeprefix("./")
        return bool(p) and detect.name_filtered(p)

    # -- scanning -----------------------------------------------------------

    def scan_text(self, text: str, path: str = "") -> list[SecretHit]:
        """Secrets in ``text`` (``path`` picks detect-secrets' file-type rules and policy)."""
        return self._policy_scan(text.encode("utf-8", "surrogatepass"), path, "surrogatepass")

    def scan_bytes(self, data: bytes, path: str = "") -> list[SecretHit]:
        """Secrets in file contents; ``[]`` for binaries, over-size or excluded files."""
        if len(data) < MIN_FILE_SIZE or len(data) > self.max_file_size or b"\0" in data[:BINARY_SNIFF]:
            return []
        return self._policy_scan(data, path, "replace")

    def _policy_scan(self, data: bytes, path: str, errors: str) -> list[SecretHit]:
        if path and (self._glob_excluded(path) or (detect.detector_loaded() and self._name_filtered(path))):
            return []
        hits = self._cached(data, path, errors, not path or detect.generic_ok(path))
        # the name filters need detect-secrets: until it is loaded they are checked on results only
        return [] if hits and path and self._name_filtered(path) else hits

    def _cached(self, data: bytes, path: str, errors: str, generic: bool) -> list[SecretHit]:
        key = f"{hashlib.sha256(data).hexdigest()}{os.path.splitext(path)[1]}.{self._policy}{'g' if generic else 's'}"
        hits = self._memo.get(key)
        if hits is None:
            disk = self._disk if len(data) >= DISK_CACHE_MIN else None
            hits = disk.get(key) if disk is not None else None
            if hits is None:
                hits = tuple(detect.detect(data, path, errors, generic=generic, prefilter=self.prefilter, allow=self.allow_regexes))
                if disk is not None:
                    disk.put(key, hits)
            with self._lock:
                self._memo[key] = hits
        return [h for h in hits if h.fingerprint not in self.allow_fingerprints]


def assignment(kv: str) -> str:
    """``KEY=value`` as ``KEY="value"``: detect-secrets' keyword and entropy plugins want quotes."""
    key, eq, value = kv.partition("=")
    return f'{key}="{value}"' if eq else kv
