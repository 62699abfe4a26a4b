"""OCI and Docker manifest facts shared by every image source.

Media types, index → manifest resolution with platform selection (attestation
manifests skipped, nested indexes followed), and the step from a manifest and
its config to the layer list the reader streams.
"""
from __future__ import annotations

import hashlib
import json
import platform as _platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from lintimg import limits
from lintimg.errors import LintimgError
from lintimg.image.reader import LayerSource

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_V1 = ("application/vnd.docker.distribution.manifest.v1+json", "application/vnd.docker.distribution.manifest.v1+prettyjws")
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
IMAGE_CONFIG_TYPES = ("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json")
ACCEPT = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))
MAX_JSON = limits.MAX_JSON  # manifests, indexes and configs are small; refuse anything bigger

DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm", "i386": "386", "i686": "386"}


@dataclass(frozen=True)
class Platform:
    os: str
    arch: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.arch, self.variant) if p)


def parse_platform(text: str) -> Platform:
    parts = [p.strip().lower() for p in text.split("/")]
    if len(parts) not in (2, 3) or not all(parts):
        raise LintimgError(f"--platform {text!r}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7")
    return _normal(Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else ""))


def _normal(p: Platform) -> Platform:
    arch = _ARCH_ALIASES.get(p.arch, p.arch)
    variant = f"v{p.variant}" if p.variant.isdigit() else p.variant
    if not variant and p.arch == "armel":
        variant = "v6"
    elif not variant and arch in ("arm64", "arm"):
        variant = "v8" if arch == "arm64" else "v7"
    return Platform(p.os, arch, variant)


def host_platform() -> Platform:
    machine = _platform.machine().lower()
    if machine.startswith("armv7"):
        return Platform("linux", "arm", "v7")
    if machine.startswith("armv6"):
        return Platform("linux", "arm", "v6")
    return _normal(Platform("linux", machine))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str, what: str) -> str:
    """A digest from untrusted JSON, validated before it names a file or URL."""
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise LintimgError(f"{what}: invalid digest {digest!r}")
    return digest


