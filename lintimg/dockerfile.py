"""The exact Dockerfile model.

dockerfile-parse splits the file into instructions and comments. It does not
know heredocs, gives no columns and lists comments found inside a
continuation before the instruction they sit in; this module wraps it so
that every instruction, flag and argument has its exact line and column,
heredoc bodies are attached to their instruction, directives are read, and
stages, ARG scopes and ``COPY --from`` edges are resolved.
"""
from __future__ import annotations

import io
import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Iterator

from dockerfile_parse import DockerfileParser

from lintimg.words import Word, expand, parse_key_values, split_words

if TYPE_CHECKING:
    from lintimg.shell import Script

KNOWN_INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER "
    "ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
FLAG_INSTRUCTIONS = frozenset({"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"})
# BuildKit's heredoc word: optional fd, "<<", optional "-", then a (quoted) name.
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)(['\"]?)([A-Za-z0-9_.\-]+)\3$")
_KEYWORD_RE = re.compile(r"([^ \t\v\f\r]+)[ \t\v\f\r]*")
_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
# ARGs every build has without declaring them.
BUILTIN_ARGS = frozenset(
    "TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH "
    "BUILDVARIANT HTTP_PROXY HTTPS_PROXY FTP_PROXY NO_PROXY ALL_PROXY http_proxy "
    "https_proxy ftp_proxy no_proxy all_proxy BUILDKIT_INLINE_CACHE BUILDKIT_SYNTAX "
    "BUILDKIT_CONTEXT_KEEP_GIT_DIR BUILDKIT_MULTI_PLATFORM SOURCE_DATE_EPOCH "
    "BUILDKIT_SANDBOX_HOSTNAME BUILDKIT_DOCKERFILE_CHECK TARGETSTAGE".split()
)


class DockerfileSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int = 1):
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Pos:
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Token:
    """A word of an instruction's arguments with its place in the file."""

    text: str  # as written, quotes kept
    value: str  # quotes and escapes removed
    pos: Pos


@dataclass
class Flag:
    name: str  # without the leading "--"
    value: str | None
    token: Token


@dataclass
class Heredoc:
    name: str
    content: str  # body as the builder sees it (tabs stripped for "<<-")
    strip_tabs: bool
    quoted: bool  # quoted delimiter: no variable expansion in the body
    fd: int | None
    line: int  # line of the first body line
    end_line: int  # line of the closing delimiter


@dataclass
class Comment:
    line: int
    text: str  # without the leading "#", stripped


@dataclass
class Instruction:
    keyword: str  # upper case
    keyword_raw: str  # as written, for casing checks
    pos: Pos  # from the keyword to the end of the last argument line
    args_text: str  # arguments after flags, continuations joined
    flags: list[Flag]
    args: list[Token]  # shell words of args_text (JSON elements in JSON form)
    json_args: list[str] | None  # set when the arguments are a JSON array
    heredocs: list[Heredoc]
    index: int  # position in Dockerfile.instructions
    stage_index: int | None = None  # None before the first FROM
    onbuild: "Instruction | None" = None
    empty_continuation_lines: list[int] = field(default_factory=list)
    comments_inside: list[Comment] = field(default_factory=list)
    escape: str = "\\"
    _dockerfile: "Dockerfile | None" = field(default=None, repr=False)
    _segments: list[tuple[int, int, int]] = field(default_factory=list, repr=False)
    _args_start: int = field(default=0, repr=False)

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset into ``args_text``."""
        if not self._segments:
            return self.pos.line, self.pos.column
        return _locate(self._segments, self._args_start + offset)

    @property
    def line(self) -> int:
        return self.pos.line

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @cached_property
    def script(self) -> "Script | None":
        """The parsed shell script of a shell-form RUN (or ``None``)."""
        from lintimg.shell import parse_script

        text = self.shell_text
        return None if text is None else parse_script(text)

    @property
    def shell_text(self) -> str | None:
        """What ``/bin/sh -c`` would run for RUN/CMD/ENTRYPOINT in shell form, heredocs included."""
        if self.json_args is not None:
            return None
        if self.heredocs and self.keyword == "RUN":
            only = self.args_text.strip()
            first = self.heredocs[0]
            if _HEREDOC_RE.match(only) and len(self.heredocs) == 1:
                return first.content  # "RUN <<EOF" runs the body as the script
            parts = [self.args_text]
            for h in self.heredocs:
                parts.append(h.content.rstrip("\n"))
                parts.append(h.name)
            return "\n".join(parts)
        return self.args_text

    def key_values(self) -> list[tuple[str, str | None, Token]]:
        """``ENV``/``LABEL``/``ARG`` pairs with the token of each key."""
        pairs, _ = self._kv
        return pairs

    @property
    def legacy_key_value(self) -> bool:
        """True for ``ENV key value`` (no ``=``)."""
        return self._kv[1]

    @cached_property
    def _kv(self) -> tuple[list[tuple[str, str | None, Token]], bool]:
        pairs, legacy = parse_key_values(self.args_text, self.escape)
        out = []
        for key, value, word in pairs:
            tok = next((t for t in self.args if t.text == word.text), None)
            out.append((key, value, tok or (self.args[0] if self.args else _token_at(self))))
        return out, legacy


def _token_at(ins: Instruction) -> Token:
    return Token(ins.keyword_raw, ins.keyword, ins.pos)


@dataclass
class Stage:
    index: int
    from_: Instruction
    base: str  # as written
    base_resolved: str  # global ARG defaults substituted
    name: str | None  # lower-cased alias (Docker compares aliases case-insensitively)
    name_raw: str | None
    name_token: Token | None
    as_token: Token | None
    platform: str | None
    instructions: list[Instruction] = field(default_factory=list)  # FROM excluded
    base_stage: int | None = None  # index of the stage it builds FROM, if any

    @property
    def is_scratch(self) -> bool:
        return self.base_resolved.lower() == "scratch"

    def of(self, *keywords: str) -> Iterator[Instruction]:
        for ins in self.instructions:
            if ins.keyword in keywords:
                yield ins


@dataclass
class Dockerfile:
    path: str
    text: str
    lines: list[str]
    instructions: list[Instruction]
    comments: list[Comment]
    directives: dict[str, tuple[str, int]]  # name -> (value, line)
    escape: str
    stages: list[Stage]
    global_args: dict[str, str | None]  # ARGs before the first FROM
    errors: list[DockerfileSyntaxError] = field(default_factory=list)
    # Derived views shared by all rules of a run (see lintimg.queries.run_commands).
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def stage_by_ref(self, ref: str, before: int | None = None) -> Stage | None:
        """The stage a ``--from``/``FROM`` reference names (alias or index), if any."""
        limit = len(self.stages) if before is None else before
        if ref.isdigit():
            i = int(ref)
            return self.stages[i] if i < limit else None
        low = ref.lower()
        for st in self.stages[:limit]:
            if st.name == low:
                return st
        return None

    def of(self, *keywords: str) -> Iterator[Instruction]:
        for ins in self.instructions:
            if ins.keyword in keywords:
                yield ins

    def runs(self, include_onbuild: bool = True) -> Iterator[Instruction]:
        """RUN instructions, and (by default) RUN bodies of ONBUILD triggers."""
        for ins in self.instructions:
            if ins.keyword == "RUN":
                yield ins
            elif include_onbuild and ins.onbuild is not None and ins.onbuild.keyword == "RUN":
                yield ins.onbuild

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_of(self, ins: Instruction) -> Stage | None:
        return None if ins.stage_index is None else self.stages[ins.stage_index]

    def source_line(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def env_at(self, ins: Instruction) -> dict[str, str]:
        """Variables (ARG and ENV) visible to ``ins``: its stage's chain up to it."""
        return self._scopes.get(ins.index, {})

    @cached_property
    def _scopes(self) -> dict[int, dict[str, str]]:
        scopes: dict[int, dict[str, str]] = {}
        stage_env: dict[int, dict[str, str]] = {}
        for st in self.stages:
            env: dict[str, str] = dict(stage_env.get(st.base_stage, {})) if st.base_stage is not None else {}
            for ins in st.instructions:
                scopes[ins.index] = dict(env)
                if ins.keyword in ("ARG", "ENV"):
                    for key, value, _ in ins.key_values():
                        if value is None:
                            if ins.keyword == "ARG":
                                glob = self.global_args.get(key)
                                env[key] = expand(glob, env) if glob else env.get(key, "")
                        else:
                            env[key] = expand(value, env)
            stage_env[st.index] = env
        return scopes


def parse_dockerfile(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse ``text``; problems are recorded in ``Dockerfile.errors``, never raised."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")  # like Docker: a lone "\r" is not a line break
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    directives, escape = _read_directives(lines)
    errors: list[DockerfileSyntaxError] = []
    if "escape" in directives and directives["escape"][0] not in ("\\", "`"):
        value, line = directives["escape"]
        errors.append(DockerfileSyntaxError(f"invalid escape directive {value!r}: use \\ or `", line))
    instructions: list[Instruction] = []
    comments: list[Comment] = []
    _split(lines, 0, escape, instructions, comments, errors)
    for i, ins in enumerate(instructions):
        ins.index = i
        if ins.onbuild is not None:  # the trigger was parsed before indexes were known
            ins.onbuild.index = i
    comments.sort(key=lambda c: c.line)
    df = Dockerfile(path, text, lines, instructions, comments, directives, escape, [], {}, errors)
    _build_stages(df)
    for ins in instructions:
        ins._dockerfile = df
    return df


def _read_directives(lines: list[str]) -> tuple[dict[str, tuple[str, int]], str]:
    directives: dict[str, tuple[str, int]] = {}
    for i, line in enumerate(lines):
        m = _DIRECTIVE_RE.match(line.strip())
        if not m or not line.lstrip().startswith("#"):
            break
        name = m.group(1).lower()
        if name in directives:  # a repeated directive is a plain comment
            break
        directives[name] = (m.group(2), i + 1)
    esc = directives.get("escape", ("\\", 0))[0]
    return directives, esc if esc in ("\\", "`") else "\\"


def _split(
    lines: list[str],
    offset: int,
    escape: str,
    out: list[Instruction],
    comments: list[Comment],
    errors: list[DockerfileSyntaxError],
) -> None:
    """Split ``lines[offset:]`` into instructions with dockerfile-parse, then fix it up."""
    head = f"# escape={escape}\n" if escape != "\\" else ""
    shift = offset - (1 if head else 0)  # structure lines are 0-based
    body = head + "\n".join(_hold_continuations(lines[offset:], escape)) + "\n"
    structure = DockerfileParser(fileobj=io.BytesIO(body.encode("utf-8", "surrogateescape"))).structure
    for entry in structure:
        start = entry["startline"] + shift + 1
        end = entry["endline"] + shift + 1
        if start <= offset:  # our own escape line
            continue
        if entry["instruction"] == "COMMENT":
            if not lines[start - 1].strip():  # a blank line we held as a comment
                continue
            comments.append(Comment(start, entry["value"].strip()))
            continue
        ins = _make_instruction(lines, start, end, escape, errors)
        if ins is None:
            continue
        out.append(ins)
        if ins.heredocs:
            # Heredoc bodies are not instructions: resume splitting after the last one.
            _split(lines, ins.heredocs[-1].end_line, escape, out, comments, errors)
            return


def _continues(line: str, escape: str) -> bool:
    """Docker's rule (checked against its parser): a line continues when it ends in
    one escape character followed only by spaces or tabs; a doubled escape does not."""
    s = line.rstrip(" \t")
    return s.endswith(escape) and not s.endswith(escape + escape)


def _hold_continuations(lines: list[str], escape: str) -> list[str]:
    """Lines as dockerfile-parse must see them to split where Docker does.

    Docker skips blank lines inside a continuation; dockerfile-parse ends the
    instruction there: blank them into comments, which both skip. dockerfile-parse
    also continues after a doubled escape or one followed by other Unicode
    space; Docker does not: end such lines with a plain character.
    """
    out = list(lines)
    in_cont = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            if in_cont:
                out[i] = "#"
        elif not stripped.startswith("#"):
            in_cont = _continues(line, escape)
            if not in_cont and stripped.endswith(escape):
                out[i] = line + "."
    return out


def _physical(lines: list[str], start: int, end: int, escape: str) -> tuple[str, list[tuple[int, int, int]], list[int], list[Comment]]:
    """Join continuation lines; return the text and a map of (offset, line, column) segments."""
    text_parts: list[str] = []
    segments: list[tuple[int, int, int]] = []
    empty: list[int] = []
    inner: list[Comment] = []
    length = 0
    for ln in range(start, end + 1):
        raw = lines[ln - 1] if ln - 1 < len(lines) else ""
        if ln > start:
            stripped = raw.strip()
            if not stripped:
                empty.append(ln)
                continue
            if stripped.startswith("#"):
                inner.append(Comment(ln, stripped[1:].strip()))
                continue
            col0 = 0
        else:
            col0 = len(raw) - len(raw.lstrip())
        seg = raw[col0:]
        if ln < end and _continues(seg, escape):
            seg = seg.rstrip(" \t")[:-1]
        segments.append((length, ln, col0 + 1))
        text_parts.append(seg)
        length += len(seg)
    return "".join(text_parts), segments, empty, inner


def _locate(segments: list[tuple[int, int, int]], offset: int) -> tuple[int, int]:
    i = bisect_right(segments, offset, key=itemgetter(0)) - 1 if len(segments) > 1 else 0
    seg_off, line, col = segments[max(i, 0)]
    return (line, col + offset - seg_off) if i >= 0 and seg_off <= offset else (line, col)


def _make_instruction(
    lines: list[str], start: int, end: int, escape: str, errors: list[DockerfileSyntaxError]
) -> Instruction | None:
    logical, segments, empty, inner = _physical(lines, start, end, escape)
    if not logical.strip():
        return None

    def pos(a: int, b: int) -> Pos:
        l1, c1 = _locate(segments, a)
        l2, c2 = _locate(segments, max(a, b - 1))
        return Pos(l1, c1, l2, c2 + 1)

    m = _KEYWORD_RE.match(logical)  # Docker splits the keyword off at ASCII space only
    assert m is not None
    keyword_raw = m.group(1)
    keyword = keyword_raw.upper()
    rest_start = m.end()
    words = split_words(logical[rest_start:], escape)
    flags: list[Flag] = []
    if keyword in FLAG_INSTRUCTIONS:
        while words and words[0].text.startswith("--") and len(words[0].text) > 2:
            w = words.pop(0)
            name, _, value = w.value[2:].partition("=")
            tok = Token(w.text, w.value, pos(rest_start + w.start, rest_start + w.end))
            flags.append(Flag(name, value if "=" in w.value else None, tok))
    args_start = rest_start + (words[0].start if words else len(logical) - rest_start)
    args_text = logical[args_start:].strip()
    json_args = _json_array(args_text) if keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD", "HEALTHCHECK") else None
    tokens = [Token(w.text, w.value, pos(rest_start + w.start, rest_start + w.end)) for w in words]
    if json_args is not None:
        tokens = _json_tokens(args_text, json_args, args_start, pos)
    heredocs: list[Heredoc] = []
    last_line = end
    if keyword in HEREDOC_INSTRUCTIONS and "<<" in args_text and json_args is None:
        heredocs, last_line = _read_heredocs(lines, end, words, errors, start)
    full = pos(0, len(logical.rstrip()))
    ins = Instruction(
        keyword=keyword,
        keyword_raw=keyword_raw,
        pos=full,
        args_text=args_text,
        flags=flags,
        args=tokens,
        json_args=json_args,
        heredocs=heredocs,
        index=-1,
        empty_continuation_lines=empty,
        comments_inside=inner,
        escape=escape,
        _segments=segments,
        _args_start=args_start,
    )
    if keyword == "ONBUILD" and args_text:
        ins.onbuild = _onbuild_body(ins, logical, args_start, segments, escape)
    if keyword not in KNOWN_INSTRUCTIONS:
        errors.append(DockerfileSyntaxError(f"unknown instruction: {keyword_raw}", start, full.column))
    elif keyword not in ("CMD", "ENTRYPOINT", "RUN", "HEALTHCHECK", "SHELL") and not args_text and not heredocs:
        errors.append(DockerfileSyntaxError(f"{keyword} requires at least one argument", start, full.column))
    else:
        problem = _arity_problem(keyword, words, json_args, args_text)
        if problem:
            errors.append(DockerfileSyntaxError(problem, start, full.column))
    if last_line != end:
        ins.pos = Pos(full.line, full.column, last_line, len(lines[last_line - 1]) + 1 if last_line <= len(lines) else 1)
    return ins


def _arity_problem(keyword: str, words: list[Word], json_args: list[str] | None, args_text: str) -> str | None:
    """The argument-count errors Docker's parser raises before building anything."""
    if keyword == "FROM" and not (len(words) == 1 or (len(words) == 3 and words[1].value.lower() == "as")):
        return "FROM requires either one or three arguments"
    if keyword in ("COPY", "ADD") and len(json_args if json_args is not None else words) < 2:
        return f"{keyword} requires at least two arguments (sources and a destination)"
    if keyword in ("ENV", "LABEL") and words:
        if "=" not in words[0].text:
            if len(re.split(r"[ \t\v\f\r]+", args_text, maxsplit=1)) < 2:
                return f"{keyword} must have two arguments (name value, or name=value)"
        else:
            bad = next((w.text for w in words if "=" not in w.text), None)
            if bad is not None:
                return f"{keyword} expects name=value pairs; no '=' in {bad!r}"
    return None


def _onbuild_body(ins: Instruction, logical: str, args_start: int, segments: list[tuple[int, int, int]], escape: str) -> Instruction | None:
    """Parse the trigger of ``ONBUILD <instruction>`` as an instruction of its own."""
    inner_line, inner_col = _locate(segments, args_start)
    inner_lines = [" " * (inner_col - 1) + logical[args_start:]]
    sub: list[Instruction] = []
    _split_one(inner_lines, escape, sub)
    if not sub:
        return None
    body = sub[0]
    delta_line = inner_line - 1

    def shift(p: Pos) -> Pos:
        return Pos(p.line + delta_line, p.column, p.end_line + delta_line, p.end_column)

    body.pos = shift(body.pos)
    body._segments = [(off, ln + delta_line, col) for off, ln, col in body._segments]
    for t in body.args:
        t.pos = shift(t.pos)
    for f in body.flags:
        f.token.pos = shift(f.token.pos)
    body.index = ins.index
    return body


def _split_one(lines: list[str], escape: str, out: list[Instruction]) -> None:
    ins = _make_instruction(lines, 1, len(lines), escape, [])
    if ins is not None:
        out.append(ins)


def _read_heredocs(
    lines: list[str], end: int, words: list[Word], errors: list[DockerfileSyntaxError], start: int
) -> tuple[list[Heredoc], int]:
    docs: list[Heredoc] = []
    cursor = end  # 1-based line of the instruction's last line; bodies follow
    for w in words:
        m = _HEREDOC_RE.match(w.text)
        if not m:
            continue
        fd, dash, quote, name = m.groups()
        body: list[str] = []
        line_no = cursor + 1
        closed = False
        while line_no <= len(lines):
            raw = lines[line_no - 1]
            check = raw.lstrip("\t") if dash else raw
            if check == name:
                closed = True
                break
            body.append(raw.lstrip("\t") if dash else raw)
            line_no += 1
        if not closed:
            errors.append(DockerfileSyntaxError(f"heredoc {name!r} is never closed", start))
            line_no = len(lines)
        content = "\n".join(body) + ("\n" if body else "")
        docs.append(Heredoc(name, content, bool(dash), bool(quote), int(fd) if fd else None, cursor + 1, line_no))
        cursor = line_no
    return docs, cursor


def _json_array(text: str) -> list[str] | None:
    if not text.startswith("["):
        return None
    try:
        val = json.loads(text)
    except ValueError:
        return None
    if isinstance(val, list) and all(isinstance(v, str) for v in val):
        return val
    return None


def _json_tokens(text: str, values: list[str], base: int, pos) -> list[Token]:
    out: list[Token] = []
    cursor = 0
    for v in values:
        enc = json.dumps(v)
        i = text.find('"', cursor)
        j = i + 1
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == '"':
                break
            j += 1
        if i < 0:
            i, j = cursor, cursor + len(enc) - 1
        out.append(Token(text[i : j + 1], v, pos(base + i, base + j + 1)))
        cursor = j + 1
    return out


def _build_stages(df: Dockerfile) -> None:
    current: Stage | None = None
    for ins in df.instructions:
        if ins.keyword == "FROM":
            current = _stage_from(df, ins, len(df.stages))
            df.stages.append(current)
            ins.stage_index = current.index
            continue
        if current is None:
            if ins.keyword == "ARG":
                for key, value, _ in ins.key_values():
                    df.global_args[key] = value
            continue
        ins.stage_index = current.index
        current.instructions.append(ins)


def _stage_from(df: Dockerfile, ins: Instruction, index: int) -> Stage:
    args = ins.args
    base = args[0].value if args else ""
    name_tok = as_tok = None
    if len(args) >= 3 and args[1].value.lower() == "as":
        as_tok, name_tok = args[1], args[2]
    defaults = {k: (v or "") for k, v in df.global_args.items()}
    resolved = expand(base, defaults)
    platform = ins.flag("platform")
    st = Stage(
        index=index,
        from_=ins,
        base=base,
        base_resolved=resolved,
        name=name_tok.value.lower() if name_tok else None,
        name_raw=name_tok.value if name_tok else None,
        name_token=name_tok,
        as_token=as_tok,
        platform=platform.value if platform else None,
    )
    parent = df.stage_by_ref(resolved, before=index) if resolved and not resolved.isdigit() else None
    if parent is not None:
        st.base_stage = parent.index
    return st
