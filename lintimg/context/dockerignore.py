""".dockerignore exactly as Docker reads and matches it (a port of moby/patternmatcher).

Reading (``ignorefile.ReadAll``): a BOM is dropped from the first line; a
line is a comment only when ``#`` is in column 1; lines are trimmed; ``!``
marks an exception; the pattern goes through Go's ``filepath.Clean`` and one
leading ``/`` is dropped.

Matching: patterns are anchored at the context root; ``*`` and ``?`` stay
inside one path segment, ``**`` spans segments, ``[...]`` and ``\\`` work as
in Go; a path is excluded when a pattern matches it or one of its parent
directories, and the last matching line wins.
"""
from __future__ import annotations

import re
from dataclasses import field

from lintimg.records import record

# bufio.Scanner's default token limit: a longer line fails the read.
MAX_LINE = 64 * 1024
# Go's strings.TrimSpace set (Python's str.strip also drops \x1c-\x1f).
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# Characters patternmatcher escapes before handing the pattern to Go's regexp
# (Docker before 23 escaped only "." and "$").
_REGEX_SPECIAL = ".+()|{}$"
_REGEX_SPECIAL_LEGACY = ".$"
# Escapes Go's regexp gives a meaning to; other escaped letters are errors there.
_GO_CLASS_ESCAPES = {"d": r"\d", "D": r"\D", "s": r"[\t\n\f\r ]", "S": r"[^\t\n\f\r ]", "w": r"[0-9A-Za-z_]", "W": r"[^0-9A-Za-z_]"}
_GO_CHAR_ESCAPES = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
WILDCARDS = "*?[\\"


class PatternError(ValueError):
    """A pattern Docker refuses (the build fails with ``syntax error in pattern``)."""


def go_clean(path: str) -> str:
    """Go's ``path.Clean``: one slash between elements, no ``.``, inner ``..`` resolved, leading ``..`` kept."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    text = "/".join(out)
    if rooted:
        return "/" + text
    return text or "."


def check_go_glob(pattern: str) -> None:
    """Raise :class:`PatternError` where Go's ``filepath.Match`` reports ``ErrBadPattern``."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise PatternError("trailing backslash")
            i += 2
        elif c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while True:
                if i < n and pattern[i] == "]" and ranges > 0:
                    i += 1
                    break
                i = _class_char(pattern, i)
                if i < n and pattern[i] == "-":
                    i = _class_char(pattern, i + 1)
                ranges += 1
        else:
            i += 1


def _class_char(pattern: str, i: int) -> int:
    if i >= len(pattern) or pattern[i] in "-]":
        raise PatternError("malformed character class")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise PatternError("malformed character class")
    return i + 1


def _escaped(ch: str) -> str:
    """Regex for ``\\ch`` the way Go's regexp reads it."""
    if ch in _GO_CLASS_ESCAPES:
        return _GO_CLASS_ESCAPES[ch]
    if ch in _GO_CHAR_ESCAPES:
        return re.escape(_GO_CHAR_ESCAPES[ch])
    if ch.isascii() and ch.isalnum():
        raise PatternError(f"unsupported escape \\{ch}")
    return re.escape(ch)


@record(frozen=True)
class Pattern:
    """One cleaned pattern line (``text`` without the ``!``)."""

    text: str
    exclusion: bool
    line: int
    kind: str  # exact, prefix, suffix or regexp (patternmatcher's match types)
    regex: re.Pattern[str] | None = field(default=None, compare=False)
    legacy: bool = False  # compiled the way Docker before 23 did

    @property
    def depth(self) -> int:
        return self.text.count("/") + 1

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None

    @property
    def has_wildcards(self) -> bool:
        return any(c in self.text for c in WILDCARDS)

    def __str__(self) -> str:
        return ("!" if self.exclusion else "") + self.text


def compile_pattern(text: str, exclusion: bool = False, line: int = 0, legacy: bool = False) -> Pattern:
    """Compile a cleaned pattern as patternmatcher ``compile`` does; raises :class:`PatternError`.

    ``legacy`` compiles as Docker before 23 did: always a regexp, and only
    ``.`` and ``$`` escaped (so ``+``, ``(`` … keep their regexp meaning).
    """
    check_go_glob(text)
    special = _REGEX_SPECIAL_LEGACY if legacy else _REGEX_SPECIAL
    regex = "^"
    kind = "exact"
    i, n = 0, len(text)
    first = True
    while i < n:
        ch = text[i]
        i += 1
        if ch == "*":
            if i < n and text[i] == "*":
                i += 1
                if i < n and text[i] == "/":  # "**/" is read as "**"
                    i += 1
                if i >= n:
                    if kind == "exact" and not legacy:
                        kind = "prefix"
                    else:
                        regex += ".*"
                        kind = "regexp"
                else:
                    regex += "(.*/)?"
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                regex += "[^/]*"
                kind = "regexp"
        elif ch == "?":
            regex += "[^/]"
            kind = "regexp"
        elif ch in special:
            regex += "\\" + ch
        elif ch == "\\":
            if i < n:
                regex += _escaped(text[i])
                i += 1
                kind = "regexp"
            else:
                regex += "\\\\"
        elif ch in "[]":
            regex += ch
            kind = "regexp"
        else:
            regex += ch  # as Docker does: "^" and the like keep their regexp meaning
        first = False
    compiled = None
    if legacy:
        kind = "regexp"
    if kind == "regexp":
        try:
            compiled = re.compile(regex + r"\Z")
        except re.error as e:
            raise PatternError(f"cannot compile: {e}") from None
    return Pattern(text, exclusion, line, kind, compiled, legacy)