def verify(data: bytes, digest: str, what: str) -> bytes:
    algo, _, want = digest.partition(":")
    got = hashlib.new(algo, data).hexdigest()
    if got != want:
        raise LintimgError(f"{what}: content does not match its digest {digest} (got {algo}:{got})")
    return data


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def load_json(data: bytes, what: str, expect: type = dict) -> Any:
    """An untrusted JSON document of the expected top-level type; any other is a one-line error."""
    if len(data) > limits.MAX_JSON:
        raise LintimgError(f"{what}: {len(data)} bytes, too big for a manifest or config (limit {limits.MAX_JSON})")
    try:
        doc = json.loads(data)
    except RecursionError:
        raise LintimgError(f"{what}: invalid JSON (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise LintimgError(f"{what}: invalid JSON ({str(e)[:120]})") from None
    if not isinstance(doc, expect):
        raise LintimgError(f"{what}: expected a JSON {'object' if expect is dict else 'list'}")
    return doc


def mapping(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """A JSON object field, or {} when absent or of the wrong type (untrusted JSON)."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_attestation(desc: dict[str, Any]) -> bool:
    ann = mapping(desc, "annotations")
    plat = mapping(desc, "platform")
    return ann.get("vnd.docker.reference.type") == "attestation-manifest" or (plat.get("os") == "unknown" and plat.get("architecture") == "unknown")


def desc_platform(desc: dict[str, Any]) -> Platform | None:
    plat = mapping(desc, "platform")
    if not plat.get("os") or not plat.get("architecture"):
        return None
    return _normal(Platform(str(plat["os"]).lower(), str(plat["architecture"]).lower(), str(plat.get("variant") or "").lower()))


def _arm_rank(want: Platform, have: Platform) -> int | None:
    """arm falls back from the asked variant to older ones (v7 → v6 → v5), as containerd does."""
    if want.arch != "arm" or have.arch != "arm":
        return None
    order = ["v8", "v7", "v6", "v5"]
    if want.variant not in order or have.variant not in order:
        return None
    gap = order.index(have.variant) - order.index(want.variant)
    return gap if gap >= 0 else None


def select_manifest(index: dict[str, Any], want: Platform, what: str) -> dict[str, Any]:
    """Pick the descriptor for ``want`` from an index's manifests (attestations skipped)."""
    manifests = [d for d in as_list(index.get("manifests")) if isinstance(d, dict)]
    images = [d for d in manifests if not is_attestation(d)]
    if not images:
        raise LintimgError(f"{what}: the index lists no image manifests")
    ranked: list[tuple[int, int, dict[str, Any]]] = []
    for pos, d in enumerate(images):
        have = desc_platform(d)
        if have is None:
            if len(images) == 1:  # a lone entry (often a nested index); the config check follows
                return d
            continue
        if have.os != want.os:
            continue
        if have == want:
            ranked.append((0, pos, d))
        elif have.arch == want.arch and (want.variant == have.variant or not have.variant):
            ranked.append((1, pos, d))
        elif (gap := _arm_rank(want, have)) is not None:
            ranked.append((1 + gap, pos, d))
    if not ranked:
        avail = ", ".join(sorted({str(p) for d in images if (p := desc_platform(d))})) or "none"
        raise LintimgError(f"{what}: no image for platform {want} (available: {avail}); choose one with --platform")
    return min(ranked, key=lambda t: (t[0], t[1]))[2]


@dataclass
class Resolved:
    """What a source resolved a reference to, before any layer is read."""

    digest: str | None  # manifest digest when known
    config: dict[str, Any]
    sources: list[LayerSource]
    name: str  # repository name for display


# fetch(descriptor) -> verified bytes of a small JSON blob
Fetch = Callable[[dict[str, Any]], bytes]


def resolve(
    top: bytes,
    top_type: str,
    fetch: Fetch,
    what: str,
    platform: str | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Follow indexes down to one image manifest; returns (manifest, its digest, the config JSON)."""
    want = parse_platform(platform) if platform else host_platform()
    doc = load_json(top, what)
    media = doc.get("mediaType") or top_type
    digest = sha256(top)
    for _ in range(8):  # nested indexes; a loop is hostile input
        if media in DOCKER_V1 or doc.get("schemaVersion") == 1:
            raise LintimgError(f"{what}: Docker schema 1 manifests are obsolete and not supported")
        if media in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
            desc = select_manifest(doc, want, what)
            check_digest(desc.get("digest", ""), what)
            data = fetch(desc)
            doc = load_json(data, f"{what}: manifest {desc['digest']}")
            media = doc.get("mediaType") or desc.get("mediaType") or ""
            digest = desc["digest"]
            continue
        if "layers" not in doc or "config" not in doc:
            raise LintimgError(f"{what}: not an image manifest (media type {media or 'unknown'})")
        cfg_desc = doc["config"]
        if not isinstance(cfg_desc, dict):
            raise LintimgError(f"{what}: manifest config is not a descriptor")
        if cfg_desc.get("mediaType") and cfg_desc["mediaType"] not in IMAGE_CONFIG_TYPES:
            raise LintimgError(f"{what}: an OCI artifact ({cfg_desc['mediaType']}), not a container image")
        check_digest(cfg_desc.get("digest", ""), what)
        config = load_json(fetch(cfg_desc), f"{what}: config {cfg_desc['digest']}")
        if platform is not None:
            got = _normal(Platform(str(config.get("os", "")), str(config.get("architecture", "")), str(config.get("variant", "") or "")))
            if (got.os, got.arch) != (want.os, want.arch):
                raise LintimgError(f"{what}: the image is {got}, not {want}")
        return doc, digest, config
    raise LintimgError(f"{what}: indexes nested too deeply")


def check_layer_count(n: int, what: str) -> None:
    if n > limits.MAX_LAYERS:
        raise LintimgError(f"{what}: {n} layers (limit {limits.MAX_LAYERS})")


def diff_ids(config: dict[str, Any], what: str) -> list[str]:
    ids = mapping(config, "rootfs").get("diff_ids")
    if not isinstance(ids, list):
        raise LintimgError(f"{what}: config has no rootfs.diff_ids")
    check_layer_count(len(ids), what)
    return [check_digest(d, what) for d in ids]


def layer_sources(
    manifest: dict[str, Any],
    config: dict[str, Any],
    opener: Callable[[dict[str, Any]], Callable[[], BinaryIO]],
    what: str,
) -> list[LayerSource]:
    """The manifest's layers paired with the config's diff_ids, each with a way to open its blob."""
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        raise LintimgError(f"{what}: manifest has no layers list")
    check_layer_count(len(layers), what)
    ids = diff_ids(config, what)
    if len(ids) != len(layers):
        raise LintimgError(f"{what}: manifest lists {len(layers)} layers but the config has {len(ids)} diff_ids")
    out = []
    for i, (desc, diff_id) in enumerate(zip(layers, ids)):
        if not isinstance(desc, dict):
            raise LintimgError(f"{what}: layer {i} is not a descriptor")
        digest = check_digest(desc.get("digest", ""), what)
        size = desc.get("size") or 0
        if not isinstance(size, int) or size < 0:
            raise LintimgError(f"{what}: layer {i} has an invalid size {size!r}")
        out.append(LayerSource(i, digest, diff_id, size, str(desc.get("mediaType") or ""), opener(desc)))
    return out


def platform_of(config: dict[str, Any]) -> str:
    return "/".join(str(p) for p in (config.get("os"), config.get("architecture"), config.get("variant")) if p)
