"""Where secret values sit in a text: the detectors' side of the redaction layer.

:mod:`lintimg.redaction` masks what a *span finder* reports in every text a
report, error line or note is about to show. This module is the built-in
finder, registered as the plugin ``secrets`` (entry point group
``lintimg``) through the hook ``lintimg_secret_spans(texts)``; another
detector engine plugs in by implementing that hook (every plugin's spans
are masked) or by replacing :func:`secret_spans`. It finds

- URL credentials: the password of ``scheme://user:password@host`` (a long
  user part alone is a token), ``user:password@host`` without a scheme (as in
  image references), and the values of query parameters with secret-looking
  names (``?token=…``, ``&X-Amz-Signature=…``);
- command-line credentials: ``curl -u user:password`` (``--user``,
  ``--proxy-user``), ``--password value`` and other flags with a secret
  name, ``login … -p value``, ``aws configure set <secret name> value``, ``Authorization:``/``Private-Token:`` header values, ``Bearer …``;
- values of secret-named assignments (``DB_PASSWORD=…``, ``--build-arg TOKEN=…``, a
  Dockerfile's legacy ``ENV DB_PASSWORD value``) and of whole ``key: value`` lines under
  a secret name (YAML and INI files);
- everything the secret engine reports (:meth:`lintimg.secrets.engine.Engine.spans`:
  vendor tokens, private keys, keyword assignments), asked only when a
  detector's trigger occurs in the text (:func:`lintimg.secrets.triggers.may_match`).

Values that start with ``$`` are variable references, not secrets. Results
are remembered on disk per batch of texts (offsets only, never a value), so
a warm re-run of the same files loads no detector.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import pluggy

from lintimg import cachefiles, redaction
from lintimg.redaction import merge
from lintimg.secrets.redact import ASSIGNMENT, secret_name

# The project's hook marker, made here rather than imported: this package sits below the engine.
hookimpl = pluggy.HookimplMarker("lintimg")

Span = tuple[int, int]

# The patterns, as source: compiled on first use (a warm run answers from the disk cache and compiles none).
_SOURCES = {
    "url_userinfo": r"[A-Za-z][A-Za-z0-9+.-]*://([^\s/?#@\"'`<>]+)@",
    # user:password@host with no scheme (docker://user:pass@host loses its scheme in messages)
    "bare_userinfo": r"(?:^|(?<=[\s\"'`(=,]))[\w.+%-]+:([^\s:/@\"'`]+)@(?=\[?[\w-]+(?:[.:\]][\w-]+)*)",
    "query": r"[?&;]([\w.\-\[\]]+)=([^&\s#\"'`<>]+)",
    "user_flag": r"(?:^|(?<=\s))(?:-u|-U|--user|--proxy-user)(?:=|\s*)(['\"]?)[^\s'\":]*:([^\s'\"]+)",
    "flag_value": r"(?:^|(?<=\s))--([A-Za-z][\w-]*)(?:=|\s+)(['\"]?)([^\s'\"]+)",
    "header": r"(?i)\b(?:(?:proxy-)?authorization|private-token|x-api-key|x-auth-token|api-key)\s*[:=]\s*"
              r"(?:(?:basic|bearer|token|digest|negotiate)\s+)?([^\s'\"]+)",
    "bearer": r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,})",
    # a whole line "key: value" (YAML, INI, .env-like configs) under a secret name
    "colon_line": r"(?m)^[ \t]*([A-Za-z_][\w.-]*)[ \t]*:[ \t]+(['\"]?)([^\s'\"#]{6,})\2[ \t]*$",
    # CLI log-ins that take the secret positionally or by a short flag: aws configure set <name> <value>, docker login -p <value>
    "aws_set": r"\baws[ \t]+configure[ \t]+set[ \t]+([\w.-]+)[ \t]+(['\"]?)([^\s'\"]+)",
    "login_p": r"\blogin\b[^\n;&|]*?[ \t]-p(?:=|[ \t]+)(['\"]?)([^\s'\"]+)",
    # a Dockerfile's legacy "ENV NAME value" (no "=": the value is the rest of the line)
    "legacy_env": r"(?im)^[ \t]*(?:ONBUILD[ \t]+)?ENV[ \t]+([A-Za-z_][\w.-]*)[ \t]+([^\s=\\][^\n]*?)[ \t]*$",
}
_QUERY_NAMES = frozenset({"sig", "signature", "x-amz-signature", "x-goog-signature"})  # signed URLs
# What remembered results depend on besides the detector (whose version names the cache folder).
_VERSION = cachefiles.digest(repr([sorted(_SOURCES.items()), sorted(_QUERY_NAMES)]).encode())[:16]


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {name: re.compile(source) for name, source in _SOURCES.items()}


def _value(text: str, start: int, end: int) -> Iterator[Span]:
    """The span of a value unless it is empty or a variable reference."""
    if end > start and text[start] != "$":
        yield start, end


def _pattern_spans(text: str) -> Iterator[Span]:
    rx = _compiled()
    for m in rx["url_userinfo"].finditer(text):
        user, colon, _ = m.group(1).partition(":")
        if colon:
            yield from _value(text, m.start(1) + len(user) + 1, m.end(1))
        elif len(user) >= 16:  # a token given as the user name (https://<token>@github.com)
            yield from _value(text, m.start(1), m.end(1))
    for m in rx["bare_userinfo"].finditer(text):
        yield from _value(text, m.start(1), m.end(1))
    for m in rx["query"].finditer(text):
        if secret_name(m.group(1)) or m.group(1).lower() in _QUERY_NAMES:
            yield from _value(text, m.start(2), m.end(2))
    for m in rx["user_flag"].finditer(text):
        if not m.group(2).isdigit():  # -u 1000:1000 is a uid and gid
            yield from _value(text, m.start(2), m.end(2))
    for m in rx["flag_value"].finditer(text):
        name, value = m.group(1).lower(), m.group(3)
        # "--secret id=x,src=y" names a secret, it is none: key=value specs are left to the assignment pattern
        if secret_name(name) and not name.endswith(("-stdin", "-file", "-env")) and value[:1] not in "-<|" and "=" not in value:
            yield from _value(text, m.start(3), m.end(3))
    for name in ("header", "bearer"):
        for m in rx[name].finditer(text):
            yield from _value(text, m.start(1), m.end(1))
    for m in rx["colon_line"].finditer(text):
        if secret_name(m.group(1)):
            yield from _value(text, m.start(3), m.end(3))
    for m in rx["aws_set"].finditer(text):
        if secret_name(m.group(1)):
            yield from _value(text, m.start(3), m.end(3))
    for m in rx["login_p"].finditer(text):
        yield from _value(text, m.start(2), m.end(2))
    for m in rx["legacy_env"].finditer(text):
        if secret_name(m.group(1)):
            yield from _value(text, m.start(2), m.end(2))
    for m in ASSIGNMENT.finditer(text):
        if secret_name(m.group(1)):
            a, b = m.span(2)
            if b - a >= 2 and text[a] in "\"'" and text[b - 1] == text[a]:
                a, b = a + 1, b - 1
            yield from _value(text, a, b)


def _detector_spans(text: str) -> list[Span]:
    """The engine's values in ``text``, as character offsets; no detector loads when no trigger occurs."""
    from lintimg.secrets.triggers import may_match

    data = text.encode("utf-8", "surrogatepass")
    if not may_match(data):
        return []
    from lintimg.secrets.engine import engine

    found = [(start, end) for start, end, _ in engine().spans(data)]
    if not found or len(data) == len(text):  # ASCII: bytes and characters line up
        return found
    chars = [0] * (len(data) + 1)  # byte offset -> character offset
    pos = 0
    for i, ch in enumerate(text):
        for k in range(len(ch.encode("utf-8", "surrogatepass"))):
            chars[pos + k] = i
        pos += len(ch.encode("utf-8", "surrogatepass"))
    chars[len(data)] = len(text)
    return [(chars[start], chars[end]) for start, end in found]


