"""Shared helpers for rule bodies: iterate what rules look at, and make hits at the right place."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import field
from typing import Any

from lintimg.dockerfile import Dockerfile, Instruction, Stage, Token
from lintimg.dockerfile.comments import shell_pragma
from lintimg.dockerfile.model import run_mounts as run_mounts  # re-exported: rule bodies read mounts from here
from lintimg.dockerfile.shell import Command, command_from_argv
from lintimg.dockerfile.stages import chain
from lintimg.findings import Edit, Hit, Safety, Severity
from lintimg.records import record

# Shells whose scripts the POSIX-shell rules understand.
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "zsh", "busybox"})


def hit(ins: Instruction, message: str, *, token: Token | None = None, fix: str | None = None, key: str | None = None,
        severity: Severity | None = None, edits: tuple[Edit, ...] = (), safety: Safety = Safety.SAFE, **props: Any) -> Hit:
    """A hit on an instruction, or on one of its tokens when given (``severity``: see :attr:`Hit.severity`);
    ``edits`` fix it (see :mod:`.edits`)."""
    p = token.pos if token is not None else ins.pos
    return Hit(message, line=p.line, column=p.column, end_line=p.end_line, end_column=p.end_column, fix=fix, key=key,
               properties=props, severity=severity, edits=edits, safety=safety)


DEFAULT_SHELL = ("/bin/sh", "-c")
# Shells whose `-o pipefail` is documented (bash, zsh, the Korn shells, BusyBox ash). `/bin/sh` is
# whichever shell the image links there (dash on Debian, which had no pipefail before 0.5.12), so it is not one.
PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ksh", "ksh93", "mksh", "ash"})


def declared_shell(df: Dockerfile, ins: Instruction) -> list[str] | None:
    """The argv of the last SHELL before ``ins`` in its stage chain (``FROM <stage>`` inherits it), or ``None``."""
    stage = df.stage_of(ins)
    current: list[str] | None = None
    for st in reversed(chain(df, stage)) if stage is not None else ():
        for other in st.instructions:
            if other.index >= ins.index:
                break
            if other.keyword == "SHELL" and other.json_args:
                current = other.json_args
    return current


def shell_of(df: Dockerfile, ins: Instruction) -> list[str]:
    """The SHELL in force for ``ins`` (``["/bin/sh", "-c"]`` unless a SHELL changed it in its stage chain)."""
    return declared_shell(df, ins) or list(DEFAULT_SHELL)


def pipefail_shell(argv: list[str]) -> bool:
    """``argv`` (a SHELL) starts a shell that supports pipefail and turns it on (``bash -o pipefail -c``, ``-eo pipefail``)."""
    import os

    return bool(argv) and os.path.basename(argv[0]) in PIPEFAIL_SHELLS and turns_on_pipefail(argv)


def turns_on_pipefail(argv: list[str]) -> bool:
    """``argv`` (a shell's command line or a ``set``) holds ``-o pipefail`` (``-eo pipefail`` too)."""
    return any(a.startswith("-") and not a.startswith("--") and a.endswith("o") and nxt == "pipefail" for a, nxt in zip(argv, argv[1:]))


def is_posix_shell(df: Dockerfile, ins: Instruction) -> bool:
    import os

    exe = shell_of(df, ins)[0] if shell_of(df, ins) else "/bin/sh"
    return os.path.basename(exe).lower() in POSIX_SHELLS


def posix_run(df: Dockerfile, ins: Instruction) -> bool:
    """True when ``ins`` runs under a POSIX shell: no SHELL or ``# hadolint shell=`` names another."""
    import os

    pragma = shell_pragma(df)
    if pragma is not None and os.path.basename(pragma).lower() not in POSIX_SHELLS:
        return False
    return is_posix_shell(df, ins)


def run_commands(df: Dockerfile, include_onbuild: bool = True) -> list[tuple[Instruction, Command]]:
    """Every simple command of every shell-form RUN (and ONBUILD RUN), in order.

    Built once per model and shared by every rule (dozens of rules walk it): do not modify it.
    """
    key = ("run_commands", include_onbuild)
    found = df.memo.get(key)
    if found is None:
        found = df.memo[key] = list(_run_commands(df, include_onbuild))
    return found


def _run_commands(df: Dockerfile, include_onbuild: bool) -> Iterator[tuple[Instruction, Command]]:
    for ins in df.runs(include_onbuild):
        for cmd in commands_of(ins):
            yield ins, cmd


def commands_of(ins: Instruction) -> list[Command]:
    """The simple commands a RUN runs: its script's, or the one argv of the exec form (wrappers looked through alike)."""
    if ins.script is not None:
        return ins.script.commands
    cmd = command_from_argv(ins.json_args) if ins.json_args else None
    return [cmd] if cmd is not None else []


def command_line(ins: Instruction, cmd: Command) -> int:
    """The Dockerfile line a command of ``ins`` sits on (heredoc bodies included)."""
    if ins.heredocs and ins.script is not None and ins.shell_text == ins.heredocs[0].content:
        return ins.heredocs[0].line + cmd.row
    if cmd.row == 0 and ins.script is not None and ins.script.text.isascii():
        return ins.locate(cmd.offset)[0]
    return min(ins.pos.line + cmd.row, ins.pos.end_line)


def cmd_hit(ins: Instruction, cmd: Command, message: str, **kw: Any) -> Hit:
    """A hit on the line of ``cmd`` inside ``ins``."""
    h = hit(ins, message, **kw)
    line = command_line(ins, cmd)
    if line != ins.pos.line:
        h.line, h.column, h.end_line, h.end_column = line, 1, line, None
    return h


@record
class ContainerCommand:
    """What a stage's image runs as PID 1: the ENTRYPOINT and CMD in force and the argv they make.

    Shell forms are wrapped in the SHELL in force (``["/bin/sh", "-c", text]``). Docker's rule
    applies: an ENTRYPOINT clears the CMD a base stage set unless its own stage sets a CMD.
    """

    entrypoint: Instruction | None
    cmd: Instruction | None
    argv: list[str] = field(default_factory=list)

    @property
    def instructions(self) -> list[Instruction]:
        return [i for i in (self.entrypoint, self.cmd) if i is not None]


def _form(df: Dockerfile, ins: Instruction) -> list[str]:
    if ins.json_args is not None:
        return list(ins.json_args)
    text = ins.args_text.strip()
    return [*shell_of(df, ins), text] if text else []


def container_command(df: Dockerfile, stage: Stage) -> ContainerCommand:
    """The command ``stage``'s image runs, from its own and its base stages' CMD/ENTRYPOINT (base images unknown)."""
    entry: Instruction | None = None
    cmd: Instruction | None = None
    for st in reversed(chain(df, stage)):
        cmd_set = False
        for ins in st.instructions:
            if ins.keyword == "CMD":
                cmd, cmd_set = ins, True
            elif ins.keyword == "ENTRYPOINT":
                entry = ins
                if not cmd_set:
                    cmd = None
    argv = (_form(df, entry) if entry is not None else []) + (_form(df, cmd) if cmd is not None else [])
    return ContainerCommand(entry, cmd, argv)


def workdir_at(df: Dockerfile, ins: Instruction) -> str:
    """The WORKDIR in force for ``ins`` (``/`` when none was set in its stage chain), variables expanded."""
    import posixpath

    from lintimg.dockerfile.words import expand

    stage = df.stage_of(ins)
    cur = "/"
    for st in reversed(chain(df, stage)) if stage is not None else ():
        for other in st.instructions:
            if other.index >= ins.index:
                break
            if other.keyword == "WORKDIR" and other.args:
                cur = posixpath.normpath(posixpath.join(cur, expand(other.args[0].value, df.env_at(other))))
    return cur
