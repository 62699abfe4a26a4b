"""Progress for pulls and layer scans: a rich display on a terminal, nothing when piped."""
from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from lintimg.image.reader import Progress


@contextlib.contextmanager
def terminal_progress(stream: TextIO | None = None, *, force: bool | None = None) -> Iterator[Progress | None]:
    """Yield a ``progress`` callback for :func:`lintimg.image.open_image`, or None when ``stream`` is no TTY."""
    stream = stream or sys.stderr
    show = force if force is not None else stream.isatty()
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, TaskID, TextColumn, TransferSpeedColumn
    from rich.progress import Progress as Bars

    bars = Bars(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=Console(file=stream, force_terminal=show), transient=True,
    )
    tasks: dict[str, TaskID] = {}
    lock = threading.Lock()

    def update(task: str, done: int, total: int) -> None:
        with lock:
            if task not in tasks:
                tasks[task] = bars.add_task(task, total=total or None)
        bars.update(tasks[task], completed=done, total=total or None)

    with bars:
        yield update
