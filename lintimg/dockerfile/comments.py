"""The comment forms lintimg and its peers read in Dockerfiles: suppression pragmas and ``# hadolint shell=``.

Only the syntax lives here; :mod:`lintimg.engine.pragmas` resolves the ids
they name against the loaded rules.
"""
from __future__ import annotations

import re

from lintimg.dockerfile.model import Dockerfile

OURS = re.compile(r"^lintimg\s+(?:(global|stage)\s+)?ignore\s*=\s*([A-Za-z0-9_,\- ]+?)(?:\s+(.*))?$", re.I)
HADOLINT_IGNORE = re.compile(r"^hadolint\s+(?:(global|stage)\s+)?ignore\s*=\s*([A-Za-z0-9_, ]+?)(?:\s+#.*|\s*)$", re.I)
HADOLINT_SHELL = re.compile(r"^hadolint\s+shell\s*=\s*(\S+)", re.I)
CHECK = re.compile(r"^check\s*=\s*(\S+)", re.I)
TRIVY = re.compile(r"^trivy:ignore:(\S+)", re.I)
CHECKOV = re.compile(r"^checkov:skip=([A-Z0-9_]+)", re.I)


def is_ignore_pragma(text: str) -> bool:
    """True for a comment (text after ``#``) that suppresses findings, in any syntax we honour."""
    return any(r.match(text) for r in (OURS, HADOLINT_IGNORE, CHECK, TRIVY, CHECKOV))


def shell_pragma(df: Dockerfile) -> str | None:
    """The shell a ``# hadolint shell=…`` comment declares for the file, if any."""
    for c in df.comments:
        m = HADOLINT_SHELL.match(c.text)
        if m:
            return m.group(1)
    return None
