"""How often context files changed in recent git history (bounded by ``git-history-depth``)."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import field

from lintimg.records import record

DEFAULT_DEPTH = 100
GIT_TIMEOUT = 20.0
_cache: dict[tuple[str, int], Churn | None] = {}


@record
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


def _dot_git(path: str) -> str | None:
    """The ``.git`` (folder or file) of the work tree ``path`` is in, or ``None``."""
    cur = os.path.abspath(path)
    while True:
        dot = os.path.join(cur, ".git")
        if os.path.exists(dot):
            return dot
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def in_git_repository(path: str) -> bool:
    return _dot_git(path) is not None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            return fh.read(4096).strip()
    except OSError:
        return None


def repository_state(path: str) -> list[object] | None:
    """What ``git log`` in ``path`` depends on, read from the repository's files without running git:
    the ``.git`` found, HEAD, the commit a loose ref names, and stamps of what else can move refs or
    rewrite history (packed-refs, shallow, grafts, replace refs). ``None`` outside a repository;
    ``["unknown"]`` for a layout this does not read (reftable): an observation of it is volatile.
    """
    dot = _dot_git(path)
    if dot is None:
        return None
    gitdir = dot
    if os.path.isfile(dot):  # a linked work tree or submodule: "gitdir: <path>"
        text = _read(dot) or ""
        if not text.startswith("gitdir:"):
            return ["unknown"]
        gitdir = os.path.join(os.path.dirname(dot), text[len("gitdir:"):].strip())
    common = gitdir
    if (pointer := _read(os.path.join(gitdir, "commondir"))) is not None:
        common = os.path.join(gitdir, pointer)
    if os.path.exists(os.path.join(common, "reftable")):
        return ["unknown"]
    head = _read(os.path.join(gitdir, "HEAD"))
    loose = None
    if head is not None and head.startswith("ref:"):
        ref = head[4:].strip()
        loose = _read(os.path.join(gitdir, ref)) or _read(os.path.join(common, ref))
    replace = os.path.join(common, "refs", "replace")
    return [os.path.abspath(dot), head, loose, _stamp(os.path.join(common, "packed-refs")), _stamp(os.path.join(common, "shallow")),
            _stamp(os.path.join(common, "info", "grafts")), sorted(os.listdir(replace)) if os.path.isdir(replace) else []]


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def churn_of(root: str, depth: int = DEFAULT_DEPTH) -> Churn | None:
    """Recent history of the files under ``root``, or ``None`` outside a git work tree (or when git fails)."""
    key = (os.path.abspath(root), depth)
    if key not in _cache:
        _cache[key] = _log(key[0], depth) if depth > 0 and in_git_repository(root) else None
    return _cache[key]


def _log(root: str, depth: int) -> Churn | None:
    import subprocess

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
