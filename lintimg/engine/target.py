"""What the engine checks in one run, and the typed view of it each kind of rule receives.

A :class:`Target` holds whatever subjects a run has: a Dockerfile, its build
context, an image and the mapping of the image's layers to Dockerfile lines.
A rule declares the :class:`Subject` it needs and receives a view in which
that subject is present, typed as such — a Dockerfile rule's
``t.dockerfile`` is never ``None``:

===================  ==========================  ================================================
subject              view                        what it always has
===================  ==========================  ================================================
``DOCKERFILE``       :class:`DockerfileTarget`   ``dockerfile`` (``context`` may be ``None``)
``CONTEXT``          :class:`ContextTarget`      ``dockerfile``, ``context``
``IMAGE``            :class:`ImageTarget`        ``image``, ``layer_map`` (``dockerfile`` may be ``None``)
``IMAGE_DOCKERFILE`` :class:`MappedImageTarget`  ``image``, ``layer_map``, ``dockerfile``
===================  ==========================  ================================================

``target.cache`` holds results of batch work (``lintimg_prepare``) for the
rules of the same plugin; its keys are documented in :mod:`lintimg.engine.hookspecs`.
"""
from __future__ import annotations

import enum
from dataclasses import field
from typing import TYPE_CHECKING, Any

from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.config import Config
    from lintimg.context import BuildContext
    from lintimg.dockerfile import Dockerfile
    from lintimg.image.mapping import LayerOrigin
    from lintimg.image.model import Image


class Subject(enum.Enum):
    """What a rule needs to see. The engine runs a rule only when it is present."""

    DOCKERFILE = "dockerfile"
    CONTEXT = "context"  # the Dockerfile plus its build context
    IMAGE = "image"  # image config, history and layers
    IMAGE_DOCKERFILE = "image+dockerfile"  # an image mapped back to its Dockerfile


@record
class Target:
    """The subjects of one run (one Dockerfile, or one image with or without its Dockerfile)."""

    path: str  # the file findings point at (the Dockerfile, or a synthetic image path)
    config: Config
    dockerfile: Dockerfile | None = None
    context: BuildContext | None = None
    image: Image | None = None
    # image layer index -> the history entry and Dockerfile instruction that made it
    layer_map: dict[int, LayerOrigin] = field(default_factory=dict)
    # Results of lintimg_prepare batch work, under keys documented in hookspecs.py.
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

    def view(self, subject: Subject) -> RuleTarget:
        """The view a rule of ``subject`` receives; ``subject`` must be in :attr:`subjects`."""
        if subject is Subject.IMAGE and self.image is not None:
            return ImageTarget(self, self.image, self.dockerfile)
        if subject is Subject.IMAGE_DOCKERFILE and self.image is not None and self.dockerfile is not None:
            return MappedImageTarget(self, self.image, self.dockerfile)
        if subject is Subject.CONTEXT and self.dockerfile is not None and self.context is not None:
            return ContextTarget(self, self.dockerfile, self.context)
        if subject is Subject.DOCKERFILE and self.dockerfile is not None:
            return DockerfileTarget(self, self.dockerfile)
        raise ValueError(f"{self.path}: no {subject.value} to check")


class _View:
    """What every view shares: the run's path, config, settings and batch results."""

    def __init__(self, target: Target):
        self.target = target

    @property
    def path(self) -> str:
        return self.target.path

    @property
    def config(self) -> Config:
        return self.target.config

    @property
    def cache(self) -> dict[str, Any]:
        return self.target.cache

    def setting(self, key: str, default: Any = None) -> Any:
        """A policy setting from the config (``trusted-registries``, ``label-schema``, …)."""
        return self.target.setting(key, default)


class DockerfileTarget(_View):
    """What a Dockerfile rule sees: the parsed Dockerfile, never ``None`` (and the build context
    when the run has one, for rules that say more with it)."""

    context: BuildContext | None

    def __init__(self, target: Target, dockerfile: Dockerfile):
        super().__init__(target)
        self.dockerfile = dockerfile
        self.context = target.context


class ContextTarget(DockerfileTarget):
    """What a build-context rule sees: the Dockerfile and its build context."""

    context: BuildContext

    def __init__(self, target: Target, dockerfile: Dockerfile, context: BuildContext):
        super().__init__(target, dockerfile)
        self.context = context


class ImageTarget(_View):
    """What an image rule sees: the image, its layer mapping, and the Dockerfile when one was given."""

    dockerfile: Dockerfile | None

    def __init__(self, target: Target, image: Image, dockerfile: Dockerfile | None):
        super().__init__(target)
        self.image = image
        self.dockerfile = dockerfile

    @property
    def layer_map(self) -> dict[int, LayerOrigin]:
        return self.target.layer_map


class MappedImageTarget(ImageTarget):
    """What an image-and-Dockerfile rule sees: both, with layers mapped to instructions."""

    dockerfile: Dockerfile

    def __init__(self, target: Target, image: Image, dockerfile: Dockerfile):
        super().__init__(target, image, dockerfile)


RuleTarget = DockerfileTarget | ContextTarget | ImageTarget | MappedImageTarget
