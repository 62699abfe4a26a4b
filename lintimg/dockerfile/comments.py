"""The comment forms lintimg and its peers read in Dockerfiles: suppression pragmas and ``# hadolint shell=``.

Only the syntax lives here; :mod:`lintimg.engine.pragmas` resolves the ids
they name against the loaded rules.
"""
from __future__ import annotations

import re

from lintimg.dockerfile.model import Dockerfile

OURS = re.compile(r"^lintimg\s+(?:(global|stage)\s+)?ignore\s*=\s*([A-Za-z0-9_,\- ]+?)(?:\s+(.*))?$", re.I)
# hadolint's pragma, as hadolint 2.15 reads it (checked against the binary): the word "hadolint" in lower
# case, an id list, then at most a "#" comment. HADOLINT_IGNORE finds the pragma; its id list only counts
# when it is all well-formed ids (DL or SC and digits, upper case, comma-separated): otherwise hadolint
# applies none of it, and neither do we. A well-formed id that names no rule does not void the rest.
HADOLINT_IGNORE = re.compile(r"^hadolint\s+(?:(global|stage)\s+)?ignore\s*=\s*([^#]*?)\s*(?:#.*)?$")
HADOLINT_IDS = re.compile(r"^(?:DL|SC)\d+(?:\s*,\s*(?:DL|SC)\d+)*$")
HADOLINT_SHELL = re.compile(r"^hadolint\s+shell\s*=\s*(\S+)", re.I)
CHECK = re.compile(r"^check\s*=\s*(\S+)", re.I)
TRIVY = re.compile(r"^trivy:ignore:(\S+)", re.I)
CHECKOV = re.compile(r"^checkov:skip=([A-Z0-9_]+)", re.I)


def is_ignore_pragma(text: str) -> bool:
    """True for a comment (text after ``#``) that suppresses findings, in any syntax we honour."""
    return any(r.match(text) for r in (OURS, HADOLINT_IGNORE, CHECK, TRIVY, CHECKOV))


def hadolint_ignored(text: str) -> tuple[str | None, list[str], list[str]] | None:
    """For a ``# hadolint [global] ignore=…`` comment: ``(scope, ids, malformed ids)``; ``ids`` is empty
    when any id is malformed (the whole pragma is void). ``None`` for any other comment."""
    m = HADOLINT_IGNORE.match(text)
    if m is None:
        return None
    raw = m.group(2)
    items = [x.strip() for x in raw.split(",")]
    if HADOLINT_IDS.match(raw):
        return m.group(1), items, []
    return m.group(1), [], [x for x in items if not re.fullmatch(r"(?:DL|SC)\d+", x)] or [raw]


def shell_pragma(df: Dockerfile) -> str | None:
    """The shell a ``# hadolint shell=…`` comment declares for the file, if any."""
    for c in df.comments:
        m = HADOLINT_SHELL.match(c.text)
        if m:
            return m.group(1)
    return None
