"""Where the secrets are in a piece of text: the interface the redaction of every output uses.

:func:`secret_spans` answers for any text a report, a log line or an error
message may echo (an excerpt, a history ``created_by``, a URL): the character
ranges that hold a secret value. It over-approximates on purpose — hiding a
harmless value costs little, echoing a secret cannot be undone — so besides
what the detectors report it marks the value of every secret-named
assignment (``DB_PASSWORD=hunter2``, which no detector reports because it is
not random) and every URL password. :func:`mask` applies the spans.

Cheap when there is nothing to find: a text with no detector trigger and no
``=``/``://`` loads no detector (:func:`lintimg.secrets.triggers.may_match`).
"""
from __future__ import annotations

import re

from lintimg.secrets.redact import redact, secret_name
from lintimg.secrets.triggers import may_match

# KEY=value, KEY: value, "KEY": "value" (the value as far as a shell word or quoted string goes)
_ASSIGNMENT = re.compile(
    r"""(?<![\w$])["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*(?:=|:[ \t])[ \t]*("[^"\n]*"|'[^'\n]*'|[^\s;&|,"'}]+)"""
)
_URL_PASSWORD = re.compile(r"://[^\s:/@]+:([^\s@/]+)@")


def secret_spans(text: str) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ``(start, end)`` character ranges of ``text`` that hold secret values."""
    spans: list[tuple[int, int]] = []
    data = text.encode("utf-8", "surrogatepass")
    if may_match(data):
        from lintimg.secrets.engine import engine

        found = engine().spans(data)
        if found:
            # byte offsets -> character offsets
            chars = [0] * (len(data) + 1)
            pos = 0
            for i, ch in enumerate(text):
                n = len(ch.encode("utf-8", "surrogatepass"))
                for k in range(n):
                    chars[pos + k] = i
                pos += n
            chars[len(data)] = len(text)
            spans += [(chars[s], chars[e]) for s, e, _ in found]
    if "=" in text or ":" in text:
        for m in _ASSIGNMENT.finditer(text):
            value = m.group(2)
            if secret_name(m.group(1)) and value.strip("\"'"):
                quoted = value[:1] in "\"'" and len(value) > 1
                spans.append((m.start(2) + quoted, m.end(2) - quoted))
        spans += [m.span(1) for m in _URL_PASSWORD.finditer(text)]
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def mask(text: str, spans: list[tuple[int, int]] | None = None) -> str:
    """``text`` with each secret span replaced by its redaction (a short prefix and the length)."""
    spans = secret_spans(text) if spans is None else spans
    if not spans:
        return text
    out, pos = [], 0
    for s, e in spans:
        out += [text[pos:s], redact(text[s:e]).replace(" ", "")]
        pos = e
    out.append(text[pos:])
    return "".join(out)


# ``ENV NAME value`` / ``ARG NAME value``: the legacy Dockerfile form, which has no ``=`` for :func:`secret_spans`.
_LEGACY_ASSIGNMENT = re.compile(r"^(\s*(?:ENV|ARG)\s+)([A-Za-z_][\w.-]*)(\s+)(\S.*?)\s*$", re.I)


def mask_line(line: str) -> str:
    """A Dockerfile line as a report may show it: each secret value on it redacted, the rest as written.

    Unchanged when the line holds no secret value (a ``COPY`` of a secret file,
    the ``FROM`` of an image with one), so excerpts are masked only where the
    value itself would be printed.
    """
    m = _LEGACY_ASSIGNMENT.match(line)
    if m and secret_name(m.group(2)):
        return m.group(1) + m.group(2) + m.group(3) + redact(m.group(4)).replace(" ", "")
    return mask(line)
