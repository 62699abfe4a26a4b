"""The fixes the built-in rules offer: each function returns the edits for one hit (``()`` when no
exact fix exists), so a rule attaches a fix with one argument and its checking logic stays as it is.

Edits are placed by :mod:`lintimg.dockerfile.edits` (continuations, heredocs, ONBUILD, ``# escape=``).
Whether a fix is safe is decided here, next to the edit, and documented in the rule's Fix section.
"""
from __future__ import annotations

import json
import posixpath
import re
import shlex
from typing import TYPE_CHECKING

from lintimg.dockerfile import Dockerfile, Instruction, Stage
from lintimg.dockerfile.edits import (
    add_words,
    append_commands,
    insert,
    keyword_edit,
    remove_command,
    replace,
    word_range,
)
from lintimg.dockerfile.queries import shell_of
from lintimg.dockerfile.shell import Command, Script, parse_script
from lintimg.dockerfile.stages import chain
from lintimg.dockerfile.words import split_words
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Edit, Safety

if TYPE_CHECKING:
    from lintimg.context.cacheorder import Ecosystem

Edits = tuple[Edit, ...]


def cased_like(word: str, model: str) -> str:
    """``word`` in the case of ``model`` (lower case only when ``model`` is all lower case)."""
    return word.lower() if model.islower() else word.upper()


def keyword(ins: Instruction, word: str) -> Edits:
    """Rewrite the instruction keyword as ``word``."""
    return keyword_edit(ins, word)


def add_option(ins: Instruction, cmd: Command, *words: str, after: str | None = None) -> Edits:
    """Insert option ``words`` into ``cmd`` after its subcommand ``after`` (``apt-get install -y``),
    or right after the command name when ``after`` is not given or not found."""
    index = 0
    if after is not None:
        index = next((i for i, a in enumerate(cmd.argv) if i and a == after), 0)
    return add_words(ins, cmd, index, *words)


def append(ins: Instruction, command: str) -> Edits:
    """End the RUN with ``&& command``."""
    return append_commands(ins, command)


# --- instruction rewrites ----------------------------------------------------------------------


def _quote(value: str, escape: str) -> str:
    """``value`` as one Dockerfile word that the builder reads back literally (no expansion)."""
    if re.fullmatch(r"[A-Za-z0-9_.,:/@+%=-]+", value):
        return value
    if "'" not in value:
        return f"'{value}'"
    out = "".join(escape + c if c in ('"', "$", escape) else c for c in value)
    return f'"{out}"'


def maintainer_to_label(ins: Instruction) -> Edits:
    """``MAINTAINER text`` -> ``LABEL org.opencontainers.image.authors="text"`` (the text kept literally)."""
    if ins.comments_inside or not ins.args_text:
        return ()
    label = cased_like("LABEL", ins.keyword_raw)
    p = ins.pos
    return (replace((p.line, p.column), (p.end_line, p.end_column),
                    f"{label} org.opencontainers.image.authors={_quote(ins.args_text, ins.escape)}"),)


def key_value_form(ins: Instruction) -> Edits:
    """Legacy ``ENV key value`` / ``LABEL key value`` -> ``key=value``, quoting a value of several words.

    The legacy value is the rest of the line, read as one word; ``key=value``
    reads one word per pair. A single-word value needs only the ``=``; several
    words are wrapped in double quotes, which is exact when the value has no
    quotes or escapes of its own (otherwise no fix is offered).
    """
    words = split_words(ins.args_text, ins.escape)
    if len(words) < 2:
        return ()
    key_end, value_start = ins.locate(words[0].end), ins.locate(words[1].start)
    if key_end[0] != value_start[0]:
        return ()  # the key and value are on different lines: leave the layout to a person
    edits = [replace(key_end, value_start, "=")]
    if len(words) > 2:
        rest = ins.args_text[words[1].start:]
        if any(c in rest for c in ("'", '"', ins.escape)):
            return ()
        edits = [replace(key_end, value_start, '="'), insert(ins.locate(len(ins.args_text)), '"')]
    return tuple(edits)


# --- exec (JSON) form ----------------------------------------------------------------------------

