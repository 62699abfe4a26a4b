"""What a lint of one Dockerfile read of its build context, so that a cached result can be checked against it.

The context code reports every read it answers — an ``lstat``, a directory
listing, the ignore file, the git history of the context — to the
:class:`Recorder` of the run, memoised answers included (a walk shared by two
Dockerfiles of one folder is read once, but both depend on it). Each read
becomes a *probe*: a key (what was asked) and a value (a small, comparable
summary of the answer: a stamp, a digest of a listing). :func:`unchanged`
asks again and compares, which is how a later run knows that a remembered
result still holds without walking, matching or reading anything more.

File contents are covered by their stamps (type, permissions, size, mtime,
inode): the context code reads only files it found through a recorded
``lstat`` or listing. A stamp taken within :data:`lintimg.cachefiles.RACY_NS` of its mtime could
miss a second write in the same clock tick, so such an observation marks the
set *volatile* and its result is not kept (the secret cache of copied files
uses the same rule).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from lintimg.cachefiles import STAMPS, plain, racy_before, stamp, stat_value

Probe = tuple[str, str]  # (kind, absolute path)


def entry_stamp(e: Any) -> tuple[Any, ...]:
    """The stamp of a walk entry (:class:`lintimg.context.walk.Entry`)."""
    return stamp(e.mode, e.size, e.mtime_ns, e.ino, e.link)


class Observations:
    """The probes of one target, and whether any of them is too recent to trust later."""

    def __init__(self) -> None:
        self.probes: dict[Probe, Any] = {}
        self.volatile = False


class Recorder:
    """Collects the reads of a run's build contexts into the :class:`Observations` of the target being checked.

    ``into`` says whose observations the next reads belong to; reads made while
    memoised work is computed are also captured by :meth:`capture`, so that a
    later memo hit can :meth:`replay` them for another target.
    """

    def __init__(self) -> None:
        self._into: list[Observations] = []
        self._captures: list[dict[Probe, Any]] = []
        self._racy_before = racy_before()

    @contextmanager
    def into(self, *observations: Observations) -> Iterator[None]:
        saved, self._into = self._into, list(observations)
        try:
            yield
        finally:
            self._into = saved

    def recent(self, mtime_ns: int) -> bool:
        """Whether a file with this mtime may still change within the same clock tick."""
        return mtime_ns > self._racy_before

    def note(self, kind: str, path: str, value: Any, volatile: bool = False) -> None:
        key = (kind, path)
        for obs in self._into:
            obs.probes[key] = value
            obs.volatile = obs.volatile or volatile
        for cap in self._captures:
            cap[key] = (value, volatile)

    @contextmanager
    def capture(self) -> Iterator[dict[Probe, Any]]:
        """Everything noted inside the block (for memoised work), to :meth:`replay` on a memo hit."""
        cap: dict[Probe, Any] = {}
        self._captures.append(cap)
        try:
            yield cap
        finally:
            self._captures.remove(cap)

    def replay(self, captured: dict[Probe, Any]) -> None:
        for (kind, path), (value, volatile) in captured.items():
            self.note(kind, path, value, volatile)

    # -- the reads themselves, for the context code ---------------------------

    def stat(self, path: str) -> None:
        """Record what ``os.stat(path)`` says now, for a file the context code read.

        Taken after the read is as good as before it: a change in between gives the file an
        mtime within this run, and that makes the observation volatile.
        """
        value = stat_value(path)
        self.note("stat", path, value, isinstance(value, tuple) and len(value) > 2 and self.recent(value[2]))


# -- asking again ------------------------------------------------------------------


def _access_value(path: str) -> bool:
    return os.access(path, os.R_OK)


def _git_value(path: str) -> Any:
    from lintimg.context.gitchurn import repository_state

    return repository_state(path)


_ASK = {**STAMPS, "access": _access_value, "git": _git_value}
KINDS = frozenset(_ASK)


def value_now(kind: str, path: str) -> Any:
    """What the probe ``(kind, path)`` answers now."""
    return _ASK[kind](path)


def unchanged(probes: Iterable[tuple[str, str, Any]]) -> bool:
    """Whether every ``(kind, path, value)`` probe still answers ``value``."""
    for kind, path, value in probes:
        ask = _ASK.get(kind)
        if ask is None or plain(ask(path)) != value:
            return False
    return True
