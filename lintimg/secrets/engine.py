"""The secret engine: one RE2 set pass over a file's bytes, then the detectors it points at.

How bytes are scanned (Latin-1 mode: never decoded):

1. one ``re2.Set`` search over every detector's triggers
   (:mod:`lintimg.secrets.triggers`) says which detectors can match (most
   files: none, and the scan ends there);
2. each of those detectors' own pattern finds its matches;
3. the detector's checks judge each value (:mod:`lintimg.secrets.formats`);
   a value followed by ``...``, ``###`` or ``xxxx`` is a placeholder;
4. a generic hit on a span a vendor hit covers is dropped, and a hit on a
   line marked ``pragma: allowlist secret`` (or below one marked
   ``pragma: allowlist nextline secret``) — detect-secrets' inline
   allowlist comments — is dropped.

Compiling is lazy and happens once per process and detector set (~20 ms);
importing this module compiles nothing. Scanning is thread-safe.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Collection
from typing import Any

from lintimg.secrets.formats import DETECTORS, GENERIC_IDS, Detector
from lintimg.secrets.hit import SecretHit
from lintimg.secrets.redact import redact
from lintimg.secrets.triggers import TRIGGERS, as_re2, skipped_path
from lintimg.secrets.values import entropy, is_placeholder

# Text right after a value that marks it as a placeholder: "...", "###", "***", "xxxx", "…".
_TRAILING = re.compile(rb"\.\.\.|#{3}|\*{3}|x{4}|X{4}|\xe2\x80\xa6")
_PRAGMA = b"pragma: allowlist secret"
_PRAGMA_NEXT = b"pragma: allowlist nextline secret"
MAX_MEM = 256 << 20  # bytes RE2 may take per compiled pattern (the trigger set is the largest)

# A value the caller accepts (an allowlist): it gets the raw bytes, which never leave the scan.
Allow = Callable[[bytes], bool]


class Engine:
    """Compile once (on the first scan), scan many. ``disabled``: detector ids not to run."""

    def __init__(self, disabled: Collection[str] = ()) -> None:
        self.detectors = tuple(d for d in DETECTORS if d.id not in set(disabled))
        self._lock = threading.Lock()
        self._set: Any = None
        self._compiled: list[Any] = []
        self._owners: list[list[int]] = []

    def _compile(self) -> None:
        with self._lock:
            if self._set is not None:
                return
            from lintimg import rx

            index: dict[bytes, int] = {}  # a trigger -> its position in the set
            owners: list[list[int]] = []
            for i, d in enumerate(self.detectors):
                for t in TRIGGERS[d.id]:
                    pattern = as_re2(t)
                    if pattern not in index:
                        index[pattern] = len(index)
                        owners.append([])
                    owners[index[pattern]].append(i)
            triggers = rx.search_set(list(index), latin1=True, max_mem=MAX_MEM)
            self._compiled = [rx.compile(d.pattern, latin1=True, max_mem=MAX_MEM) for d in self.detectors]
            self._owners = owners
            self._set = triggers

    def candidates(self, data: bytes) -> list[int]:
        """Indices (into ``self.detectors``) of the detectors whose triggers occur in ``data``."""
        if self._set is None:
            self._compile()
        matched = self._set.match(data)
        return sorted({i for t in matched for i in self._owners[t]}) if matched else []

    def scan(self, data: bytes, path: str = "", allow: Allow | None = None, *, prefilter: bool = True) -> list[SecretHit]:
        """The secrets in ``data`` (a file's bytes; ``path`` only decides whether it is skipped)."""
        return [h for _, _, h in self.spans(data, path, allow, prefilter=prefilter)]

    def spans(self, data: bytes, path: str = "", allow: Allow | None = None, *, prefilter: bool = True) -> list[tuple[int, int, SecretHit]]:
        """``(start, end, hit)`` per secret: byte offsets of the value in ``data``, in order.

        ``prefilter=False`` runs every detector's pattern (for checking that the
        triggers cover their detectors, never needed otherwise).
        """
        if path and skipped_path(path):
            return []
        if self._set is None:
            self._compile()
        chosen = self.candidates(data) if prefilter else range(len(self.detectors))
        found: list[tuple[int, int, Detector, bytes]] = []
        for i in chosen:
            d, pattern = self.detectors[i], self._compiled[i]
            gi = pattern.groupindex.get(b"s", 0)
            for m in pattern.finditer(data):
                start, end = m.span(gi) if gi else m.span()
                if start < 0:
                    start, end = m.span()
                value = _judge(d, m, data, start, end)
                if value is None or (allow is not None and allow(value)):
                    continue
                found.append((start, start + len(value), d, value))
        return _hits(data, _unshadowed(found))


def _judge(d: Detector, m: Any, data: bytes, start: int, end: int) -> bytes | None:
    """The value ``d`` reports at this match, or None when its checks reject it."""
    if end - start < d.min_len:
        return None
    if _TRAILING.match(data, end):
        return None
    raw = data[start:end]
    if d.placeholder and is_placeholder(raw[d.strip_prefix:]):
        return None
    value = raw.rstrip(b".:")
    if not value:
        return None
    if d.min_entropy and entropy(value[d.strip_prefix:]) < d.min_entropy:
        return None
    if not all(c(value, m, data) for c in d.checks):
        return None
    if d.id == "private-key":  # the whole block, so that two keys never share a fingerprint
        stop = data.find(b"-----END", end)
        stop = data.find(b"\n", stop) if stop != -1 else -1
        value = data[start: stop if stop != -1 else len(data)].rstrip(b"\r")
    return value


def _unshadowed(found: list[tuple[int, int, Detector, bytes]]) -> list[tuple[int, int, Detector, bytes]]:
    """A generic hit overlapping a vendor hit says nothing new; same-span duplicates collapse."""
    vendor = [(s, e) for s, e, d, _ in found if d.id not in GENERIC_IDS]
    out, seen = [], set()
    for s, e, d, v in sorted(found, key=lambda f: (f[0], f[2].id in GENERIC_IDS)):
        if d.id in GENERIC_IDS and any(vs < e and s < ve for vs, ve in vendor):
            continue
        if (s, e) not in seen:
            seen.add((s, e))
            out.append((s, e, d, v))
    return out


def _hits(data: bytes, found: list[tuple[int, int, Detector, bytes]]) -> list[tuple[int, int, SecretHit]]:
    out = []
    line, pos = 1, 0
    for s, e, d, value in found:  # in start order: count lines incrementally
        line += data.count(b"\n", pos, s)
        pos = s
        begin = data.rfind(b"\n", 0, s) + 1
        if _allowlisted_line(data, begin):
            continue
        column = len(data[begin:s].decode("utf-8", "replace")) + 1
        shown = redact(value.decode("utf-8", "replace"))
        out.append((s, e, SecretHit(d.id, d.title, line, column, shown, hashlib.sha256(value).hexdigest())))
    return out


def _allowlisted_line(data: bytes, begin: int) -> bool:
    """detect-secrets' inline allowlist: the comment on the line, or ``nextline`` on the line before."""
    stop = data.find(b"\n", begin)
    if _PRAGMA in data[begin: stop if stop != -1 else len(data)]:
        return True
    if begin == 0:
        return False
    prev = data.rfind(b"\n", 0, begin - 1) + 1
    return _PRAGMA_NEXT in data[prev:begin]


_engines: dict[frozenset[str], Engine] = {}
_engines_lock = threading.Lock()


def engine(disabled: Collection[str] = ()) -> Engine:
    """The process's engine for this detector set (compiled once, shared by every scanner)."""
    key = frozenset(disabled)
    with _engines_lock:
        found = _engines.get(key)
        if found is None:
            found = _engines[key] = Engine(key)
        return found
