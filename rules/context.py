"""LI4xx: the build context, .dockerignore, and layer order for cache reuse."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from lintimg.config import parse_size
from lintimg.context.cacheorder import (
    expensive_steps,
    misplaced_installs,
    rebuilt_after,
)
from lintimg.context.copies import Copy, Source
from lintimg.context.gitchurn import DEFAULT_DEPTH
from lintimg.context.sensitive import describe, human, notable_in, sensitive_in
from lintimg.context.walk import CLASSIC, Entry, Subtree, Tree, link_escapes
from lintimg.dockerfile.queries import cmd_hit, hit
from lintimg.engine.rule import rule
from lintimg.engine.target import ContextTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.rules._common import capped

ID_RANGE = "LI400-LI405, LI407-LI499"

DEFAULT_MAX_COPY_SIZE = "50MB"
# A COPY whose files changed in at least this share of recent commits (and at least
# CHURN_MIN_COMMITS of them) is "frequently changed".
CHURN_SHARE = 0.2
CHURN_MIN_COMMITS = 3


@lru_cache(maxsize=256)
def shown_path(path: str) -> str:
    """A path as reports show it: relative to the working directory when below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _copies(t: ContextTarget) -> list[Copy]:
    return t.context.copies(t.dockerfile)


def per_copy(copy: Copy, key: str, compute: Callable[[Subtree], list]) -> list[tuple[Source, list]]:
    """``(source, compute(part))`` for every part a COPY sends."""
    return [(part[0], _analysis(part, key, compute)) for part in copy.parts]


def _analysis(part: tuple[Source, Subtree | None, list[Entry]], key: str, compute):
    """``compute(subtree)`` for one sent part, cached on shared directory trees."""
    _, tree, entries = part
    return tree.cached(key, compute) if tree is not None else compute(Subtree(files=entries))


@rule("LI400", "invalid-dockerignore", Severity.ERROR, subject=Subject.CONTEXT, tags=("context", "dockerignore"))
def invalid_dockerignore(t: ContextTarget) -> Iterator[Hit]:
    """The ignore file has a line Docker refuses, or cannot be read.

    ## What it does
    Reads `.dockerignore` (or `<Dockerfile>.dockerignore` next to the
    Dockerfile) the way Docker does and reports patterns it rejects: a bare
    `!`, a malformed character class such as `[` or `[a-]`, a trailing
    backslash, a line over 64 KiB; and an ignore file that is not a readable
    regular file.

    ## Why it matters
    Docker fails the whole build on such a line ("syntax error in pattern"),
    and every other context rule then describes a build that cannot happen.
    lintimg reports the line and checks the context with the remaining
    patterns.

    ## Example
    ```
    node_modules
    [abc
    ```

    ## Fix
    Close the character class, escape a literal `[` as `\\[`, or delete the line.
    """
    src = t.context.ignore_source
    if src.path is None:
        return
    where = shown_path(src.path)
    if src.problem:
        yield Hit(f"{src.shown} {src.problem}; Docker cannot use it", line=1, path=where, key="unreadable")
        return
    for p in t.context.ignore_problems:
        yield Hit(f"{src.shown} line {p.line}: {p.message}; Docker fails the build on it", line=p.line, path=where, key=f"line:{p.line}")


@rule("LI401", "missing-dockerignore", Severity.WARNING, subject=Subject.CONTEXT, tags=("context", "dockerignore", "size"))
def missing_dockerignore(t: ContextTarget) -> Iterator[Hit]:
    """A COPY/ADD sends the whole context and there is no .dockerignore.

    ## What it does
    Fires on the first `COPY . …` (or `COPY * …`) when neither
    `.dockerignore` nor `<Dockerfile>.dockerignore` exists. The message says
    how many files and bytes the context sends and names the notable
    entries in it: `.git`, `node_modules`, virtualenvs, build output, `.env`
    files, editor and OS junk.

    ## Why it matters
    Without an ignore file everything in the folder goes to the builder and,
    through `COPY . .`, into the image: local `node_modules` built for the
    wrong platform, the git history, credentials in `.env`. It also makes
    every build slower and busts the layer cache on unrelated edits.

    ## Example
    ```dockerfile
    FROM node:20
    COPY . .
    ```

    ## Fix
    Add a `.dockerignore` next to the Dockerfile listing at least `.git`,
    `node_modules`, build output and `.env`.
    """
    if t.context.ignore_source.path is not None:
        return
    broad = next((c for c in _copies(t) if c.broad), None)
    if broad is None:
        return
    everything = t.context.everything()
    notable = everything.cached("notable", notable_in)
    detail = f"; it includes {describe(notable)}" if notable else ""
    yield hit(
        broad.ins,
        f"no .dockerignore: the build context sends {len(everything.files)} files ({human(everything.bytes)}) and this {broad.ins.keyword} copies all of them{detail}",
        fix="add a .dockerignore that excludes " + (", ".join(n.path for n in notable[:6]) if notable else ".git, node_modules, build output and .env files"),
        key="missing",
    )