@record(frozen=True)
class IgnoreProblem:
    line: int
    message: str


@record
class IgnoreFile:
    """A parsed ignore file: its patterns in order, and the lines Docker would refuse."""

    path: str  # relative to the context root (or the Dockerfile's folder), for messages
    patterns: list[Pattern]
    problems: list[IgnoreProblem] = field(default_factory=list)
    lines: int = 0

    @classmethod
    def parse(cls, data: bytes, path: str = ".dockerignore") -> IgnoreFile:
        text = data.decode("utf-8", "surrogateescape")
        patterns: list[Pattern] = []
        problems: list[IgnoreProblem] = []
        raw_lines = text.split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()
        for no, raw in enumerate(raw_lines, 1):
            if len(raw.encode("utf-8", "surrogateescape")) >= MAX_LINE:
                # Docker stops reading here and fails the build.
                problems.append(IgnoreProblem(no, f"line is longer than {MAX_LINE} bytes; Docker cannot read the file"))
                break
            if raw.endswith("\r"):
                raw = raw[:-1]
            if no == 1 and raw.startswith("\ufeff"):
                raw = raw[1:]
            cleaned = clean_line(raw)
            if cleaned is None:
                continue
            exclusion, body = cleaned
            if exclusion and not body:
                problems.append(IgnoreProblem(no, 'illegal exclusion pattern "!"'))
                continue
            try:
                patterns.append(compile_pattern(body, exclusion, no))
            except PatternError as e:
                problems.append(IgnoreProblem(no, f"invalid pattern {raw.strip()!r}: {e}"))
        return cls(path, patterns, problems, len(raw_lines))


def clean_line(raw: str) -> tuple[bool, str] | None:
    """``(is_exception, cleaned pattern)`` for one line, or ``None`` for comments and blanks."""
    if raw.startswith("#"):
        return None
    s = raw.strip(_GO_SPACE)
    if not s:
        return None
    exclusion = s[0] == "!"
    if exclusion:
        s = s[1:].strip(_GO_SPACE)
    if s:
        s = go_clean(s)
        if len(s) > 1 and s[0] == "/":
            s = s[1:]
    return exclusion, s


class Matcher:
    """Last-match-wins evaluation with parent-directory matching.

    With ``legacy`` patterns it is the deprecated ``Matches`` that Docker
    before 23 used: every pattern is tried, and of the parents only the one
    as deep as the pattern.
    """

    def __init__(self, patterns: list[Pattern]):
        self.patterns = patterns
        self.has_exclusions = any(p.exclusion for p in patterns)
        self.legacy = any(p.legacy for p in patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches_legacy(self, path: str) -> bool:
        matched = False
        parents = path.split("/")[:-1]
        for p in self.patterns:
            hit = p.match(path)
            if not hit and parents and p.depth <= len(parents):
                hit = p.match("/".join(parents[: p.depth]))
            if hit:
                matched = not p.exclusion
        return matched

    def matches_or_parent_matches(self, path: str) -> bool:
        """True when ``path`` (slash-separated, relative) is excluded."""
        if self.legacy:
            return self.matches_legacy(path)
        matched = False
        parts = path.split("/")
        parents = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
        for p in self.patterns:
            if p.exclusion != matched:
                continue
            hit = p.match(path) or any(p.match(d) for d in parents)
            if hit:
                matched = not p.exclusion
        return matched

    def matches_using_parent(self, path: str, parent: tuple[bool, ...] | None) -> tuple[bool, tuple[bool, ...]]:
        """Match ``path`` reusing its directory's per-pattern results, as Docker's walkers do."""
        if self.legacy:
            return self.matches_legacy(path), ()
        matched = False
        info: list[bool] = []
        for i, p in enumerate(self.patterns):
            hit = parent[i] if parent else False
            if not hit:
                if p.exclusion != matched:
                    info.append(False)
                    continue
                hit = p.match(path)
                if not hit and parent is None and "/" in path:
                    parts = path.split("/")
                    hit = any(p.match("/".join(parts[: k + 1])) for k in range(len(parts) - 1))
            info.append(hit)
            if hit:
                matched = not p.exclusion
        return matched, tuple(info)

    def legacy_descends(self, directory: str) -> bool:
        """Whether the classic builder walks into an excluded ``directory``: only when some
        exception, as a string, starts with ``directory/``."""
        prefix = directory + "/"
        return any((p.text + "/").startswith(prefix) for p in self.patterns if p.exclusion)

    def buildkit_descends(self, directory: str) -> bool:
        """BuildKit walks into excluded directories whenever an exception has wildcards."""
        if any(p.has_wildcards for p in self.patterns if p.exclusion):
            return True
        return self.legacy_descends(directory)


def go_glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for Go's ``filepath.Match`` (``*``/``?`` never cross ``/``), as COPY sources use it."""
    check_go_glob(pattern)
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif ch == "[":
            j = i
            body = "^" if pattern[j] == "^" else ""
            j += len(body)
            start = j
            while pattern[j] != "]" or j == start:
                if pattern[j] == "\\":
                    j += 1
                body += "-" if pattern[j] == "-" and pattern[j - 1] != "\\" else re.escape(pattern[j])
                j += 1
            out.append("[" + body + "]")
            i = j + 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + r"\Z")


def has_glob(path: str) -> bool:
    return any(c in path for c in "*?[")
