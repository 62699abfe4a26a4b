"""Secrets in the context files that COPY puts in the image.

Only copied regular files are read. A per-context cache on disk maps
(path, size, mtime, inode) to the content hash and the hits, so a warm run
reads no file whose metadata is unchanged; :class:`lintimg.secrets.scanner.SecretScanner`
does the detection under the policy.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lintimg import cachefiles, limits
from lintimg.context.walk import Entry, Subtree

if TYPE_CHECKING:
    from lintimg.secrets.hit import SecretHit
    from lintimg.secrets.scanner import SecretScanner

CACHE_FORMAT = 2
# Files changed this recently may change again within the mtime granularity: never cache them.
RACY_SECONDS = 2.0


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_ROW = (str, str, int, int, str, str)  # SecretHit.row(): detector, title, line, column, redacted value, fingerprint


def _hit_row(h: Any) -> bool:
    """A cached SecretHit row of the right shape (anything else is a miss, scanned again)."""
    return isinstance(h, list) and len(h) == len(_ROW) and all(_int(v) if t is int else isinstance(v, t) for v, t in zip(h, _ROW))


class ContextSecrets:
    """Scans copied files of one context directory, remembering results between runs."""

    def __init__(self, root: str, scanner: SecretScanner, policy: str, use_disk: bool = True):
        self.root = root
        self.scanner = scanner
        self.use_disk = use_disk and cachefiles.enabled()
        ident = cachefiles.digest(f"{CACHE_FORMAT}\0{root}\0{policy}".encode("utf-8", "surrogateescape"))[:32]
        self.path = cachefiles.cache_root("context") / f"{ident}.json"
        self._dirty = False
        self.read_files = 0  # files read in this run (a warm run reads none)

    @cached_property
    def _entries(self) -> dict[str, tuple[Any, ...]]:
        """The cache of this context, read on the first scan (most Dockerfiles of a run copy
        nothing that needs one)."""
        return self._load()

    def _load(self) -> dict[str, tuple[Any, ...]]:
        if not self.use_disk:
            return {}
        data = cachefiles.read_json(self.path)
        if not isinstance(data, dict):
            return {}
        # As tuples of plain values, which the garbage collector stops tracking: the JSON
        # lists (two per file of the context) would make every later collection walk them.
        out: dict[str, tuple[Any, ...]] = {}
        for rel, v in data.items():
            # a malformed entry (a torn write, another version, tampering): that file is read again
            if isinstance(v, list) and len(v) == 4 and all(_int(n) for n in v[:3]) and isinstance(v[3], list) and all(map(_hit_row, v[3])):
                out[rel] = (v[0], v[1], v[2], tuple(tuple(h) for h in v[3]))
        return out

    def scan_part(self, tree: Subtree | None, entries: list[Entry]) -> list[tuple[str, SecretHit]]:
        """``(path, hit)`` pairs in path order for one sent part; a shared directory tree is
        scanned once per run."""

        def pairs(files: list[Entry]) -> list[tuple[str, SecretHit]]:
            found = self.scan(files)
            return [(rel, h) for rel in sorted(found) for h in found[rel]]

        return pairs(entries) if tree is None else tree.cached(f"secrets:{id(self)}", lambda st: pairs(st.files))

    def scan(self, files: Iterable[Entry]) -> dict[str, list[SecretHit]]:
        """Hits per path for the regular files among ``files`` (paths without hits left out)."""
        from lintimg.secrets.hit import SecretHit

        out: dict[str, list[SecretHit]] = {}
        now = time.time()
        limit = self.scanner.max_file_size
        excluded = self.scanner.excluded if self.scanner.exclude or self.scanner.exclude_regexes else None  # nothing to test
        entries = self._entries
        for e in files:
            if e.kind != "file" or e.size > limit or (excluded is not None and excluded(e.rel)):
                continue
            stamp = (e.size, e.mtime_ns, e.ino)
            cached = entries.get(e.rel)
            if cached is not None and cached[:3] == stamp:
                hits = [SecretHit.from_row(h) for h in cached[3]]
            else:
                data = self._read(e)
                if data is None:
                    continue
                hits = self.scanner.scan_bytes(data, e.rel)
                if now - e.mtime_ns / 1e9 > RACY_SECONDS:
                    entries[e.rel] = (*stamp, tuple(tuple(h.row()) for h in hits))
                    self._dirty = True
            if hits:
                out[e.rel] = hits
        self.save()
        return out

    def _read(self, e: Entry) -> bytes | None:
        """A copied regular file's bytes; a swap to a FIFO, a device or a link is never read (never blocks)."""
        try:
            data = limits.read_file(os.path.join(self.root, e.rel), self.scanner.max_file_size, follow=False)
        except OSError:
            return None
        self.read_files += 1
        return data

    def save(self) -> None:
        if self.use_disk and self._dirty:
            cachefiles.write_json(self.path, self._entries)
            self._dirty = False
