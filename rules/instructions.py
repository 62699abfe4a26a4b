"""LI2xx: instruction form and syntax — casing, key/value form, JSON form, repeats, variables, EXPOSE, WORKDIR."""
from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from collections.abc import Iterator

from lintimg.config import suggest
from lintimg.dockerfile import KNOWN_INSTRUCTIONS, Dockerfile, Instruction, Token
from lintimg.dockerfile.edits import token_edit
from lintimg.dockerfile.queries import declared_shell, hit
from lintimg.dockerfile.stages import chain, runs, ships
from lintimg.dockerfile.words import is_digits, variables_used
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes
from lintimg.rules._common import DEAD_STAGE, KICS_LAST_STAGE, base_env, base_shell, path_under

ID_RANGE = "LI200-LI299"

# Docker history's rendering of COPY sources ("file:<sha256> in /dest"), as in rebuilt Dockerfiles.
_HISTORY_SOURCE = re.compile(r"^(file|multi|dir):[0-9a-f]{64}$")
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:(?:[\\/]|$)")  # C:\app, C:/app, and the drive root C:


def _all(df: Dockerfile) -> Iterator[Instruction]:
    """Every instruction and every ONBUILD trigger body."""
    for ins in df.instructions:
        yield ins
        if ins.onbuild is not None:
            yield ins.onbuild


@rule("LI201", "consistent-instruction-casing", Severity.STYLE, tags=("style",), peers=("ConsistentInstructionCasing",),
      fixable=(Safety.SAFE,))
def consistent_instruction_casing(t: DockerfileTarget) -> Iterator[Hit]:
    """Write all instruction keywords in the same case.

    ## What it does
    Counts upper- and lower-case keywords and flags every keyword that does
    not follow the majority (upper case wins a tie); mixed-case keywords
    such as `From` always differ from it.

    ## Why it matters
    Mixed casing makes a Dockerfile harder to scan and to grep.

    ## Example
    ```dockerfile
    FROM alpine:3.20
    run apk add --no-cache curl
    ```

    ## Fix
    Use one case for all keywords, conventionally upper case. Safe
    autofix: the keyword is rewritten in the majority case (keywords are
    case-insensitive to the builder).
    """
    ins_all = t.dockerfile.instructions
    counts = Counter("upper" if i.keyword_raw.isupper() else "lower" if i.keyword_raw.islower() else "mixed" for i in ins_all)
    majority = "lower" if counts["lower"] > counts["upper"] else "upper"
    for ins in ins_all:
        word = ins.keyword_raw
        want = word.upper() if majority == "upper" else word.lower()
        if want != word:
            # An unknown keyword is a parse error to correct, not a spelling to recase.
            yield hit(ins, f"'{word}' should match the case of the other instructions ({majority} case)", fix=f"write '{want}'",
                      edits=_fixes.keyword(ins, want) if ins.keyword in KNOWN_INSTRUCTIONS else ())


@rule("LI202", "no-empty-continuation", Severity.WARNING, tags=("syntax",), peers=("NoEmptyContinuation",))
def no_empty_continuation(t: DockerfileTarget) -> Iterator[Hit]:
    """An empty line inside a continued instruction.

    ## What it does
    Flags instructions continued with a backslash across an empty line.

    ## Why it matters
    The builder skips the empty line today, but this is deprecated and meant
    to become an error; it also hides where an instruction really ends.

    ## Example
    ```dockerfile
    RUN apk add \\

        curl
    ```

    ## Fix
    Remove the empty line, or end the instruction before it.
    """
    for ins in t.dockerfile.instructions:
        if ins.empty_continuation_lines:
            lines = ", ".join(map(str, ins.empty_continuation_lines))
            yield hit(ins, f"{ins.keyword} is continued across empty line(s) {lines}", fix="remove the empty lines inside the instruction")


@rule("LI203", "legacy-key-value-format", Severity.STYLE, tags=("syntax", "style"), peers=("LegacyKeyValueFormat",),
      fixable=(Safety.SAFE,))
