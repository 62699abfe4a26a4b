"""The output folder of a fleet run, which is also what makes a run resumable.

Per image digest (``sha256-<hex>``), under ``images/``:

- ``<digest>.json`` — the JSON report, byte for byte what
  ``lintimg image --format json docker://REPO@DIGEST`` prints;
- ``<digest>.sarif`` — the SARIF report, one run, whose
  ``automationDetails.id`` is this image's own;
- ``<digest>.fleet.json`` — the record the summary is made from (tags, sizes,
  waste, findings per rule and severity). Written last: an image is done when
  its record exists.

Every file is written to a temporary file in the same folder and renamed into
place, so a run killed at any moment leaves whole files or none; the next run
with the same folder skips the digests that have a record made with the same
rules, config and lintimg (the record's ``key``, from :func:`.tasks.image_key`).

:class:`ImageCache` keeps the same results under that key in the layer cache
folder, so a later run into another folder (tomorrow's scan of a registry
whose images mostly did not change) copies them instead of checking again.

At the end: ``summary.json``, ``summary.txt`` and ``fleet.sarif`` (every
image's run in one log).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lintimg.cachefiles import read_json, write_atomic
from lintimg.errors import LintimgError
from lintimg.fleet.tasks import ImageDone


def file_stem(digest: str) -> str:
    algo, _, hexd = digest.partition(":")
    return f"{algo}-{hexd}"


class ResultStore:
    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self.images = self.root / "images"
        try:
            self.images.mkdir(parents=True, exist_ok=True)
            for stale in self.images.glob(".tmp-*"):  # left by a run killed mid-write
                stale.unlink()
        except OSError as e:
            raise LintimgError(f"{root}: cannot write results there ({e.strerror or e})") from None

    def _write(self, path: Path, text: str) -> None:
        try:
            write_atomic(path, text.encode("utf-8"))
        except OSError as e:
            raise LintimgError(f"{path}: cannot write ({e.strerror or e})") from None

    def record(self, digest: str, key: str) -> dict[str, Any] | None:
        """The record of an image an earlier run finished with the same ``key``, or None."""
        doc = read_json(self.images / f"{file_stem(digest)}.fleet.json")
        return doc if isinstance(doc, dict) and doc.get("digest") == digest and doc.get("key") == key else None

    def save(self, done: ImageDone) -> None:
        stem = file_stem(done.digest)
        self._write(self.images / f"{stem}.json", done.report_json)
        self._write(self.images / f"{stem}.sarif", done.report_sarif)
        self._write(self.images / f"{stem}.fleet.json", json.dumps(done.record, indent=1, sort_keys=True) + "\n")

    def write_summary(self, doc: dict[str, Any], text: str) -> None:
        self._write(self.root / "summary.json", json.dumps(doc, indent=2) + "\n")
        self._write(self.root / "summary.txt", text)

    def write_combined_sarif(self, digests: list[str]) -> None:
        """``fleet.sarif``: the run of every image in ``digests`` that has one, in one log."""
        log: dict[str, Any] | None = None
        for d in digests:
            doc = read_json(self.images / f"{file_stem(d)}.sarif")
            if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
                continue
            if log is None:
                log = {k: v for k, v in doc.items() if k != "runs"} | {"runs": []}
            log["runs"] += doc["runs"]
        if log is not None:
            self._write(self.root / "fleet.sarif", json.dumps(log, indent=2, ensure_ascii=False) + "\n")
        else:
            try:
                os.unlink(self.root / "fleet.sarif")
            except FileNotFoundError:
                pass


class ImageCache:
    """Image results by :func:`.tasks.image_key`, under ``<layer cache>/fleet-images/`` (off with the layer cache).

    Entries hold what the output folder holds (reports with secrets redacted, and
    the record); a torn or foreign entry is a miss, and a folder that cannot be
    written only costs speed.
    """

    def __init__(self, cache_root: str, on: bool) -> None:
        self.root = Path(cache_root) / "fleet-images"
        self.on = on

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> ImageDone | None:
        doc = read_json(self._path(key)) if self.on else None
        if not isinstance(doc, dict) or doc.get("key") != key:
            return None
        rec, rj, rs = doc.get("record"), doc.get("report_json"), doc.get("report_sarif")
        if not (isinstance(rec, dict) and rec.get("key") == key and isinstance(rj, str) and isinstance(rs, str)):
            return None
        return ImageDone(rec["digest"], rj, rs, rec, 0, 0)

    def put(self, done: ImageDone) -> None:
        if not self.on:
            return
        key = done.record["key"]
        doc = {"key": key, "record": done.record, "report_json": done.report_json, "report_sarif": done.report_sarif}
        try:
            write_atomic(self._path(key), json.dumps(doc, separators=(",", ":")).encode())
        except OSError:
            pass  # a read-only or full cache folder only costs speed
