"""OCI image layouts (``oci:DIR``) and the blob stores shared with archives.

A blob store answers "give me the blob with this digest": from a directory
(``blobs/<alg>/<hex>``) or from members of a tar read in place. Digests are
validated before they name anything, and every small blob is verified.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

from lintimg.dockerfile.reference import parse_docker_ref
from lintimg.errors import LintimgError
from lintimg.image import oci
from lintimg.image.reader import LayerSource


class BlobStore(Protocol):
    def size(self, digest: str) -> int | None: ...  # None when absent

    def opener(self, digest: str) -> Callable[[], BinaryIO]: ...


def read_blob(store: BlobStore, digest: str, what: str) -> bytes:
    """A small JSON blob, bounded and verified."""
    size = store.size(oci.check_digest(digest, what))
    if size is None:
        raise LintimgError(f"{what}: missing blob {digest}")
    if size > oci.MAX_JSON:
        raise LintimgError(f"{what}: blob {digest} is {size} bytes, too big for a manifest or config")
    with store.opener(digest)() as f:
        return oci.verify(f.read(), digest, f"{what}: blob {digest}")


class DirStore:
    """Blobs of an OCI layout directory."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, digest: str) -> str:
        algo, _, hexd = digest.partition(":")
        return os.path.join(self.root, "blobs", algo, hexd)

    def size(self, digest: str) -> int | None:
        p = self._path(digest)
        return os.path.getsize(p) if os.path.isfile(p) else None

    def opener(self, digest: str) -> Callable[[], BinaryIO]:
        p = self._path(digest)
        return lambda: open(p, "rb")


def store_layer_sources(store: BlobStore, manifest: dict[str, Any], config: dict[str, Any], what: str) -> list[LayerSource]:
    def opener(desc: dict[str, Any]) -> Callable[[], BinaryIO]:
        if store.size(desc["digest"]) is None:
            if desc.get("urls"):
                raise LintimgError(f"{what}: foreign layer {desc['digest']} is not in the image (it lives at {desc['urls'][0]})")
            raise LintimgError(f"{what}: manifest lists a missing blob {desc['digest']}")
        return store.opener(desc["digest"])

    return oci.layer_sources(manifest, config, opener, what)


def _names(desc: dict[str, Any]) -> set[str]:
    """The references an index.json entry answers to."""
    ann = oci.mapping(desc, "annotations")
    names = {str(ann.get(k) or "") for k in ("org.opencontainers.image.ref.name", "io.containerd.image.name")}
    full = ann.get("io.containerd.image.name")
    if isinstance(full, str) and full:
        try:
            names.add(str(parse_docker_ref(full)))
        except LintimgError:
            pass
    return {n for n in names if n}


def _wanted(selector: str) -> set[str]:
    wanted = {selector}
    try:
        ref = parse_docker_ref(selector)
        wanted |= {str(ref), f"{ref.registry}/{ref.repository}:{ref.tag}"}
    except LintimgError:
        pass
    return wanted


def open_layout(store: BlobStore, index_json: bytes, selector: str, platform: str | None, what: str, fallback_name: str) -> oci.Resolved:
    """Resolve an OCI layout's ``index.json`` (by ref-name annotation, then platform) to one image."""
    index = oci.load_json(index_json, f"{what}: index.json")
    entries = [d for d in oci.as_list(index.get("manifests")) if isinstance(d, dict) and not oci.is_attestation(d)]
    if selector:
        wanted = _wanted(selector)
        entries = [d for d in entries if _names(d) & wanted]
        if not entries:
            raise LintimgError(f"{what}: no image named {selector!r} in index.json")
    names = sorted({n for d in entries for n in _names(d)})
    distinct = {str(d.get("digest")) for d in entries}
    if len(distinct) > 1 and not all(oci.desc_platform(d) for d in entries):
        raise LintimgError(f"{what}: holds {len(distinct)} images ({', '.join(names) or 'unnamed'}); name one as {what}:REF")
    top = {**index, "manifests": entries}
    manifest, digest, config = oci.resolve(
        oci.canonical(top), oci.OCI_INDEX, lambda d: read_blob(store, d["digest"], what), what, platform
    )
    name = next((n for n in names if "/" in n), names[0] if names else fallback_name)
    return oci.Resolved(digest, config, store_layer_sources(store, manifest, config, what), name)


def open_oci_dir(path: str, selector: str, platform: str | None) -> oci.Resolved:
    what = f"oci:{path}"
    index_path = os.path.join(path, "index.json")
    if not os.path.isdir(path):
        raise LintimgError(f"{what}: no such directory")
    if not os.path.isfile(index_path):
        raise LintimgError(f"{what}: not an OCI image layout (no index.json)")
    with open(index_path, "rb") as f:
        data = f.read(oci.MAX_JSON + 1)
    return open_layout(DirStore(path), data, selector, platform, what, os.path.basename(os.path.abspath(path)))
