"""LI300–LI309: apt, apt-get and aptitude: pins, prompts, recommends, lists, upgrades, trust switches."""
from __future__ import annotations

import re
from collections.abc import Iterator

from lintimg.dockerfile import Dockerfile, Instruction
from lintimg.dockerfile.queries import cmd_hit, commands_of, run_commands, run_mounts
from lintimg.dockerfile.shell import Command
from lintimg.dockerfile.stages import chain
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes
from lintimg.rules._common import (
    APT,
    HADOLINT_FINAL_CHAIN,
    INDEX_MANAGERS,
    _rm_of,
    _switch,
    cache_mounted,
    installs,
    shipped_installs,
    unpinned,
)

ID_RANGE = "LI300-LI309"


# apt.conf(5): apt reads its configuration from /etc/apt/apt.conf.d/* and /etc/apt/apt.conf, then from `-o Item=value`
# (`--option`) on the command line (apt-get(8)), the last setting winning; item names ignore case. A boolean reads
# yes/true/with/on/enable or a non-zero number as true and no/false/without/off/disable or 0 as false.
_TRUE, _FALSE = frozenset({"yes", "true", "with", "on", "enable"}), frozenset({"no", "false", "without", "off", "disable"})
# A RUN that writes an apt configuration file: a redirection or `tee` into /etc/apt/apt.conf or apt.conf.d/.
_CONF_WRITE = re.compile(r"""(>>?|\btee\s+(-a\s+)?)\s*['"]?/etc/apt/apt\.conf""")


def _apt_bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in _TRUE or v in _FALSE:
        return v in _TRUE
    return int(v) != 0 if v.isdigit() else None


def apt_setting(df: Dockerfile, ins: Instruction, cmd: Command, item: str) -> bool | None:
    """The boolean apt ``item`` (``APT::Get::Assume-Yes``) as ``cmd`` sees it: its own ``-o item=value``, else the last
    value an earlier RUN of its stage, or of a stage it is built FROM, writes into apt's configuration files (an
    ONBUILD trigger runs in another build and reads only its own options); None when nothing sets it."""
    for o in reversed(cmd.parsed.options):
        name, eq, value = (o.value or "").partition("=")
        if o.name in ("o", "option") and eq and name.strip().lower() == item.lower():
            return _apt_bool(value)
    stage = df.stage_of(ins)  # None for an ONBUILD trigger's body
    if stage is None:
        return None
    line = re.compile(re.escape(item) + r"""\s+\\?"?([\w-]+)\\?"?\s*;""", re.IGNORECASE)
    found: bool | None = None
    for st in reversed(chain(df, stage)):
        for run in st.of("RUN"):
            if st is stage and run.index >= ins.index:
                break
            text = run.shell_text or ""
            if _CONF_WRITE.search(text):
                for m in line.finditer(text):
                    said = _apt_bool(m.group(1))
                    found = found if said is None else said
    return found


@rule("LI300", "apt-get-pin-versions", Severity.WARNING, tags=("apt", "reproducibility"), peers=("DL3008", "KICS-965a08d7"),
      fixable=(Safety.UNSAFE,))
