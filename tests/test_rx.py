"""lintimg.rx, RE2's one way in, and the stop hold (lintimg.limits.StopsHeld) it calls RE2 under.

A stop signal's exception raised inside Python code that RE2's binding (pybind11) called aborts the process
(std::terminate). Held, a signal only marks the run stopped; the stop is raised when the outermost hold ends.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lintimg import limits, rx
from tests.clirun import REPO

# The CLI's own signal handlers, then SIGTERM sent to this process inside two nested holds. Prints where the run was
# when the stop was raised.
HELD = """
import os, signal, time
from lintimg import cli, limits
cli._stop_on_signals()
limits.start_run()
where = "before"
try:
    with limits.StopsHeld():
        with limits.StopsHeld():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here, and must not raise
            where = "inner hold ended"
        where = "outer hold ended"  # still held: not raised when the inner hold ended
    where = "after"
except limits.Stopped as e:
    print(where, e.exit_code, e)
"""


def test_a_stop_signal_inside_a_hold_is_raised_when_the_outermost_hold_ends():
    proc = subprocess.run([sys.executable, "-c", HELD], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=60)
    assert (proc.stdout, proc.stderr) == ("outer hold ended 143 stopped by SIGTERM\n", "")


class _Binding:
    """Stands in for the binding's object behind an rx wrapper: records whether each call came under a hold."""

    def __init__(self) -> None:
        self.held: list[bool] = []

    def search(self, text: bytes) -> None:
        self.held.append(limits.holding())

    def finditer(self, text: bytes):
        for n in range(2):
            self.held.append(limits.holding())  # each step of the generator
            yield n

    def Match(self, text: bytes) -> list[int]:  # noqa: N802 - RE2's name
        self.held.append(limits.holding())
        return [0]


def test_every_call_into_re2_is_held_and_nothing_else_is():
    pattern = rx.compile(b"a(?P<s>b)", latin1=True)
    assert pattern.search(b"xab").span(pattern.groupindex[b"s"]) == (2, 3)  # the real binding behind it
    assert [m.span() for m in pattern.finditer(b"ab ab")] == [(0, 2), (3, 5)]
    triggers = rx.search_set([b"ab", b"cd", b"ef"], latin1=True)
    assert sorted(triggers.match(b"cd ef")) == [1, 2] and triggers.match(b"zz") == []

    pattern._rx = binding = _Binding()  # type: ignore[assignment]
    pattern.search(b"x")
    seen = []
    for n in pattern.finditer(b"x"):
        seen.append((n, limits.holding()))  # the caller's code between two steps is not held
    triggers._set = binding  # type: ignore[assignment]
    triggers.match(b"x")
    assert binding.held == [True] * 4 and seen == [(0, False), (1, False)]
    assert not limits.holding()


def test_a_bad_pattern_is_re2s_error_and_leaves_no_hold():
    import re2

    with pytest.raises(re2.error):
        rx.compile("(")
    assert not limits.holding()
