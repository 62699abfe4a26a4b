"""ShellCheck over RUN scripts, in one batch per run (the package :mod:`lintimg.shellcheck` re-exports it).

:func:`prepare` (called from the ``lintimg_prepare`` hook) collects every
shell-form RUN script of every target — with a shebang for its dialect and
an ``export`` line naming the Dockerfile's ARG/ENV variables (and the
builder's predefined ARGs) the script refers to, so ShellCheck does not call
them unassigned — and starts ``shellcheck -f json1`` over all of them in the
background, a process per CPU this process may use (its share of them when
a check runs in several processes: :func:`lintimg.limits.helper_processes`),
while the other rules run. Identical scripts are checked once, and every result is kept on disk
(:mod:`lintimg.shellcheck.cache`): a script checked by an earlier run — a
pre-commit re-run, a second pass over a corpus — starts no ShellCheck at all.
:func:`hits` waits for the batch and turns its results into findings at the
Dockerfile line each belongs to.
"""
from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from lintimg import cachefiles, limits
from lintimg.dockerfile import BUILTIN_ARGS, Dockerfile, Instruction
from lintimg.dockerfile.comments import hadolint_ignored
from lintimg.dockerfile.queries import posix_run, shell_of
from lintimg.findings import Hit, Severity
from lintimg.records import record
from lintimg.shellcheck import binary
from lintimg.shellcheck.cache import ResultCache, version

if TYPE_CHECKING:
    import subprocess


class Target(Protocol):
    """What ShellCheck needs of a run's target (:class:`lintimg.engine.target.Target` has it)."""

    @property
    def path(self) -> str: ...
    @property
    def dockerfile(self) -> Dockerfile | None: ...
    @property
    def cache(self) -> dict[str, Any]: ...

# target.cache keys (documented in lintimg.engine.hookspecs)
CACHE_KEY = "shellcheck"
BATCH_KEY = "shellcheck-batch"
NOTES = "notes"
INCOMPLETE = "incomplete"
NOTE_MISSING = "shellcheck not found on PATH: ShellCheck findings (LI390) were not checked; install lintimg[shellcheck]"
# `--norc`: a .shellcheckrc of the user or of /tmp must not change what a Dockerfile reports.
# Codes that make no sense for a RUN script: sourced files are not in the build
# context ShellCheck sees, and the shebang is ours.
EXCLUDE = "SC1090,SC1091,SC2187,SC1008"
# Shells ShellCheck knows, by the basename of the SHELL executable.
DIALECTS = {"sh": "sh", "dash": "dash", "ash": "sh", "busybox": "sh", "bash": "bash", "ksh": "ksh"}
PRELUDE_LINES = 2  # shebang + export line
_BATCH = 200  # scripts per shellcheck process: bounds argv length, and how long the first file waits
PER_SCRIPT = 0.5  # seconds a process's deadline grows by for each script it is given
PER_SCRIPT_CPU = 0.25  # CPU seconds its budget (limits.SHELLCHECK_CPU) grows by for each script
# Command substitutions nested deeper are not given to ShellCheck: its time doubles with each level
# (measured, ShellCheck 0.10: depth 10 0.5 s, 12 2.3 s, 14 11 s; the fuzzer found 20 levels in 218 bytes).
MAX_NESTING = 8
_SUBSTITUTION = re.compile(r"\$\(|\)")


@record(frozen=True)
class Comment:
    """One ShellCheck finding, placed in its script (0-based row, 1-based column)."""

    row: int
    column: int
    code: int
    level: str
    message: str


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


_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def relevant_vars(known: list[str], text: str) -> list[str]:
    """The known names worth declaring for ``text``: those it uses, and near misses of names it uses
    (so ShellCheck can still say "did you mean …"). Every declared name costs ShellCheck dataflow
    work — declaring all of them made it three times slower."""
    refs = set(_REF.findall(text))
    used = [v for v in known if v in refs]
    unknown = refs.difference(known)
    if not unknown:
        return used
    from difflib import SequenceMatcher
    near = [v for v in known if v not in refs and any(abs(len(v) - len(r)) <= 2 and SequenceMatcher(None, v, r).ratio() >= 0.8
                                                      for r in unknown)]
    return used + near


