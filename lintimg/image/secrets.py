"""Secrets in images: the per-layer analyzer the reader runs while streaming, and the config's text.

Every layer is scanned, base layers included, deleted and overwritten files
included, and files inside archives in layers (:mod:`lintimg.image.archives`);
plus the config: each ``Env`` entry and label by its key, and each history
``created_by`` — its build arguments (``|2 NPM_TOKEN=… /bin/sh -c …``) by
name, and the command itself. A file with a secret carries its content
digests, so that a file a package manager installed unchanged can be told
from the user's (:mod:`lintimg.image.packages`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lintimg.image.archives import ARCHIVE_NAMES, ArchiveLimits, kind, walk
from lintimg.image.model import EntryType, LayerEntry
from lintimg.image.packages import FileDigests
from lintimg.secrets.hit import SecretHit
from lintimg.secrets.scanner import MIN_FILE_SIZE, SecretScanner

# Bump when what the analyzer records for the same bytes and policy changes (a layer cache key part).
VERSION = "2"
ARCHIVES = ArchiveLimits(depth=3)


@dataclass(frozen=True)
class ImageSecret:
    """A secret in an image: in a layer file (``source="file"``) or the config."""

    place: str  # in-image path ("app/x.tgz!/conf/.env" inside an archive), or "Env", "Labels", "history"
    layer: int | None  # the layer of a file; None for the config
    hit: SecretHit
    source: str = "file"  # "file", "env", "label", "build-arg" or "history"
    key: str = ""  # the ENV, LABEL or build-argument name
    history: int | None = None  # the history entry (build args, commands)
    digests: FileDigests | None = None  # of the layer file (the archive, for a member)

    @property
    def path(self) -> str:
        """The layer file that holds it (the archive, for a member)."""
        return self.place.split("!/", 1)[0]


class SecretsAnalyzer:
    """The per-layer analyzer the image reader runs while streaming: ``Image.analysis["secrets"]``.

    Its cache key is the scanner's (detector set and policy) with the archive
    limits, so layer results cached under one policy are never served to another.
    """

    name = "secrets"

    def __init__(self, scanner: SecretScanner, archives: ArchiveLimits = ARCHIVES) -> None:
        self.scanner = scanner
        self.archives = archives
        self.key = (f"secrets:{VERSION}:{scanner.key}:{archives.depth}:{archives.max_members}:{archives.max_member}:{archives.max_expanded}"
                    f":{archives.max_directory}")

    def wants(self, entry: LayerEntry) -> bool:
        """A regular file within policy: text-sized, or an archive up to the archive budget."""
        path, etype, size = entry[:3]
        if size < MIN_FILE_SIZE or etype is not EntryType.FILE:
            return False
        if size > self.scanner.max_file_size and not (size <= self.archives.max_expanded and ARCHIVE_NAMES.search(path)):
            return False
        return not self.scanner.excluded(path)

    def prefilter(self, paths: Sequence[str], largest: int) -> Iterable[int]:
        """All of ``paths``, or none when they are all smaller than any secret (see ``LayerAnalyzer``)."""
        return range(len(paths)) if largest >= MIN_FILE_SIZE else ()

    def analyse(self, layer: int, entry: LayerEntry, data: bytes) -> list[Any]:
        found: list[tuple[str, SecretHit]] = []
        if kind(data) is not None:
            for place, content in walk(data, entry.path, self.archives):
                found += [(place, h) for h in self.scanner.scan_bytes(content, place.rsplit("!/", 1)[1])]
        elif len(data) <= self.scanner.max_file_size:
            found = [(entry.path, h) for h in self.scanner.scan_bytes(data, entry.path)]
        if not found:
            return []
        digests = FileDigests.of(data)
        return [ImageSecret(place, layer, h, digests=digests) for place, h in found]

    def dump(self, items: list[Any]) -> Any:
        out = []
        for s in items:
            d = s.digests
            out.append([s.place, s.hit.row(), [d.md5, d.sha1, d.sha256] if d else None])
        return out

    def load(self, data: Any, layer: int) -> list[Any]:
        return [ImageSecret(str(place), layer, SecretHit.from_row(row), digests=FileDigests(*map(str, d)) if d else None)
                for place, row, d in data]


def analyzer(scanner: SecretScanner) -> SecretsAnalyzer:
    """The secrets analyzer for ``scanner``'s policy."""
    return SecretsAnalyzer(scanner)


# "|2 A=1 B=two /bin/sh -c …": the build arguments a builder records before a RUN
_BUILD_ARGS = re.compile(r"^\|(\d+)\s+")


def build_args(created_by: str) -> tuple[list[tuple[str, str]], str]:
    """The ``(name, value)`` build arguments recorded in a history line, and the rest of the line."""
    text = created_by.removeprefix("RUN ")
    m = _BUILD_ARGS.match(text)
    if not m:
        return [], created_by
    rest = text[m.end():]
    args = []
    for _ in range(int(m.group(1))):
        word, _, rest = rest.partition(" ")
        key, eq, value = word.partition("=")
        if eq:
            args.append((key, value))
    return args, rest


def scan_config(scanner: SecretScanner, config: dict[str, Any]) -> list[ImageSecret]:
    """Secrets in an image config: each ``Env`` entry and label by key, and each history line's
    build arguments (by name) and command."""
    cfg = config.get("config") or {}
    out: list[ImageSecret] = []
    for kv in cfg.get("Env") or []:
        key, eq, value = str(kv).partition("=")
        if eq and value:
            out += [ImageSecret("Env", None, h, "env", key) for h in scanner.scan_text(f"{key}={value}")]
    for key, value in (cfg.get("Labels") or {}).items():
        if value:
            out += [ImageSecret("Labels", None, h, "label", str(key)) for h in scanner.scan_text(f"{key}={value}")]
    for i, entry in enumerate(config.get("history") or []):
        args, command = build_args(str(entry.get("created_by") or ""))
        for key, value in args:
            out += [ImageSecret("history", None, h, "build-arg", key, i) for h in scanner.scan_text(f"{key}={value}") if value]
        out += [ImageSecret("history", None, h, "history", "", i) for h in scanner.scan_text(command)]
    return out
