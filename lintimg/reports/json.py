"""Machine output; the schema is documented in docs/json-format.md and versioned."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from lintimg.findings import Edit, Finding, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import fingerprints, secret_lines, shown_edits

SCHEMA_VERSION = 1


def finding_dict(f: Finding, edits: tuple[Edit, ...] | None = None) -> dict[str, Any]:
    """A finding as JSON; ``edits``: the ones to show (default all; a report drops those near a secret)."""
    loc = f.location
    shown = f.edits if edits is None else edits
    d = {
        "rule": f.rule_id,
        "slug": f.slug,
        "severity": str(f.severity),
        "message": f.message,
        "file": loc.path,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line if loc.end_line is not None else loc.line,
        "end_column": loc.end_column,
        "fix": f.fix,
        "fix_safety": str(f.safety) if shown else None,
        "edits": [{"line": e.line, "column": e.column, "end_line": e.end_line, "end_column": e.end_column, "text": e.text}
                  for e in shown],
    }
    image = f.image
    if image is not None:
        d["image"] = asdict(image)
    if f.properties:
        d["properties"] = f.properties
    return d


def render(findings: list[Finding], info: RunInfo) -> str:
    items = []
    hidden = secret_lines(findings, info)
    for f, fp in zip(findings, fingerprints(findings, info)):
        d = finding_dict(f, shown_edits(f, hidden))
        d["fingerprint"] = fp  # the SARIF primaryLocationLineHash: stable across unrelated edits
        items.append(d)
    counts = {str(s): sum(1 for f in findings if f.severity == s) for s in sorted(Severity, reverse=True)}
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lintimg", "version": info.tool_version},
        "kind": info.kind,
        "image": info.image,
        "files": info.files,
        "summary": counts,
        "statistics": dict(sorted(Counter(f.rule_id for f in findings).items())),
        "findings": items,
        "notes": info.notes,
    }
    if info.baseline is not None:
        doc["baseline"] = info.baseline
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
