"""``docker-archive:`` (all three ``docker save`` layouts) and ``oci-archive:``.

The archive is read in place: one pass over its tar headers indexes the
members (containerd-store archives put ``manifest.json`` last, so order is
never assumed), then each blob is read from its byte range. Nothing is
extracted; member names are only dictionary keys.
"""
from __future__ import annotations

import io
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

import zstandard

from lintimg import limits
from lintimg.dockerfile.reference import DockerRef, parse_docker_ref
from lintimg.errors import LintimgError
from lintimg.image import oci
from lintimg.image.ocilayout import open_layout, read_blob
from lintimg.image.reader import GZIP_MAGIC, ZSTD_MAGIC, LayerSource

_BLOB_PATH = re.compile(r"^blobs/(sha256|sha512)/([0-9a-f]{64}|[0-9a-f]{128})$")
_LEGACY_CONFIG = re.compile(r"^([0-9a-f]{64})\.json$")


class _Region(io.IOBase):
    """A read-only window [offset, offset+size) of a file."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        super().__init__()
        self._f = open(path, "rb")
        self._f.seek(offset)
        self._left = size

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self._left:
            n = self._left
        data = self._f.read(n)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._f.close()
        super().close()


class TarStore:
    """Regular-file members of a tar on disk, indexed by normalised name."""

    def __init__(self, path: str, what: str) -> None:
        self.path = path
        self.members: dict[str, tuple[int, int]] = {}
        links: dict[str, str] = {}
        try:
            with tarfile.open(path, "r:") as tar:
                while (m := tar.next()) is not None:
                    tar.members.clear()  # type: ignore[attr-defined]  # the list tarfile keeps; its stubs do not declare it
                    name = posixpath.normpath(m.name.lstrip("/"))
                    if m.isreg():
                        self.members[name] = (m.offset_data, m.size)
                    elif m.issym():  # legacy saves link a layer shared by two images to its first copy
                        links[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
                    elif m.islnk():
                        links[name] = posixpath.normpath(m.linkname.lstrip("/"))
        except (tarfile.TarError, OSError) as e:
            raise LintimgError(f"{what}: not a readable tar archive ({e})") from None
        for name, target in links.items():
            for _ in range(8):  # resolved inside the archive's own names, never on disk
                target = links.get(target, target)
            if target in self.members and name not in self.members:
                self.members[name] = self.members[target]
        end = os.path.getsize(path)
        for name, (off, size) in self.members.items():
            if off + size > end:
                raise LintimgError(f"{what}: archive is truncated ({name} runs past the end)")

    def has(self, name: str) -> bool:
        return name in self.members

    def open_member(self, name: str) -> Callable[[], BinaryIO]:
        off, size = self.members[name]
        return lambda: _Region(self.path, off, size)  # type: ignore[return-value]

    def read_member(self, name: str, what: str) -> bytes:
        off, size = self.members[name]
        if size > oci.MAX_JSON:
            raise LintimgError(f"{what}: {name} is {size} bytes, too big for a manifest or config")
        with _Region(self.path, off, size) as r:
            return r.read()

    # BlobStore protocol, for OCI layouts inside the archive
    def size(self, digest: str) -> int | None:
        algo, _, hexd = digest.partition(":")
        m = self.members.get(f"blobs/{algo}/{hexd}")
        return None if m is None else m[1]

    def opener(self, digest: str) -> Callable[[], BinaryIO]:
        algo, _, hexd = digest.partition(":")
        return self.open_member(f"blobs/{algo}/{hexd}")


def plain_tar(path: str, tmpdir: str, what: str) -> str:
    """The archive itself, or a decompressed copy in ``tmpdir`` when it was gzip/zstd-compressed (needs seeking).

    The copy is bounded: at most :data:`lintimg.limits.MAX_TEMP` bytes, and no more than
    :data:`lintimg.limits.ARCHIVE_RATIO` times the compressed size once past
    :data:`lintimg.limits.ARCHIVE_RATIO_FLOOR` (an archive of compressed layers hardly compresses
    again; a bomb of zeros stops within a second, not after filling the disk). Zero-filled stretches
    are skipped, not written (the copy is sparse). The caller's temp folder is removed on any exit,
    SIGTERM and SIGINT included (the CLI turns them into exceptions).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise LintimgError(f"{what}: cannot read ({e.strerror or e})") from None
    if head[:3] != GZIP_MAGIC and head != ZSTD_MAGIC:
        return path
    out = os.path.join(tmpdir, "archive.tar")
    try:
        with open(path, "rb") as src, open(out, "wb") as dst:
            compressed = os.fstat(src.fileno()).st_size
            if head == ZSTD_MAGIC:
                reader: Any = zstandard.ZstdDecompressor().stream_reader(src, read_across_frames=True)
            else:
                import gzip

                reader = gzip.GzipFile(fileobj=src)
            with reader:
                written = 0
                while chunk := reader.read(1 << 20):
                    limits.check_clock()
                    written += len(chunk)
                    if written > limits.MAX_TEMP or (written > limits.ARCHIVE_RATIO_FLOOR and written > limits.ARCHIVE_RATIO * compressed):
                        raise LintimgError(f"{what}: the compressed archive expands more than {limits.ARCHIVE_RATIO:g}x "
                                           f"(or past {limits.MAX_TEMP} bytes): a decompression bomb? (limit)")
                    if chunk.count(0) == len(chunk):
                        dst.seek(len(chunk), os.SEEK_CUR)
                    else:
                        dst.write(chunk)
                dst.truncate(written)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
        raise LintimgError(f"{what}: corrupt compressed archive ({e})") from None
    return out


