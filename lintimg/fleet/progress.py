"""A fleet run's progress line on a terminal (nothing when stderr is not one).

    images 7/12 · layers 18 analysed, 9 cached · 41.2 MB pulled · 429×3, backed off 2.1 s · 1 failed
"""
from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from lintimg.image.stats import human


@dataclass
class Counts:
    stage: str = "listing"
    step: int = 0
    steps: int = 0
    images_done: int = 0
    images_total: int = 0
    analysed: int = 0
    cached: int = 0
    pulled: int = 0
    throttled: int = 0
    backoff: float = 0.0
    failed: int = 0

    def line(self) -> str:
        if self.stage != "scanning":
            return f"{self.stage} {self.step}/{self.steps}" if self.steps else self.stage
        parts = [f"images {self.images_done}/{self.images_total}", f"layers {self.analysed} analysed, {self.cached} cached",
                 f"{human(self.pulled)} pulled"]
        if self.throttled:
            parts.append(f"throttled ×{self.throttled}, backed off {self.backoff:.1f} s")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return " · ".join(parts)


class Progress:
    """Holds the counts; ``refresh()`` redraws the line when a terminal shows it."""

    def __init__(self, live: Any = None) -> None:
        self.counts = Counts()
        self._live = live
        self._lock = threading.Lock()

    def step(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.counts.stage, self.counts.step, self.counts.steps = stage, done, total
        self.refresh()

    def refresh(self) -> None:
        if self._live is not None:
            from rich.text import Text

            with self._lock:
                self._live.update(Text(self.counts.line()))


@contextlib.contextmanager
def fleet_progress(stream: TextIO | None = None, *, force: bool | None = None) -> Iterator[Progress]:
    """A :class:`Progress` drawn on ``stream`` (stderr) when it is a terminal, or kept silently."""
    stream = stream or sys.stderr
    show = force if force is not None else stream.isatty()
    if not show:
        yield Progress()
        return
    from rich.console import Console
    from rich.live import Live

    with Live(console=Console(file=stream, force_terminal=True), refresh_per_second=4, transient=True) as live:
        p = Progress(live)
        p.refresh()
        yield p
