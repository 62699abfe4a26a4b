"""Secrets in images: the per-layer analyzer the reader runs while streaming, and the config's text.

Every layer is scanned, base layers included, deleted and overwritten files
included, plus ``Env``, ``Labels`` and ``history[].created_by``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lintimg.image.model import EntryType, LayerEntry
from lintimg.secrets.detect import SecretHit
from lintimg.secrets.scanner import MIN_FILE_SIZE, SecretScanner, assignment


@dataclass(frozen=True)
class ImageSecret:
    """A secret in an image: a file in a layer, or the config (``source`` says which)."""

    path: str  # in-image path, or "config.Env" / "config.Labels" / "history[N]"
    layer: int | None  # layer index for files, None for the config
    hit: SecretHit
    source: str = "file"  # "file", "env", "label" or "history"


def wants(scanner: SecretScanner, entry: LayerEntry) -> bool:
    """Whether a layer entry is worth reading: a regular file within policy."""
    return entry.type is EntryType.FILE and MIN_FILE_SIZE <= entry.size <= scanner.max_file_size and not scanner.excluded(entry.path)


def scan_entry(scanner: SecretScanner, layer_index: int, entry: LayerEntry, data: bytes) -> list[ImageSecret]:
    return [ImageSecret(entry.path, layer_index, h) for h in scanner.scan_bytes(data, entry.path)]


class SecretsAnalyzer:
    """The per-layer analyzer the image reader runs while streaming: ``Image.analysis["secrets"]``.

    Its cache key is the scanner's (detector set and policy), so layer results
    cached under one policy are never served to another.
    """

    name = "secrets"

    def __init__(self, scanner: SecretScanner) -> None:
        self.scanner = scanner
        self.key = f"secrets:{scanner.key}"

    def wants(self, entry: LayerEntry) -> bool:
        return wants(self.scanner, entry)

    def analyse(self, layer: int, entry: LayerEntry, data: bytes) -> list[Any]:
        return scan_entry(self.scanner, layer, entry, data)

    def dump(self, items: list[Any]) -> Any:
        return [[s.path, s.source, s.hit.detector, s.hit.line, s.hit.redacted, s.hit.fingerprint] for s in items]

    def load(self, data: Any, layer: int) -> list[Any]:
        return [ImageSecret(str(path), layer, SecretHit(str(det), int(line), str(red), str(fp)), str(source))
                for path, source, det, line, red, fp in data]


def analyzer(scanner: SecretScanner) -> SecretsAnalyzer:
    """The secrets analyzer for ``scanner``'s policy."""
    return SecretsAnalyzer(scanner)


def scan_config(scanner: SecretScanner, config: dict[str, Any]) -> list[ImageSecret]:
    """Secrets in an image config: ``Env``, ``Labels`` and ``history[].created_by``."""
    cfg = config.get("config") or {}
    out: list[ImageSecret] = []
    for kv in cfg.get("Env") or []:
        out += [ImageSecret("config.Env", None, h, "env") for h in scanner.scan_text(assignment(kv), "")]
    for k, v in (cfg.get("Labels") or {}).items():
        out += [ImageSecret("config.Labels", None, h, "label") for h in scanner.scan_text(assignment(f"{k}={v}"), "")]
    for i, h in enumerate(config.get("history") or []):
        text = h.get("created_by") or ""
        out += [ImageSecret(f"history[{i}]", None, hit, "history") for hit in scanner.scan_text(text, "")]
    return out
