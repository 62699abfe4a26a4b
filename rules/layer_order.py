"""LI406: dependency installs placed after a COPY of the whole source, which every source edit reruns.

A Dockerfile rule (it runs without a build context too); with a context it
also names the manifests to copy first. Kept apart from :mod:`.context` so a
Dockerfile-only run does not load the build-context machinery.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from lintimg.context.cacheorder import manifests_sent, misplaced_installs
from lintimg.dockerfile.queries import cmd_hit
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes

if TYPE_CHECKING:
    from lintimg.context import BuildContext

ID_RANGE = "LI406-LI406"


@rule("LI406", "dependencies-after-source-copy", Severity.WARNING, tags=("context", "cache", "layers"), fixable=(Safety.UNSAFE,))
def dependencies_after_source_copy(t: DockerfileTarget) -> Iterator[Hit]:
    """A dependency install runs after a COPY that brings in the whole source.

    ## What it does
    Finds `npm ci`/`npm install`, `yarn`, `pnpm install`, `pip install -r`,
    `poetry install`, `pipenv install`, `uv sync`, `go mod download` /
    `go build`, `cargo build`, Maven, Gradle, `bundle install` and
    `composer install` placed after `COPY . …` in the same stage, when no
    COPY of just the dependency manifests comes before. With a build
    context, a COPY of a folder that holds the manifest plus other files
    counts as bringing in the source too.

    ## Why it matters
    Docker reuses a cached layer only while every earlier step is
    unchanged. After `COPY . .`, editing any source file reruns the install
    and downloads every dependency again.

    ## Example
    ```dockerfile
    FROM node:20
    WORKDIR /app
    COPY . .
    RUN npm ci
    ```

    ## Fix
    Copy the manifests first, install, then copy the rest:
    `COPY package*.json ./`, `RUN npm ci`, `COPY . .`.

    Unsafe autofix, with a build context (so the manifests that exist are
    known): `COPY . <dest>` becomes a COPY of those manifest files (same
    flags, same destination), and the whole-source COPY moves right after
    the install RUN. Offered only when that RUN does nothing but install
    from the manifests (`npm ci`, `pip install -r …`, `go mod download`,
    `poetry install --no-root`, …; not a build or a test, which need the
    source), nothing but ENV, ARG, LABEL, EXPOSE or USER sits between the
    two, the manifests are at the top of the copied folder, and neither
    instruction uses variables. Unsafe because an install can still read
    files the manifests do not name (a postinstall script, a local path in
    a requirements file).
    """
    ctx: BuildContext | None = t.context
    for m in misplaced_installs(t.dockerfile, ctx):
        present = ""
        edits: _fixes.Edits = ()
        if ctx is not None:
            copy = next((c for c in ctx.copies(t.dockerfile) if c.ins is m.copy), None)
            found = manifests_sent(copy, m.ecosystem) if copy is not None else []
            if copy is not None and not found:
                continue  # no manifest in the context: nothing to copy first
            top = min((e.rel.count("/") for e in found), default=0)
            names = sorted({e.name for e in found if e.rel.count("/") == top})
            present = f" ({' '.join(names)})" if names else ""
            if copy is not None and top == 0 and names:
                edits = _fixes.manifests_first(t.dockerfile, m.copy, m.run, m.ecosystem, names)
        yield cmd_hit(
            m.run,
            m.cmd,
            f"{' '.join(m.cmd.argv[:2])} runs after {m.copy.keyword} {m.copy.args_text} (line {m.copy.line}): every source change reinstalls all {m.ecosystem.name} dependencies",
            fix=f"copy the manifests{present} first and install before copying the source: {m.ecosystem.copy_first}",
            key=f"{m.ecosystem.name}:{m.copy.line}",
            edits=edits,
            safety=Safety.UNSAFE,
        )
