"""What a report, an error line or a note may show: secret values masked, control characters made visible.

This is the mechanism of the one redaction layer every output goes through
(:mod:`lintimg.engine.redaction` applies it to findings and run information
before any report format sees them; the CLI applies it to its error lines).
It knows nothing about what a secret looks like: *span finders* say that.

A span finder is the detectors' contract with this layer::

    SpanFinder = Callable[[Sequence[str]], list[list[tuple[int, int]]]]

given texts, it returns for each text the ``(start, end)`` character spans
(``end`` exclusive) that hold secret values. Finders are batch functions so a
detector can cache or share work across one run's texts; spans may overlap
and need not be sorted. The built-in finder (URL credentials, ``curl -u``,
authorization headers, secret-named assignments and the detector) lives in
:mod:`lintimg.secrets.spans`; plugins add more through the
``lintimg_secret_spans`` hook.

Masking keeps each text's length (the first few characters of a value stay,
the rest become ``*``), so columns, regions and carets computed on the
original text still point at the same places.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

Span = tuple[int, int]
SpanFinder = Callable[[Sequence[str]], list[list[Span]]]

# A value this long that a finder reported in one text is masked wherever else it shows up in the
# run's output (a message quoting part of a line whose context made the detector fire).
SHARED_VALUE_MIN = 8


def keep_of(length: int) -> int:
    """How many leading characters of a secret a report may show: at most 4, and at most a quarter."""
    return min(4, length // 4)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering the same characters (empty spans dropped)."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def mask(text: str, spans: Iterable[Span]) -> str:
    """``text`` with every span replaced by its first characters and ``*`` (same length)."""
    merged = merge((max(0, a), min(len(text), b)) for a, b in spans)
    if not merged:
        return text
    parts: list[str] = []
    at = 0
    for a, b in merged:
        keep = keep_of(b - a)
        parts += [text[at:a], text[a : a + keep], "*" * (b - a - keep)]
        at = b
    parts.append(text[at:])
    return "".join(parts)


def _display_table() -> dict[int, str]:
    table = {c: chr(0x2400 + c) for c in range(0x20) if c != 0x09}  # C0 (tab kept) -> Control Pictures
    table[0x7F] = "\u2421"  # DEL
    replacement = "\ufffd"
    # C1 controls (CSI is \x9b), line/paragraph separators, bidirectional overrides and
    # isolates (text that reads differently than it runs), lone surrogates (undecodable bytes).
    for c in [*range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000)]:
        table[c] = replacement
    return table


_DISPLAY = _display_table()
_NEEDS_DISPLAY = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def display(text: str) -> str:
    """``text`` safe to print anywhere: one visible character for each control character.

    Terminal escapes (ESC, CSI), newlines that would forge a line of output,
    characters XML 1.0 forbids and undecodable bytes (lone surrogates from a
    non-UTF-8 file name) each become one printable character (``␛``, ``␊``,
    ``�`` …), so the length, and every column computed on the text, stays.
    """
    return text.translate(_DISPLAY) if _NEEDS_DISPLAY.search(text) else text


class Redactor:
    """Masks what its finders report in a batch of texts (``finders`` are :data:`SpanFinder` s)."""

    def __init__(self, finders: Sequence[SpanFinder] = ()) -> None:
        self.finders = list(finders)

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Every finder's spans for each text, merged; a long value found in one text counts in all."""
        found: list[list[Span]] = [[] for _ in texts]
        for finder in self.finders:
            for i, spans in enumerate(finder(texts)):
                found[i] += spans
        values = {t[a:b] for t, spans in zip(texts, found) for a, b in spans if b - a >= SHARED_VALUE_MIN}
        if values:
            shared = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
            for i, t in enumerate(texts):
                found[i] += [m.span() for m in shared.finditer(t)]
        return [merge(s) for s in found]

    def masked(self, texts: Sequence[str]) -> list[str]:
        """``texts`` with their secret spans masked (lengths kept)."""
        return [mask(t, s) for t, s in zip(texts, self.spans(texts))]

    def line(self, text: str) -> str:
        """One line for stderr: masked and made printable."""
        return display(self.masked([text])[0])
