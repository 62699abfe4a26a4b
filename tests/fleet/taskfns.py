"""Task functions for the runner tests: importable by pool and Dask workers."""
from __future__ import annotations

import os

from lintimg.errors import LintimgError


def add(*xs: int) -> int:
    return sum(xs)


def counted(folder: str, value: int) -> int:
    """Leaves one file per execution, so a test counts how often a task ran."""
    with open(os.path.join(folder, f"{value}-{os.getpid()}-{os.urandom(4).hex()}"), "w"):
        pass
    return value


def fail(reason: str) -> int:
    raise LintimgError(reason)


def big(n: int) -> int:
    return len(bytearray(n))