# Sent entries LI402 already reports as sensitive; LI411 names only the bulky or stray rest.
_REPORTED_AS_SENSITIVE = frozenset({"git history", ".env file"})


@rule("LI411", "weak-dockerignore", Severity.WARNING, subject=Subject.CONTEXT, tags=("context", "dockerignore", "size"))
def weak_dockerignore(t: ContextTarget) -> Iterator[Hit]:
    """A .dockerignore exists but a COPY of the whole context still sends unwanted folders.

    ## What it does
    Fires on the first `COPY . …` (or `COPY * …`) when an ignore file exists
    but what that COPY sends, after the ignore rules, still holds installed
    dependencies (`node_modules`), virtualenvs, build output, caches, editor
    settings or OS junk. The message names each entry with its file count
    and size. `.git` and `.env` are left to `copy-sensitive-file`.

    ## Why it matters
    An ignore file that lists only `*.log` is as good as none for these:
    host-built `node_modules` land in the image (for the wrong platform),
    the context upload and the image grow, and any edit to them busts the
    layer cache.

    ## Example
    ```dockerfile
    # .dockerignore holds only "*.log"; the folder has node_modules/ and dist/
    FROM node:20
    COPY . .
    ```

    ## Fix
    Add the named entries to `.dockerignore` (`node_modules`, `dist`, `.venv`, …).
    """
    src = t.context.ignore_source
    if src.path is None or src.problem:
        return
    broad = next((c for c in _copies(t) if c.broad), None)
    if broad is None:
        return
    found: dict[str, Any] = {}
    for _, notables in per_copy(broad, "notable", notable_in):
        for n in notables:
            if n.what not in _REPORTED_AS_SENSITIVE:
                found.setdefault(n.path, n)
    if not found:
        return
    unwanted = sorted(found.values(), key=lambda n: (-n.bytes, n.path))
    yield hit(
        broad.ins,
        f"{src.shown} lets {describe(unwanted)} through: this {broad.ins.keyword} puts them in the image",
        fix=f"add {', '.join(n.path for n in unwanted[:6])} to {src.shown}",
        key="weak",
    )


@rule(
    "LI402",
    "copy-sensitive-file",
    Severity.ERROR,
    subject=Subject.CONTEXT,
    tags=("context", "security", "secrets"),
    security_severity=8.0,
)
def copy_sensitive_file(t: ContextTarget) -> Iterator[Hit]:
    """A COPY/ADD puts a private key, credentials file or .git directory in the image.

    ## What it does
    Looks at every file a COPY/ADD sends, after `.dockerignore`, and reports
    private keys (`id_rsa`, `*.pem`/`*.key` holding a private key, `*.p12`),
    `.env` files (not `.env.example`), `.npmrc`/`.pypirc`/`.netrc` that hold
    credentials, cloud credential files (`.aws/credentials`, service-account
    JSON, Azure tokens), kubeconfig, Terraform state and `.git`
    directories — naming the file and pointing at the source that copies it.

    ## Why it matters
    Anyone who can pull the image can read every layer. A key copied in and
    deleted later is still in its layer.

    ## Example
    ```dockerfile
    FROM python:3.12
    COPY . /app        # the folder holds .env and deploy/id_rsa
    ```

    ## Fix
    Exclude the file in `.dockerignore`, and pass secrets at build time with
    `RUN --mount=type=secret` or at run time through the environment.
    """
    root = t.context.root
    for copy in _copies(t):
        found = per_copy(copy, "sensitive", lambda st: sensitive_in(root, st))
        yield from capped(copy, found, "sensitive files", lambda s, src: hit(
            copy.ins,
            f"{copy.ins.keyword} {src.text} puts {s.entry.rel}{'/' if s.entry.kind == 'dir' else ''} in the image ({s.what})",
            token=src.token,
            fix=f"add {s.entry.rel} to .dockerignore; give the image secrets at build time with RUN --mount=type=secret",
            key=s.entry.rel,
        ))