# A command line sh reads exactly as written: words of plain characters and quoted parts with nothing
# to expand inside; no variables, operators, redirections, globs, ``~``, comments or escapes.
_WORD = r"""(?:[A-Za-z0-9_./:=@%+,-]|'[^']*'|"[^"$`\\]*")+"""  # one character per step: no backtracking blow-up
_LITERAL_LINE = rf"[ \t]*{_WORD}(?:[ \t]+{_WORD})*[ \t]*"  # compiled on first use (re's cache): only a fix asks
# Commands that only exist inside the shell, or act on it: exec form would run something else or nothing.
_SHELL_ONLY = frozenset(
    "! . : [[ ]] { } alias bg break case cd command continue declare do done elif else esac eval exec exit export "
    "fc fg fi for function getopts hash if in jobs let local read readonly return select set shift source then "
    "time times trap type typeset ulimit umask unalias unset until wait while".split()
)


def exec_words(text: str) -> list[str] | None:
    """The argv that ``sh -c text`` runs, when ``text`` is one simple command of literal words.

    Plain words, and single- or double-quoted parts without ``$``, backquote
    or backslash inside, are literal for sh; anything else (variables,
    operators, redirections, globs, ``~``, comments, escapes) is a shell
    feature, and ``None`` is returned, as for an assignment or a command that
    only exists in the shell. A leading ``exec`` is dropped: sh replaces
    itself with the command, as exec form runs it.
    """
    if not re.fullmatch(_LITERAL_LINE, text):
        return None
    words = shlex.split(text, posix=True)
    if words and words[0] == "exec" and len(words) > 1 and not words[1].startswith("-"):
        words = words[1:]
    if not words or words[0] in _SHELL_ONLY or "=" in words[0]:
        return None
    return words


def exec_form(words: list[str]) -> str:
    return json.dumps(words, ensure_ascii=False)


# --- base images -------------------------------------------------------------------------------

# Image families known to ship GNU bash at /bin/bash (their non-Alpine, non-distroless variants).
_BASH_FAMILIES = frozenset(
    "debian ubuntu centos fedora rockylinux almalinux amazonlinux oraclelinux redhat ubi8 ubi9 ubi "
    "buildpack-deps python node golang ruby php perl openjdk eclipse-temurin amazoncorretto maven gradle "
    "rust haskell elixir erlang julia r-base gcc clojure swift jenkins mono".split()
)


def root_stage(df: Dockerfile, stage: Stage) -> Stage:
    return chain(df, stage)[-1]


def ships_bash(df: Dockerfile, stage: Stage) -> bool:
    """True when the stage's base image is of a family known to ship ``/bin/bash`` (judged by its name)."""
    base = root_stage(df, stage).base_resolved.lower()
    if not base or "$" in base or base == "scratch":
        return False
    name, _, tag = base.split("@")[0].rpartition(":") if ":" in base.split("/")[-1] else (base.split("@")[0], "", "")
    repo = name.rsplit("/", 1)[-1]
    if any(w in tag or w in name for w in ("alpine", "distroless", "busybox", "minimal", "micro", "chiseled")):
        return False
    return repo in _BASH_FAMILIES


def run_instructions_after(df: Dockerfile, ins: Instruction) -> list[Instruction]:
    """RUNs (ONBUILD RUNs included) that run after ``ins`` on top of its file system: later in its
    stage, and in every stage built FROM it, directly or not."""
    stage = df.stage_of(ins)
    if stage is None:
        return []
    out: list[Instruction] = []
    for st in df.stages:
        if stage not in chain(df, st):
            continue
        for other in st.instructions:
            if st is stage and other.index <= ins.index:
                continue
            body = other.onbuild if other.onbuild is not None else other
            if body.keyword == "RUN":
                out.append(body)
    return out


_APT_NEEDS_LISTS = frozenset("install upgrade dist-upgrade full-upgrade build-dep source download reinstall satisfy "
                             "search show showsrc policy madison list".split())


