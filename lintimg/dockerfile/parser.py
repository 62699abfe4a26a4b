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
from collections.abc import Callable

from dockerfile_parse import DockerfileParser

from lintimg.config import suggest
from lintimg.dockerfile.model import (
    FLAG_INSTRUCTIONS,
    HEREDOC_INSTRUCTIONS,
    HEREDOC_RE,
    KNOWN_INSTRUCTIONS,
    Comment,
    Dockerfile,
    DockerfileSyntaxError,
    Flag,
    Heredoc,
    Instruction,
    Pos,
    Stage,
    Token,
    _locate,
)
from lintimg.dockerfile.sources import normalized, split_lines
from lintimg.dockerfile.words import Word, expand, is_digits, split_words

_KEYWORD_RE = re.compile(r"([^ \t\v\f\r]+)[ \t\v\f\r]*")
_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")


def parse_dockerfile(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse ``text``; problems are recorded in ``Dockerfile.errors``, never raised."""
    text = normalized(text)
    lines = split_lines(text)
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
    """Split ``lines[offset:]`` into instructions with dockerfile-parse, then fix it up.

    dockerfile-parse reads heredoc bodies as instructions: entries that start
    inside a body are skipped (one parse for the whole file, however many
    heredocs it has). Only an entry that runs past the end of a body, which
    Docker's rules make next to impossible, costs a parse of the rest.
    """
    while True:
        resume = _split_from(lines, offset, escape, out, comments, errors)
        if resume is None:
            return
        offset = resume


def _split_from(
    lines: list[str], offset: int, escape: str, out: list[Instruction], comments: list[Comment], errors: list[DockerfileSyntaxError]
) -> int | None:
    """One dockerfile-parse pass from ``offset``; the line to parse again from when an entry ran past a heredoc body."""
    head = f"# escape={escape}\n" if escape != "\\" else ""
    shift = offset - (1 if head else 0)  # structure lines are 0-based
    body = head + "\n".join(_hold_continuations(lines[offset:], escape)) + "\n"
    structure = DockerfileParser(fileobj=io.BytesIO(body.encode("utf-8", "surrogateescape"))).structure
    bodies_end = offset  # lines up to here (1-based) are heredoc bodies of instructions already made
    for entry in structure:
        start = entry["startline"] + shift + 1
        end = entry["endline"] + shift + 1
        if start <= offset:  # our own escape line
            continue
        if start <= bodies_end:
            if end > bodies_end:
                return bodies_end
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
            bodies_end = ins.heredocs[-1].end_line  # heredoc bodies are not instructions
    return None


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

    # Docker splits the keyword off at ASCII space only, after the indentation (a line holding only
    # the escape character continues into an indented one: "\\\n RUN x" is RUN).
    m = _KEYWORD_RE.match(logical, len(logical) - len(logical.lstrip(" \t\v\f\r")))
    if m is None:
        return None
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
        errors.append(DockerfileSyntaxError(f"unknown instruction: {keyword_raw}{suggest(keyword, KNOWN_INSTRUCTIONS)}", start, full.column))
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
    """Parse the trigger of ``ONBUILD <instruction>`` as an instruction of its own.

    The trigger is parsed from its text on one line; its places are then mapped
    back through the ONBUILD's own segments, so a trigger continued over
    several lines has the exact lines and columns of its words.
    """
    inner_line, inner_col = _locate(segments, args_start)
    inner_lines = [" " * (inner_col - 1) + logical[args_start:]]
    sub: list[Instruction] = []
    _split_one(inner_lines, escape, sub)
    if not sub:
        return None
    body = sub[0]

    def outer(col: int) -> tuple[int, int]:  # column on the one-line trigger -> place in the file
        return _locate(segments, args_start + col - inner_col)

    def shift(p: Pos) -> Pos:
        (l1, c1), (l2, c2) = outer(p.column), outer(p.end_column - 1)
        return Pos(l1, c1, l2, c2 + 1)

    body.pos = shift(body.pos)
    body._segments = [(max(0, off - args_start), ln, col + max(0, args_start - off))
                      for i, (off, ln, col) in enumerate(segments)
                      if off >= args_start or (i + 1 == len(segments) or segments[i + 1][0] > args_start)]
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
        m = HEREDOC_RE.match(w.text)
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
            # one error for the instruction: the body ran to the end of the file, later markers have none
            errors.append(DockerfileSyntaxError(f"heredoc {name!r} is never closed", start))
            line_no = len(lines)
        content = "\n".join(body) + ("\n" if body else "")
        docs.append(Heredoc(name, content, bool(dash), bool(quote), int(fd) if fd else None, cursor + 1, line_no, closed))
        cursor = line_no
        if not closed:
            break
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


def _json_tokens(text: str, values: list[str], base: int, pos: Callable[[int, int], Pos]) -> list[Token]:
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
    parent = df.stage_by_ref(resolved, before=index) if resolved and not is_digits(resolved) else None
    if parent is not None:
        st.base_stage = parent.index
    return st