@record(frozen=True)
class Script:
    """A RUN script as ShellCheck is to see it: its dialect, the ARG/ENV names set before it, its text.

    Everything ShellCheck's answer depends on besides ShellCheck itself, so it is also the cache key.
    """

    shell: str
    known: tuple[str, ...]
    text: str

    @property
    def key(self) -> str:
        return f"{self.shell}\0{' '.join(self.known)}\0{self.text}"

    def file_text(self) -> str:
        """The file given to ShellCheck: a shebang for the dialect, an ``export`` of the variables it may use."""
        names = relevant_vars(list(self.known), self.text)
        prelude = f"#!/bin/{self.shell}\nexport {' '.join(f'{v}=1' for v in names)}\n" if names else f"#!/bin/{self.shell}\n:\n"
        return prelude + self.text


def too_hard(ins: Instruction) -> str | None:
    """Why ShellCheck is not given this RUN's script, if it is not.

    ShellCheck is not bounded: it ran for minutes on 340 nested ``"$(`` and on a
    line of 16,000 heredoc markers. Scripts bigger than
    :data:`lintimg.limits.MAX_SCRIPT` or nested deeper than
    :data:`MAX_NESTING` are left out (with a note), and each process has a deadline.
    """
    text = ins.shell_text or ""
    if len(text) > limits.MAX_SCRIPT:
        return f"longer than {limits.MAX_SCRIPT} bytes"
    if not all(h.closed for h in ins.heredocs):
        return "a heredoc is never closed"
    script = ins.script
    if (script is not None and script.nesting > MAX_NESTING) or _opened_substitutions(text) > MAX_NESTING:
        return f"command substitutions nested more than {MAX_NESTING} deep"
    return None


def _opened_substitutions(text: str) -> int:
    """The deepest run of ``$(`` opened and not yet closed, read from the text alone: a script the parser cannot
    parse (50 unclosed ``"$(`` in 440 bytes) has no nesting figure of its own, and ShellCheck still chokes on it."""
    depth = deepest = 0
    for m in _SUBSTITUTION.finditer(text):
        depth = depth + 1 if m.group() == "$(" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def scripts(df: Dockerfile) -> Iterator[tuple[Instruction, bool, Script]]:
    """``(instruction, is ONBUILD trigger, script)`` for every RUN ShellCheck should see."""
    for outer in df.instructions:
        ins = outer.onbuild if outer.onbuild is not None else outer
        if ins.keyword != "RUN" or ins.shell_text is None or not ins.shell_text.strip() or too_hard(ins):
            continue
        sh = dialect(df, ins)
        if sh is None:
            continue
        onbuild = outer.onbuild is not None
        text = ins.shell_text
        if text.startswith("#!"):  # a heredoc with its own interpreter runs as that script
            first, _, rest = text.partition("\n")
            words = first[2:].split()
            interp = os.path.basename(words[1] if words[:1] and words[0].endswith("/env") and len(words) > 1 else (words or [""])[0])
            sh = DIALECTS.get(interp)
            if sh is None:
                continue
            text = "\n" + rest  # keep the line numbers; the shebang is ours now
        yield ins, onbuild, Script(sh, tuple(known_vars(df, ins, onbuild)), text)


def cpu_budget(scripts: int) -> int:
    """Whole CPU seconds a ShellCheck process given ``scripts`` scripts may use (the kernel counts whole seconds)."""
    return math.ceil(limits.SHELLCHECK_CPU + scripts * PER_SCRIPT_CPU)


def _cap(pid: int, seconds: int) -> None:
    """Past ``seconds`` of CPU the kernel sends the process SIGXCPU (and SIGKILL a second later); past
    :data:`limits.SHELLCHECK_MEMORY` of data its allocations fail (it exits with no report); no core file.

    Set from outside (``prlimit``) because the batch runs in a thread, where a ``preexec_fn`` may deadlock.
    The deadline bounds wall time; this bounds the work, the same on a loaded machine as on an idle one.
    """
    try:
        resource.prlimit(pid, resource.RLIMIT_CPU, (seconds, seconds + 1))
        resource.prlimit(pid, resource.RLIMIT_DATA, (limits.SHELLCHECK_MEMORY, limits.SHELLCHECK_MEMORY))
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    except (ProcessLookupError, PermissionError):
        pass  # already gone: it finished within any budget