def apt_used_later(df: Dockerfile, ins: Instruction) -> bool:
    """True when a later RUN on ``ins``'s file system uses the apt lists before refreshing them itself."""
    for run in run_instructions_after(df, ins):
        cmds = run.script.commands if run.script is not None else [Command(list(run.json_args or []), 0)]
        for c in cmds:
            if c.name not in ("apt-get", "apt", "apt-cache", "aptitude"):
                continue
            if c.subcommand == "update":
                break
            if c.name == "apt-cache" or c.subcommand in _APT_NEEDS_LISTS:
                return True
    return False


_INSTALLERS = {"apt-get": "install", "apt": "install", "apk": "add", "yum": "install", "dnf": "install",
               "microdnf": "install", "tdnf": "install", "zypper": "install"}


def installs_package(df: Dockerfile, ins: Instruction, package: str) -> bool:
    """True when a RUN before ``ins`` in its stage chain installs ``package`` with a system package manager."""
    stage = df.stage_of(ins)
    if stage is None:
        return False
    for st in chain(df, stage):
        for run in st.of("RUN"):
            if run.index >= ins.index or run.script is None:
                continue
            for c in run.script.commands:
                if _INSTALLERS.get(c.name) == c.subcommand and package in (re.split(r"[=<>~]", a)[0] for a in c.args):
                    return True
    return False


def gnu_wget(df: Dockerfile, ins: Instruction) -> bool:
    """True when the ``wget`` that ``ins`` runs is GNU wget (installed as a package, or the base family's)."""
    stage = df.stage_of(ins)
    return stage is not None and (installs_package(df, ins, "wget") or ships_bash(df, stage))


# --- exec form for CMD / ENTRYPOINT / HEALTHCHECK -------------------------------------------------

_SH_NAMES = frozenset({"sh", "bash", "dash", "ash"})


def _plain_shell(df: Dockerfile, ins: Instruction) -> bool:
    """The shell form of ``ins`` runs under ``<sh-like shell> [options] -c``, where literal words mean the same."""
    shell = shell_of(df, ins)
    return len(shell) >= 2 and posixpath.basename(shell[0]) in _SH_NAMES and shell[-1] == "-c"


def _is_top_level(df: Dockerfile, ins: Instruction) -> bool:
    """``ins`` is an instruction of a stage of the file: not an ONBUILD trigger (which runs in someone else's
    build), nor one before any FROM (a file whose FROM is misspelt has no stage to fix in)."""
    return 0 <= ins.index < len(df.instructions) and df.instructions[ins.index] is ins and ins.stage_index is not None


def exec_form_fix(df: Dockerfile, ins: Instruction) -> tuple[Edits, Safety]:
    """Shell-form CMD/ENTRYPOINT/HEALTHCHECK CMD rewritten in JSON form, when that runs the same program
    with the same arguments; with how safe that is (see LI206's Fix section)."""
    none: tuple[Edits, Safety] = ((), Safety.SAFE)
    if ins.comments_inside or not _is_top_level(df, ins) or not _plain_shell(df, ins):
        return none
    start = 0
    if ins.keyword == "HEALTHCHECK":
        if not ins.args or ins.args[0].value.upper() != "CMD":
            return none
        start = len(ins.args[0].text)
        while start < len(ins.args_text) and ins.args_text[start] in " \t":
            start += 1
    words = exec_words(ins.args_text[start:])
    if words is None:
        return none
    edit = replace(ins.locate(start), ins.locate(len(ins.args_text)), exec_form(words))
    stage = df.stage_of(ins)
    if stage is None:
        return none
    if ins.keyword == "HEALTHCHECK":
        return (edit,), Safety.SAFE
    if ins.keyword == "ENTRYPOINT":
        # Exec form appends CMD and run-time arguments, which shell form ignores.
        if any(c.keyword == "CMD" for st in df.stages if stage in chain(df, st) for c in st.instructions):
            return none
        return (edit,), Safety.UNSAFE
    entry = [e for st in reversed(chain(df, stage)) for e in st.of("ENTRYPOINT")]
    if entry:
        # A shell-form ENTRYPOINT ignores CMD either way; an exec-form one receives different arguments.
        return (edit,), Safety.SAFE if not entry[-1].is_json else Safety.UNSAFE
    # No ENTRYPOINT here: the base image's own one (unknown without the image) would receive CMD.
    return (edit,), Safety.SAFE if root_stage(df, stage).is_scratch else Safety.UNSAFE


