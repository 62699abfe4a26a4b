"""LI360–LI399: how RUN uses the shell — directories, privileges, accounts, pipes, and ShellCheck."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator

from lintimg.dockerfile.queries import POSIX_SHELLS, cmd_hit, hit, pipefail_shell, posix_run, run_commands, shell_of, turns_on_pipefail
from lintimg.dockerfile.stages import ships
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes
from lintimg.rules._common import base_shell

ID_RANGE = "LI360-LI389"


@rule("LI360", "cd-instead-of-workdir", Severity.WARNING, tags=("shell", "style"), peers=("DL3003", "DS-0013", "KICS-f4a6bcd3"),
      fixable=(Safety.SAFE, Safety.UNSAFE))
def cd_instead_of_workdir(t: DockerfileTarget) -> Iterator[Hit]:
    """Use WORKDIR to change directory, not `cd` in RUN.

    ## What it does
    Flags `cd` commands in RUN instructions.

    ## Why it matters
    A `cd` lasts only for its RUN, so the next instruction silently runs
    elsewhere; WORKDIR states the directory once, for every later
    instruction and for the container, and is easier to read and review.

    ## Example
    ```dockerfile
    RUN cd /usr/src/app && make
    ```

    ## Fix
    ```dockerfile
    WORKDIR /usr/src/app
    RUN make
    ```
    Autofix, when the `cd` is the RUN's first command, followed by `&&`, to
    one literal directory: a WORKDIR line goes before the RUN and the `cd`
    leaves it. A relative directory is made absolute from the WORKDIR in
    force (no fix when that is unknown). Because WORKDIR lasts, the fix
    then restores the earlier WORKDIR after the RUN when anything later
    depends on the directory (a RUN, a COPY to a relative path, the image's
    working directory): safe when that earlier WORKDIR is known, unsafe
    when it comes from the base image. A `cd` to where the RUN already
    runs is just removed. ONBUILD triggers and heredoc RUNs are not fixed.
    """
    df = t.dockerfile
    for ins, cmd in run_commands(df):
        if cmd.name == "cd":
            edits, safety = _fixes.workdir_fix(df, ins, cmd)
            yield cmd_hit(ins, cmd, "`cd` in RUN lasts only for this RUN; use WORKDIR", fix="use `WORKDIR <dir>`",
                          edits=edits, safety=safety)


@rule("LI361", "sudo-in-run", Severity.ERROR, tags=("shell", "security"),
      peers=("DL3004", "DS-0010", "CKV2_DOCKER_1", "DKL-DI-0001", "KICS-8ada6e80"), security_severity=5.0)
def sudo_in_run(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not use `sudo` in RUN.

    ## What it does
    Flags commands run through `sudo`.

    ## Why it matters
    RUN already runs as the current USER; sudo in an image means sudo is
    installed and configured in it, which hands root to anything that
    gets a shell in the container, and its TTY and signal handling is
    unpredictable in a build.

    ## Example
    ```dockerfile
    USER app
    RUN sudo apt-get install -y curl
    ```

    ## Fix
    ```dockerfile
    USER root
    RUN apt-get install -y curl
    USER app
    ```
    """
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name == "sudo" or "sudo" in cmd.wrapped_by:
            yield cmd_hit(ins, cmd, "`sudo` in RUN; switch USER instead", fix="use `USER root` for the step, then switch back")


