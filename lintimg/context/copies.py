"""What each COPY/ADD of a Dockerfile sends from the build context."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import field
from functools import cached_property

from lintimg.context.dockerignore import (
    Matcher,
    PatternError,
    clean_line,
    compile_pattern,
    go_clean,
    go_glob_regex,
    has_glob,
)
from lintimg.context.walk import Entry, Subtree, Tree, join, link_escapes
from lintimg.dockerfile import Dockerfile, Instruction, Token
from lintimg.dockerfile.words import expand
from lintimg.records import record

_HEREDOC_SOURCE = re.compile(r"^\d*<<-?(['\"]?)([A-Za-z0-9_.\-]+)\1$")
_REMOTE = r"(?i)^([a-z][a-z0-9+.-]*://|git@)"  # compiled on first use (re's cache): only ADD asks


@record
class Source:
    """One source argument of a COPY/ADD and what it sends."""

    token: Token
    text: str  # after ARG/ENV substitution
    kind: str  # path, glob, heredoc, remote, unknown (an unset variable)
    path: str = ""  # cleaned, relative to the context root ("" is the root)
    # What it sends: whole directories (shared with the walk, so their analyses are
    # computed once per run) and single entries.
    trees: list[Subtree] = field(default_factory=list)
    singles: list[Entry] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # paths a glob matched (or the path itself)
    exists: bool = False  # present in the context directory (sent or not)
    ignored: bool = False  # excluded by the ignore file as written (CopyIgnoredFile)
    outside: bool = False  # climbs out of the context with ".."
    error: str | None = None  # a symlink loop, an unreadable path
    inline_bytes: int = 0  # a heredoc source's content, written into the layer as a file

    def files(self) -> Iterator[Entry]:
        for t in self.trees:
            yield from t.files
        yield from self.singles

    @property
    def missing(self) -> bool:
        """The build fails on this source: nothing by that name reaches the builder."""
        if self.kind == "path":
            return not self.matched and self.error is None
        return False

    @property
    def is_root(self) -> bool:
        return self.kind == "path" and self.path == "" and not self.outside


@record
class Copy:
    """A COPY/ADD that reads the build context."""

    ins: Instruction
    sources: list[Source]
    dest: str

    @cached_property
    def parts(self) -> list[tuple[Source, Subtree | None, list[Entry]]]:
        """(source, directory tree or None, entries) for everything sent: trees are
        shared with the walk, so analyses cached on them run once per run."""
        out: list[tuple[Source, Subtree | None, list[Entry]]] = []
        for src in self.context_sources:
            out += [(src, t, t.files) for t in src.trees]
            if src.singles:
                out.append((src, None, src.singles))
        return out

    @cached_property
    def files(self) -> list[Entry]:
        """Every sent non-directory, each once."""
        parts = self.parts
        if len(parts) == 1:
            return parts[0][2]
        seen: dict[str, Entry] = {}
        for s in self.sources:
            for e in s.files():
                seen.setdefault(e.rel, e)
        return list(seen.values())

    @cached_property
    def bytes(self) -> int:
        """Bytes the layer gets: sent regular files plus heredoc sources."""
        return sum(e.size for e in self.files if e.kind == "file") + sum(s.inline_bytes for s in self.sources)

    @property
    def broad(self) -> bool:
        """Copies the whole context (``.``), or every top-level entry (``*``)."""
        return any(s.is_root or (s.kind == "glob" and s.path == "*") for s in self.sources)

    @cached_property
    def context_sources(self) -> list[Source]:
        return [s for s in self.sources if s.kind in ("path", "glob")]


def context_copies(df: Dockerfile, tree: Tree) -> list[Copy]:
    """Every COPY/ADD of ``df`` that writes context files or heredocs (``--from`` and remote-only ones left out)."""
    out = []
    for ins in df.of("COPY", "ADD"):
        if ins.flag("from") is not None:
            continue
        words = ins.args
        if len(words) < 2:
            continue
        sources = [_source(tree, ins, tok, df) for tok in words[:-1]]
        excludes = ins.flag_values("exclude")
        if excludes:
            _apply_excludes(sources, excludes)
        if any(s.kind in ("path", "glob", "heredoc") for s in sources):
            out.append(Copy(ins, sources, words[-1].value))
    return out


def _apply_excludes(sources: list[Source], patterns: list[str]) -> None:
    """BuildKit's ``COPY --exclude=PATTERN``: patterns match paths relative to each source."""
    compiled = []
    for raw in patterns:
        cleaned = clean_line(raw)
        if cleaned is None or not cleaned[1]:
            continue
        try:
            compiled.append(compile_pattern(cleaned[1], cleaned[0]))
        except PatternError:
            continue  # BuildKit rejects the instruction; the copy is left as written
    matcher = Matcher(compiled)
    if not matcher:
        return
    for src in sources:
        if not src.trees and not src.singles:
            continue
        prefix = src.path + "/" if src.kind == "path" and src.path else ""
        kept = [e for e in src.files() if not matcher.matches_or_parent_matches(e.rel[len(prefix):] if e.rel.startswith(prefix) else e.name)]
        src.trees, src.singles = [], kept


