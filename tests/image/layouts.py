"""Re-pack a legacy ``docker save`` archive into the other layouts, from the same layers.

The engine here writes only the legacy layout; Docker 25+ (OCI layout plus
manifest.json, uncompressed blobs) and containerd-store exports (compressed
original blobs, a multi-platform index, entries sorted by name so
manifest.json comes last) are built from its layers as notes §3.5 describe.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass

import zstandard

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Legacy:
    config: bytes
    layers: list[bytes]  # uncompressed layer tars, apply order
    repo_tags: list[str]


def read_legacy(path: str) -> Legacy:
    with tarfile.open(path) as t:
        man = json.load(t.extractfile("manifest.json"))[0]
        config = t.extractfile(man["Config"]).read()
        layers = [t.extractfile(name).read() for name in man["Layers"]]
    return Legacy(config, layers, man.get("RepoTags") or [])


def compress(data: bytes, how: str) -> tuple[bytes, str]:
    if how == "gzip":
        return gzip.compress(data, 6), LAYER + "+gzip"
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data), LAYER + "+zstd"
    return data, LAYER


def blob_path(d: str) -> str:
    return "blobs/sha256/" + d.split(":", 1)[1]


def build_layout(
    legacy: Legacy,
    *,
    compression: list[str] | None = None,
    manifest_json: bool = True,
    multi_platform: bool = False,
    ref_name: str = "1",
) -> dict[str, bytes]:
    """Files of an OCI layout for the legacy image: name -> bytes."""
    files: dict[str, bytes] = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}'}
    comps = compression or ["none"] * len(legacy.layers)
    descs = []
    for data, how in zip(legacy.layers, comps):
        blob, media = compress(data, how)
        files[blob_path(digest(blob))] = blob
        descs.append({"mediaType": media, "digest": digest(blob), "size": len(blob)})
    files[blob_path(digest(legacy.config))] = legacy.config
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(legacy.config), "size": len(legacy.config)},
        "layers": descs,
    }).encode()
    files[blob_path(digest(manifest))] = manifest
    full = legacy.repo_tags[0] if legacy.repo_tags else "example.com/img:1"
    ann = {"io.containerd.image.name": full, "org.opencontainers.image.ref.name": ref_name}
    mdesc = {"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest)}
    if multi_platform:
        # another platform whose blobs were not exported, and a BuildKit attestation
        absent = {"mediaType": OCI_MANIFEST, "digest": digest(b"absent"), "size": 6, "platform": {"os": "linux", "architecture": "s390x"}}
        att_body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(b"{}"), "size": 2}, "layers": []}).encode()
        files[blob_path(digest(att_body))] = att_body
        files[blob_path(digest(b"{}"))] = b"{}"
        att = {"mediaType": OCI_MANIFEST, "digest": digest(att_body), "size": len(att_body), "platform": {"os": "unknown", "architecture": "unknown"},
               "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": digest(manifest)}}
        cfg = json.loads(legacy.config)
        here = {**mdesc, "platform": {"os": cfg["os"], "architecture": cfg["architecture"]}}
        inner = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [absent, att, here]}).encode()
        files[blob_path(digest(inner))] = inner
        top = {"mediaType": OCI_INDEX, "digest": digest(inner), "size": len(inner), "annotations": ann}
    else:
        top = {**mdesc, "annotations": ann}
    files["index.json"] = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]}).encode()
    if manifest_json:
        files["manifest.json"] = json.dumps([{
            "Config": blob_path(digest(legacy.config)),
            "RepoTags": legacy.repo_tags,
            "Layers": [blob_path(d["digest"]) for d in descs],
        }]).encode()
    return files


def write_tar(files: dict[str, bytes], path: str, order: list[str] | None = None) -> str:
    with tarfile.open(path, "w") as t:
        for name in order or sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            t.addfile(info, io.BytesIO(files[name]))
    return path


def write_dir(files: dict[str, bytes], root: str) -> str:
    for name, data in files.items():
        p = os.path.join(root, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return root


def tar_bytes(specs: list[tuple]) -> bytes:
    """A layer tar from (name, kind, payload[, mode]): kind file|dir|symlink|hardlink; payload bytes or link target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, payload, *mode in specs:
            info = tarfile.TarInfo(name)
            info.mode = mode[0] if mode else 0o644
            if kind == "file":
                info.size = len(payload)
                t.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
            info.linkname = payload or ""
            t.addfile(info)
    return buf.getvalue()


def legacy_archive(layers: list[bytes], path: str, *, diff_ids: list[str] | None = None, history: list[dict] | None = None,
                   drop: int | None = None) -> str:
    """A legacy docker-save archive of the given layer tars (layer ``drop`` listed but left out)."""
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids or [digest(blob) for blob in layers]},
        "history": history or [{"created_by": f"layer {i}"} for i in range(len(layers))],
    }).encode()
    files = {f"{digest(config)[7:]}.json": config}
    names = []
    for i, data in enumerate(layers):
        name = f"{i:064x}/layer.tar"
        names.append(name)
        if i != drop:
            files[name] = data
    files["manifest.json"] = json.dumps([{"Config": f"{digest(config)[7:]}.json", "RepoTags": ["example.com/hostile:1"], "Layers": names}]).encode()
    return write_tar(files, path)


def layout_from_blobs(blobs: list[bytes], diff_ids: list[str], media: str = LAYER + "+gzip") -> dict[str, bytes]:
    """An OCI layout (name -> bytes) whose layers are the given blobs as-is, possibly broken."""
    config = json.dumps({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', blob_path(digest(config)): config}
    for b in blobs:
        files[blob_path(digest(b))] = b
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": media, "digest": digest(b), "size": len(b)} for b in blobs],
    }).encode()
    files[blob_path(digest(manifest))] = manifest
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest)}]}).encode()
    return files
