"""The exact Dockerfile model: instructions, tokens and flags with their places, heredocs, stages, ARG/ENV scopes.

Built by :func:`lintimg.dockerfile.parser.parse_dockerfile`; rules read it.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import field
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from lintimg.dockerfile.words import expand, is_digits, parse_key_values
from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.dockerfile.shell import Script

KNOWN_INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER "
    "ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
FLAG_INSTRUCTIONS = frozenset({"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"})
# BuildKit's heredoc word: optional fd, "<<", optional "-", then a (quoted) name.
HEREDOC_RE = re.compile(r"^(\d*)<<(-?)(['\"]?)([A-Za-z0-9_.\-]+)\3$")
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


@record(frozen=True)
class Pos:
    line: int
    column: int
    end_line: int
    end_column: int


@record
class Token:
    """A word of an instruction's arguments with its place in the file."""

    text: str  # as written, quotes kept
    value: str  # quotes and escapes removed
    pos: Pos


@record
class Flag:
    name: str  # without the leading "--"
    value: str | None
    token: Token


@record
class Heredoc:
    name: str
    content: str  # body as the builder sees it (tabs stripped for "<<-")
    strip_tabs: bool
    quoted: bool  # quoted delimiter: no variable expansion in the body
    fd: int | None
    line: int  # line of the first body line
    end_line: int  # line of the closing delimiter
    closed: bool = True  # False: no closing delimiter (the body runs to the end of the file; a parse error)


@record
class Comment:
    line: int
    text: str  # without the leading "#", stripped


@record
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
    onbuild: Instruction | None = None
    empty_continuation_lines: list[int] = field(default_factory=list)
    comments_inside: list[Comment] = field(default_factory=list)
    escape: str = "\\"
    _dockerfile: Dockerfile | None = field(default=None, repr=False)
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

    def flag_token(self, name: str) -> Token | None:
        """The token of flag ``name`` (for a hit on it), or ``None`` when the instruction has no such flag."""
        f = self.flag(name)
        return f.token if f is not None else None

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @cached_property
    def script(self) -> Script | None:
        """The parsed shell script of a shell-form RUN (or ``None``)."""
        from lintimg.dockerfile.shell import parse_script

        text = self.shell_text
        if text is None or not all(h.closed for h in self.heredocs):
            return None  # an unterminated heredoc is a parse error (LI001), not a script to analyse
        return parse_script(text)

    @property
    def shell_text(self) -> str | None:
        """What ``/bin/sh -c`` would run for RUN/CMD/ENTRYPOINT in shell form, heredocs included."""
        if self.json_args is not None:
            return None
        if self.heredocs and self.keyword == "RUN":
            only = self.args_text.strip()
            first = self.heredocs[0]
            if HEREDOC_RE.match(only) and len(self.heredocs) == 1:
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


def run_mounts(ins: Instruction) -> list[dict[str, str]]:
    """The ``--mount`` options of a RUN as dicts (``type`` defaults to bind, ``dst``/``destination`` read as ``target``)."""
    out = []
    for value in ins.flag_values("mount"):
        opts: dict[str, str] = {"type": "bind"}
        for part in value.split(","):
            key, _, val = part.partition("=")
            key = key.strip().lower()
            opts["target" if key in ("dst", "destination") else key] = val.strip()
        out.append(opts)
    return out


def _token_at(ins: Instruction) -> Token:
    return Token(ins.keyword_raw, ins.keyword, ins.pos)


@record
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


@record
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
    # Derived views shared by all rules of a run (see lintimg.dockerfile.queries.run_commands).
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def stage_by_ref(self, ref: str, before: int | None = None) -> Stage | None:
        """The stage a ``--from``/``FROM`` reference names (alias or index), if any."""
        limit = len(self.stages) if before is None else before
        if is_digits(ref):
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
        """Variables (ARG and ENV) visible to ``ins``: its stage's ARGs and ENVs up to it and the ENVs of
        the stages it is built FROM (ARGs do not pass through ``FROM <stage>``); before the first FROM
        (or in a file without one), the ARG/ENV instructions above it."""
        return self._scopes.get(ins.index, {})

    @cached_property
    def _scopes(self) -> dict[int, dict[str, str]]:
        scopes: dict[int, dict[str, str]] = {}
        stage_env: dict[int, dict[str, str]] = {}
        head: dict[str, str] = {}
        for ins in self.instructions:
            if ins.stage_index is not None:
                continue
            scopes[ins.index] = dict(head)
            if ins.keyword in ("ARG", "ENV"):
                for key, value, _ in ins.key_values():
                    head[key] = expand(value, head) if value is not None else head.get(key, "")
        for st in self.stages:
            # A stage built FROM another inherits its ENV (part of that image's config), not its ARGs.
            inherited = dict(stage_env.get(st.base_stage, {})) if st.base_stage is not None else {}
            env: dict[str, str] = dict(inherited)
            for ins in st.instructions:
                scopes[ins.index] = dict(env)
                if ins.keyword in ("ARG", "ENV"):
                    for key, value, _ in ins.key_values():
                        if ins.keyword == "ENV":
                            if value is not None:  # `ENV name` alone is a syntax error for Docker: it sets nothing
                                env[key] = inherited[key] = expand(value, env)
                        elif value is None:
                            glob = self.global_args.get(key)
                            env[key] = expand(glob, env) if glob else env.get(key, "")
                        else:
                            env[key] = expand(value, env)
            stage_env[st.index] = inherited
        return scopes


def _locate(segments: list[tuple[int, int, int]], offset: int) -> tuple[int, int]:
    i = bisect_right(segments, offset, key=itemgetter(0)) - 1 if len(segments) > 1 else 0
    seg_off, line, col = segments[max(i, 0)]
    return (line, col + offset - seg_off) if i >= 0 and seg_off <= offset else (line, col)