@rule("LI362", "useradd-long-uid", Severity.WARNING, tags=("shell", "size"), peers=("DL3046",), fixable=(Safety.SAFE,))
def useradd_long_uid(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `useradd -l` with a high UID.

    ## What it does
    Flags `useradd` with a UID of more than five digits and without
    `-l`/`--no-log-init`. A stage that is not shipped (only copied from)
    is not checked.

    ## Why it matters
    useradd reserves space for the UID in the sparse files `/var/log/lastlog`
    and `/var/log/faillog`; the layer stores them expanded, so a large UID
    can add gigabytes to the image.

    ## Example
    ```dockerfile
    RUN useradd -u 123456 app
    ```

    ## Fix
    ```dockerfile
    RUN useradd -l -u 123456 app
    ```
    Safe autofix: `-l` is added after `useradd`; the account is the same,
    only not recorded in the lastlog and faillog databases.
    """
    df = t.dockerfile
    for ins, cmd in run_commands(df):
        if cmd.name != "useradd" or cmd.has_flag("l", "no-log-init") or not ships(df, ins):
            continue
        uid = cmd.flag_value("u", "uid") or ""
        if len(uid) > 5:
            yield cmd_hit(ins, cmd, f"`useradd -u {uid}` without `-l` bloats /var/log/lastlog and faillog", fix="add `-l`",
                          edits=_fixes.add_option(ins, cmd, "-l"))


@rule("LI363", "chpasswd-in-run", Severity.WARNING, tags=("shell", "security"), peers=("CKV2_DOCKER_17",), security_severity=6.0)
def chpasswd_in_run(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not set passwords with `chpasswd` in a Dockerfile.

    ## What it does
    Flags `chpasswd` in RUN.

    ## Why it matters
    The password is written into the Dockerfile and the image history and
    is the same in every container; accounts in a container should have no
    password login at all.

    ## Example
    ```dockerfile
    RUN echo 'root:secret' | chpasswd
    ```

    ## Fix
    Drop password logins; if a secret is needed at build time, use
    `RUN --mount=type=secret`.
    """
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name == "chpasswd":
            yield cmd_hit(ins, cmd, "`chpasswd` bakes a password into the image", fix="do not set passwords in the image")


@rule("LI364", "pipe-without-pipefail", Severity.WARNING, tags=("shell",), peers=("DL4006", "KICS-efbf148a"),
      fixable=(Safety.SAFE, Safety.UNSAFE),
      divergences={"KICS-efbf148a": "KICS reports `|` as an argument of an exec-form RUN (there is no shell, so no pipe) "
                                    "and passes a pipe in `RUN pwsh a | b` (the default shell /bin/sh runs that pipe, not "
                                    "PowerShell; hadolint 2.15.1 reports it too); lintimg follows the shell that runs the RUN.",
                   "DL4006": "hadolint 2.15.1 also reads `|` in an exec-form RUN as a pipe; the program gets it as an "
                             "argument, so lintimg does not report it. hadolint's parser also lets a comment ending in a "
                             "backslash swallow the next lines; Docker does not continue comments, so the SHELL with "
                             "pipefail after it applies. hadolint reports a `yes | cmd` pipe too, where pipefail would "
                             "only turn yes's SIGPIPE into a failed RUN."})
def pipe_without_pipefail(t: DockerfileTarget) -> Iterator[Hit]:
    """Set `-o pipefail` before a RUN with a pipe.

    ## What it does
    Flags RUN instructions with a pipeline when neither the SHELL in force
    nor a `set -o pipefail` earlier in the same RUN turns pipefail on.
    A SHELL counts when it is a shell that has pipefail (bash, zsh, ksh,
    mksh, ash) started with `-o pipefail`: `/bin/sh` is whatever the image
    links there (dash on Debian), so `SHELL ["/bin/sh", "-o", "pipefail",
    "-c"]` does not. RUNs under a non-POSIX SHELL and exec-form RUNs (no
    shell, so `|` is an argument) are not checked, nor a RUN whose only
    pipes are `yes | cmd`: `yes` ends when its reader closes the pipe
    (SIGPIPE, status 141), so pipefail has nothing to report there and
    would fail the RUN. A base image built with a SHELL instruction passes
    it on: when base-image lookups are on (`base-image-lookup`), the SHELL
    in the base image's config counts for RUNs that no SHELL of the
    Dockerfile covers.

    ## Why it matters
    A pipeline's status is that of its last command: `curl … | tar x`
    succeeds when the download fails, and the build carries on with a
    broken layer.

    ## Example
    ```dockerfile
    RUN wget -O - https://example.com/tool.tgz | tar xz
    ```

    ## Fix
    ```dockerfile
    SHELL ["/bin/bash", "-o", "pipefail", "-c"]
    RUN wget -O - https://example.com/tool.tgz | tar xz
    ```
    Autofix: that SHELL line goes before the stage's first RUN that needs
    it (one line for all of them). Safe when the shell in force is bash
    already (its options are kept). From `/bin/sh` it is safe when the base
    image is of a family that ships bash (Debian, Ubuntu, the RHEL family,
    and language images built on them; or the stage installs bash) and no
    later script of the stage uses what dash and bash read differently
    (`echo` with escapes or `-e`/`-n`, brace expansion, `$'…'`, `==`);
    otherwise unsafe. Unsafe too when a later shell-form CMD, ENTRYPOINT or
    HEALTHCHECK has a pipe: the SHELL runs those as well, and pipefail
    changes the status they report. No fix on Alpine, BusyBox, distroless or scratch
    bases, for heredoc RUNs, in ONBUILD triggers, or when a RUN the SHELL
    would cover pipes `yes` into a command.
    """
    df = t.dockerfile
    # One SHELL line per stretch of a stage under one shell: every RUN it covers shares that fix.
    fixes: dict[tuple[int | None, int], tuple[_fixes.Edits, Safety]] = {}
    for ins in df.runs():
        script = ins.script
        if script is None or not script.pipelines or not posix_run(df, ins) or pipefail_shell(shell_of(df, ins)) \
                or _fixes.pipes_hide_nothing(script):
            continue
        inherited = base_shell(t, df, ins)
        if inherited is not None and (pipefail_shell(inherited) or posixpath.basename(inherited[0]).lower() not in POSIX_SHELLS):
            continue  # the base image's SHELL runs this RUN: pipefail is on there, or it is no POSIX shell
        # None: the pipes join no simple command (`[[ -f a ]] | [[ -f b ]]`); a `set -o pipefail` anywhere counts then
        first = next((c for c in script.commands if c.in_pipeline), None)
        if any(c.name == "set" and turns_on_pipefail(c.argv) for c in (script.commands if first is None else script.before(first))):
            continue
        key = (ins.stage_index, _fixes.shell_set_by(df, ins))
        if key not in fixes:
            fixes[key] = _fixes.pipefail_fix(df, ins)
        edits, safety = fixes[key]
        message = "a pipe in RUN without `-o pipefail` hides failures of all but the last command"
        fix = 'add `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before it'
        yield (hit(ins, message, fix=fix, edits=edits, safety=safety) if first is None
               else cmd_hit(ins, first, message, fix=fix, edits=edits, safety=safety))


@rule("LI365", "shell-changed-in-run", Severity.WARNING, tags=("shell",), peers=("DL4005", "KICS-8a301064"))
def shell_changed_in_run(t: DockerfileTarget) -> Iterator[Hit]:
    """Use SHELL to change the default shell, not `ln` over `/bin/sh`.

    ## What it does
    Flags `ln` whose target is `/bin/sh`.

    ## Why it matters
    Replacing `/bin/sh` changes the shell of every program in the image
    that calls `system()` or `/bin/sh`, not just of the build; SHELL
    changes it for RUN only, visibly.

    ## Example
    ```dockerfile
    RUN ln -sf /bin/bash /bin/sh
    ```

    ## Fix
    ```dockerfile
    SHELL ["/bin/bash", "-c"]
    ```
    """
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name == "ln" and cmd.args_no_flags()[-1:] == ["/bin/sh"]:
            yield cmd_hit(ins, cmd, "`ln` over /bin/sh changes the shell for the whole image", fix="use the SHELL instruction")


POINTLESS = frozenset({"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"})


@rule("LI366", "pointless-command", Severity.INFO, tags=("shell", "runtime"), peers=("DL3001", "KICS-9b6b0f38"))
def pointless_command(t: DockerfileTarget) -> Iterator[Hit]:
    """Commands that make no sense during a build.

    ## What it does
    Flags RUN commands that inspect or manage a running system or open an
    interactive session: `free`, `kill`, `mount`, `ps`, `service`,
    `shutdown`, `ssh`, `top`, `vim`.

    ## Why it matters
    A build step has no services, no terminal and no other processes;
    these commands do nothing useful there and usually show the
    Dockerfile treats the container as a virtual machine.

    ## Example
    ```dockerfile
    RUN service nginx start
    ```

    ## Fix
    Start the process with CMD/ENTRYPOINT; edit files with `sed` or COPY.
    """
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name in POINTLESS:
            yield cmd_hit(ins, cmd, f"`{cmd.name}` makes no sense in a build step", key=cmd.name)
