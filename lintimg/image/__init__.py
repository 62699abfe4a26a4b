"""Container images: sources, layers, the merged filesystem.

``open_image(ref)`` reads an image from any source named with skopeo's
transports (``docker://``, ``docker-archive:``, ``oci:``, ``oci-archive:``,
``docker-daemon:``; a bare reference tries the local engine, then the
registry) and returns the :class:`~lintimg.image.model.Image` every image rule reads.
"""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lintimg.errors import LintimgError
from lintimg.image.model import ContentRequest, Image, LayerAnalyzer

if TYPE_CHECKING:
    from lintimg.image import oci
    from lintimg.image.layercache import LayerCache
    from lintimg.image.reader import Limits, Progress

__all__ = ["Image", "Limits", "open_image"]


def __getattr__(name: str) -> Any:
    # The readers load on first use: Dockerfile-only runs import lintimg.image.* submodules
    # (reference parsing, the model) and should not pay for the layer machinery.
    if name in ("Limits", "Progress"):
        from lintimg.image import reader

        return getattr(reader, name)
    raise AttributeError(f"module 'lintimg.image' has no attribute {name!r}")


def open_image(
    ref: str,
    *,
    platform: str | None = None,
    analyzers: Sequence[LayerAnalyzer] = (),
    want_content: ContentRequest | None = None,
    progress: Progress | None = None,
    insecure: bool = False,
    ca_file: str | None = None,
    limits: Limits | None = None,
    workers: int | None = None,
    cache: LayerCache | None = None,
) -> Image:
    """Read every layer of ``ref`` once and return the image model.

    ``platform`` (os/arch[/variant]) picks from multi-platform indexes (default:
    this host's). ``insecure`` allows plain HTTP to a non-loopback registry;
    ``ca_file`` adds a CA for registry TLS (``SSL_CERT_FILE`` works too). Bad
    input raises :class:`LintimgError` with a one-line message naming ``ref``.
    ``cache`` (:class:`~lintimg.image.layercache.LayerCache`) serves layers
    already analysed for the same analyzers and captures without reading them.
    """
    from lintimg.image import oci
    from lintimg.image.reader import assemble, read_layers
    from lintimg.image.transport import parse_source

    src = parse_source(ref)
    with tempfile.TemporaryDirectory(prefix="lintimg-") as tmp:
        if src.transport == "docker-archive":
            from lintimg.image.archive import open_docker_archive

            resolved = open_docker_archive(src.path, src.selector, platform, tmp)
        elif src.transport == "oci-archive":
            from lintimg.image.archive import open_oci_archive

            resolved = open_oci_archive(src.path, src.selector, platform, tmp)
        elif src.transport == "oci":
            from lintimg.image.ocilayout import open_oci_dir

            resolved = open_oci_dir(src.path, src.selector, platform)
        elif src.transport == "docker-daemon":
            from lintimg.image.daemon import open_daemon_image

            resolved = open_daemon_image(src.selector, platform, tmp, progress)
        elif src.transport == "docker":
            from lintimg.image.registry import open_registry_image

            resolved = open_registry_image(src.selector, platform, insecure=insecure, ca_file=ca_file)
        else:
            resolved = _open_bare(src.selector, platform, tmp, insecure, ca_file, progress)
        results = read_layers(
            resolved.sources, ref=ref, limits=limits, want_content=want_content, analyzers=analyzers, progress=progress, workers=workers,
            cache=cache,
        )
        return assemble(
            reference=ref, name=resolved.name, digest=resolved.digest, config=resolved.config, results=results, platform=oci.platform_of(resolved.config)
        )


def _open_bare(ref: str, platform: str | None, tmp: str, insecure: bool, ca_file: str | None, progress: Progress | None) -> oci.Resolved:
    """A bare reference: the local engine when it has the image, else the registry."""
    from lintimg.image import daemon
    from lintimg.image.registry import open_registry_image

    if not ref:
        raise LintimgError("empty image reference")
    if daemon.has_image(ref):
        return daemon.open_daemon_image(ref, platform, tmp, progress)
    return open_registry_image(ref, platform, insecure=insecure, ca_file=ca_file)