@rule(
    "LI403",
    "copy-ignored-file",
    Severity.WARNING,
    subject=Subject.CONTEXT,
    tags=("context", "dockerignore"),
    peers=("CopyIgnoredFile",),
)
def copy_ignored_file(t: ContextTarget) -> Iterator[Hit]:
    """A COPY/ADD names a path that .dockerignore excludes.

    ## What it does
    Checks each COPY/ADD source against the ignore patterns (the path or one
    of its parents matches, the last matching line deciding), as BuildKit's
    `CopyIgnoredFile` check does, and names the ignore line responsible. A
    directory source, the context root (`COPY . .`) included, whose every
    entry is excluded counts as ignored too.

    ## Why it matters
    The builder never receives the file: the COPY fails with "file not
    found", or — for a directory partly re-included by `!` lines — copies
    less than it says.

    ## Example
    ```
    # .dockerignore
    config
    ```
    ```dockerfile
    COPY config/app.yaml /etc/app/
    ```

    ## Fix
    Remove or narrow the ignore line, or add an exception (`!config/app.yaml`).
    """
    tree = t.context.tree
    for copy in _copies(t):
        for src in copy.context_sources:
            if not src.ignored or src.outside:
                continue
            if src.path in tree.hidden:
                why = f"{src.path} is excluded by {t.context.ignore_source.shown}, and the builder keeps an excluded Dockerfile or ignore file out of COPY"
            else:
                pat = tree.deciding_pattern(src.path) if src.kind == "path" else None
                line = f" line {pat.line} ({pat})" if pat is not None and pat.line else ""
                why = f"{src.text} is excluded by {t.context.ignore_source.shown}{line}"
            if not src.matched:
                outcome = "; the build fails: nothing by that name reaches the builder"
            elif not any(True for _ in src.files()):
                outcome = "; every file under it is excluded, so it copies nothing"
            else:
                outcome = "; only its re-included files are copied"
            yield hit(copy.ins, why + outcome, token=src.token, fix="remove or narrow the ignore line, or add a ! exception for this path", key=src.path)


@rule("LI404", "copy-missing-source", Severity.ERROR, subject=Subject.CONTEXT, tags=("context",))
def copy_missing_source(t: ContextTarget) -> Iterator[Hit]:
    """A COPY/ADD source does not exist in the build context.

    ## What it does
    Resolves each source of a COPY/ADD (not `--from`, not URLs, not
    heredocs) in the context directory, following symlinks the way the
    builder does, and reports sources that are absent, sources that climb
    out of the context with `..`, and instructions whose wildcards match
    nothing at all.

    ## Why it matters
    The build stops at this line with "file not found in build context".

    ## Example
    ```dockerfile
    COPY requirements.txt .    # the file is requirements/base.txt
    ```

    ## Fix
    Correct the path (it is relative to the context, not to the
    Dockerfile), or build with the right context directory.
    """
    for copy in _copies(t):
        sources = copy.context_sources
        for src in sources:
            if src.outside:
                yield hit(copy.ins, f"{src.text} is outside the build context; the builder cannot read it", token=src.token, fix="move the file into the context, or build from a parent directory", key=src.text)
            elif src.missing and not src.ignored and not src.exists:
                yield hit(copy.ins, f"{src.text} does not exist in the build context {shown_path(t.context.root)}", token=src.token, fix="correct the path; it is relative to the build context", key=src.text)
        globs = [s for s in sources if s.kind == "glob"]
        if globs and all(not s.matched and not s.ignored for s in sources if not s.outside) and not any(s.kind == "path" for s in sources):
            yield hit(copy.ins, f"no file in the build context matches {', '.join(s.text for s in globs)}; the build fails", token=globs[0].token, key="glob:" + ",".join(s.text for s in globs))


@rule("LI405", "copy-large-file", Severity.WARNING, subject=Subject.CONTEXT, tags=("context", "size"))
def copy_large_file(t: ContextTarget) -> Iterator[Hit]:
    """A COPY/ADD puts a file larger than `max-copy-size` in the image.

    ## What it does
    Reports each copied file above the `max-copy-size` setting (default
    50 MB), with its size.

    ## Why it matters
    Large files make every pull slower and usually do not belong in the
    image: datasets, archives, videos, core dumps, build artefacts.

    ## Example
    ```dockerfile
    COPY . /app        # the folder holds data/dump.sql (2 GB)
    ```

    ## Fix
    Exclude the file in `.dockerignore`, fetch it at run time, or mount it
    as a volume. Raise `max-copy-size` in `.lintimg.yaml` if it belongs.
    """
    limit = parse_size(t.setting("max-copy-size", DEFAULT_MAX_COPY_SIZE))
    for copy in _copies(t):
        big = per_copy(copy, f"large:{limit}", lambda st: sorted((e for e in st.files if e.kind == "file" and e.size > limit), key=lambda e: -e.size))
        yield from capped(copy, big, f"files over {human(limit)}", lambda e, src: hit(
            copy.ins, f"{copy.ins.keyword} {src.text} copies {e.rel} ({human(e.size)}, over max-copy-size {human(limit)})", token=src.token, key=e.rel
        ))


