"""How often context files changed in recent git history (bounded by ``git-history-depth``)."""
from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_DEPTH = 100
GIT_TIMEOUT = 20.0
_cache: dict[tuple[str, int], Churn | None] = {}


@dataclass
class Churn:
    """Per-commit changed paths (relative to the context root) for the last ``commits`` commits."""

    commits: list[frozenset[str]]
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for c in self.commits:
            self.counts.update(c)

    @property
    def depth(self) -> int:
        return len(self.commits)

    def commits_touching(self, paths: Iterable[str]) -> int:
        """How many of the commits changed at least one of ``paths``."""
        wanted = paths if isinstance(paths, (set, frozenset)) else set(paths)
        return sum(1 for c in self.commits if not c.isdisjoint(wanted))

    def top(self, paths: Iterable[str], n: int = 3) -> list[tuple[str, int]]:
        ranked = sorted(((p, self.counts[p]) for p in paths if self.counts.get(p)), key=lambda x: (-x[1], x[0]))
        return ranked[:n]


def in_git_repository(path: str) -> bool:
    cur = os.path.abspath(path)
    while True:
        if os.path.exists(os.path.join(cur, ".git")):
            return True
        parent = os.path.dirname(cur)
        if parent == cur:
            return False
        cur = parent


def churn_of(root: str, depth: int = DEFAULT_DEPTH) -> Churn | None:
    """Recent history of the files under ``root``, or ``None`` outside a git work tree (or when git fails)."""
    key = (os.path.abspath(root), depth)
    if key not in _cache:
        _cache[key] = _read(key[0], depth) if depth > 0 and in_git_repository(root) else None
    return _cache[key]


def _read(root: str, depth: int) -> Churn | None:
    cmd = ["git", "-C", root, "-c", "core.quotepath=off", "log", f"-n{depth}", "--no-merges", "--no-renames", "--relative", "--name-only", "--format=%x00", "--", "."]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=GIT_TIMEOUT, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    commits = []
    for chunk in proc.stdout.split(b"\x00")[1:]:
        names = frozenset(os.fsdecode(line) for line in chunk.split(b"\n") if line.strip())
        commits.append(names)
    return Churn(commits)
