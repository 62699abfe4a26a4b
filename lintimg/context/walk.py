"""A lazy view of a build context: what Docker sends, read only as far as COPY sources need.

Directories are listed when first asked for and never re-read; symlinks are
recorded, never followed while walking (so loops cannot hang a walk);
sources of COPY follow links the way Docker does, scoped to the context root.
"""
from __future__ import annotations

import operator
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from lintimg.cachefiles import error_value, listing_value
from lintimg.context.attach import BUILDKIT, CLASSIC, CLASSIC_PRE23
from lintimg.context.dockerignore import Matcher, Pattern, PatternError, compile_pattern
from lintimg.context.observe import entry_stamp
from lintimg.paths import climbs_out
from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.context.observe import Recorder

__all__ = ["BUILDKIT", "CLASSIC", "CLASSIC_PRE23"]  # the builders, re-exported for the walk's users
MAX_LINK_HOPS = 255  # Linux's limit; beyond it the path "has too many levels of symbolic links"
MAX_DEPTH = 400


class Entry(NamedTuple):
    """One context path (slash-separated, relative to the root) and what lstat said of it.

    A tuple of plain values, so the garbage collector stops tracking it: a walk may
    hold hundreds of thousands of them.
    """

    rel: str
    kind: str  # file, dir, link, fifo, socket, device
    size: int
    mode: int
    mtime_ns: int
    ino: int
    link: str | None  # a symlink's target as written
    name: str  # the last path segment


def make_entry(rel: str, kind: str, size: int = 0, mode: int = 0, mtime_ns: int = 0, ino: int = 0, link: str | None = None) -> Entry:
    return Entry(rel, kind, size, mode, mtime_ns, ino, link, rel.rsplit("/", 1)[-1])


_new_entry = tuple.__new__
_REL = operator.itemgetter(0)  # Entry.rel


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _recompile(p: Pattern) -> Pattern | None:
    try:
        return compile_pattern(p.text, p.exclusion, p.line, legacy=True)
    except PatternError:
        return None  # that Docker failed the build on it; the ignore-file rule says so