# --- WORKDIR instead of cd --------------------------------------------------------------------------

_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./@:+,-]+")


def plain_path(value: str) -> bool:
    """A path with nothing a shell or the builder would expand or unescape (no variables, quotes or backslashes)."""
    return bool(_PLAIN_PATH.fullmatch(value))


def workdir_before(df: Dockerfile, ins: Instruction) -> str | None:
    """The working directory ``ins`` runs in, when WORKDIRs earlier in its stage chain say it exactly."""
    stage = df.stage_of(ins)
    if stage is None:
        return None
    stages = chain(df, stage)
    current: str | None = "/" if stages[-1].is_scratch else None  # scratch starts in /
    for st in reversed(stages):
        for w in st.of("WORKDIR"):
            if w.index >= ins.index:
                break
            value = w.args[0].value if len(w.args) == 1 else "$"
            if "$" in value or not plain_path(value):
                current = None
            elif value.startswith("/"):
                current = posixpath.normpath(value)
            else:
                current = posixpath.normpath(posixpath.join(current, value)) if current else None
    return current


def _workdir_matters_after(df: Dockerfile, ins: Instruction) -> bool:
    """Whether anything after ``ins`` depends on its stage's working directory (before an absolute
    WORKDIR resets it): a RUN, a COPY/ADD to a relative path, a relative WORKDIR, or the image config
    of a stage that ships or that another stage builds on."""
    stage = df.stage_of(ins)
    if stage is None:  # an instruction before any FROM (a broken file): assume it matters
        return True
    for other in stage.instructions:
        if other.index <= ins.index:
            continue
        if other.keyword == "WORKDIR":
            value = other.args[0].value if other.args else ""
            if value.startswith("/") and "$" not in value:
                return False
            return True
        if other.keyword == "RUN" or (other.keyword in ("COPY", "ADD") and other.args and not other.args[-1].value.startswith("/")):
            return True
    ships = stage.index == len(df.stages) - 1 or any(st.base_stage == stage.index for st in df.stages)
    return ships


def workdir_fix(df: Dockerfile, ins: Instruction, cmd: Command) -> tuple[Edits, Safety]:
    """``RUN cd /dir && make`` -> ``WORKDIR /dir`` + ``RUN make`` (see LI360's Fix section)."""
    none: tuple[Edits, Safety] = ((), Safety.SAFE)
    script = ins.script
    if (script is None or not _is_top_level(df, ins) or ins.heredocs or ins.comments_inside or not script.commands
            or script.commands[0] is not cmd or len(cmd.argv) != 2 or cmd.assignments or cmd.wrapped_by):
        return none
    target = cmd.argv[1]
    if not plain_path(target) or target.startswith("-"):
        return none
    prev = workdir_before(df, ins)
    if not target.startswith("/"):
        if prev is None:
            return none  # a relative WORKDIR would be a finding of its own (LI230)
        target = posixpath.join(prev, target)
    target = posixpath.normpath(target)
    removal = remove_command(ins, cmd)
    if not removal:
        return none
    if target == prev:
        return removal, Safety.SAFE  # already there: the cd does nothing
    raw = df.source_line(ins.pos.line)
    indent = raw[: ins.pos.column - 1] if not raw[: ins.pos.column - 1].strip() else ""
    word = cased_like("WORKDIR", ins.keyword_raw)
    edits = [insert((ins.pos.line, ins.pos.column), f"{word} {target}\n{indent}"), *removal]
    if not _workdir_matters_after(df, ins):
        return tuple(edits), Safety.SAFE
    if prev is None:
        return tuple(edits), Safety.UNSAFE  # later instructions now run in the new directory
    end = ins.pos.end_line, ins.pos.end_column
    edits.append(insert(end, f"\n{indent}{word} {prev}"))
    return tuple(edits), Safety.SAFE


