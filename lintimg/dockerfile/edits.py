"""Exact edits on the Dockerfile model, and applying them to a file's text.

A fix is a tuple of :class:`~lintimg.findings.Edit`. The helpers here compute
edits from the model, so that a rule says *what* changes ("add ``-y`` after
``install``", "end the RUN with ``apt-get clean``") and never works out
*where*: continuation lines, comment lines inside a continuation, heredoc
bodies (``<<-`` tabs included), ONBUILD triggers and the ``# escape=``
directive are handled once, here. A helper that cannot place its edit
exactly returns ``()``: no fix is better than a wrong one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from lintimg.dockerfile.model import HEREDOC_RE, Heredoc, Instruction, Token, _locate
from lintimg.dockerfile.shell import Command, parse_script
from lintimg.findings import Edit

Place = tuple[int, int]  # (line, column), 1-based, as in Edit


def insert(place: Place, text: str) -> Edit:
    return Edit(place[0], place[1], place[0], place[1], text)


def replace(start: Place, end: Place, text: str) -> Edit:
    return Edit(start[0], start[1], end[0], end[1], text)


def token_edit(tok: Token, text: str) -> Edit:
    """Replace a token (a word of an instruction's arguments, or a flag) as written."""
    p = tok.pos
    return Edit(p.line, p.column, p.end_line, p.end_column, text)


def keyword_edit(ins: Instruction, text: str) -> tuple[Edit, ...]:
    """Replace an instruction's keyword (``run`` -> ``RUN``, ``ADD`` -> ``COPY``)."""
    start = _logical_place(ins, 0)
    last = _logical_place(ins, len(ins.keyword_raw) - 1)
    if start[0] != last[0]:
        return ()  # a keyword split by a continuation: leave it to a person
    return (replace(start, (last[0], last[1] + 1), text),)


def _logical_place(ins: Instruction, offset: int) -> Place:
    """Where a character of the instruction's joined text (keyword first) is written."""
    if not ins._segments:
        return ins.pos.line, ins.pos.column
    return _locate(ins._segments, offset)


def args_start(ins: Instruction) -> Place:
    """Where the instruction's arguments (after its flags) begin."""
    return ins.locate(0)


def instruction_start(ins: Instruction) -> Place:
    return ins.pos.line, ins.pos.column


# --- RUN scripts -------------------------------------------------------------------------------


def heredoc_script(ins: Instruction) -> Heredoc | None:
    """The heredoc whose body is the whole script of ``RUN <<EOF`` (as ``Instruction.shell_text`` reads it)."""
    if ins.keyword == "RUN" and len(ins.heredocs) == 1 and HEREDOC_RE.match(ins.args_text.strip()):
        return ins.heredocs[0]
    return None


def script_place(ins: Instruction, offset: int) -> Place | None:
    """Where character ``offset`` of the RUN's script (``ins.shell_text``) is written in the file.

    ``None`` for places lintimg does not map: heredoc bodies of a RUN whose
    own line holds commands too (``RUN cat <<EOF > f``), and bodies of
    heredocs in ONBUILD triggers.
    """
    text = ins.shell_text
    if text is None or offset < 0 or offset > len(text):
        return None
    doc = heredoc_script(ins)
    if doc is None:
        return ins.locate(offset) if offset <= len(ins.args_text) else None
    df = ins._dockerfile
    if df is None or ins.onbuild is not None:
        return None
    row = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    line = doc.line + row
    raw = df.source_line(line)
    tabs = len(raw) - len(raw.lstrip("\t")) if doc.strip_tabs else 0
    return line, tabs + col + 1


def _char_offset(text: str, byte: int) -> int:
    """The character offset of a UTF-8 byte offset into ``text`` (tree-sitter counts bytes)."""
    if text.isascii():
        return byte
    return len(text.encode("utf-8", "surrogateescape")[:byte].decode("utf-8", "surrogateescape"))


def word_end(ins: Instruction, cmd: Command, index: int) -> Place | None:
    """Where word ``index`` of ``cmd.argv`` ends (just after its last character)."""
    if index >= len(cmd.spans) or ins.script is None:
        return None
    return script_place(ins, _char_offset(ins.script.text, cmd.spans[index][1]))


def word_range(ins: Instruction, cmd: Command, index: int) -> tuple[Place, Place] | None:
    """Where word ``index`` of ``cmd.argv`` is written: (start, end)."""
    if index >= len(cmd.spans) or ins.script is None:
        return None
    text = ins.script.text
    a, b = (script_place(ins, _char_offset(text, off)) for off in cmd.spans[index])
    return None if a is None or b is None else (a, b)


def add_words(ins: Instruction, cmd: Command, after: int, *words: str) -> tuple[Edit, ...]:
    """Insert ``words`` into ``cmd`` right after its word ``after`` (0 is the command's name)."""
    place = word_end(ins, cmd, after)
    return () if place is None else (insert(place, " " + " ".join(words)),)


def append_commands(ins: Instruction, text: str) -> tuple[Edit, ...]:
    """End the RUN's script with ``&& text``, when the result provably runs the same commands plus ``text``.

    The script is parsed again with the addition: it must have no syntax error
    and run exactly its old commands followed by the new ones (a trailing
    comment, a background ``&`` or a heredoc of its own would break that, and
    give no edit).
    """
    script = ins.script
    if script is None or script.has_error or (ins.heredocs and heredoc_script(ins) is None):
        return ()
    body = script.text
    end = len(body.rstrip())
    if end == 0:
        return ()
    added = f" && {text}"
    new = parse_script(body[:end] + added + body[end:])
    want = [c.argv for c in script.commands] + [c.argv for c in parse_script(text).commands]
    if new.has_error or [c.argv for c in new.commands] != want:
        return ()
    place = script_place(ins, end)
    return () if place is None else (insert(place, added),)


def remove_command(ins: Instruction, cmd: Command, joiner: str = "&&") -> tuple[Edit, ...]:
    """Delete the script's first command ``cmd`` and the ``joiner`` after it (``cd /x && make`` -> ``make``)."""
    script = ins.script
    if script is None or not script.commands or script.commands[0] is not cmd or cmd.operator != joiner:
        return ()
    body = script.text
    start = _char_offset(body, cmd.offset)
    op = body.find(joiner, _char_offset(body, cmd.end))
    if op < 0 or body[_char_offset(body, cmd.end):op].strip():
        return ()
    stop = op + len(joiner)
    while stop < len(body) and body[stop] in " \t":
        stop += 1
    a, b = script_place(ins, start), script_place(ins, stop)
    if a is None or b is None:
        return ()
    rest = parse_script(body[:start] + body[stop:])
    if rest.has_error or [c.argv for c in rest.commands] != [c.argv for c in script.commands[1:]]:
        return ()
    return (replace(a, b, ""),)


# --- applying edits ----------------------------------------------------------------------------


def conflicts(a: Edit, b: Edit) -> bool:
    """Two edits that touch the same text, or insert at the same place (their order would matter)."""
    if a.start == b.start:
        return True
    if a.start < b.end and b.start < a.end:
        return True
    a_ins, b_ins = a.start == a.end, b.start == b.end
    return (a_ins and b.start < a.start < b.end) or (b_ins and a.start < b.start < a.end)


def apply(text: str, edits: Iterable[Edit], newline: str = "\n") -> str:
    """``text`` with ``edits`` (which must not conflict) applied.

    ``text`` is the file as read: it may use CRLF line ends, which stay; a
    column counts characters before a line's ``\\r``. Line breaks in inserted
    text become ``newline``.
    """
    at = _offsets(text)
    out = text
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: at(*e.start)] + e.text.replace("\n", newline) + out[at(*e.end) :]
    return out


def moved_line(old: str, new: str, edits: Iterable[Edit], line: int, newline: str = "\n") -> int:
    """The line of ``new`` (``old`` with ``edits`` applied) that old line ``line`` begins on;
    a line inside an edit maps to where that edit begins."""
    at = _offsets(old)
    start = at(line, 1)
    shift = 0
    for e in sorted(edits, key=lambda e: e.start):
        a, b = at(*e.start), at(*e.end)
        if a > start:
            break
        if b <= start:
            shift += len(e.text.replace("\n", newline)) - (b - a)
        else:
            shift -= start - a
    return _line_of(new, start + shift)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _offsets(text: str) -> Callable[[int, int], int]:
    """``(line, column) -> offset`` into ``text``; places past a line's end clamp to it (before a ``\\r``)."""
    starts = [0]
    i = text.find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = text.find("\n", i + 1)

    def at(line: int, column: int) -> int:
        if line > len(starts):
            return len(text)
        begin = starts[line - 1]
        stop = starts[line] - 1 if line < len(starts) else len(text)
        if stop > begin and text[stop - 1] == "\r":
            stop -= 1
        return min(begin + max(column, 1) - 1, stop)

    return at