def _source(tree: Tree, ins: Instruction, tok: Token, df: Dockerfile) -> Source:
    raw = tok.value
    m = _HEREDOC_SOURCE.match(raw) if not ins.is_json else None
    if m and ins.heredocs:
        body = next((h.content for h in ins.heredocs if h.name == m.group(2)), "")
        return Source(tok, raw, "heredoc", inline_bytes=len(body.encode("utf-8", "surrogateescape")))
    if ins.keyword == "ADD" and re.match(_REMOTE, raw):
        return Source(tok, raw, "remote")
    unset: list[str] = []
    env = df.env_at(ins) if "$" in raw else {}  # variables only matter to a source that names one

    def lookup(name: str) -> str | None:
        val = env.get(name)
        if not val:
            unset.append(name)
        return val

    text = expand(raw, lookup) if "$" in raw else raw
    if unset:
        return Source(tok, text, "unknown")
    cleaned = go_clean("/" + text).lstrip("/")
    src = Source(tok, text, "glob" if has_glob(cleaned) else "path", cleaned)
    src.outside = go_clean(text).startswith("..") and not text.startswith("/")
    if src.outside:
        return src  # the builder refuses it (classic) or clamps it to the root (BuildKit)
    if src.kind == "glob":
        _glob(tree, src)
    else:
        _path(tree, src)
    return src


def _path(tree: Tree, src: Source) -> None:
    src.ignored = tree.excluded_as_written(src.path)
    resolved, err = tree.resolve(src.path)
    if err:
        src.error = err
        src.exists = True
        return
    if resolved is None:
        entry = tree.lstat(src.path)
        if entry is not None and link_escapes(entry):
            src.exists = True
            src.error = f"is a symlink to {entry.link}, outside the build context; the builder looks for it inside the context and finds nothing"
        return
    src.exists = True
    _add(tree, src, resolved)


def _add(tree: Tree, src: Source, rel: str) -> None:
    e = tree.lstat(rel) if rel else None
    if rel == "" or (e is not None and e.kind == "dir"):
        sub = tree.subtree(rel)
        if tree.is_sent(rel, is_dir=True) or sub.files:
            src.matched.append(rel)
            src.trees.append(sub)
        if not sub.files and tree.matcher and tree.listdir(rel):
            src.ignored = True  # a directory (the context root too) whose every entry the ignore file excludes
        return
    if e is not None and tree.is_sent(rel):
        src.matched.append(rel)
        src.singles.append(e)


def _glob(tree: Tree, src: Source) -> None:
    """Match a wildcard source segment by segment, listing only the directories it needs."""
    try:
        parts = [go_glob_regex(p) if has_glob(p) else p for p in src.path.split("/")]
    except PatternError as e:
        src.error = f"invalid wildcard: {e}"
        return
    frontier = [""]
    for part in parts:
        nxt = []
        for base in frontier:
            if isinstance(part, str):
                cand = join(base, part)
                if tree.lstat(cand) is not None:
                    nxt.append(cand)
            else:
                nxt.extend(tree.glob_children(base, part))
        frontier = nxt
    for rel in frontier:
        src.exists = True
        before = len(src.matched)
        resolved, err = tree.resolve(rel)
        if resolved is not None:
            _add(tree, src, resolved)
        elif err:
            src.error = err
        if len(src.matched) == before and tree.excluded_as_written(rel):
            src.ignored = True
