"""Baselines: accept today's findings, report only new ones.

A baseline file (``lintimg baseline … -o .lintimg-baseline.json``) records one
entry per finding: its fingerprint (:func:`lintimg.reports.places.fingerprints`,
computed with paths relative to the baseline file's folder, so it matches from
any working directory), and for people reading it the rule, the file and the
Dockerfile or image it was found through. The format is documented in
docs/baseline.md.

Applying it drops every finding whose fingerprint is in the file; entries of
the targets this run checked that matched nothing are *stale* (the problem was
fixed or its instruction changed) and are counted, so a team knows when to
re-write the baseline.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lintimg.errors import LintimgError
from lintimg.findings import Finding
from lintimg.reports import RunInfo
from lintimg.reports.places import artifact_path, fingerprints

VERSION = 1
DEFAULT_FILE = ".lintimg-baseline.json"


def _root(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def _rel(path: str | None, root: str) -> str:
    if not path or path == "-":
        return path or ""
    return artifact_path(os.path.relpath(os.path.abspath(path), root)) if not path.startswith("<") else path


def document(findings: list[Finding], info: RunInfo, path: str, tool_version: str = "") -> dict[str, Any]:
    """The baseline for ``findings`` as written to ``path``."""
    root = _root(path)
    entries = [
        {"fingerprint": fp, "rule": f.rule_id, "file": _rel(f.location.path, root), "target": _rel(f.target or f.location.path, root)}
        for f, fp in zip(findings, fingerprints(findings, info, root))
    ]
    entries.sort(key=lambda e: (e["target"], e["file"], e["rule"], e["fingerprint"]))
    return {"version": VERSION, "tool": {"name": "lintimg", "version": tool_version}, "findings": entries}


def write(findings: list[Finding], info: RunInfo, path: str, shown: Callable[[list[str]], list[str]] | None = None) -> int:
    """Write the baseline of ``findings`` to ``path``; returns the number of entries. ``shown`` masks the file
    names it records for people (the redaction layer's; fingerprints are hashes and stay as computed)."""
    doc = document(findings, info, path, info.tool_version)
    if shown is not None:
        names = sorted({e[k] for e in doc["findings"] for k in ("file", "target")})
        safe = dict(zip(names, shown(names)))
        for e in doc["findings"]:
            e["file"], e["target"] = safe[e["file"]], safe[e["target"]]
    try:
        Path(path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        raise LintimgError(f"{path}: cannot write baseline: {e.strerror or e}") from None
    return len(doc["findings"])


@dataclass
class Applied:
    kept: list[Finding]
    baselined: int
    stale: int


def load(path: str) -> list[dict[str, str]]:
    """The entries of a baseline file; a missing, unreadable or malformed one is a usage error."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LintimgError(f"{path}: baseline file not found (write one with `lintimg baseline -o {path}`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise LintimgError(f"{path}: cannot read baseline: {e}") from None
    except ValueError as e:
        raise LintimgError(f"{path}: baseline is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("findings"), list):
        raise LintimgError(f"{path}: not a lintimg baseline (version {VERSION} with a findings list)")
    entries: list[dict[str, str]] = doc["findings"]
    if not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise LintimgError(f"{path}: every baseline entry needs a fingerprint")
    return entries


def apply(findings: list[Finding], info: RunInfo, path: str) -> Applied:
    """Drop the findings the baseline at ``path`` holds; count them and the stale entries."""
    entries = load(path)
    root = _root(path)
    known = {e["fingerprint"] for e in entries}
    kept, matched = [], set()
    for f, fp in zip(findings, fingerprints(findings, info, root)):
        if fp in known:
            matched.add(fp)
        else:
            kept.append(f)
    checked = {_rel(t, root) for t in info.files} | {_rel(f.target, root) for f in findings if f.target}
    stale = sum(1 for e in entries if e["fingerprint"] not in matched and e.get("target") in checked)
    return Applied(kept, len(findings) - len(kept), stale)
