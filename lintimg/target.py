"""What the engine checks in one run: any of a Dockerfile, its build context and an image."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lintimg.rule import Subject

if TYPE_CHECKING:
    from lintimg.config import Config
    from lintimg.dockerfile import Dockerfile


@dataclass
class Target:
    """The subjects of a run. A rule reads only the parts its subject names.

    ``context`` is a :class:`lintimg.context.BuildContext` and ``image`` a
    :class:`lintimg.image.Image` when present; ``layer_map`` maps image layer
    indexes to the Dockerfile instruction that made them.
    """

    path: str  # the file findings point at (the Dockerfile, or a synthetic image path)
    config: "Config"
    dockerfile: "Dockerfile | None" = None
    context: Any = None
    image: Any = None
    layer_map: dict[int, Any] = field(default_factory=dict)
    # Results of lintimg_prepare batch work, keyed by the plugin that made them.
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def subjects(self) -> set[Subject]:
        have = set()
        if self.dockerfile is not None:
            have.add(Subject.DOCKERFILE)
            if self.context is not None:
                have.add(Subject.CONTEXT)
            if self.image is not None:
                have.add(Subject.IMAGE_DOCKERFILE)
        if self.image is not None:
            have.add(Subject.IMAGE)
        return have

    def setting(self, key: str, default: Any = None) -> Any:
        """A policy setting from the config (``trusted-registries``, ``label-schema``, …)."""
        return self.config.settings.get(key, default)
