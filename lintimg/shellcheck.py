"""ShellCheck over RUN scripts, in one batch per run.

:func:`prepare` (called from the ``lintimg_prepare`` hook) writes every
shell-form RUN script of every target to a temporary file — with a shebang
for its dialect and an ``export`` line naming the Dockerfile's ARG/ENV
variables and the builder's predefined ARGs, so ShellCheck does not call
them unassigned — and runs ``shellcheck -f json1`` over all files at once
(split across the CPUs). Identical scripts are checked once. Results land in
``target.cache["shellcheck"]``; :func:`hits` turns them into findings at the
Dockerfile line each one belongs to.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from lintimg.dockerfile import BUILTIN_ARGS, Dockerfile, Instruction
from lintimg.findings import Hit
from lintimg.pragmas import _HADOLINT
from lintimg.queries import posix_run, shell_of

if TYPE_CHECKING:
    from lintimg.target import Target

CACHE_KEY = "shellcheck"
NOTE_MISSING = "shellcheck not found on PATH: ShellCheck findings (LI390) were not checked; install lintimg[shellcheck]"
# Codes that make no sense for a RUN script: sourced files are not in the build
# context ShellCheck sees, and the shebang is ours.
EXCLUDE = "SC1090,SC1091,SC2187,SC1008"
# Shells ShellCheck knows, by the basename of the SHELL executable.
DIALECTS = {"sh": "sh", "dash": "dash", "ash": "sh", "busybox": "sh", "bash": "bash", "ksh": "ksh"}
PRELUDE_LINES = 2  # shebang + export line
_BATCH = 400  # files per shellcheck process: bounds argv length and memory


@dataclass(frozen=True)
class Comment:
    """One ShellCheck finding, placed in its script (0-based row, 1-based column)."""

    row: int
    column: int
    code: int
    level: str
    message: str


def binary() -> str | None:
    return shutil.which("shellcheck")


def dialect(df: Dockerfile, ins: Instruction) -> str | None:
    """The ShellCheck dialect for a RUN, or ``None`` when its shell is not one ShellCheck knows."""
    if not posix_run(df, ins):
        return None
    shell = shell_of(df, ins)
    return DIALECTS.get(os.path.basename(shell[0]).lower() if shell else "sh")


def known_vars(df: Dockerfile, ins: Instruction, onbuild: bool) -> list[str]:
    """ARG/ENV names set before ``ins`` (none for an ONBUILD trigger: it runs in another build), plus predefined ARGs."""
    names = set(BUILTIN_ARGS)
    if not onbuild:
        for other in df.instructions[: ins.index]:
            if other.keyword in ("ARG", "ENV"):
                names.update(k for k, _, _ in other.key_values() if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k))
    return sorted(names)


def scripts(df: Dockerfile) -> Iterator[tuple[Instruction, bool, str]]:
    """``(instruction, is ONBUILD trigger, file text)`` for every RUN ShellCheck should see."""
    for outer in df.instructions:
        ins = outer.onbuild if outer.onbuild is not None else outer
        if ins.keyword != "RUN" or ins.shell_text is None or not ins.shell_text.strip():
            continue
        sh = dialect(df, ins)
        if sh is None:
            continue
        onbuild = outer.onbuild is not None
        prelude = f"#!/bin/{sh}\nexport {' '.join(f'{v}=1' for v in known_vars(df, ins, onbuild))}\n"
        yield ins, onbuild, prelude + ins.shell_text


def _run(exe: str, files: list[str]) -> list[dict]:
    out: list[dict] = []
    procs = []
    for i in range(0, len(files), _BATCH):
        cmd = [exe, "-f", "json1", "-e", EXCLUDE, *files[i : i + _BATCH]]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        if len(procs) >= (os.cpu_count() or 1):
            out += _collect(procs.pop(0))
    for p in procs:
        out += _collect(p)
    return out


def _collect(proc: subprocess.Popen) -> list[dict]:
    data, _ = proc.communicate()
    try:
        return json.loads(data or b"{}").get("comments", [])
    except ValueError:  # a crashed shellcheck: no findings for that batch, not a crash of ours
        return []


def prepare(targets: list["Target"]) -> None:
    """Run ShellCheck once over the RUN scripts of all ``targets``; store comments per instruction."""
    todo = [t for t in targets if t.dockerfile is not None and CACHE_KEY not in t.cache and not _disabled(t)]
    if not todo:
        return
    exe = binary()
    if exe is None:
        for t in todo:
            t.cache[CACHE_KEY] = {}
            t.cache.setdefault("notes", []).append(NOTE_MISSING)
        return
    by_text: dict[str, list[tuple["Target", Instruction, bool]]] = {}
    for t in todo:
        t.cache[CACHE_KEY] = {}
        for ins, onbuild, text in scripts(t.dockerfile):
            by_text.setdefault(text, []).append((t, ins, onbuild))
    if not by_text:
        return
    with tempfile.TemporaryDirectory(prefix="lintimg-sc-") as tmp:
        files = []
        for n, text in enumerate(by_text):
            path = os.path.join(tmp, f"{n}.sh")
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write(text)
            files.append(path)
        comments = _run(exe, files)
    texts = list(by_text)
    for c in comments:
        text = texts[int(os.path.basename(c["file"]).split(".")[0])]
        row = c["line"] - 1 - PRELUDE_LINES
        if row < 0:
            continue
        comment = Comment(row, c["column"], c["code"], c["level"], c["message"])
        for t, ins, onbuild in by_text[text]:
            t.cache[CACHE_KEY].setdefault((ins.index, onbuild), []).append(comment)


def _disabled(t: "Target") -> bool:
    for key in ("LI390", "shellcheck"):
        setting = t.config.rules.get(key)
        if setting is not None and setting.enabled is False:
            return True
    return False


def script_place(ins: Instruction, row: int, column: int) -> tuple[int, int]:
    """The Dockerfile (line, column) of ``row``/``column`` of the RUN's script."""
    text = ins.shell_text or ""
    if ins.heredocs and text == ins.heredocs[0].content:
        return ins.heredocs[0].line + row, column
    if row == 0:
        return ins.locate(min(column - 1, len(ins.args_text)))
    if ins.heredocs:  # rows after the first are heredoc bodies, one after another
        return min(ins.heredocs[0].line + row - 1, ins.pos.end_line), column
    return min(ins.pos.line + row, ins.pos.end_line), 1


