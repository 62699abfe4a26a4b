"""Image references: Docker's reference grammar, as a FROM line writes it and as a pull resolves it.

Two readings of one grammar: :func:`parse_docker_ref` resolves a reference
for pulling (``docker.io``, ``library/``, no tag means ``latest``);
:func:`parse_ref` keeps what a FROM line wrote, since rules judge exactly
that. Both use one registry-host test (:func:`looks_like_host`). The
skopeo-style transports around a reference are :mod:`lintimg.image.transport`.
"""
from __future__ import annotations

import fnmatch
import re

from lintimg.errors import LintimgError
from lintimg.records import record

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]+)?$")


def looks_like_host(first: str) -> bool:
    """Docker's test for the first path component of a reference: a registry host when it has a
    ``.``, a ``:`` port or upper case, or is ``localhost`` (else the image is on Docker Hub)."""
    return "." in first or ":" in first or first == "localhost" or first != first.lower()


@record(frozen=True)
class DockerRef:
    """A registry reference, normalised the way Docker does (docker.io, library/, latest)."""

    registry: str  # host[:port] as written; docker.io for Docker Hub
    repository: str  # path inside the registry, e.g. library/busybox
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """The familiar repository name: ``busybox`` for Hub library images, else host/path."""
        if self.registry == DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    @property
    def version(self) -> str:
        """What to ask the registry for: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s


def parse_docker_ref(text: str) -> DockerRef:
    """Parse ``[host[:port]/]path[:tag][@digest]``; a one-line error names the reference when invalid."""
    def bad(why: str) -> LintimgError:
        return LintimgError(f"{text!r}: invalid image reference ({why})")

    rest, digest = text.strip(), None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise bad("bad digest")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise bad("bad tag")
    parts = rest.split("/")
    if len(parts) > 1 and looks_like_host(parts[0]):
        registry, parts = parts[0], parts[1:]
        if not _HOST.match(registry):
            raise bad("bad registry host")
    else:
        registry = DOCKER_HUB
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if not parts or not all(_COMPONENT.match(p) for p in parts):
        raise bad("repository names are lowercase letters, digits and separators")
    repository = "/".join(parts)
    if registry == DOCKER_HUB and len(parts) == 1:
        repository = f"library/{repository}"
    if tag is None and digest is None:
        tag = "latest"
    return DockerRef(registry, repository, tag, digest)



# --- references as written (FROM lines) ---------------------------------------


@record(frozen=True)
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
    if slash and looks_like_host(first):
        registry, rest = first, tail
    tag = None
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(text, registry, rest, tag, digest or None)


# --- tags ---------------------------------------------------------------------------

_ALIASES = frozenset({"latest", "lts", "current", "stable", "edge", "rolling"})


def split_tag(tag: str) -> tuple[str, str]:
    """``(version, variant)`` of a tag: ``3.11-slim-bookworm`` → ``("3.11", "slim-bookworm")``,
    ``alpine`` → ``("", "alpine")``; ``latest`` and the like are versions with no variant."""
    head, _, rest = tag.partition("-")
    if any(ch.isdigit() for ch in head) or head in _ALIASES:
        return head, rest
    return "", tag


def registry_matches(domain: str, patterns: list[str]) -> bool:
    """``domain`` is one of ``patterns`` (``*.gcr.io`` style wildcards allowed; case-insensitive)."""
    d = domain.lower()
    return any(fnmatch.fnmatchcase(d, p.lower()) for p in patterns)