def _reason(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


def join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def parent_of(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


@record
class Subtree:
    """Everything Docker sends under one directory (the directory itself excluded)."""

    files: list[Entry] = field(default_factory=list)  # sent non-directories (sockets never are)
    dirs: list[str] = field(default_factory=list)  # sent directories
    special: list[Entry] = field(default_factory=list)  # sockets (skipped by Docker), FIFOs, devices
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    # Analyses of this subtree (sensitive files, notable entries …), computed once per run.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def bytes(self) -> int:
        return sum(e.size for e in self.files if e.kind == "file")

    def cached(self, key: str, compute: Callable[[Subtree], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute(self)
        return self.memo[key]

    def extend(self, other: Subtree) -> None:
        self.files.extend(other.files)
        self.dirs.extend(other.dirs)
        self.special.extend(other.special)
        self.unreadable.extend(other.unreadable)


@record(frozen=True)
class _DirState:
    excluded: bool
    info: tuple[bool, ...] | None
    descend: bool  # whether the builder walks into it


_ROOT_STATE = _DirState(False, None, True)


class Tree:
    """The build context as the builder sees it, after the ignore patterns."""

    def __init__(self, root: str, patterns: Iterable[Pattern] = (), builder: str = BUILDKIT, special_files: Iterable[str] = (),
                 recorder: Recorder | None = None):
        self.root = os.path.abspath(root)
        # Told of every read answered (memo hits too), when the run keeps results (lintimg.context.observe).
        self.recorder = recorder
        self.builder = builder
        legacy = builder == CLASSIC_PRE23
        pats = [_recompile(p) for p in patterns] if legacy else list(patterns)
        pats = [p for p in pats if p is not None]
        self._base = base = Matcher(pats)
        # Dockerfile and .dockerignore always reach the builder, but an excluded one is not
        # in what COPY sees. The classic CLI sends them by adding exceptions, which also
        # changes which excluded directories its walk enters.
        self.hidden = {p for p in special_files if p and base.matches_or_parent_matches(p)}
        if builder != BUILDKIT:
            pats += [compile_pattern(p, exclusion=True, legacy=legacy) for p in sorted(self.hidden)]
        self.matcher = Matcher(pats)
        self._lists: dict[str, list[Entry] | None] = {}
        self._list_errors: dict[str, str] = {}
        self._states: dict[str, _DirState] = {"": _ROOT_STATE}
        self._subtrees: dict[str, Subtree] = {}
        self._stats: dict[str, Entry | None] = {}
        self._globs: dict[tuple[str, str], list[str]] = {}
        self._probes: dict[tuple[str, str], Any] = {}  # what each read answered, as a probe value
        self._subtree_reads: dict[str, dict[Any, Any]] = {}  # the reads each memoised subtree made

    # -- reading the file system ------------------------------------------------

    def abspath(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/")) if rel else self.root

    def lstat(self, rel: str) -> Entry | None:
        """The entry at ``rel`` (symlinks not followed), or ``None`` when absent."""
        if rel in self._stats:
            found = self._stats[rel]
            if self.recorder is not None:
                self._note_lstat(rel, found)
            return found
        failed = None
        if self._lists.get(parent_of(rel)) is not None:
            found = None  # listed: every child is already in _stats
        else:
            try:
                found = self._entry(rel, os.lstat(self.abspath(rel)))
            except (FileNotFoundError, NotADirectoryError):
                found = None
            except OSError as e:
                self._list_errors[rel] = _reason(e)
                found, failed = None, e
        self._stats[rel] = found
        if self.recorder is not None:
            if failed is not None:
                self._probes[("lstat", rel)] = error_value(failed)
            self._note_lstat(rel, found)
        return found

    def _note_lstat(self, rel: str, found: Entry | None) -> None:
        assert self.recorder is not None
        value = self._probes.get(("lstat", rel)) if found is None else entry_stamp(found)
        volatile = found is not None and found.kind != "dir" and self.recorder.recent(found.mtime_ns)
        self.recorder.note("lstat", self.abspath(rel), value, volatile)

    def _entry(self, rel: str, st: os.stat_result, name: str | None = None) -> Entry:
        mode = st.st_mode
        # regular files first: nearly every entry of a listing is one
        kind = "file" if stat.S_ISREG(mode) else _kind(mode)
        link = None
        if kind == "link":
            try:
                link = os.readlink(self.abspath(rel))
            except OSError:
                link = ""
        # tuple.__new__ skips the NamedTuple constructor: listings build tens of thousands
        return _new_entry(Entry, (rel, kind, st.st_size, mode, st.st_mtime_ns, st.st_ino, link, rel.rsplit("/", 1)[-1] if name is None else name))

    def glob_children(self, rel: str, part: re.Pattern[str]) -> list[str]:
        """Paths of the entries of directory ``rel`` whose name matches ``part`` (cached: many
        Dockerfiles of one folder ask the same)."""
        key = (rel, part.pattern)
        entries = self.listdir(rel)  # (a memo hit, but a read the caller depends on)
        if key not in self._globs:
            self._globs[key] = [e.rel for e in entries if part.match(e.name)]
        return self._globs[key]

    def listdir(self, rel: str) -> list[Entry]:
        """The raw entries of a directory (ignore patterns not applied), sorted by name."""
        if rel in self._lists:
            if self.recorder is not None:
                self._note_listing(rel)
            return self._lists[rel] or []
        out: list[Entry] = []
        failed: list[tuple[str, OSError]] = []
        try:
            with os.scandir(self.abspath(rel)) as it:
                prefix = rel + "/" if rel else ""
                for d in it:
                    name = d.name  # str: the path given to scandir is a str
                    child = prefix + name
                    try:
                        out.append(self._entry(child, d.stat(follow_symlinks=False), name))
                    except OSError as e:
                        self._list_errors[child] = _reason(e)
                        failed.append((name, e))
        except OSError as e:
            self._list_errors[rel] = _reason(e)
            self._lists[rel] = None
            if self.recorder is not None:
                self._probes[("list", rel)] = (error_value(e), False)
                self._note_listing(rel)
            return []
        out.sort(key=_REL)
        self._lists[rel] = out
        self._stats.update((e.rel, e) for e in out)
        if self.recorder is not None:
            self._probes[("list", rel)] = self._listing_probe(out, failed)
            self._note_listing(rel)
        return out

    def _listing_probe(self, out: list[Entry], failed: list[tuple[str, OSError]]) -> tuple[str, bool]:
        """(digest of the listing, whether a file in it changed too recently to trust)."""
        assert self.recorder is not None
        recent = self.recorder.recent
        rows: list[tuple[Any, ...]] = [(e.name, *entry_stamp(e)) for e in out]
        rows += [(name, error_value(e)) for name, e in failed]
        return listing_value(rows), any(e.kind != "dir" and recent(e.mtime_ns) for e in out)

    def _note_listing(self, rel: str) -> None:
        assert self.recorder is not None
        value, volatile = self._probes[("list", rel)]
        self.recorder.note("list", self.abspath(rel), value, volatile)

    def error_of(self, rel: str) -> str | None:
        return self._list_errors.get(rel)

    # -- the ignore patterns -------------------------------------------------------

    def _state(self, rel: str) -> _DirState:
        """Match state of a directory, computed top-down the way the builder walks."""
        st = self._states.get(rel)
        if st is not None:
            return st
        parent = self._state(parent_of(rel))
        if not parent.descend:
            st = _DirState(True, None, False)
        else:
            excluded, info = self.matcher.matches_using_parent(rel, parent.info)
            descend = not excluded or self._descends(rel)
            st = _DirState(excluded, info, descend)
        self._states[rel] = st
        return st

    def _descends(self, rel: str) -> bool:
        if not self.matcher.has_exclusions:
            return False
        if self.builder != BUILDKIT:
            return self.matcher.legacy_descends(rel)
        return self.matcher.buildkit_descends(rel)

    def is_sent(self, rel: str, is_dir: bool = False) -> bool:
        """Whether ``rel`` itself reaches the builder (for a directory: its own entry)."""
        if not rel:
            return True
        if rel in self.hidden:
            return False
        if is_dir:
            return not self._state(rel).excluded
        parent = self._state(parent_of(rel))
        if not parent.descend:
            return False
        return not self.matcher.matches_using_parent(rel, parent.info)[0]

    def pattern_excludes(self, rel: str) -> bool:
        """Whether the ignore patterns alone (no exceptions added for build files) exclude ``rel``."""
        return self._base.matches_or_parent_matches(rel)

    def excluded_as_written(self, rel: str) -> bool:
        """BuildKit's CopyIgnoredFile test: the path or a parent matches the patterns."""
        if not rel or not self.matcher:
            return False
        return rel in self.hidden or self.matcher.matches_or_parent_matches(rel)

    def deciding_pattern(self, rel: str) -> Pattern | None:
        """The last pattern that matches ``rel`` or a parent (the line that decides it)."""
        parts = rel.split("/")
        paths = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        found = None
        for p in self.matcher.patterns:
            if any(p.match(x) for x in paths):
                found = p
        return found

    # -- what is sent --------------------------------------------------------------

    def subtree(self, rel: str = "", depth: int = 0) -> Subtree:
        """What the builder sends below directory ``rel``."""
        cached = self._subtrees.get(rel)
        if cached is not None:
            if self.recorder is not None:
                self.recorder.replay(self._subtree_reads[rel])
            return cached
        if self.recorder is None:
            return self._subtree(rel, depth)
        with self.recorder.capture() as reads:
            out = self._subtree(rel, depth)
        self._subtree_reads[rel] = reads
        return out

    def _subtree(self, rel: str, depth: int) -> Subtree:
        out = Subtree()
        state = self._state(rel)
        if state.descend:
            entries = self.listdir(rel)
            if self._lists.get(rel) is None:
                out.unreadable.append((rel or ".", self.error_of(rel) or "cannot list"))
            for e in entries:
                if e.rel in self.hidden:
                    continue
                if e.kind == "dir":
                    if depth >= MAX_DEPTH:
                        out.unreadable.append((e.rel, f"nested deeper than {MAX_DEPTH} directories"))
                        continue
                    if not self._state(e.rel).excluded:
                        out.dirs.append(e.rel)
                    out.extend(self.subtree(e.rel, depth + 1))
                    continue
                if self.matcher.matches_using_parent(e.rel, state.info)[0]:
                    continue
                if e.kind in ("file", "link"):
                    out.files.append(e)
                    if e.kind == "file" and e.mode & 0o444 != 0o444:
                        readable = os.access(self.abspath(e.rel), os.R_OK)
                        if self.recorder is not None:
                            self.recorder.note("access", self.abspath(e.rel), readable)
                        if not readable:
                            out.unreadable.append((e.rel, "permission denied"))
                else:
                    out.special.append(e)
                    if e.kind != "socket":  # Docker's archive skips sockets; FIFOs and devices go in
                        out.files.append(e)
        self._subtrees[rel] = out
        return out

    # -- COPY source resolution ----------------------------------------------------

    def resolve(self, rel: str) -> tuple[str | None, str | None]:
        """Follow symlinks in ``rel`` inside the context (as Docker scopes them).

        Returns ``(resolved path, None)``, ``(None, None)`` when it does not
        exist, or ``(None, reason)`` for a loop or an unreadable link.
        """
        todo = [p for p in rel.split("/") if p]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            cur = "/".join(done + [part])
            e = self.lstat(cur)
            if e is None:
                err = self.error_of(cur)
                return (None, err) if err else (None, None)
            if e.kind == "link":
                hops += 1
                if hops > MAX_LINK_HOPS:
                    return None, "too many levels of symbolic links (a symlink loop)"
                target = e.link or ""
                if target.startswith("/"):
                    done = []
                todo = [p for p in target.split("/") if p] + todo
                continue
            if todo and e.kind != "dir":
                return None, None
            done.append(part)
        return "/".join(done), None


def link_escapes(e: Entry) -> bool:
    """True for a symlink whose target, read on the host, leaves the context."""
    if e.kind != "link" or e.link is None:
        return False
    return e.link.startswith("/") or climbs_out(posixpath.dirname(e.rel), e.link)