def ignored_codes(df: Dockerfile) -> tuple[set[str], dict[int, set[str]]]:
    """SC codes from ``# hadolint ignore=SC…`` comments: file-wide, and per instruction index."""
    file_wide: set[str] = set()
    per_ins: dict[int, set[str]] = {}
    starts = [i.pos.line for i in df.instructions]
    for c in df.comments:
        m = _HADOLINT.match(c.text)
        if not m:
            continue
        codes = {x.strip().upper() for x in m.group(2).split(",") if x.strip().upper().startswith("SC")}
        idx = bisect_right(starts, c.line)
        if m.group(1) and m.group(1).lower() == "global":
            file_wide |= codes
        elif m.group(1):  # stage: every instruction of the stage of the next instruction
            if idx < len(starts):
                stage = df.instructions[idx].stage_index
                for i in df.instructions[idx:]:
                    if i.stage_index == stage:
                        per_ins.setdefault(i.index, set()).update(codes)
        elif idx < len(starts):
            per_ins.setdefault(idx, set()).update(codes)
    return file_wide, per_ins


def hits(t: "Target") -> Iterator[Hit]:
    """The cached ShellCheck comments of ``t`` as hits (running ShellCheck for it if nobody prepared)."""
    if CACHE_KEY not in t.cache:
        prepare([t])
    df = t.dockerfile
    found = t.cache.get(CACHE_KEY) or {}
    if not found:
        return
    file_wide, per_ins = ignored_codes(df)
    for outer in df.instructions:
        ins = outer.onbuild if outer.onbuild is not None else outer
        for c in found.get((outer.index, outer.onbuild is not None), ()):
            code = f"SC{c.code}"
            if code in file_wide or code in per_ins.get(outer.index, ()):
                continue
            line, column = script_place(ins, c.row, c.column)
            yield Hit(
                f"{code}: {c.message}",
                line=line,
                column=column,
                fix=f"see https://www.shellcheck.net/wiki/{code}",
                key=f"{code}:{c.message}",
                properties={"shellcheck_code": code, "shellcheck_level": c.level},
            )
