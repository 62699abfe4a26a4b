"""The build context of one Dockerfile (:class:`BuildContext`) and the attacher that finds it for each Dockerfile of a run."""
from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lintimg import limits
from lintimg.context.attach import BUILDKIT
from lintimg.context.copies import Copy, context_copies
from lintimg.context.dockerignore import IgnoreFile, IgnoreProblem
from lintimg.context.walk import Subtree, Tree
from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.context.gitchurn import Churn
    from lintimg.context.observe import Recorder
    from lintimg.context.secretscan import ContextSecrets
    from lintimg.dockerfile import Dockerfile

MAX_IGNORE_BYTES = 1024 * 1024


@record
class IgnoreSource:
    """Which ignore file applies, its parsed content, or why it could not be read."""

    path: str | None  # absolute path of the file in use, None when there is none
    shown: str  # for messages: ".dockerignore" or "app.Dockerfile.dockerignore"
    ignore: IgnoreFile | None
    problem: str | None = None
    dockerfile_specific: bool = False


def find_ignore_file(root: str, dockerfile: str | None, builder: str = BUILDKIT) -> IgnoreSource:
    """The ignore file the builder uses: ``<Dockerfile>.dockerignore`` next to the
    Dockerfile (BuildKit only) wins over ``.dockerignore`` at the context root."""
    if dockerfile and builder == BUILDKIT:
        found = _read_ignore(dockerfile + ".dockerignore", True)
        if found is not None:
            return found
    return _root_ignore(root)


def _root_ignore(root: str) -> IgnoreSource:
    return _read_ignore(os.path.join(root, ".dockerignore"), False) or IgnoreSource(None, ".dockerignore", None)


def _read_ignore(path: str, specific: bool) -> IgnoreSource | None:
    """The ignore file at ``path``, or ``None`` when there is none."""
    shown = os.path.basename(path) if specific else ".dockerignore"
    try:
        data = limits.read_file(path, MAX_IGNORE_BYTES)
    except FileNotFoundError:
        return None
    except limits.NotRegularFile:
        return IgnoreSource(path, shown, None, "is not a regular file", specific)
    except limits.TooLarge:
        return IgnoreSource(path, shown, None, f"is larger than {MAX_IGNORE_BYTES // 1024} KiB", specific)
    except OSError as e:
        return IgnoreSource(path, shown, None, f"cannot read: {limits.why(e)}", specific)
    return IgnoreSource(path, shown, IgnoreFile.parse(data, shown), None, specific)


class BuildContext:
    """The context directory of one Dockerfile, as the builder would receive it."""

    def __init__(self, root: str, dockerfile: str | None = None, builder: str = BUILDKIT, trees: dict[Any, Any] | None = None,
                 recorder: Recorder | None = None):
        self.root = os.path.abspath(root)
        self.dockerfile = os.path.abspath(dockerfile) if dockerfile else None
        self.builder = builder
        self._trees = trees if trees is not None else {}  # walks and scanners shared by one run
        self.recorder = recorder  # told of every read, when the run keeps results (lintimg.context.observe)

    @cached_property
    def ignore_source(self) -> IgnoreSource:
        if self.dockerfile and self.builder == BUILDKIT:
            specific = self.dockerfile + ".dockerignore"
            found = _read_ignore(specific, True)
            if self.recorder is not None:
                self.recorder.stat(specific)
            if found is not None:
                return found
        # The context's own .dockerignore is read once per run, not once per Dockerfile.
        key = ("ignore", self.root)
        shared = self._trees.get(key)
        if shared is None:
            shared = self._trees[key] = _root_ignore(self.root)
        if self.recorder is not None:
            self.recorder.stat(os.path.join(self.root, ".dockerignore"))
        return shared

    @property
    def ignore(self) -> IgnoreFile | None:
        return self.ignore_source.ignore

    @property
    def ignore_problems(self) -> list[IgnoreProblem]:
        return self.ignore.problems if self.ignore else []

    @cached_property
    def dockerfile_rel(self) -> str | None:
        """The Dockerfile's path inside the context, when it is inside."""
        if not self.dockerfile:
            return None
        # Both paths are absolute and normalised: a prefix test does what relpath would.
        prefix = self.root if self.root.endswith(os.sep) else self.root + os.sep
        if not self.dockerfile.startswith(prefix):
            return None
        rel = self.dockerfile[len(prefix):]
        return None if rel.startswith("..") else rel.replace(os.sep, "/")

    @cached_property
    def tree(self) -> Tree:
        patterns = self.ignore.patterns if self.ignore else []
        key = (self.root, self.builder, self.ignore_source.path, tuple(str(p) for p in patterns))
        shared = self._trees.get(key)
        if shared is None:
            shared = self._trees[key] = Tree(self.root, patterns, self.builder, [".dockerignore"], self.recorder)
        rel = self.dockerfile_rel
        if not rel or not shared.pattern_excludes(rel):
            return shared
        # An excluded Dockerfile changes the walk (see Tree): a tree of its own.
        own: Tree = self._trees.setdefault((*key, rel), Tree(self.root, patterns, self.builder, [".dockerignore", rel], self.recorder))
        return own

    def copies(self, df: Dockerfile) -> list[Copy]:
        """The COPY/ADD instructions of ``df`` that read this context, with what each sends."""
        cache: dict[int, tuple[Dockerfile, list[Copy]]] = self.__dict__.setdefault("_copies", {})
        if id(df) not in cache:
            cache[id(df)] = (df, context_copies(df, self.tree))
        return cache[id(df)][1]

    def everything(self) -> Subtree:
        """All the context sends to the builder (the whole walk)."""
        return self.tree.subtree("")

    def secrets(self, settings: dict[str, Any] | None) -> ContextSecrets:
        """The secret scanner for copied files (shared by the Dockerfiles of a run)."""
        import json

        from lintimg.context.secretscan import ContextSecrets
        from lintimg.secrets.cache import CACHE_FORMAT, detector_version
        from lintimg.secrets.scanner import SecretScanner

        key = ("secrets", self.root, json.dumps(settings or {}, sort_keys=True, default=str))
        if key not in self._trees:
            # Cached hits are only valid for the same policy and the same detectors.
            policy = f"{key[2]}\0{CACHE_FORMAT}\0{detector_version()}"
            # One scanner per policy for the whole run: its per-content memo then serves every
            # context (the same file content in two folders is scanned once).
            scanner = self._trees.get(("scanner", key[2]))
            if scanner is None:
                scanner = self._trees[("scanner", key[2])] = SecretScanner(settings)
            self._trees[key] = ContextSecrets(self.root, scanner, policy)
        found: ContextSecrets = self._trees[key]
        return found

    def churn(self, depth: int) -> Churn | None:
        """Recent git history of the context's files, or ``None`` outside a repository."""
        from lintimg.context.gitchurn import churn_of, repository_state

        state = repository_state(self.root) if self.recorder is not None else None  # read before git runs
        churn = churn_of(self.root, depth)
        if self.recorder is not None:
            self.recorder.note("git", self.root, state, volatile=state == ["unknown"])
        return churn