def legacy_key_value_format(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `key=value` in ENV and LABEL.

    ## What it does
    Flags the legacy `ENV key value` / `LABEL key value` form, where the
    first space separates the key from the value.

    ## Why it matters
    The legacy form sets only one variable and makes the value everything
    after the space, quotes and all, which surprises readers; it is
    deprecated.

    ## Example
    ```dockerfile
    ENV PATH /opt/app/bin:$PATH
    ```

    ## Fix
    `ENV PATH=/opt/app/bin:$PATH`. Safe autofix: the space after the key
    becomes `=`; a value of several words is put in double quotes, which
    keeps it one value with the same spaces and the same `$` expansion. A
    value that has quotes or escapes of its own, or starts on another line
    than its key, is left to you.
    """
    for ins in _all(t.dockerfile):
        if ins.keyword in ("ENV", "LABEL", "ARG") and ins.legacy_key_value:
            key = ins.key_values()[0][0]
            yield hit(ins, f"'{ins.keyword} {key} ...' uses the legacy space-separated form", fix=f"write {ins.keyword} {key}=<value>",
                      edits=_fixes.key_value_form(ins))


def _comment_block_above(df: Dockerfile, line: int) -> list[str]:
    """The contiguous comment lines ending right above ``line``, top first."""
    by_line = {c.line: c.text for c in df.comments}
    out: list[str] = []
    ln = line - 1
    while ln in by_line:
        out.append(by_line[ln])
        ln -= 1
    return out[::-1]


@rule("LI204", "invalid-definition-description", Severity.INFO, tags=("style", "docs"), peers=("InvalidDefinitionDescription",), enabled_by_default=False)
def invalid_definition_description(t: DockerfileTarget) -> Iterator[Hit]:
    """A comment above an ARG or a named stage should start with its name.

    ## What it does
    When a comment sits directly above `ARG name` or `FROM ... AS name`,
    checks that its first word is that name (`# name description`).
    Off by default, as in BuildKit, where the check is experimental.

    ## Why it matters
    Tools that list build arguments and targets (`docker buildx build
    --call=outline`) take their descriptions from comments in this form.

    ## Example
    ```dockerfile
    # the Go version to build with
    ARG GO_VERSION=1.23
    ```

    ## Fix
    `# GO_VERSION the Go version to build with`, or leave an empty line
    between a plain comment and the definition.
    """
    df = t.dockerfile
    directive_lines = {line for _, line in df.directives.values()}
    for ins in df.instructions:
        if ins.keyword == "ARG" and len(ins.key_values()) == 1:
            name = ins.key_values()[0][0]
        elif ins.keyword == "FROM" and (st := df.stage_of(ins)) is not None and st.name_raw:
            name = st.name_raw
        else:
            continue
        block = _comment_block_above(df, ins.line)
        if block and ins.line - len(block) not in directive_lines and block[0].split(" ", 1)[0] != name:
            yield hit(ins, f"the comment above {ins.keyword} {name} should start with {name!r}", fix=f"write '# {name} <description>'")


@rule(
    "LI205", "maintainer-deprecated", Severity.ERROR, tags=("deprecated",),
    peers=("DL4000", "MaintainerDeprecated", "DS-0022", "CKV_DOCKER_6", "KICS-99614418"), fixable=(Safety.SAFE,),
)
def maintainer_deprecated(t: DockerfileTarget) -> Iterator[Hit]:
    """MAINTAINER is deprecated.

    ## What it does
    Flags every `MAINTAINER` instruction.

    ## Why it matters
    MAINTAINER is deprecated and only fills a legacy image field; tools and
    registries read the author from labels.

    ## Example
    ```dockerfile
    MAINTAINER Jane Doe <jane@example.com>
    ```

    ## Fix
    `LABEL org.opencontainers.image.authors="jane@example.com"`. Safe
    autofix: MAINTAINER becomes that LABEL with its text kept exactly
    (quoted so that the builder expands nothing in it). Only the image's
    legacy `Author` field goes; nothing the container runs changes.
    """
    for ins in t.dockerfile.of("MAINTAINER"):
        yield hit(ins, "MAINTAINER is deprecated", fix=f'LABEL org.opencontainers.image.authors="{ins.args_text}"',
                  edits=_fixes.maintainer_to_label(ins))


def _healthcheck_json(ins: Instruction) -> bool | None:
    """For ``HEALTHCHECK CMD ...``: whether the command is a JSON array (``None`` for NONE/empty)."""
    if not ins.args or ins.args[0].value.upper() != "CMD":
        return None
    rest = ins.args_text[len(ins.args[0].text):].strip()
    if not rest:
        return None
    try:
        val = json.loads(rest)
    except ValueError:
        return False
    return isinstance(val, list) and all(isinstance(v, str) for v in val)


@rule(
    "LI206", "json-args-recommended", Severity.WARNING, tags=("runtime", "signals"),
    peers=("DL3025", "JSONArgsRecommended", "KICS-b86987e1"), fixable=(Safety.SAFE, Safety.UNSAFE),
    divergences={"DL3025": "hadolint reports shell form whatever the SHELL; lintimg follows BuildKit, for which a SHELL "
                           "instruction makes the shell form a deliberate use of that shell.",
                 "KICS-b86987e1": KICS_LAST_STAGE, "JSONArgsRecommended": DEAD_STAGE},
)
def json_args_recommended(t: DockerfileTarget) -> Iterator[Hit]:
    """Use the JSON (exec) form for CMD, ENTRYPOINT and HEALTHCHECK CMD.

    ## What it does
    Flags `CMD`, `ENTRYPOINT` and `HEALTHCHECK CMD` written in shell form
    (`CMD node server.js` rather than `CMD ["node", "server.js"]`).

    Once a SHELL instruction is in force for the stage (its own, or one
    inherited through `FROM <stage>`), the shell form is a deliberate use
    of that shell and is not flagged, as BuildKit does; so is a SHELL the
    base image was built with, read from its config when base-image
    lookups are on (`base-image-lookup`). A stage that never runs as a
    container is not checked: one only copied from, or one no build can
    tag (no `AS` name, not the last, used by no other stage).

    ## Why it matters
    Shell form runs the command under `/bin/sh -c`: the shell becomes PID 1,
    does not forward SIGTERM, and `docker stop` waits out its timeout and
    then kills the process without a clean shutdown.

    ## Example
    ```dockerfile
    CMD node server.js
    ```

    ## Fix
    `CMD ["node", "server.js"]`.

    Autofix, only where JSON form runs the same program with the same
    arguments: the command is one simple command of literal words (plain,
    or quoted with nothing to expand inside: no variables, operators,
    redirections, globs, `~`, comments or escapes), not a shell builtin or
    an assignment, and the shell in force is sh, bash, dash or ash with
    `-c`. A leading `exec` is dropped. HEALTHCHECK CMD: safe. CMD: safe when
    the stage's ENTRYPOINT is in shell form (it ignores CMD) or the stage
    builds on `scratch`; unsafe when an ENTRYPOINT would receive the new
    arguments (one in JSON form, or the base image's, which lintimg does not
    know). ENTRYPOINT: unsafe, since exec form appends CMD and `docker run`
    arguments that shell form ignores; no fix when the stage sets a CMD.
    ONBUILD triggers are not fixed.
    """
    df = t.dockerfile
    for ins in _all(df):
        if ins.keyword not in ("CMD", "ENTRYPOINT", "HEALTHCHECK") or declared_shell(df, ins) is not None or not runs(df, ins):
            continue
        if base_shell(t, df, ins) is not None:
            continue  # the base image's own SHELL instruction is in force: as deliberate as one in this file
        if ins.keyword in ("CMD", "ENTRYPOINT") and not ins.is_json and ins.args_text:
            edits, safety = _fixes.exec_form_fix(df, ins)
            yield hit(ins, f"{ins.keyword} is in shell form; use the JSON form so the process gets signals", fix=f'{ins.keyword} {json.dumps(ins.args_text.split())}',
                      edits=edits, safety=safety)
        elif ins.keyword == "HEALTHCHECK" and _healthcheck_json(ins) is False:
            edits, safety = _fixes.exec_form_fix(df, ins)
            yield hit(ins, "HEALTHCHECK CMD is in shell form; use the JSON form", fix='HEALTHCHECK CMD ["executable", "arg"]',
                      edits=edits, safety=safety)


def _repeated(t: DockerfileTarget, keyword: str) -> Iterator[Hit]:
    """Hits on every ``keyword`` of a shipped stage that a later one overrides (only the last one takes effect).

    The finding sits on the instruction that has no effect, as BuildKit and KICS report it. A stage that is
    not shipped (only copied from) never runs as a container, so none of its ``keyword``s takes effect."""
    df = t.dockerfile
    by_stage: dict[int | None, list[Instruction]] = {}
    for ins in df.of(keyword):
        if ships(df, ins):
            by_stage.setdefault(ins.stage_index, []).append(ins)
    for found in by_stage.values():
        for ins in found[:-1]:
            yield hit(ins, f"this {keyword} is overridden by the one on line {found[-1].line}; only the last {keyword} of a stage takes effect",
                      fix=f"remove it, or keep a single {keyword}")


@rule(
    "LI207", "multiple-cmd", Severity.WARNING, tags=("runtime",),
    peers=("DL4003", "MultipleInstructionsDisallowed", "DS-0016", "KICS-41c195f4"),
)
def multiple_cmd(t: DockerfileTarget) -> Iterator[Hit]:
    """More than one CMD in a stage.

    ## What it does
    Flags each `CMD` of a stage that a later `CMD` overrides (the
    finding is on the one that has no effect). A stage that is not
    shipped (only copied from) is not checked.

    ## Why it matters
    Only the last CMD counts; the others are dead code that misleads readers
    about what the container runs.

    ## Example
    ```dockerfile
    CMD ["nginx"]
    CMD ["nginx", "-g", "daemon off;"]
    ```

    ## Fix
    Keep one CMD per stage.
    """
    yield from _repeated(t, "CMD")


@rule(
    "LI208", "multiple-entrypoint", Severity.ERROR, tags=("runtime",),
    peers=("DL4004", "MultipleInstructionsDisallowed", "DS-0007", "KICS-6938958b"),
    divergences={"KICS-6938958b": KICS_LAST_STAGE},
)
def multiple_entrypoint(t: DockerfileTarget) -> Iterator[Hit]:
    """More than one ENTRYPOINT in a stage.

    ## What it does
    Flags each `ENTRYPOINT` of a stage that a later `ENTRYPOINT` overrides (the
    finding is on the one that has no effect). A stage that is not
    shipped (only copied from) is not checked.

    ## Why it matters
    Only the last ENTRYPOINT counts; the earlier ones never run.

    ## Example
    ```dockerfile
    ENTRYPOINT ["/entrypoint.sh"]
    ENTRYPOINT ["/app"]
    ```

    ## Fix
    Keep one ENTRYPOINT per stage.
    """
    yield from _repeated(t, "ENTRYPOINT")


@rule(
    "LI209", "multiple-healthcheck", Severity.ERROR, tags=("runtime", "healthcheck"),
    peers=("DL3012", "MultipleInstructionsDisallowed", "DS-0023"),
)
def multiple_healthcheck(t: DockerfileTarget) -> Iterator[Hit]:
    """More than one HEALTHCHECK in a stage.

    ## What it does
    Flags each `HEALTHCHECK` of a stage that a later `HEALTHCHECK` overrides (the
    finding is on the one that has no effect). A stage that is not
    shipped (only copied from) is not checked.

    ## Why it matters
    Only the last HEALTHCHECK counts; an earlier one that looks like the
    real probe is silently replaced.

    ## Example
    ```dockerfile
    HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]
    HEALTHCHECK CMD ["/healthz"]
    ```

    ## Fix
    Keep one HEALTHCHECK per stage.
    """
    yield from _repeated(t, "HEALTHCHECK")


@rule("LI210", "env-self-reference", Severity.ERROR, tags=("env",), peers=("DL3044",))
def env_self_reference(t: DockerfileTarget) -> Iterator[Hit]:
    """ENV refers to a variable that the same ENV statement defines.

    ## What it does
    Flags `ENV A=1 B=$A` when `A` was not defined before this statement.
    Within one ENV all references see the values from before it, so `$A` is
    not the `1` set beside it.

    ## Why it matters
    The variable expands to empty (or to its old value), not to what the
    line appears to say.

    ## Example
    ```dockerfile
    ENV APP_HOME=/opt/app APP_BIN=$APP_HOME/bin
    ```

    ## Fix
    Split it: `ENV APP_HOME=/opt/app` then `ENV APP_BIN=$APP_HOME/bin`.
    """
    df = t.dockerfile
    for ins in _all(df):
        if ins.keyword != "ENV":
            continue
        before = set(df.env_at(ins)) | (set(df.global_args) if ins.stage_index is None else set())
        defined: set[str] = set()
        for key, value, tok in ins.key_values():
            for name, _ in variables_used(value or ""):
                if name in defined and name not in before:
                    yield hit(ins, f"{key} uses ${name}, which this same ENV defines; it will not see that value", token=tok, fix=f"set {name} in an earlier ENV")
                    break
            defined.add(key)


@rule("LI211", "onbuild-invalid-trigger", Severity.ERROR, tags=("syntax", "onbuild"), peers=("DL3043",))
def onbuild_invalid_trigger(t: DockerfileTarget) -> Iterator[Hit]:
    """ONBUILD cannot trigger ONBUILD, FROM or MAINTAINER.

    ## What it does
    Flags `ONBUILD ONBUILD`, `ONBUILD FROM` and `ONBUILD MAINTAINER`.

    ## Why it matters
    The builder rejects these triggers when a child image builds FROM this
    one, so the failure shows up in someone else's build.

    ## Example
    ```dockerfile
    ONBUILD FROM debian:12
    ```

    ## Fix
    Remove the trigger.
    """
    for ins in t.dockerfile.of("ONBUILD"):
        if ins.onbuild is not None and ins.onbuild.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            yield hit(ins, f"ONBUILD cannot trigger {ins.onbuild.keyword}", fix="remove the trigger")


def _copy_paths(ins: Instruction) -> list[Token]:
    """Sources and destination of a COPY/ADD (flags excluded; heredoc copies have none we check)."""
    return [] if ins.heredocs else list(ins.args)


@rule(
    "LI212", "copy-multi-source-dest-slash", Severity.ERROR, tags=("copy",),
    peers=("DL3021", "DS-0011", "KICS-6db6e0c2"),
)
def copy_multi_source_dest_slash(t: DockerfileTarget) -> Iterator[Hit]:
    """COPY with several sources needs a destination ending in `/`.

    ## What it does
    Flags `COPY a b dest` (more than one source) when `dest` does not end
    with `/`.

    ## Why it matters
    The builder refuses to copy several files to something that is not a
    directory, so the build fails.

    ## Example
    ```dockerfile
    COPY package.json yarn.lock /app
    ```

    ## Fix
    `COPY package.json yarn.lock /app/`.
    """
    for ins in _all(t.dockerfile):
        if ins.keyword != "COPY":
            continue
        paths = _copy_paths(ins)
        if len(paths) > 2 and not paths[-1].value.endswith("/"):
            if paths[1].value == "in" and _HISTORY_SOURCE.match(paths[0].value):
                continue
            yield hit(ins, f"COPY with {len(paths) - 1} sources needs a destination ending in '/', not {paths[-1].value!r}", token=paths[-1], fix=f"write {paths[-1].value}/")


# Instructions whose arguments the builder expands variables in (RUN, CMD and ENTRYPOINT are left to the shell).
_EXPANDING = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"})
# Every base image sets PATH; the builder's own default applies even to scratch.
_BASE_ENV = frozenset({"PATH"})


def _unquoted_single(text: str) -> str:
    """``text`` with single-quoted parts blanked (Docker does not expand inside them)."""
    return re.sub(r"'[^']*'", lambda m: " " * len(m.group(0)), text)


def _expanded_texts(ins: Instruction) -> Iterator[str]:
    if ins.keyword in ("ENV", "ARG"):
        yield from (v for _, v, _ in ins.key_values() if v)
    elif ins.keyword == "LABEL":
        yield from (tok.text for *_, tok in ins.key_values())
    else:
        yield from (tok.text for tok in ins.args)
    yield from (f.value for f in ins.flags if f.value)


@rule("LI213", "undefined-var", Severity.WARNING, tags=("arg", "env"), peers=("UndefinedVar",))
def undefined_var(t: DockerfileTarget) -> Iterator[Hit]:
    """A variable is used but no ARG or ENV defines it.

    ## What it does
    In instructions the builder expands (COPY, ADD, ENV, LABEL, WORKDIR,
    USER, EXPOSE, VOLUME, STOPSIGNAL, ARG defaults and flags), flags `$NAME`
    that no ARG or ENV in scope defines — stage ARGs, ENVs of this stage and
    the stages it builds on; a global ARG must be redeclared in the stage —
    and suggests a close defined name. RUN, CMD and ENTRYPOINT are left to
    the shell and not checked; `${NAME:-default}` forms are deliberate and
    skipped. `PATH` is known, since every base image sets it, and is
    suggested for near names (`$PAHT`). Where the base image's variables
    are known, every undefined name is reported, also one an ARG declares
    only later: `scratch` and the official alpine, busybox, debian and
    ubuntu images (their config sets only PATH) are known offline, and any
    other base is read from its config's Env, as BuildKit reads it, when
    base-image lookups are on (`base-image-lookup: local` asks the local
    engine, `registry` also the registry). On a base that is not known,
    only names close to a defined one are reported, i.e. likely typos.

    ## Why it matters
    An undefined variable expands to an empty string without any error, so a
    typo turns `COPY app $APP_HOME/` into `COPY app /`.

    ## Example
    ```dockerfile
    ARG APP_HOME=/app
    COPY . $APP_HOEM/
    ```

    ## Fix
    Fix the name, or declare it with `ARG`/`ENV` before the use.
    """
    df = t.dockerfile
    for ins in df.instructions:
        if ins.stage_index is None or ins.keyword not in _EXPANDING:
            continue
        stage = df.stages[ins.stage_index]
        base = base_env(t, df, stage)
        known = set(df.env_at(ins)) | (base or _BASE_ENV)
        reported: set[str] = set()
        for text in _expanded_texts(ins):
            scan = _unquoted_single(text)
            for name, off in variables_used(scan):
                if name in known or name in reported or re.match(r"\$\{\w+:?[-+]", scan[off:]):
                    continue
                # PATH is suggested only where the base's variables are known (`$GOPATH` is near PATH and set by golang).
                hint = suggest(name, known if base is not None else known - _BASE_ENV)
                if base is None and not hint:
                    continue  # the base image may set it (GOPATH, NB_USER...): only likely typos are reported
                later = next((o for o in stage.instructions if o.index > ins.index and o.keyword in ("ARG", "ENV")
                              and any(k == name for k, _, _ in o.key_values())), None)
                if later is not None and not hint:
                    hint = f" (the {later.keyword} on line {later.line} declares it after this use)"
                reported.add(name)
                yield hit(ins, f"${name} is not defined by any ARG or ENV in scope{hint}", fix=f"declare it with 'ARG {name}' or fix the name")


def _command_count(ins: Instruction) -> int:
    script = ins.script
    return 1 if script is None else max(1, len(script.commands))


def _flags_text(ins: Instruction) -> list[str]:
    return sorted(f.token.value for f in ins.flags)


@rule("LI214", "consecutive-run", Severity.INFO, tags=("layers",), peers=("DL3059", "KICS-0008c003"))
def consecutive_run(t: DockerfileTarget) -> Iterator[Hit]:
    """Consecutive RUN instructions that could be one.

    ## What it does
    Flags a RUN that directly follows another RUN of the same stage with the
    same flags (mounts, network) when the two hold only one command each.
    RUNs that already chain several commands are left alone, and so is a
    stage that is not shipped (only copied from): its layers reach no image.

    ## Why it matters
    Each RUN makes a layer; files created in one and removed in the next
    still cost space, and many tiny layers slow pulls.

    ## Example
    ```dockerfile
    RUN apt-get update
    RUN apt-get install -y --no-install-recommends curl
    ```

    ## Fix
    Join them with `&&` in one RUN.
    """
    df = t.dockerfile
    prev: Instruction | None = None
    for ins in df.instructions:
        if ins.keyword == "RUN" and ships(df, ins):
            if (
                prev is not None
                and prev.stage_index == ins.stage_index
                and _flags_text(prev) == _flags_text(ins)
                and _command_count(prev) + _command_count(ins) <= 2
            ):
                yield hit(ins, f"RUN directly follows the RUN on line {prev.line}; consider joining them", fix="join the commands with && in one RUN")
            prev = ins
        else:
            prev = None


@rule("LI215", "consecutive-copy", Severity.INFO, tags=("layers", "copy"), peers=("KICS-0008c003",))
def consecutive_copy(t: DockerfileTarget) -> Iterator[Hit]:
    """Consecutive COPY (or ADD) instructions to one destination that could be one.

    ## What it does
    Flags the first of two or more consecutive `COPY` (or `ADD`)
    instructions of a stage that ships when they copy to the same
    destination with the same flags. Heredoc copies are left alone, and
    so is a stage that is not shipped (only copied from).

    ## Why it matters
    Each COPY makes a layer; one COPY with several sources makes one and
    says in one place what lands in that directory.

    ## Example
    ```dockerfile
    COPY package.json ./
    COPY package-lock.json ./
    ```

    ## Fix
    `COPY package.json package-lock.json ./`.
    """
    df = t.dockerfile
    run: list[Instruction] = []

    def key(ins: Instruction) -> tuple[object, ...] | None:
        if ins.keyword not in ("COPY", "ADD") or ins.heredocs or len(ins.args) < 2 or not ships(df, ins):
            return None
        dest = ins.args[-1].value.rstrip("/") or "/"
        return ins.stage_index, ins.keyword, _flags_text(ins), "." if dest in (".", "./") else dest

    def report(group: list[Instruction]) -> Iterator[Hit]:
        if len(group) > 1:
            lines = ", ".join(str(i.line) for i in group[1:])
            yield hit(group[0], f"{group[0].keyword} to {group[0].args[-1].value} is followed by {len(group) - 1} more to the same destination "
                                f"(line {lines}); one {group[0].keyword} with all the sources makes one layer",
                      fix=f"list every source in one {group[0].keyword}")

    for ins in df.instructions:
        k = key(ins)
        if run and k is not None and k == key(run[-1]):
            run.append(ins)
            continue
        yield from report(run)
        run = [ins] if k is not None else []
    yield from report(run)


def _expose_ports(df: Dockerfile) -> Iterator[tuple[Instruction, Token, str, str | None]]:
    """(instruction, token, port part, protocol) for every EXPOSE argument, ONBUILD included."""
    for ins in _all(df):
        if ins.keyword == "EXPOSE":
            for tok in ins.args:
                port, _, proto = tok.value.partition("/")
                yield ins, tok, port, proto or None


@rule("LI220", "expose-port-out-of-range", Severity.ERROR, tags=("expose",), peers=("DL3011", "DS-0008", "KICS-71bf8cf8"))
def expose_port_out_of_range(t: DockerfileTarget) -> Iterator[Hit]:
    """EXPOSE a port between 0 and 65535.

    ## What it does
    Flags EXPOSE ports (and either end of a range `a-b`) above 65535.
    Values with variables are not judged.

    ## Why it matters
    TCP and UDP ports are 16-bit; the builder rejects larger numbers.

    ## Example
    ```dockerfile
    EXPOSE 80800
    ```

    ## Fix
    Use a valid port number.
    """
    for ins, tok, port, _ in _expose_ports(t.dockerfile):
        for part in port.split("-"):
            if is_digits(part) and int(part) > 65535:
                yield hit(ins, f"port {part} is outside 0-65535", token=tok, fix="use a port between 0 and 65535")
                break


@rule("LI221", "expose-proto-casing", Severity.WARNING, tags=("expose", "style"), peers=("ExposeProtoCasing",))
def expose_proto_casing(t: DockerfileTarget) -> Iterator[Hit]:
    """EXPOSE protocols should be lower case.

    ## What it does
    Flags `EXPOSE 80/TCP` and other protocols not written in lower case.

    ## Why it matters
    Lower case is the documented form; other tools reading the image config
    compare protocols as written.

    ## Example
    ```dockerfile
    EXPOSE 53/UDP
    ```

    ## Fix
    `EXPOSE 53/udp`.
    """
    for ins, tok, port, proto in _expose_ports(t.dockerfile):
        if proto and proto != proto.lower():
            yield hit(ins, f"protocol {proto!r} should be lower case", token=tok, fix=f"write {port}/{proto.lower()}")


@rule("LI222", "expose-invalid-format", Severity.WARNING, tags=("expose",), peers=("ExposeInvalidFormat",))
def expose_invalid_format(t: DockerfileTarget) -> Iterator[Hit]:
    """EXPOSE takes container ports only, no IP or host mapping.

    ## What it does
    Flags EXPOSE arguments with a `:`, such as `127.0.0.1:80` or `8080:80`.

    ## Why it matters
    EXPOSE documents container ports; an address or a host port is ignored
    today and meant to become an error. Publishing is `docker run -p`'s job.

    ## Example
    ```dockerfile
    EXPOSE 8080:80
    ```

    ## Fix
    `EXPOSE 80`, and publish with `docker run -p 8080:80`.
    """
    for ins, tok, port, _ in _expose_ports(t.dockerfile):
        if ":" in port:
            yield hit(ins, f"EXPOSE {tok.value} has an IP address or host port; EXPOSE takes container ports only", token=tok, fix=f"EXPOSE {port.rsplit(':', 1)[-1]}")


def is_absolute_path(tok: Token) -> bool:
    """Absolute for Linux or Windows images; a leading variable is given the benefit of the doubt.

    Windows paths are matched as written too: the escape character turns
    ``c:\\app`` into ``c:app`` for a Linux builder, but the intent is plain.
    """
    return tok.value.startswith(("/", "$")) or any(_WINDOWS_ABS.match(s) for s in (tok.value, tok.text.strip("\"'")))


@rule("LI230", "workdir-relative", Severity.ERROR, tags=("workdir",),
      peers=("DL3000", "WorkdirRelativePath", "DS-0009", "CKV_DOCKER_10", "KICS-6b376af8"))
def workdir_relative(t: DockerfileTarget) -> Iterator[Hit]:
    """The first WORKDIR of a stage should be an absolute path.

    ## What it does
    Flags a relative `WORKDIR` when no WORKDIR came before it in the stage
    or the stages it is built FROM, so the path is resolved against the
    base image's working directory. Windows drive paths (`C:\\app`) and
    paths starting with a variable are accepted. A relative WORKDIR after
    an earlier one is workdir-relative-chained's finding (LI233); the two
    together report every relative WORKDIR, as hadolint, trivy and checkov
    do, and this one alone is BuildKit's WorkdirRelativePath.

    ## Why it matters
    The directory then depends on the base image's WORKDIR, which you do
    not control: when a new base tag changes it, the files move.

    ## Example
    ```dockerfile
    FROM nginx
    WORKDIR usr/share/nginx/html
    ```

    ## Fix
    `WORKDIR /usr/share/nginx/html`.
    """
    df = t.dockerfile
    for ins in _all(df):
        if ins.keyword == "WORKDIR" and ins.args and not is_absolute_path(ins.args[0]) and not _has_workdir_before(df, ins):
            yield hit(ins, f"WORKDIR {ins.args[0].value} is relative to the base image's working directory", token=ins.args[0],
                      fix=f"WORKDIR /{ins.args[0].value.lstrip('./')} if the base image works in /")


@rule("LI233", "workdir-relative-chained", Severity.STYLE, tags=("workdir", "style"),
      peers=("DL3000", "DS-0009", "CKV_DOCKER_10", "KICS-6b376af8"), fixable=(Safety.SAFE,))
def workdir_relative_chained(t: DockerfileTarget) -> Iterator[Hit]:
    """Write a WORKDIR that follows another one as an absolute path too.

    ## What it does
    Flags a relative `WORKDIR` after an earlier WORKDIR of its stage or the
    stages it is built FROM. The first relative WORKDIR is LI230's finding.
    BuildKit's WorkdirRelativePath does not report this one (fixing the
    first WORKDIR fixes where it lands); hadolint, trivy and checkov do.

    ## Why it matters
    The directory is only known by reading back to the earlier WORKDIR,
    which may sit in another stage; an absolute path says where files go.

    ## Example
    ```dockerfile
    WORKDIR /app
    WORKDIR src
    ```

    ## Fix
    `WORKDIR /app/src`. The automatic fix writes the joined path when the
    earlier WORKDIRs give it exactly (no variables).
    """
    df = t.dockerfile
    for ins in _all(df):
        if ins.keyword == "WORKDIR" and ins.args and not is_absolute_path(ins.args[0]) and _has_workdir_before(df, ins):
            tok = ins.args[0]
            # an ONBUILD trigger runs where the child's build is, after every WORKDIR of this image: no exact path
            where = _fixes.workdir_before(df, ins) if ins.stage_index is not None else None
            full = posixpath.normpath(posixpath.join(where, tok.value)) if where and _fixes.plain_path(tok.value) else None
            yield hit(ins, f"WORKDIR {tok.value} is relative to an earlier WORKDIR", token=tok,
                      fix=f"WORKDIR {full}" if full else "write the absolute path",
                      edits=(token_edit(tok, full),) if full and tok.text == tok.value else ())


def _has_workdir_before(df: Dockerfile, ins: Instruction) -> bool:
    """A WORKDIR applies to ``ins``: earlier in its stage chain; for an ONBUILD trigger, any WORKDIR
    of the image it is part of, or an earlier ONBUILD WORKDIR (triggers run in order in the child build)."""
    owner = df.instructions[ins.index] if ins.stage_index is None and 0 <= ins.index < len(df.instructions) else ins
    st = df.stage_of(owner)
    if st is None:
        return False
    if owner is not ins:  # ins is the trigger of ONBUILD `owner`
        return any(True for s in chain(df, st) for _ in s.of("WORKDIR")) or any(
            o.index < owner.index and o.onbuild is not None and o.onbuild.keyword == "WORKDIR" for o in st.of("ONBUILD"))
    return any(w.index < ins.index for s in chain(df, st) for w in s.of("WORKDIR"))


@rule("LI231", "copy-relative-dest-without-workdir", Severity.WARNING, tags=("workdir", "copy"), peers=("DL3045",))
def copy_relative_dest_without_workdir(t: DockerfileTarget) -> Iterator[Hit]:
    """COPY to a relative path before any WORKDIR.

    ## What it does
    Flags `COPY src dest` with a relative `dest` when no WORKDIR was set
    earlier in the stage or the stages it builds on.

    ## Why it matters
    The destination then depends on the base image's working directory,
    which you do not control and which can change with a new base tag.

    ## Example
    ```dockerfile
    FROM node:22
    COPY package.json .
    ```

    ## Fix
    Set `WORKDIR /app` first, or copy to an absolute path.
    """
    df = t.dockerfile
    for ins in _all(df):
        if ins.keyword != "COPY":
            continue
        paths = _copy_paths(ins)
        if len(paths) >= 2 and not is_absolute_path(paths[-1]) and not _has_workdir_before(df, ins):
            yield hit(ins, f"COPY to relative {paths[-1].value!r} with no WORKDIR set in this stage", token=paths[-1], fix="set an absolute WORKDIR first, or copy to an absolute path")


_SYSTEM_DIRS = ("/proc", "/boot", "/dev", "/initrd", "/lost+found")


@rule("LI232", "workdir-system-dir", Severity.ERROR, tags=("workdir", "security"), peers=("DS-0030",), security_severity=7.0)
def workdir_system_dir(t: DockerfileTarget) -> Iterator[Hit]:
    """WORKDIR must not be a system directory.

    ## What it does
    Flags `WORKDIR` at or under `/proc`, `/boot`, `/dev`, `/initrd` or
    `/lost+found`.

    ## Why it matters
    These are kernel or boot file systems; writing there at build or run
    time breaks the container or reaches into the host's devices.

    ## Example
    ```dockerfile
    WORKDIR /proc/self/fd/1
    ```

    ## Fix
    Use an application directory such as `/app`.
    """
    for ins in _all(t.dockerfile):
        if ins.keyword == "WORKDIR" and ins.args and path_under(ins.args[0].value, _SYSTEM_DIRS):
            yield hit(ins, f"WORKDIR {ins.args[0].value} is inside a system directory", token=ins.args[0], fix="use an application directory such as /app")
