"""Work a run leaves until its report is out: writing down what it learnt (results-cache entries, the run memo).

A check knows its report and exit code before it has written its results-cache
entries (~10% of the CPU of a run over edited files). That writing is queued
here (:func:`later`) and done by :func:`finish` once the command has returned
its exit code. In-process nothing changes for the caller: the queue runs
before the run ends. A run served by the resident server (docs/daemon.md)
lets its client go first (:func:`when_released`): the client exits with the
report written and the code known, and the server's child writes the caches
after. A worker of a split check (:mod:`lintimg.run.parallel`) runs its own
queue after it has handed its findings back, so the process that waits for
them does not wait for its writes too.

Only what nothing in the report depends on goes here: writes that only save a
later run time (a cache that cannot be written costs speed, never a result).
"""
from __future__ import annotations

TYPE_CHECKING = False  # names for annotations only: a replayed run imports none of this
if TYPE_CHECKING:
    from collections.abc import Callable

_tasks: list[Callable[[], None]] = []
_release: Callable[[int], int] | None = None


def later(task: Callable[[], None]) -> None:
    """Run ``task`` after the report (in this process's :func:`finish` or, in a worker, after it handed back its share)."""
    _tasks.append(task)


def when_released(release: Callable[[int], int] | None) -> None:
    """``release(code)``, called by :func:`finish` before the queued work, lets whoever waits for the run go with
    its exit code; it returns the code the run ends with (the interpreter's 120 when stdout cannot be flushed)."""
    global _release
    _release = release


def discard() -> None:
    """Drop what is queued and the release: what a run that failed before its report left (the process may run
    another: an embedding caller, the tests), or in a forked worker what is its parent's."""
    global _release
    _tasks.clear()
    _release = None


def finish(code: int) -> int:
    """Release the run's waiter with ``code`` (when one is set), then run the queued work, in the order queued."""
    global _release
    release, _release = _release, None
    if release is not None:
        code = release(code)
    run_queued()
    return code


def run_queued() -> None:
    while _tasks:
        _tasks.pop(0)()


def pending() -> bool:
    return bool(_tasks)


def quiet_streams() -> None:
    """Point standard input, output and error at ``/dev/null``: this process has nothing more to say, and whoever
    reads the run's output waits for every copy of it to close."""
    import os

    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    os.close(devnull)


def in_background() -> None:
    """This process's work from now on waits for nobody (the run's report is out): :func:`quiet_streams`, and the
    lowest CPU priority, so that what does wait — the client ending, the caller's next step — gets a CPU first."""
    import os

    quiet_streams()
    try:
        os.nice(19)
    except OSError:
        pass