# --- SHELL with pipefail ---------------------------------------------------------------------------

# Constructs that both dash and bash accept but that mean different things in each.
_DASH_BASH_DIFFERENCES = re.compile(r"""\becho\b[^|;&]*(\\|\s-[neE]+\b)|\{[^{}\s]*(,|\.\.)[^{}\s]*\}|\$'|\$"|==""")


# A pipe (not ``||``): pipefail changes the exit status of such a script.
_PIPE = re.compile(r"(?<!\|)\|(?!\|)")


def _shell_form_texts_after(df: Dockerfile, ins: Instruction) -> list[tuple[str, str]]:
    """(keyword, script) of what a SHELL inserted before ``ins`` would also run: shell-form RUN, CMD,
    ENTRYPOINT and HEALTHCHECK from ``ins`` on, in its stage and the stages built on it."""
    stage = df.stage_of(ins)
    assert stage is not None
    out = []
    for st in df.stages:
        if stage not in chain(df, st):
            continue
        for other in st.instructions:
            if (st is stage and other.index < ins.index) or other.is_json:
                continue
            if other.keyword in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK") and other.shell_text:
                out.append((other.keyword, other.shell_text))
    return out


def _yes_into_pipe(script: Script) -> list[Command]:
    """``yes | cmd`` writers: `yes` only stops when its reader closes the pipe (SIGPIPE, status 141), so pipefail
    turns a `yes | apt-get install` that worked into a failed RUN."""
    return [c for c in script.commands if c.name == "yes" and c.operator in ("|", "|&")]


def pipes_hide_nothing(script: Script) -> bool:
    """Every pipeline of ``script`` is a plain ``yes | cmd``: pipefail would report no failure, only yes's SIGPIPE."""
    return 0 < script.pipelines == len(_yes_into_pipe(script)) and sum(c.in_pipeline for c in script.commands) == 2 * script.pipelines


def _container_pipes(texts: list[tuple[str, str]]) -> bool:
    """A shell-form CMD, ENTRYPOINT or HEALTHCHECK with a pipe: pipefail would change what the
    container (or its health check) reports, not only what the build does."""
    return any(kw != "RUN" and _PIPE.search(text) for kw, text in texts)


def pipefail_fix(df: Dockerfile, first_piped: Instruction) -> tuple[Edits, Safety]:
    """A ``SHELL [... "-o", "pipefail", "-c"]`` line before the first RUN of a stage that needs it
    (see LI364's Fix section)."""
    none: tuple[Edits, Safety] = ((), Safety.SAFE)
    stage = df.stage_of(first_piped)
    if stage is None or not _is_top_level(df, first_piped) or first_piped.heredocs:
        return none
    shell = shell_of(df, first_piped)
    name = posixpath.basename(shell[0]) if shell else ""
    if len(shell) < 2 or shell[-1] != "-c" or name not in _SH_NAMES:
        return none
    texts = _shell_form_texts_after(df, first_piped)
    if any(kw == "RUN" and _yes_into_pipe(parse_script(text)) for kw, text in texts):
        return none  # pipefail would fail a `yes | …` RUN the SHELL line also covers
    if name == "bash":
        new, safety = [*shell[:-1], "-o", "pipefail", "-c"], Safety.UNSAFE if _container_pipes(texts) else Safety.SAFE
    elif ships_bash(df, stage) or installs_package(df, first_piped, "bash"):
        new = ["/bin/bash", *shell[1:-1], "-o", "pipefail", "-c"]
        differs = _container_pipes(texts) or any(_DASH_BASH_DIFFERENCES.search(t) for _, t in texts)
        safety = Safety.UNSAFE if differs else Safety.SAFE
    elif _no_bash_family(df, stage):
        return none
    else:
        new, safety = ["/bin/bash", *shell[1:-1], "-o", "pipefail", "-c"], Safety.UNSAFE  # bash may not be there
    raw = df.source_line(first_piped.pos.line)
    indent = raw[: first_piped.pos.column - 1] if not raw[: first_piped.pos.column - 1].strip() else ""
    word = cased_like("SHELL", first_piped.keyword_raw)
    line = _comments_above(df, first_piped.pos.line)  # the RUN's own comment stays next to it
    if line == first_piped.pos.line:
        return (insert((line, first_piped.pos.column), f"{word} {exec_form(new)}\n{indent}"),), safety
    return (insert((line, 1), f"{indent}{word} {exec_form(new)}\n"),), safety


