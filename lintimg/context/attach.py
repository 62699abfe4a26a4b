"""Which build context each Dockerfile of a run has (:class:`ContextAttacher`), and the builders.

Kept apart from :mod:`.build` so that finding a Dockerfile's context root costs no
import of the walk, the ignore-file matcher or the Dockerfile model: a run whose
results all come from the cache never needs them.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lintimg.context.build import BuildContext
    from lintimg.context.observe import Recorder

BUILDKIT = "buildkit"
CLASSIC = "classic"  # the classic builder fed by a Docker CLI 23 or later
CLASSIC_PRE23 = "classic-pre23"  # ... by an older CLI, which matched with the deprecated Matches


class ContextAttacher:
    """Finds each Dockerfile's build context, sharing walks across one run.

    ``context_dir`` overrides the default (the Dockerfile's folder). ``recorder``, when the run
    keeps results, is told of every read of the contexts (:mod:`lintimg.context.observe`).
    """

    def __init__(self, context_dir: str | None = None, builder: str = BUILDKIT, recorder: Recorder | None = None):
        self.context_dir = context_dir
        self.builder = builder
        self.recorder = recorder
        self._trees: dict[Any, Any] = {}
        self._dirs: dict[str, bool] = {}

    def root_of(self, path: str) -> tuple[str | None, str | None]:
        """``(context root, the Dockerfile as the builder gets it)`` for the Dockerfile at ``path``;
        the root is ``None`` when there is no such folder."""
        dockerfile = path if os.path.isfile(path) else None
        root = self.context_dir or (os.path.dirname(os.path.abspath(dockerfile)) if dockerfile else None)
        if root is None:
            return None, dockerfile
        is_dir = self._dirs.get(root)
        if is_dir is None:
            is_dir = self._dirs[root] = os.path.isdir(root)  # once per folder of the run
        return (root if is_dir else None), dockerfile

    def for_dockerfile(self, path: str) -> BuildContext | None:
        """The context of the Dockerfile at ``path`` (``None`` when there is no such folder)."""
        root, dockerfile = self.root_of(path)
        if root is None:
            return None
        from lintimg.context.build import BuildContext

        return BuildContext(root, dockerfile, self.builder, self._trees, self.recorder)