def _collect(proc: subprocess.Popen[bytes], deadline: float) -> list[dict[str, Any]] | None:
    """The comments of a finished shellcheck, or ``None`` when it crashed or was killed (no JSON: it always
    writes some, ``{"comments":[]}`` when it has nothing to say), ran past ``deadline`` or the run is
    stopping (then it is killed)."""
    import subprocess
    import time

    while True:
        try:
            data, _ = proc.communicate(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline or limits.stopping():
                proc.kill()
                proc.communicate()
                return None
    if proc.returncode < 0 or not data:  # a signal ended it (its CPU budget): a partial report or none
        return None
    try:
        found = json.loads(data)
        comments: list[dict[str, Any]] = found.get("comments", []) if isinstance(found, dict) else []
        return comments
    except ValueError:
        return None


class Batch:
    """ShellCheck running in the background over the scripts of a run.

    The scripts, in target order, are cut into chunks; a few ``shellcheck``
    processes (one per CPU) work through them while the rules run, and each
    target waits only for the chunks that hold its own scripts. Results go
    into each target's ``cache[CACHE_KEY]`` as
    ``{(instruction index, is ONBUILD): [Comment]}``.
    """

    def __init__(self, exe: str, by_text: dict[Script, list[tuple[Target, Instruction, bool]]], results: ResultCache | None = None):
        import threading  # here and below: a run whose scripts are all cached starts no batch

        self.by_text = by_text
        self.results = results
        self.texts = list(by_text)
        self.cpus = limits.helper_processes()
        self.size = max(1, min(_BATCH, -(-len(self.texts) // self.cpus)))
        self.done = [threading.Event() for _ in range(0, len(self.texts), self.size)]
        # Not a daemon: a run that never asks for the results still ends with the temp files removed.
        self.thread = threading.Thread(target=self._work, args=(exe,))
        self.thread.start()

    def _work(self, exe: str) -> None:
        import subprocess
        import tempfile
        import time

        try:
            with tempfile.TemporaryDirectory(prefix="lintimg-sc-") as tmp:
                files = []
                for n, text in enumerate(self.texts):
                    path = os.path.join(tmp, f"{n}.sh")
                    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
                        fh.write(text.file_text())
                    files.append(path)
                running: list[tuple[int, subprocess.Popen[bytes], float]] = []
                for k in range(len(self.done)):
                    chunk = files[k * self.size : (k + 1) * self.size]
                    cmd = [exe, "--norc", "-f", "json1", "-e", EXCLUDE, *chunk]
                    deadline = time.monotonic() + limits.SHELLCHECK_TIMEOUT + len(chunk) * PER_SCRIPT
                    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                    _cap(proc.pid, cpu_budget(len(chunk)))
                    running.append((k, proc, deadline))
                    if len(running) >= self.cpus:
                        self._store(*running.pop(0))
                for k, proc, deadline in running:
                    self._store(k, proc, deadline)
        except OSError as e:  # no temp space, binary vanished: say so instead of reporting a clean result
            self._failed(self.texts, e.strerror or str(e))
        finally:
            for ev in self.done:
                ev.set()

    def _failed(self, texts: list[Script], why: str) -> None:
        for text in texts:
            for t, _, _ in self.by_text[text]:
                t.cache[INCOMPLETE] = True  # another run may succeed: its result is not kept
                notes = t.cache.setdefault(NOTES, [])
                if not any(n.startswith("shellcheck failed") for n in notes):
                    notes.append(f"shellcheck failed ({why}): some LI390 findings are missing")

    def _store(self, k: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
        import time

        chunk = range(k * self.size, min((k + 1) * self.size, len(self.texts)))
        comments = _collect(proc, deadline)
        if comments is None:
            if limits.stopping():
                why = "stopped"
            elif proc.returncode == -signal.SIGXCPU:
                why = f"over its {cpu_budget(len(chunk))} s CPU budget"
            elif time.monotonic() > deadline:  # a loaded machine may reach the deadline before the budget
                why = f"past its {limits.SHELLCHECK_TIMEOUT + len(chunk) * PER_SCRIPT:g} s deadline"
            else:
                why = f"exit status {proc.returncode}, no report"
            self._failed([self.texts[n] for n in chunk], why)
            comments = []
        per_script: dict[int, list[list[Any]]] = {n: [] for n in chunk}
        for c in comments:
            row = c["line"] - 1 - PRELUDE_LINES
            if row >= 0:
                per_script[int(os.path.basename(c["file"]).split(".")[0])].append([row, c["column"], c["code"], c["level"], c["message"]])
        for n, found in per_script.items():
            _deliver(self.by_text[self.texts[n]], found)
            if self.results is not None and proc.returncode in (0, 1):  # 1: it found something; others: it failed
                self.results.put(self.texts[n].key, found)
        self.done[k].set()

    def wait(self, upto: int | None = None) -> None:
        """Wait until chunks ``0..upto`` (all when ``None``) are checked."""
        for ev in self.done if upto is None else self.done[: upto + 1]:
            ev.wait()


def _deliver(refs: list[tuple[Target, Instruction, bool]], comments: list[list[Any]]) -> None:
    """Give one script's comments to every RUN (of every target) that runs it."""
    for row, column, code, level, message in comments:
        comment = Comment(row, column, code, level, message)
        for t, ins, onbuild in refs:
            t.cache[CACHE_KEY].setdefault((ins.index, onbuild), []).append(comment)


def prepare(targets: Sequence[Target]) -> None:
    """Check the RUN scripts of all ``targets``: cached results at once, the rest in one background batch."""
    todo = [t for t in targets if t.dockerfile is not None and CACHE_KEY not in t.cache]
    if not todo:
        return
    exe = binary()
    for t in todo:
        t.cache[CACHE_KEY] = {}
    if exe is None:
        for t in todo:
            t.cache.setdefault(NOTES, []).append(NOTE_MISSING)
        return
    by_text: dict[Script, list[tuple[Target, Instruction, bool]]] = {}
    for t in todo:
        df = t.dockerfile
        assert df is not None
        for ins, onbuild, text in scripts(df):
            by_text.setdefault(text, []).append((t, ins, onbuild))
        for ins in df.of("RUN"):
            why = too_hard(ins) if ins.shell_text else None
            if why:
                t.cache.setdefault(NOTES, []).append(f"{t.path}:{ins.line}: RUN not given to ShellCheck ({why})")
    if not by_text:
        return
    sc_version = version(exe) if cachefiles.enabled() else None  # asking costs a process: only for the cache
    results = ResultCache(sc_version, EXCLUDE) if sc_version else None
    if results is not None:
        for text in list(by_text):
            known = results.get(text.key)
            if known is not None:
                _deliver(by_text.pop(text), known)
    if not by_text:
        return
    last: dict[int, int] = {}  # id(target) -> position of its last script in the batch
    for n, refs in enumerate(by_text.values()):
        for t, _, _ in refs:
            last[id(t)] = n
    batch = Batch(exe, by_text, results)
    for t in todo:
        if id(t) in last:
            t.cache[BATCH_KEY] = (batch, last[id(t)] // batch.size)


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
        found = hadolint_ignored(c.text)
        if found is None:
            continue
        scope, ids, _ = found
        codes = {x for x in ids if x.startswith("SC")}
        idx = bisect_right(starts, c.line)
        if scope == "global":
            file_wide |= codes
        elif scope:  # stage: every instruction of the stage of the next instruction
            if idx < len(starts):
                stage = df.instructions[idx].stage_index
                for i in df.instructions[idx:]:
                    if i.stage_index == stage:
                        per_ins.setdefault(i.index, set()).update(codes)
        elif idx < len(starts):
            per_ins.setdefault(idx, set()).update(codes)
    return file_wide, per_ins


# ShellCheck's levels are lintimg's severities (hadolint reports them the same way).
_LEVELS = {s.name.lower(): s for s in Severity}


def hits(t: Target) -> Iterator[Hit]:
    """The cached ShellCheck comments of ``t`` as hits (running ShellCheck for it if nobody prepared)."""
    if CACHE_KEY not in t.cache:
        prepare([t])
    if BATCH_KEY in t.cache:
        batch, chunk = t.cache[BATCH_KEY]
        batch.wait(chunk)
    df = t.dockerfile
    found = t.cache.get(CACHE_KEY) or {}
    if not found or df is None:
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
                severity=_LEVELS.get(c.level),
            )
