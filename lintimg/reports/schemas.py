"""JSON Schemas (draft-07) of the JSON report and of ``.lintimg.yaml`` (``lintimg schema report|config``).

The config schema is built from :data:`lintimg.config.KEYS`, the one table of
config keys, so a key added there is in the schema without more work. The
report schema describes what :mod:`lintimg.reports.json` writes; the tests
validate real reports against it, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Any

from lintimg.config import KEYS
from lintimg.findings import Severity

DRAFT = "http://json-schema.org/draft-07/schema#"
SEVERITIES = [str(s) for s in sorted(Severity, reverse=True)]


def config_schema() -> dict[str, Any]:
    """``.lintimg.yaml`` for editors (yaml-language-server, JetBrains): every key, its type and meaning."""
    return {
        "$schema": DRAFT,
        "$id": "https://lintimg.dev/schemas/lintimg-config.json",
        "title": "lintimg configuration (.lintimg.yaml)",
        "type": "object",
        "additionalProperties": False,
        "properties": {key: {**spec.schema, "description": spec.doc} for key, spec in sorted(KEYS.items())},
    }


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


_IMAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["image", "layer_index", "layer_digest", "path", "created_by"],
    "properties": {
        "image": {"type": "string"},
        "layer_index": _nullable("integer"),
        "layer_digest": _nullable("string"),
        "path": _nullable("string"),
        "created_by": _nullable("string"),
    },
}

_FINDING = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rule", "slug", "severity", "message", "file", "line", "column", "end_line", "end_column", "fix", "fix_safety", "edits",
                 "fingerprint"],
    "properties": {
        "rule": {"type": "string", "description": "rule id, e.g. LI001"},
        "slug": {"type": "string"},
        "severity": {"enum": SEVERITIES},
        "message": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "integer", "minimum": 1},
        "end_line": {"type": "integer", "minimum": 1},
        "end_column": {"type": ["integer", "null"], "minimum": 1},
        "fix": _nullable("string"),
        "fix_safety": {"enum": ["safe", "unsafe", None], "description": "safe: `lintimg --fix` applies the edits; unsafe: only with --unsafe-fixes"},
        "edits": {"type": "array", "description": "the exact change that fixes the finding, all or nothing (1-based, code points, end exclusive)",
                  "items": {"type": "object", "additionalProperties": False, "required": ["line", "column", "end_line", "end_column", "text"],
                            "properties": {"line": {"type": "integer", "minimum": 1}, "column": {"type": "integer", "minimum": 1},
                                           "end_line": {"type": "integer", "minimum": 1}, "end_column": {"type": "integer", "minimum": 1},
                                           "text": {"type": "string"}}}},
        "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}:[1-9][0-9]*$",
                        "description": "stable across unrelated edits; what baselines and SARIF partialFingerprints hold"},
        "image": _IMAGE,
        "properties": {"type": "object", "description": "rule-specific data; keys vary by rule"},
    },
}


def report_schema() -> dict[str, Any]:
    """The document ``lintimg --format json`` writes (schema_version 1)."""
    count = {"type": "integer", "minimum": 0}
    return {
        "$schema": DRAFT,
        "$id": "https://lintimg.dev/schemas/lintimg-report-1.json",
        "title": "lintimg JSON report",
        "type": "object",
        "additionalProperties": False,
        "required": ["schema_version", "tool", "kind", "image", "files", "summary", "statistics", "findings", "notes"],
        "properties": {
            "schema_version": {"const": 1},
            "tool": {"type": "object", "additionalProperties": False, "required": ["name", "version"],
                     "properties": {"name": {"const": "lintimg"}, "version": {"type": "string"}}},
            "kind": {"enum": ["dockerfile", "image"]},
            "image": _nullable("string"),
            "files": {"type": "array", "items": {"type": "string"}},
            "summary": {"type": "object", "additionalProperties": False, "required": SEVERITIES, "properties": {s: count for s in SEVERITIES}},
            "statistics": {"type": "object", "additionalProperties": count, "description": "findings by rule id"},
            "baseline": {"type": "object", "additionalProperties": False, "required": ["file", "baselined", "stale"],
                         "properties": {"file": {"type": "string"}, "baselined": count, "stale": count}},
            "findings": {"type": "array", "items": _FINDING},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
    }
