"""Image references: skopeo-style transports and Docker's reference grammar."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from lintimg.errors import LintimgError

TRANSPORTS = ("docker", "docker-archive", "oci", "oci-archive", "docker-daemon")
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]+)?$")


@dataclass(frozen=True)
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
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost" or parts[0] != parts[0].lower()):
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


@dataclass(frozen=True)
class Source:
    """A parsed ``transport:…`` string."""

    transport: str  # one of TRANSPORTS, or "" for a bare reference
    path: str  # file or directory for the archive/layout transports
    selector: str  # image reference (or @index for docker-archive) within the source


def _split_existing(rest: str) -> tuple[str, str]:
    """``PATH[:SELECTOR]`` where PATH may itself contain colons: the shortest existing prefix wins."""
    if os.path.exists(rest):
        return rest, ""
    for i, ch in enumerate(rest):
        if ch == ":" and i and os.path.exists(rest[:i]):
            return rest[:i], rest[i + 1 :]
    return rest, ""


def parse_source(text: str) -> Source:
    if text.startswith("docker://"):
        return Source("docker", "", text[len("docker://") :])
    transport, sep, rest = text.partition(":")
    if sep and transport in ("docker-archive", "oci", "oci-archive"):
        if not rest:
            raise LintimgError(f"{text!r}: {transport}: needs a path")
        path, selector = _split_existing(rest)
        return Source(transport, path, selector)
    if sep and transport == "docker-daemon":
        return Source("docker-daemon", "", rest)
    return Source("", "", text)
