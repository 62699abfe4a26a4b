"""``../shared`` next to the repository: the corpus, the peers' test cases, the SARIF schema, research notes.

A clone without it runs every other test. Tests that need it call
:func:`need` (or take the ``shared`` marker): they skip with a reason that
says what is missing and where it was looked for, and FAIL instead when
``LINTIMG_REQUIRE_SHARED=1`` (CI sets it, as it sets LINTIMG_REQUIRE_ENGINE),
so a CI run without it can never pass for a complete one.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
GOLD = CORPUS / "binnacle-icse2020-gold"
ORACLE = SHARED / "oracle"
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
NOTES = SHARED / "notes" / "peer-rules.md"


def required() -> bool:
    return os.environ.get("LINTIMG_REQUIRE_SHARED") == "1"


def need(path: Path, what: str) -> Path:
    """``path`` under ../shared, or skip (fail when required) saying what is missing."""
    if not path.exists():
        why = f"{what} not found at {path} (clone the repository next to ../shared to run this test)"
        if required():
            pytest.fail(f"LINTIMG_REQUIRE_SHARED=1 but {why}", pytrace=False)
        pytest.skip(why)
    return path