def _comments_above(df: Dockerfile, line: int) -> int:
    """The first line of the comment lines right above ``line`` (``line`` when there are none);
    directives at the top of the file are not comments to move past."""
    comments = {c.line for c in df.comments} - {n for _, n in df.directives.values()}
    while line - 1 in comments:
        line -= 1
    return line


def _no_bash_family(df: Dockerfile, stage: Stage) -> bool:
    """The base image is known to have no bash (Alpine, BusyBox, distroless, scratch)."""
    base = root_stage(df, stage).base_resolved.lower()
    return base == "scratch" or any(w in base for w in ("alpine", "busybox", "distroless"))


def shell_set_by(df: Dockerfile, ins: Instruction) -> int:
    """The index of the SHELL instruction in force for ``ins`` (-1: the default shell)."""
    stage = df.stage_of(ins)
    found = [s.index for st in chain(df, stage) for s in st.of("SHELL") if s.index < ins.index] if stage is not None else []
    return max(found, default=-1)


# --- COPY instead of ADD ---------------------------------------------------------------------------

_COPY_FLAGS = frozenset({"chown", "chmod", "link", "exclude", "parents"})
_ARCHIVE_EXT = (".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".zst", ".tzst", ".lz", ".lzma", ".z")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def _tar_header(block: bytes) -> bool:
    """A tar header block (ustar magic, or an old-style header whose checksum adds up)."""
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    field = block[148:156].split(b"\x00")[0].strip()
    try:
        want = int(field, 8)
    except ValueError:
        return False
    return want == sum(block[:148]) + 8 * 32 + sum(block[156:512])


def might_unpack(path: str) -> bool:
    """Whether ADD could unpack this file: it is compressed, or a tar archive (ADD judges by content)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return True
    return head.startswith(_COMPRESSED_MAGIC) or _tar_header(head)


def _plainly_not_archive(value: str) -> bool:
    """Judged by the name alone: a folder, or a file whose extension is not an archive or compression one."""
    if value in (".", "./") or value.endswith("/"):
        return True
    name = posixpath.basename(value)
    ext = posixpath.splitext(name)[1].lower()
    return bool(ext) and not name.startswith(".") and ext not in _ARCHIVE_EXT


def add_to_copy(ins: Instruction, context_files: dict[str, list[str]] | None) -> tuple[Edits, Safety]:
    """``ADD`` -> ``COPY`` for local sources (see LI350's Fix section). ``context_files`` maps each source
    as written to the context files it sends as single files (a folder's content is never unpacked);
    ``None`` when the run has no build context."""
    none: tuple[Edits, Safety] = ((), Safety.SAFE)
    if any(f.name not in _COPY_FLAGS for f in ins.flags):
        return none  # --checksum, --keep-git-dir ... are ADD's own
    sources = [a for a in ins.args[:-1] if not a.value.startswith("<<")]
    if any("$" in a.value or any(c in a.value for c in "*?[") or "://" in a.value or a.value.startswith("git@") for a in sources):
        return none
    edit = keyword_edit(ins, cased_like("COPY", ins.keyword_raw))
    if context_files is not None:
        safe = all(src.value in context_files and not any(might_unpack(p) for p in context_files[src.value]) for src in sources)
    else:
        safe = all(_plainly_not_archive(src.value) for src in sources)
    return edit, Safety.SAFE if safe else Safety.UNSAFE


# --- manifests before COPY . . ----------------------------------------------------------------------

# Installs that read only the manifests (no source): what may run before the source is copied.
_PURE_INSTALL = {
    "npm": lambda c: True, "yarn": lambda c: True, "pnpm": lambda c: True, "pipenv": lambda c: True,
    "bundler": lambda c: True, "composer": lambda c: True,
    "pip": lambda c: not any(a in (".", "./") or a.startswith(("-e", "--editable")) for a in c.args),
    "poetry": lambda c: c.has_flag("no-root"),  # else poetry installs the project itself, from its source
    "go": lambda c: c.args[:2] == ["mod", "download"],
    "cargo": lambda c: c.subcommand == "fetch",
    "maven": lambda c: any(a.startswith("dependency:") for a in c.args),
}
# What may sit between the broad COPY and the install without depending on the copied files or the directory.
_NEUTRAL = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "USER", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER"})


def manifests_first(df: Dockerfile, copy: Instruction, run: Instruction, ecosystem: Ecosystem, manifests: list[str]) -> Edits:
    """Copy ``manifests`` (file names at the root of what ``copy`` sends) in place of ``COPY . <dest>``, and
    move that COPY after the install ``run`` (see LI406's Fix section): ``()`` unless the move is exact."""
    if not manifests or not _is_top_level(df, run) or copy.stage_index != run.stage_index or copy.heredocs or copy.comments_inside:
        return ()
    if any(f.name not in ("chown", "chmod", "link") for f in copy.flags) or len(copy.args) != 2 or copy.args[0].value not in (".", "./"):
        return ()
    dest = copy.args[1].value
    if "$" in copy.args_text or any(f.value and "$" in f.value for f in copy.flags):
        return ()
    between = [i for i in df.instructions if copy.index < i.index < run.index]
    if any(i.keyword not in _NEUTRAL or i.onbuild is not None for i in between):
        return ()
    from lintimg.context.cacheorder import dependency_install  # layer order only: loaded when LI406 runs

    script = run.script
    pure = _PURE_INSTALL.get(ecosystem.name)
    if script is None or run.heredocs or pure is None or not script.commands:
        return ()
    if not all(dependency_install(c) is ecosystem and pure(c) for c in script.commands):
        return ()  # the RUN does more than install from the manifests (a build, a test) and needs the source
    start = (copy.pos.line, copy.pos.column)
    end = (copy.pos.end_line, copy.pos.end_column)
    lines = [df.source_line(n) for n in range(copy.pos.line, copy.pos.end_line + 1)]
    lines[-1] = lines[-1][: copy.pos.end_column - 1]
    lines[0] = lines[0][copy.pos.column - 1 :]
    written = "\n".join(lines)
    flags = "".join(f"{f.token.text} " for f in copy.flags)
    target = dest if dest.endswith("/") else dest + "/"
    first = f"{cased_like('COPY', copy.keyword_raw)} {flags}{' '.join(manifests)} {target}"
    raw = df.source_line(copy.pos.line)
    indent = raw[: copy.pos.column - 1] if not raw[: copy.pos.column - 1].strip() else ""
    return (replace(start, end, first), insert((run.pos.end_line, run.pos.end_column), f"\n{indent}{written}"))


# --- versions the base image has (unsafe) -------------------------------------------------------------

_BASE_PACKAGES = "base-packages"  # lintimg.engine.hookspecs: filled by rules/_basepackages.py


def pin_to_base(t: DockerfileTarget, db: str, ins: Instruction, cmd: Command, loose: list[str]) -> Edits:
    """``pkg`` -> ``pkg=<version the base image has installed>`` for every package in ``loose``;
    ``()`` unless all of them are known (a fix must clear its finding)."""
    stage = t.dockerfile.stage_of(ins)
    known = t.cache.get(_BASE_PACKAGES)
    if stage is None or not known:
        return ()
    versions = known.get(root_stage(t.dockerfile, stage).index, {}).get(db)
    if not versions:
        return ()
    edits = []
    for pkg in dict.fromkeys(loose):
        index = next((i for i, a in enumerate(cmd.argv) if i > 1 and a == pkg), None)
        if pkg not in versions or index is None or any(c in pkg for c in "$:/=~<>*@"):
            return ()
        where = word_range(ins, cmd, index)
        if where is None:
            return ()
        edits.append(replace(where[0], where[1], f"{pkg}={versions[pkg]}"))
    return tuple(edits)
