"""Where an image comes from: skopeo's transport names (``docker://``, ``docker-archive:``, ``oci:``,
``oci-archive:``, ``docker-daemon:``) around a path or a reference."""
from __future__ import annotations

import os
from dataclasses import dataclass

from lintimg.errors import LintimgError

TRANSPORTS = ("docker", "docker-archive", "oci", "oci-archive", "docker-daemon")


@dataclass(frozen=True)
class ImageSource:
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


def parse_source(text: str) -> ImageSource:
    if text.startswith("docker://"):
        return ImageSource("docker", "", text[len("docker://") :])
    transport, sep, rest = text.partition(":")
    if sep and transport in ("docker-archive", "oci", "oci-archive"):
        if not rest:
            raise LintimgError(f"{text!r}: {transport}: needs a path")
        path, selector = _split_existing(rest)
        return ImageSource(transport, path, selector)
    if sep and transport == "docker-daemon":
        return ImageSource("docker-daemon", "", rest)
    return ImageSource("", "", text)
