"""A request budget per registry host, shared by every process that uses the same folder.

A fleet scan talks to one registry from many processes (the driver listing
tags, workers pulling blobs), possibly on many machines. A registry that
answers 429 is asking the *client* to slow down, not one connection, so the
pause it asks for (``Retry-After``, or our own exponential delay when it names
none) applies to every process that shares the pacing folder, and so does the
budget of requests per second.

State is one small file per host, read and written under an exclusive POSIX
lock (``fcntl.lockf``): local folders and NFSv4/EFS/CephFS shares hold such
locks across machines. Each file holds two times: the theoretical arrival time
of the next request (a GCRA token bucket: ``rate`` per second, ``burst`` at
once) and the time before which nobody may send (the host-wide back-off).

What each thread sent, and how long it waited, is counted per thread
(:func:`take_stats`), so a task reports its own traffic even when a worker
runs several tasks at once.
"""
from __future__ import annotations

import email.utils
import hashlib
import math
import os
import re
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_STATE = struct.Struct("<dd")  # next theoretical arrival, back off until (both wall-clock seconds)
MAX_BACKOFF = 300.0  # a longer Retry-After is capped: the run would look hung
# (next arrival, back off until, now) -> (next arrival, back off until, result): one locked update of a host's state
_Change = Callable[[float, float, float], tuple[float, float, float]]


@dataclass
class HostStats:
    """Traffic to one host as one thread saw it."""

    requests: int = 0
    throttled: int = 0  # answers that asked us to slow down (429, 503 and other retried statuses)
    statuses: dict[int, int] = field(default_factory=dict)  # retried status -> count
    retry_after: int = 0  # throttling answers that named their own pause
    backoff_seconds: float = 0.0  # host-wide pauses this thread set
    waited_seconds: float = 0.0  # time this thread's requests were held back (budget or back-off)

    def add(self, other: HostStats) -> None:
        self.requests += other.requests
        self.throttled += other.throttled
        for k, v in other.statuses.items():
            self.statuses[k] = self.statuses.get(k, 0) + v
        self.retry_after += other.retry_after
        self.backoff_seconds += other.backoff_seconds
        self.waited_seconds += other.waited_seconds

    def to_json(self) -> dict[str, object]:
        return {"requests": self.requests, "throttled": self.throttled, "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "retry_after": self.retry_after, "backoff_seconds": round(self.backoff_seconds, 3), "waited_seconds": round(self.waited_seconds, 3)}

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> HostStats:
        st = doc.get("statuses")
        return cls(int(str(doc.get("requests", 0))), int(str(doc.get("throttled", 0))),
                   {int(k): int(v) for k, v in st.items()} if isinstance(st, dict) else {},
                   int(str(doc.get("retry_after", 0))), float(str(doc.get("backoff_seconds", 0))), float(str(doc.get("waited_seconds", 0))))


_local = threading.local()


def _stats(host: str) -> HostStats:
    table: dict[str, HostStats] = _local.__dict__.setdefault("stats", {})
    return table.setdefault(host, HostStats())


def take_stats() -> dict[str, HostStats]:
    """This thread's traffic per host since the last call (and reset it)."""
    table: dict[str, HostStats] = _local.__dict__.pop("stats", {})
    return table


def add_traffic(into: dict[str, HostStats], more: dict[str, HostStats]) -> None:
    for host, st in more.items():
        into.setdefault(host, HostStats()).add(st)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # nan, inf and 1e999 name no wait (a hostile registry's "nan" once crashed time.sleep)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HostPacer:
    """Paces requests per host across processes sharing ``folder`` (see the module docstring).

    ``rate`` is requests per second per host (0: no budget, back-offs only);
    ``burst`` how many may go at once (default: one second's worth).
    """

    def __init__(self, folder: str, rate: float = 0.0, burst: int | None = None, patience: int = 10) -> None:
        self.folder = folder
        self.patience = patience  # answers asking to slow down that one request may get before it fails
        self.rate = max(0.0, rate)
        self.burst = max(1, burst if burst is not None else int(self.rate) or 1)
        os.makedirs(folder, exist_ok=True)

    def _path(self, host: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", host)[:80]
        return os.path.join(self.folder, f"{safe}-{hashlib.sha256(host.encode()).hexdigest()[:8]}.pace")

    def _update(self, host: str, change: _Change) -> float:
        """Run ``change`` on the host's state under the lock; returns what it returns."""
        import fcntl

        fd = os.open(self._path(host), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, _STATE.size, 0)
            tat, until = _STATE.unpack(raw) if len(raw) == _STATE.size else (0.0, 0.0)
            tat, until, out = change(tat, until, time.time())
            os.pwrite(fd, _STATE.pack(tat, until), 0)
            return out
        finally:
            os.close(fd)  # closing drops the lock

    def before(self, host: str) -> None:
        """Block until a request to ``host`` may go: within the budget and after any host-wide back-off."""
        interval = 1.0 / self.rate if self.rate else 0.0
        tolerance = interval * (self.burst - 1)

        def take(tat: float, until: float, now: float) -> tuple[float, float, float]:
            slot = max(tat, now, until)
            start = max(now, until, slot - tolerance)
            return slot + interval, until, start - now

        delay = self._update(host, take)
        st = _stats(host)
        st.requests += 1
        if delay > 0:
            st.waited_seconds += delay
            time.sleep(delay)

    def back_off(self, host: str, seconds: float, status: int, named: bool) -> None:
        """Hold every request to ``host`` for ``seconds`` (from now), in every process sharing the folder."""
        seconds = min(max(0.0, seconds), MAX_BACKOFF)

        def pause(tat: float, until: float, now: float) -> tuple[float, float, float]:
            return tat, max(until, now + seconds), 0.0

        self._update(host, pause)
        st = _stats(host)
        st.throttled += 1
        st.statuses[status] = st.statuses.get(status, 0) + 1
        st.retry_after += int(named)
        st.backoff_seconds += seconds
