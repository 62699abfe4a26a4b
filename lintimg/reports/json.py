"""Machine output; the schema is documented in docs/json-format.md and versioned."""
from __future__ import annotations

import json
from dataclasses import asdict

from lintimg.findings import Finding
from lintimg.reports import RunInfo

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict:
    loc = f.location
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
    }
    if f.image is not None:
        d["image"] = asdict(f.image)
    if f.properties:
        d["properties"] = f.properties
    return d


def render(findings: list[Finding], info: RunInfo) -> str:
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lintimg", "version": info.tool_version},
        "kind": info.kind,
        "image": info.image,
        "files": info.files,
        "findings": [finding_dict(f) for f in findings],
        "notes": info.notes,
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
