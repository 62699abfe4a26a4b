"""Image references as Docker reads them: ``[registry/]repository[:tag][@digest]``.

The first path component is a registry only when it looks like a host (has
a ``.``, a ``:`` port or upper case, or is ``localhost``); otherwise the
image is on Docker Hub (``docker.io``), whose official images live under ``library/``. Unlike
:func:`lintimg.image.reference.parse_docker_ref`, which resolves a
reference for pulling (no tag means ``latest``), this keeps what was
written, since rules judge exactly that.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from lintimg.errors import LintimgError
from lintimg.image.reference import DOCKER_HUB, parse_docker_ref


@dataclass(frozen=True)
class ImageRef:
    """A parsed reference; ``registry`` is ``None`` when the reference names none (Docker Hub)."""

    text: str
    registry: str | None
    repository: str  # path without the registry
    tag: str | None
    digest: str | None

    @property
    def domain(self) -> str:
        """The registry the image is pulled from (``docker.io`` when none is written)."""
        return self.registry or DOCKER_HUB

    @property
    def name(self) -> str:
        """``registry/repository`` as written, without tag or digest."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def full_name(self) -> str:
        """The canonical name: ``docker.io/library/debian`` for ``debian``."""
        repo = self.repository
        if self.registry is None and "/" not in repo:
            repo = f"library/{repo}"
        return f"{self.domain}/{repo}"

    def problem(self) -> str | None:
        """Why Docker would refuse this reference, or ``None`` when it is well formed."""
        try:
            parse_docker_ref(self.text)
        except LintimgError as e:
            return str(e)
        return None

def parse_ref(text: str) -> ImageRef:
    """Split ``text`` into its parts; never raises (see :meth:`ImageRef.problem`)."""
    rest, _, digest = text.partition("@")
    first, slash, tail = rest.partition("/")
    registry = None
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[") or first != first.lower()):
        registry, rest = first, tail
    tag = None
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(text, registry, rest, tag, digest or None)


def registry_matches(domain: str, patterns: list[str]) -> bool:
    """``domain`` is one of ``patterns`` (``*.gcr.io`` style wildcards allowed; case-insensitive)."""
    d = domain.lower()
    return any(fnmatch.fnmatchcase(d, p.lower()) for p in patterns)
