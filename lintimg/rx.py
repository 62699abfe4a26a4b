"""RE2 (google-re2): the one way lintimg calls it, every call under :class:`lintimg.limits.StopsHeld`.

The binding is pybind11 C++. A Ctrl-C or SIGTERM handler raises at whichever bytecode runs, Python code the binding
calls back included, and an exception that leaves such code ends the process (``terminate called after throwing
an instance of 'pybind11::error_already_set'``) with no cleanup. Held, the stop is raised as the call returns.
``tests/structure`` checks that no other module imports ``re2``.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lintimg.limits import StopsHeld


def _options(latin1: bool, max_mem: int | None) -> Any:
    import re2

    opts = re2.Options()
    if latin1:
        opts.encoding = re2.Options.Encoding.LATIN1
    if max_mem is not None:
        opts.max_mem = max_mem
    return opts


class Pattern:
    """A compiled RE2 pattern: ``search`` and ``finditer`` as ``re2``'s, ``groupindex`` by name."""

    __slots__ = ("_rx", "groupindex")

    def __init__(self, pattern: str | bytes, latin1: bool, max_mem: int | None) -> None:
        with StopsHeld():
            import re2

            self._rx = re2.compile(pattern, _options(latin1, max_mem))
            self.groupindex: dict[Any, int] = dict(self._rx.groupindex)

    def search(self, text: str | bytes) -> Any:
        with StopsHeld():
            return self._rx.search(text)

    def finditer(self, text: str | bytes) -> Iterator[Any]:
        """The matches, each found under a hold of its own (the caller's code between two steps unheld)."""
        found = self._rx.finditer(text)  # a generator: nothing of RE2 runs before its first step
        while True:
            with StopsHeld():
                match = next(found, None)
            if match is None:
                return
            yield match


def compile(pattern: str | bytes, *, latin1: bool = False, max_mem: int | None = None) -> Pattern:  # noqa: A001 - re's name
    return Pattern(pattern, latin1, max_mem)


class SearchSet:
    """Unanchored patterns searched in one pass: :meth:`match` gives the positions (in ``patterns``) of those found."""

    __slots__ = ("_set",)

    def __init__(self, patterns: Sequence[bytes], latin1: bool, max_mem: int | None) -> None:
        with StopsHeld():
            import re2

            self._set = re2.Set.SearchSet(_options(latin1, max_mem))
            for pattern in patterns:
                self._set.Add(pattern)
            self._set.Compile()

    def match(self, text: bytes) -> list[int]:
        with StopsHeld():
            return self._set.Match(text) or []


def search_set(patterns: Sequence[bytes], *, latin1: bool = False, max_mem: int | None = None) -> SearchSet:
    return SearchSet(patterns, latin1, max_mem)