def _tags(entry: dict[str, Any]) -> list[str]:
    return [t for t in oci.as_list(entry.get("RepoTags")) if isinstance(t, str)]


def _ref(tag: str) -> DockerRef | None:
    """A RepoTags entry from an untrusted manifest.json, normalised; None when invalid."""
    try:
        return parse_docker_ref(tag)
    except LintimgError:
        return None


def _pick(entries: list[dict[str, Any]], selector: str, what: str) -> dict[str, Any]:
    if selector.startswith("@"):
        try:
            return entries[int(selector[1:])]
        except (ValueError, IndexError):
            raise LintimgError(f"{what}: no image {selector} (the archive holds {len(entries)})") from None
    if selector:
        want = parse_docker_ref(selector)
        for e in entries:
            for tag in _tags(e):
                if tag == selector or _ref(tag) == want:
                    return e
        raise LintimgError(f"{what}: no image tagged {selector!r} in the archive")
    if len(entries) != 1:
        tags = ", ".join(t for e in entries for t in _tags(e)) or "untagged"
        raise LintimgError(f"{what}: the archive holds {len(entries)} images ({tags}); name one as {what}:REF or {what}:@N")
    return entries[0]


def _from_manifest_json(store: TarStore, selector: str, what: str, fallback_name: str) -> oci.Resolved:
    data = store.read_member("manifest.json", what)
    entries = oci.load_json(data, f"{what}: manifest.json", list)
    if not entries or not all(isinstance(e, dict) for e in entries):
        raise LintimgError(f"{what}: manifest.json is not a list of images")
    entry = _pick(entries, selector, what)
    cfg_name = posixpath.normpath(str(entry.get("Config", "")).lstrip("/"))
    if not store.has(cfg_name):
        raise LintimgError(f"{what}: manifest.json names a missing config {cfg_name}")
    raw = store.read_member(cfg_name, what)
    if m := _BLOB_PATH.match(cfg_name):
        oci.verify(raw, f"{m[1]}:{m[2]}", f"{what}: {cfg_name}")
    elif m := _LEGACY_CONFIG.match(posixpath.basename(cfg_name)):
        oci.verify(raw, f"sha256:{m[1]}", f"{what}: {cfg_name}")
    config = oci.load_json(raw, f"{what}: {cfg_name}")
    layers = entry.get("Layers")
    if not isinstance(layers, list):
        raise LintimgError(f"{what}: manifest.json entry has no Layers")
    oci.check_layer_count(len(layers), what)
    ids = oci.diff_ids(config, what)
    if len(ids) != len(layers):
        raise LintimgError(f"{what}: manifest.json lists {len(layers)} layers but the config has {len(ids)} diff_ids")
    sources = []
    for i, (name, diff_id) in enumerate(zip(layers, ids)):
        name = posixpath.normpath(str(name).lstrip("/"))
        if not store.has(name):
            raise LintimgError(f"{what}: manifest lists a missing blob {name}")
        m = _BLOB_PATH.match(name)
        # legacy layer.tar paths carry no digest; the diff_id check still covers their bytes
        digest = f"{m[1]}:{m[2]}" if m else ""
        sources.append(LayerSource(i, digest, diff_id, store.members[name][1], "", store.open_member(name)))
    name = next((r.name for t in _tags(entry) if (r := _ref(t))), fallback_name)
    return oci.Resolved(_manifest_digest(store, entry, what), config, sources, name)


def _manifest_digest(store: TarStore, entry: dict[str, Any], what: str) -> str | None:
    """The image manifest's digest when the archive's OCI index leads to this config (Docker 25+, containerd)."""
    if not store.has("index.json"):
        return None
    cfg = posixpath.normpath(str(entry.get("Config", "")))
    try:
        pending = oci.as_list(oci.load_json(store.read_member("index.json", what), what).get("manifests"))
        for _ in range(64):  # nested indexes, bounded
            if not pending:
                break
            d = pending.pop()
            digest = d.get("digest", "")
            if store.size(oci.check_digest(digest, what)) is None:
                continue
            doc = oci.load_json(read_blob(store, digest, what), what)
            pending.extend(oci.as_list(doc.get("manifests")))
            algo, _, hexd = str(oci.mapping(doc, "config").get("digest", "")).partition(":")
            if f"blobs/{algo}/{hexd}" == cfg:
                return str(digest)
    except (LintimgError, AttributeError, TypeError):
        pass  # informative only: manifest.json already gave us the image
    return None


def _open_tar(path: str, tmpdir: str, what: str) -> TarStore:
    if not os.path.isfile(path):
        raise LintimgError(f"{what}: no such file")
    return TarStore(plain_tar(path, tmpdir, what), what)


def open_docker_archive(path: str, selector: str, platform: str | None, tmpdir: str, what: str = "") -> oci.Resolved:
    what = what or f"docker-archive:{path}"
    store = _open_tar(path, tmpdir, what)
    if store.has("manifest.json"):
        return _from_manifest_json(store, selector, what, os.path.basename(path))
    if store.has("index.json"):  # a containerd-store export told to skip manifest.json
        return open_layout(store, store.read_member("index.json", what), selector, platform, what, os.path.basename(path))
    raise LintimgError(f"{what}: not a docker save archive (no manifest.json or index.json)")


def open_oci_archive(path: str, selector: str, platform: str | None, tmpdir: str) -> oci.Resolved:
    what = f"oci-archive:{path}"
    store = _open_tar(path, tmpdir, what)
    if not store.has("index.json"):
        raise LintimgError(f"{what}: not an OCI image layout archive (no index.json)")
    return open_layout(store, store.read_member("index.json", what), selector, platform, what, os.path.basename(path))