_SEEN: dict[str, list[Span]] = {}  # text -> its spans, in this process
_SEEN_TEXT = 4096  # characters: messages, fixes and paths (whole files are not kept: each is asked once)
_SEEN_MAX = 65536  # texts remembered at most (a long fleet worker starts over)


def _batch_spans(texts: Sequence[str]) -> list[list[Span]]:
    # A run asks again for the texts it asked before: the results cache masks each file's findings as it keeps
    # them, then the report masks them all; messages and fixes repeat from file to file.
    out = []
    for t in texts:
        spans = _SEEN.get(t)
        if spans is None:
            spans = secret_spans(t)
            if len(t) <= _SEEN_TEXT:
                if len(_SEEN) >= _SEEN_MAX:
                    _SEEN.clear()
                _SEEN[t] = spans
        out.append(spans)
    return out


def secret_spans(text: str) -> list[Span]:
    """Sorted, non-overlapping ``(start, end)`` character ranges of ``text`` that hold secret values
    (see the module docstring): the interface the redaction of every output uses."""
    return merge([*_pattern_spans(text), *_detector_spans(text)])


def mask(text: str, spans: Sequence[Span] | None = None) -> str:
    """``text`` with each secret span masked (:func:`lintimg.redaction.mask`: the length kept)."""
    return redaction.mask(text, secret_spans(text) if spans is None else spans)


def _spans_row(row: list[Any]) -> bool:
    return all(isinstance(s, list) and len(s) == 2 and all(isinstance(n, int) for n in s) for s in row)


@hookimpl
def lintimg_secret_spans(texts: list[str]) -> list[list[Span]]:
    """The built-in finder for a batch of texts, remembered on disk per batch."""
    if all(t in _SEEN for t in texts):  # asked in this run already (a results-cache entry of texts the run masked)
        return _batch_spans(texts)
    from lintimg.secrets.cache import remembered

    key = f"{_VERSION}\0{json.dumps(list(texts))}"
    def compute() -> list[list[Any]]:
        return [[list(s) for s in spans] for spans in _batch_spans(texts)]

    rows = remembered("spans", key, compute, valid=_spans_row)
    if len(rows) != len(texts):  # not ours: find them again
        rows = compute()
    return [[(int(a), int(b)) for a, b in row] for row in rows]


def find(texts: Sequence[str]) -> list[list[Span]]:
    """:data:`lintimg.redaction.SpanFinder` over the built-in finder alone (no plugins)."""
    return lintimg_secret_spans(list(texts))