def _churning(t: ContextTarget) -> list[tuple[Copy, int, list[tuple[str, int]], int]]:
    """COPYs whose files changed often: (copy, commits touching them, top files, commits examined)."""
    churn = t.context.churn(int(t.setting("git-history-depth", DEFAULT_DEPTH)))
    if churn is None or not churn.depth:
        return []
    out = []
    for copy in _copies(t):
        paths = {e.rel for e in copy.files}
        n = churn.commits_touching(paths)
        out.append((copy, n, churn.top(paths), churn.depth))
    return out


@rule("LI407", "expensive-step-after-churning-copy", Severity.INFO, subject=Subject.CONTEXT, tags=("context", "cache", "layers", "git"))
def expensive_step_after_churning_copy(t: ContextTarget) -> Iterator[Hit]:
    """A package install runs after a COPY of files that change often (by git history).

    ## What it does
    When the context is in a git repository, counts how many of the last
    `git-history-depth` commits (default 100) changed the files each
    COPY/ADD sends. If that is at least 20% of them (and at least 3), every
    later package install in the stage — system packages or dependencies —
    is reported with the COPY and its most changed files. Installs that
    `dependencies-after-source-copy` already reports are left to it.

    ## Why it matters
    Each change to those files misses the cache at the COPY and reruns the
    install after it: the slowest step of the build runs on most commits.

    ## Example
    ```dockerfile
    FROM debian:12
    COPY src/ /app/src/        # changed in 40 of the last 100 commits
    RUN apt-get update && apt-get install -y build-essential
    ```

    ## Fix
    Move the install above the COPY, or copy the frequently changed files
    after it.
    """
    churning = [(c, n, top, depth) for c, n, top, depth in _churning(t) if n >= CHURN_MIN_COMMITS and n >= CHURN_SHARE * depth]
    if not churning:
        return
    df = t.dockerfile
    already = {(m.run.index, m.cmd.offset) for m in misplaced_installs(df, t.context)}
    for ins, cmd, what in expensive_steps(df):
        if (ins.index, cmd.offset) in already:
            continue
        before = [c for c in churning if c[0].ins.stage_index == ins.stage_index and c[0].ins.index < ins.index]
        if not before:
            continue
        copy, n, top, depth = max(before, key=lambda c: c[1])
        files = ", ".join(f"{p} {k}×" for p, k in top)
        yield cmd_hit(
            ins,
            cmd,
            f"{what} runs after {copy.ins.keyword} at line {copy.ins.line}, whose files changed in {n} of the last {depth} commits ({files}); each such change reruns it",
            fix=f"move this step above line {copy.ins.line}, or copy the often-changed files after it",
            key=f"{copy.ins.line}:{what}",
        )


@rule("LI408", "copy-rebuild-cost", Severity.INFO, subject=Subject.CONTEXT, tags=("context", "cache", "layers"), enabled_by_default=False)
def copy_rebuild_cost(t: ContextTarget) -> Iterator[Hit]:
    """How many later layers a one-file change in a COPY rebuilds (opt-in report).

    ## What it does
    For every COPY/ADD from the context, counts the layer-making steps
    (RUN, COPY, ADD) that rerun when one of its files changes: the rest of
    its stage, and stages built from it or copying from it. In a git
    repository it adds how often its files changed recently. Off by
    default; turn it on to see where cache misses cost most.

    ## Why it matters
    Ordering a Dockerfile for cache reuse means putting rarely changing,
    expensive steps first. This puts a number on each COPY.

    ## Example
    ```dockerfile
    COPY . .           # a change here rebuilds the 3 steps below
    RUN npm ci
    RUN npm run build
    RUN npm prune --production
    ```

    ## Fix
    Nothing to fix by itself; move COPYs of often-changed files as late as
    possible.
    """
    churn = {c.ins.index: (n, depth) for c, n, _, depth in _churning(t)}
    for copy in _copies(t):
        if not copy.context_sources:
            continue  # heredocs only: nothing in the context changes it
        later = rebuilt_after(t.dockerfile, copy.ins)
        history = ""
        if copy.ins.index in churn:
            n, depth = churn[copy.ins.index]
            history = f"; its files changed in {n} of the last {depth} commits"
        yield hit(
            copy.ins,
            f"a change to {'the file' if len(copy.files) == 1 else f'any of the {len(copy.files)} files'} this {copy.ins.keyword} sends rebuilds {len(later)} later layer{'s' if len(later) != 1 else ''}{history}",
            key=f"cost:{copy.ins.line}",
            rebuilt_layers=len(later),
        )


