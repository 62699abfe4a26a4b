"""Image references as Docker reads them: ``[registry/]repository[:tag][@digest]``.

The first path component is a registry only when it looks like a host (has a
``.`` or a ``:`` port, or is ``localhost``); otherwise the image is on Docker
Hub (``docker.io``), whose official images live under ``library/``.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
# Docker's reference grammar, lower-case path components and a tag of at most 128 chars.
_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_HOST_RE = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")


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

    @property
    def is_scratch(self) -> bool:
        return self.text.lower() == "scratch"

    def problem(self) -> str | None:
        """Why Docker would refuse this reference, or ``None`` when it is well formed."""
        if not self.repository:
            return "the image name is empty"
        if self.registry is not None and not _HOST_RE.match(self.registry):
            return f"{self.registry!r} is not a valid registry host"
        for part in self.repository.split("/"):
            if not _COMPONENT_RE.match(part):
                return f"{part!r} is not a valid repository name component (lower-case letters, digits and . _ - only)"
        if self.tag is not None and not _TAG_RE.match(self.tag):
            return f"{self.tag!r} is not a valid tag"
        if self.digest is not None and not _DIGEST_RE.match(self.digest):
            return f"{self.digest!r} is not a valid digest"
        return None


def parse_ref(text: str) -> ImageRef:
    """Split ``text`` into its parts; never raises (see :meth:`ImageRef.problem`)."""
    rest, _, digest = text.partition("@")
    first, slash, tail = rest.partition("/")
    registry = None
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
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