def apt_get_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `apt-get install`.

    ## What it does
    Flags packages named to `apt-get install` with no version (`pkg=1.2`),
    no release (`pkg/bookworm`) and that are not a local `.deb` file.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

    ## Why it matters
    An unpinned install takes whatever the archive serves on the day of the
    build, so two builds of one Dockerfile can ship different software and
    a rebuild can break for no change of yours.

    ## Example
    ```dockerfile
    RUN apt-get install -y --no-install-recommends curl
    ```

    ## Fix
    ```dockerfile
    RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5
    ```
    Unsafe autofix, with `--fix --unsafe-fixes` when the local engine holds
    the base image: each package becomes `pkg=<version>` as the base
    image's dpkg database has it installed, when it has every package of
    the command (else no fix, since a partial pin would leave the finding).
    Unsafe: the build then keeps that version instead of taking a newer one.
    """
    yield from unpinned(t, APT, "apt-get install", "pin each package: `pkg=version`", None, "install", base_db="dpkg")


@rule("LI301", "apt-lists-not-removed", Severity.INFO, tags=("apt", "size"), peers=("DL3009", "DKL-DI-0005", "KICS-df746b39"),
      fixable=(Safety.SAFE,),
      divergences={"DL3009": "hadolint reads a backslash followed by spaces in the middle of a line as a line break; "
                             "Docker does not, so a `--mount` written after it is not a mount and the lists stay. "
                             + HADOLINT_FINAL_CHAIN})
def apt_lists_not_removed(t: DockerfileTarget) -> Iterator[Hit]:
    """Delete the apt lists after `apt-get update`.

    ## What it does
    Flags a RUN that runs `apt-get update` (or `apt update`) and does not
    remove `/var/lib/apt/lists` (or run `apt-get distclean`) later in the
    same RUN, unless `/var/lib/apt/lists` itself is a cache or tmpfs
    mount, or both `/var/lib/apt` and `/var/cache/apt` are (with one of
    them only, and Docker's `docker-clean` hook removed as cache-mount
    recipes do, the other keeps apt's files in the layer). A stage that
    is not shipped (only copied from) is not checked: its files never
    reach an image.

    ## Why it matters
    The package lists are tens of megabytes that the running container
    never uses, and once a layer holds them, deleting them in a later
    layer does not shrink the image.

    ## Example
    ```dockerfile
    RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5
    ```

    ## Fix
    ```dockerfile
    RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\
        && rm -rf /var/lib/apt/lists/*
    ```
    Safe autofix: the RUN ends with `&& rm -rf /var/lib/apt/lists/*`, when
    its script parsed again runs the same commands plus that one, and no
    later RUN on this file system (later in the stage, in stages built FROM
    it, in ONBUILD triggers) calls apt-get, apt or apt-cache before its own
    `update`: such a RUN would find no lists and fail, so then there is no
    fix (join the RUNs first).
    """
    for ins, cmd in shipped_installs(t, APT, "update"):
        if lists_mounted(ins):
            continue
        later = ins.script.after(cmd) if ins.script is not None else []
        if not any(_rm_of("/var/lib/apt/lists", "/var/lib/apt")(c) or (APT.calls(c) and APT.subcommand(c) in ("distclean", "dist-clean"))
                   for c in later):
            yield cmd_hit(ins, cmd, "apt lists are left in the layer after `apt-get update`",
                          fix="end the RUN with `&& rm -rf /var/lib/apt/lists/*`",
                          edits=() if _fixes.apt_used_later(t.dockerfile, ins) else _fixes.append(ins, "rm -rf /var/lib/apt/lists/*"))


def lists_mounted(ins: Instruction) -> bool:
    """The apt lists of ``ins`` go to a cache or tmpfs mount, not to its layer."""
    targets = {m.get("target", "").rstrip("/") for m in run_mounts(ins) if m["type"] in ("cache", "tmpfs")}
    return "/var/lib/apt/lists" in targets or cache_mounted(ins, "/var/lib/apt", "/var/cache/apt")


@rule("LI302", "apt-get-missing-yes", Severity.WARNING, tags=("apt",), peers=("DL3014", "DS-0021", "KICS-77783205"), fixable=(Safety.SAFE,))
def apt_get_missing_yes(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `-y` with `apt-get install`.

    ## What it does
    Flags `apt-get install` without `-y`/`--yes`/`--assume-yes` (`-qq`,
    `-q -q` and `-q=2` imply yes), in every stage: a stage that is not
    shipped is built too, and stops there. The configuration item behind
    `-y` counts alike: `-o APT::Get::Assume-Yes=true` on the command line,
    or `APT::Get::Assume-Yes "true";` written into `/etc/apt/apt.conf` or
    a file under `/etc/apt/apt.conf.d/` by an earlier RUN of the stage or
    of a stage it is built FROM.

    ## Why it matters
    A build has no terminal: apt-get asks for confirmation and the build
    aborts.

    ## Example
    ```dockerfile
    RUN apt-get install curl
    ```

    ## Fix
    ```dockerfile
    RUN apt-get install -y curl
    ```
    Safe autofix: `-y` is added after `install` (without it the build
    cannot succeed).
    """
    for ins, cmd in installs(t, APT, "install"):
        if cmd.name == "apt-get" and not cmd.has_flag(*APT.yes) and cmd.flag_count("q", "quiet") < 2 \
                and cmd.flag_value("q", "quiet") not in ("2", "=2") and not apt_setting(t.dockerfile, ins, cmd, "APT::Get::Assume-Yes"):
            yield cmd_hit(ins, cmd, "`apt-get install` without `-y` waits for an answer nobody gives", fix="add `-y`",
                          edits=_fixes.add_option(ins, cmd, "-y", after="install"))


@rule("LI303", "apt-get-install-recommends", Severity.INFO, tags=("apt", "size"), peers=("DL3015", "DS-0029", "KICS-7384dfb2"),
      fixable=(Safety.UNSAFE,))
def apt_get_install_recommends(t: DockerfileTarget) -> Iterator[Hit]:
    """Avoid installing recommended packages with `apt-get install`.

    ## What it does
    Flags `apt-get install` without `--no-install-recommends`, unless the
    configuration item behind it is off: `-o APT::Install-Recommends=false`
    (or `0`, `no`, `off`) on the command line, or `APT::Install-Recommends
    "false";` written into `/etc/apt/apt.conf` or a file under
    `/etc/apt/apt.conf.d/` by an earlier RUN of the stage or of a stage it
    is built FROM. A stage that is not shipped (only copied from) is not
    checked.

    ## Why it matters
    Recommended packages are optional extras; in an image they add size
    and attack surface that the application does not need.

    ## Example
    ```dockerfile
    RUN apt-get install -y curl
    ```

    ## Fix
    ```dockerfile
    RUN apt-get install -y --no-install-recommends curl
    ```
    Unsafe autofix: `--no-install-recommends` is added after `install`.
    The packages you named are installed as before, but recommended ones
    no longer come, and software can depend on one at run time (`curl`
    fetching over HTTPS needs `ca-certificates`, which is only
    recommended): check what the image still needs and name it.
    """
    for ins, cmd in shipped_installs(t, APT, "install"):
        if cmd.name == "apt-get" and not cmd.has_flag("no-install-recommends") \
                and apt_setting(t.dockerfile, ins, cmd, "APT::Install-Recommends") is not False:
            yield cmd_hit(ins, cmd, "`apt-get install` without `--no-install-recommends` pulls in optional packages",
                          fix="add `--no-install-recommends`", edits=_fixes.add_option(ins, cmd, "--no-install-recommends", after="install"),
                          safety=Safety.UNSAFE)


@rule("LI304", "apt-in-scripts", Severity.WARNING, tags=("apt",), peers=("DL3027", "CKV_DOCKER_9", "KICS-b84a0b47"))
def apt_in_scripts(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `apt-get` or `apt-cache`, not `apt`, in a Dockerfile.

    ## What it does
    Flags calls of `apt`.

    ## Why it matters
    `apt` is meant for people at a terminal: its output and behaviour may
    change between releases and it warns that its interface is not stable
    for scripts.

    ## Example
    ```dockerfile
    RUN apt install -y curl
    ```

    ## Fix
    ```dockerfile
    RUN apt-get install -y curl
    ```
    """
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name == "apt":
            yield cmd_hit(ins, cmd, "`apt` is for interactive use; scripts should call `apt-get`", fix="use `apt-get`")


@rule("LI305", "package-update-alone", Severity.WARNING, tags=("apt", "apk", "yum", "dnf", "zypper", "pacman", "cache"),
      peers=("DS-0017", "CKV_DOCKER_5", "CIS-DI-0007", "KICS-9bae49be"),
      divergences={"KICS-9bae49be": "KICS does not report a refresh that nothing installs from later (a trailing "
                                    "`RUN apk update`); trivy and checkov do, and so does lintimg. KICS also reads "
                                    "`apt update && install nginx` as an install; `install` there is coreutils' install."})
def package_update_alone(t: DockerfileTarget) -> Iterator[Hit]:
    """Refresh the package index in the same RUN that installs.

    ## What it does
    Follows each stage's RUNs. A RUN that refreshes a package index
    (`apt-get update`, `apk update`, `yum update`, `dnf update`, `zypper
    refresh`/`up`, `pacman -Sy`, ...) and installs no named package leaves
    that index for later RUNs. When a later RUN of the stage installs
    named packages with the same manager without refreshing it again, the
    finding is on that RUN; a refresh that installs nothing and that no
    later RUN uses is reported where it is. A refresh that upgrades
    everything (`apt-get update && apt-get upgrade -y`, `pacman -Syu`) is
    only reported through a later install. Exec-form RUNs and commands
    behind wrappers (`sudo`, `nice -n 10`) count alike.

    ## Why it matters
    The builder caches each layer. A later RUN that installs reuses the
    cached, possibly months-old index, and fails or installs stale
    versions.

    ## Example
    ```dockerfile
    RUN apt-get update
    RUN apt-get install -y curl
    ```

    ## Fix
    ```dockerfile
    RUN apt-get update && apt-get install -y curl
    ```
    """
    df = t.dockerfile
    groups: dict[tuple[int | None, bool], list[Instruction]] = {}
    for ins in df.instructions:
        body = ins.onbuild if ins.keyword == "ONBUILD" else ins
        if body is not None and body.keyword == "RUN":
            groups.setdefault((ins.stage_index, body is not ins), []).append(body)
    for runs in groups.values():
        pending: dict[int, tuple[Instruction, Command, bool]] = {}  # manager -> refreshing RUN, its command, installs nothing at all
        for ins in runs:
            cmds = commands_of(ins)
            fetches_any = any(m.installs(c) and m.subcommand(c) not in m.update for m in INDEX_MANAGERS for c in cmds)
            for k, m in enumerate(INDEX_MANAGERS):
                refresh = next((c for c in cmds if m.refreshes(c)), None)
                named = next((c for c in cmds if m.installs(c) and m.subcommand(c) not in m.update and m.packages(c)), None)
                if named is not None and refresh is None and k in pending:
                    earlier = pending.pop(k)[0]
                    yield cmd_hit(ins, named, f"`{named.name} {m.subcommand(named)}` installs from the index refreshed by the RUN on "
                                              f"line {earlier.line}; a cached layer makes it stale", fix="refresh the index in this RUN")
                elif refresh is not None:
                    if named is None:
                        pending[k] = (ins, refresh, not fetches_any)
                    else:
                        pending.pop(k, None)
        for ins, cmd, alone in pending.values():
            if alone:
                yield cmd_hit(ins, cmd, f"`{cmd.name} {cmd.subcommand or ' '.join(cmd.args)}` in a RUN that installs nothing",
                              fix="update and install in one RUN")


@rule("LI306", "apt-dist-upgrade", Severity.WARNING, tags=("apt",), peers=("DS-0024", "DKL-DI-0003"),
      divergences={p: "also flags `full-upgrade`, apt's other name for `dist-upgrade`" for p in ("DS-0024", "DKL-DI-0003")})
def apt_dist_upgrade(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not run `apt-get dist-upgrade` in a Dockerfile.

    ## What it does
    Flags `apt-get dist-upgrade` and `apt-get full-upgrade`.

    ## Why it matters
    A distribution upgrade may install, remove and replace packages,
    kernel and init packages included, changing the base image under the
    application in ways nobody reviewed. Take a newer base image instead.

    ## Example
    ```dockerfile
    RUN apt-get update && apt-get dist-upgrade -y
    ```

    ## Fix
    Use a newer base image tag, or `apt-get upgrade` of the packages you need.
    """
    for ins, cmd in installs(t, APT, "dist-upgrade", "full-upgrade"):
        yield cmd_hit(ins, cmd, f"`{cmd.name} {APT.subcommand(cmd)}` rewrites the base image's package set",
                      fix="use a newer base image instead")


@rule("LI307", "apt-allow-unauthenticated", Severity.ERROR, tags=("apt", "security", "supply-chain"),
      peers=("CKV2_DOCKER_8",), security_severity=7.5)
def apt_allow_unauthenticated(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not install unauthenticated packages with apt.

    ## What it does
    Flags `apt-get`/`apt` with `--allow-unauthenticated`.

    ## Why it matters
    The switch installs packages whose signatures do not verify, so a
    mirror or a man in the middle can replace them.

    ## Example
    ```dockerfile
    RUN apt-get install -y --allow-unauthenticated curl
    ```

    ## Fix
    Import the repository's signing key and drop the switch.
    """
    yield from _switch(t, APT.names, ("allow-unauthenticated",), "installs packages whose signatures do not verify")


@rule("LI308", "apt-force-yes", Severity.ERROR, tags=("apt", "security", "supply-chain"),
      peers=("CKV2_DOCKER_11",), security_severity=7.5)
def apt_force_yes(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not use `apt-get --force-yes`.

    ## What it does
    Flags `apt-get`/`apt` with `--force-yes`.

    ## Why it matters
    Beyond answering prompts, `--force-yes` also accepts unauthenticated
    packages and downgrades; apt itself deprecates it.

    ## Example
    ```dockerfile
    RUN apt-get install --force-yes curl
    ```

    ## Fix
    ```dockerfile
    RUN apt-get install -y curl
    ```
    """
    yield from _switch(t, APT.names, ("force-yes",), "also accepts unauthenticated packages and downgrades")