@rule("LI409", "dockerignore-builder-difference", Severity.INFO, subject=Subject.CONTEXT, tags=("context", "dockerignore"))
def dockerignore_builder_difference(t: ContextTarget) -> Iterator[Hit]:
    """The classic builder and BuildKit would send different files with this ignore file.

    ## What it does
    Reports two documented differences that change what a COPY gets:
    `<Dockerfile>.dockerignore`, which only BuildKit reads (the classic
    builder uses `.dockerignore` or nothing); and `!` exceptions with
    wildcards inside an excluded directory, which BuildKit honours at any
    depth while the classic builder never enters the directory
    (`data` + `!data/**/*.keep` loses `data/a/b/x.keep`).

    ## Why it matters
    The same Dockerfile gives different images on Docker before 23 (or
    with `DOCKER_BUILDKIT=0`) and with BuildKit.

    ## Example
    ```
    data
    !data/**/*.keep
    ```

    ## Fix
    Write exceptions that name the directory path (`!data/a/b/x.keep`), or
    avoid excluding a parent of what you re-include.
    """
    ctx = t.context
    src = ctx.ignore_source
    if src.dockerfile_specific and src.path:
        yield Hit(f"{src.shown} is read only by BuildKit; the classic builder uses .dockerignore instead", line=1, path=shown_path(src.path), key="specific")
    if ctx.ignore is None or not any(p.exclusion and p.has_wildcards for p in ctx.ignore.patterns) or not _copies(t):
        return
    specials = [".dockerignore"] + ([ctx.dockerfile_rel] if ctx.dockerfile_rel else [])
    classic = Tree(ctx.root, ctx.ignore.patterns, CLASSIC, specials)
    lost = sorted({e.rel for e in ctx.everything().files} - {e.rel for e in classic.subtree("").files})
    if lost:
        more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
        yield Hit(
            f"BuildKit sends {', '.join(lost[:3])}{more} but the classic builder does not: it never enters an excluded directory for a wildcard exception",
            line=1,
            path=shown_path(src.path or ""),
            key="walk",
        )


@rule("LI410", "copy-broken-entry", Severity.WARNING, subject=Subject.CONTEXT, tags=("context",))
def copy_broken_entry(t: ContextTarget) -> Iterator[Hit]:
    """A COPY/ADD meets an entry it cannot copy as a file: unreadable, a symlink loop or a link out of the context, a socket or FIFO.

    ## What it does
    Reports, for what each COPY/ADD sends: directories or files the builder
    cannot read, sources that end in a symlink loop, symlinks whose target
    leaves the context (the image gets a link to some other path of its own
    file system), sockets (Docker skips them) and FIFOs or device nodes
    (copied as special files).

    ## Why it matters
    An unreadable entry or a loop fails the build; the others give an
    image that differs from the folder the author looked at.

    ## Example
    ```dockerfile
    COPY . /app        # config -> /etc/myapp/config on the developer's machine
    ```

    ## Fix
    Fix the permissions, replace the symlink by the file it points to, or
    exclude the entry in `.dockerignore`.
    """
    for copy in _copies(t):
        for src in copy.context_sources:
            if src.error:
                yield hit(copy.ins, f"{src.text}: {src.error}; the build fails", token=src.token, key=f"error:{src.path}")
        problems = per_copy(copy, "broken", _broken)
        yield from capped(copy, problems, "entries it cannot copy as files", lambda p, src: hit(
            copy.ins, f"{copy.ins.keyword} {src.text}: {p[0]} {p[1]}", token=src.token, key=p[0]
        ))


def _broken(tree: Subtree) -> list[tuple[str, str]]:
    out = [(rel, f"cannot be read ({why}); the build fails") for rel, why in tree.unreadable]
    for e in tree.special:
        out.append((e.rel, "is a socket; Docker leaves it out" if e.kind == "socket" else f"is a {'FIFO' if e.kind == 'fifo' else 'device node'}; it is copied as one, not as a file"))
    for e in tree.files:
        if link_escapes(e):
            out.append((e.rel, f"is a symlink to {e.link}, outside the build context; in the image it points at the image's own {e.link}"))
    return out
