"""Docker's word rules for instruction arguments: splitting, quotes, ``$VAR`` expansion.

Docker's own lexer (moby/buildkit ``shell/lex.go``) is what these follow:
single quotes are literal, double quotes allow ``$`` expansion, the escape
character escapes the next character, and ``${VAR:-word}``/``${VAR:+word}``
(and the forms without ``:``) are supported.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lintimg.records import record

_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


_PLAIN_WORD = re.compile(r"\S+")


@record(frozen=True)
class Word:
    """A word of an instruction: ``text`` as written, ``value`` dequoted; offsets into the source."""

    text: str
    value: str
    start: int
    end: int


def is_digits(text: str) -> bool:
    """``text`` is ASCII digits only, as Docker reads a number; ``str.isdigit`` also takes ``³``, which
    ``int()`` refuses."""
    return text.isascii() and text.isdigit()


def split_words(s: str, escape: str = "\\") -> list[Word]:
    """Split on unquoted whitespace, keeping offsets; quotes are removed in ``value``."""
    if escape not in s and '"' not in s and "'" not in s:
        # Nothing to unquote (most instructions): a regex split, same whitespace as str.isspace.
        return [Word(m.group(), m.group(), m.start(), m.end()) for m in _PLAIN_WORD.finditer(s)]
    return _split_quoted(s, escape)


def _split_quoted(s: str, escape: str) -> list[Word]:
    words: list[Word] = []
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        out: list[str] = []
        quote = ""
        while i < n:
            c = s[i]
            if quote:
                if c == quote:
                    quote = ""
                elif c == escape and quote == '"' and i + 1 < n:
                    i += 1
                    out.append(s[i])
                else:
                    out.append(c)
            elif c in "\"'":
                quote = c
            elif c == escape and i + 1 < n:
                i += 1
                out.append(s[i])
            elif c.isspace():
                break
            else:
                out.append(c)
            i += 1
        words.append(Word(s[start:i], "".join(out), start, i))
    return words


def expand(text: str, lookup: Mapping[str, str] | Callable[[str], str | None], keep_unknown: bool = False) -> str:
    """Expand ``$VAR`` references; unknown variables expand to the empty string, or stay as written with ``keep_unknown``."""
    get = lookup.get if isinstance(lookup, Mapping) else lookup

    def repl(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("plain")
        val = get(name)
        op = m.group("op")
        if val is None and keep_unknown:
            return m.group(0)
        if not op:
            return val or ""
        word = expand(m.group("word") or "", lookup, keep_unknown)
        if op == ":-":
            return val if val else word
        if op == "-":
            return val if val is not None else word
        if op == ":+":
            return word if val else ""
        return word if val is not None else ""  # "+"

    if "$" not in text:
        return text
    return _VAR_RE.sub(repl, text)


def variables_used(text: str) -> list[tuple[str, int]]:
    """Names referenced with ``$``, with their offsets; ``$$`` and escaped ``\\$`` are skipped."""
    out = []
    for m in _VAR_RE.finditer(text):
        if m.start() > 0 and text[m.start() - 1] in "\\$":
            continue
        out.append((m.group("braced") or m.group("plain"), m.start()))
        if m.group("word"):
            inner = variables_used(m.group("word"))
            out.extend((name, m.start("word") + off) for name, off in inner)
    return out


def parse_key_values(s: str, escape: str = "\\") -> tuple[list[tuple[str, str | None, Word]], bool]:
    """Parse ``ENV``/``LABEL``/``ARG`` arguments.

    Returns ``([(key, value or None, word)], legacy)`` where ``legacy`` is True
    for the old ``KEY value`` form (one key, the rest of the line is the value).
    """
    words = split_words(s, escape)
    if not words:
        return [], False
    if "=" not in words[0].text:
        if len(words) == 1:
            return [(words[0].value, None, words[0])], False
        rest = s[words[1].start :].strip()
        value = " ".join(w.value for w in split_words(rest, escape))
        return [(words[0].value, value, words[0])], True
    out: list[tuple[str, str | None, Word]] = []
    for w in words:
        if "=" in w.text:
            written = w.text.split("=", 1)[0]
            key = split_words(written, escape)[0].value if written.strip() else written  # `"a.b"=x`: the key is a.b
            out.append((key, w.value[len(key) + 1 :] if w.value.startswith(key + "=") else w.value.split("=", 1)[1], w))
        else:
            out.append((w.value, None, w))
    return out, False
