"""LI300–LI339: package managers in RUN — pins, prompts, caches, signature checks.

Every system package manager is described once by a :class:`Manager` (its
commands, install subcommands, "assume yes" switches, what cleans its cache
and what a pinned package looks like); the rules below are a few lines over
the shared helpers :func:`installs`, :func:`missing_yes`, :func:`unpinned`
and :func:`cache_left`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from lintimg.dockerfile import Dockerfile, Instruction
from lintimg.findings import Hit, Severity
from lintimg.queries import cmd_hit, run_commands, run_mounts
from lintimg.rule import rule
from lintimg.shell import Command
from lintimg.target import Target
from lintimg.words import expand, split_words

# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Manager:
    """How one package manager installs, prompts, pins and caches."""

    names: tuple[str, ...]
    install: tuple[str, ...]  # subcommands that fetch packages
    pinned: Callable[[str], bool]
    yes: tuple[str, ...] = ()  # flags that answer prompts
    takes_value: frozenset[str] = frozenset()  # flags whose value is not a package
    clean: Callable[[Command], bool] = lambda c: False  # a command that empties its cache
    cache_dirs: tuple[str, ...] = ()  # a cache/tmpfs mount on these keeps the cache out
    update: tuple[str, ...] = ()  # subcommands that only refresh the index

    def cleans(self, ins: Instruction, cmd: Command) -> bool:
        """True when ``cmd`` (an install) or a later command of its RUN empties this manager's cache."""
        later = ins.script.after(cmd) if ins.script is not None else []
        return self.clean(cmd) or any(c.name in (cmd.name, "rm") and self.clean(c) for c in later)

    def calls(self, cmd: Command) -> bool:
        return cmd.name in self.names

    def subcommand(self, cmd: Command) -> str | None:
        rest = cmd.without_flags(*self.takes_value).args_no_flags()
        return rest[0] if rest else None

    def installs(self, cmd: Command) -> bool:
        return self.calls(cmd) and self.subcommand(cmd) in self.install

    def packages(self, cmd: Command) -> list[str]:
        return cmd.without_flags(*self.takes_value).args_no_flags()[1:]


def _rm_of(*prefixes: str) -> Callable[[Command], bool]:
    """``rm`` of a path under one of ``prefixes``."""
    return lambda c: c.name == "rm" and any(a.startswith(p) for a in c.args for p in prefixes)


def _sub(*words: str) -> Callable[[Command], bool]:
    """The manager called with all of ``words`` as arguments (``clean all``)."""
    return lambda c: all(c.has_args(w) for w in words)


def _either(*checks: Callable[[Command], bool]) -> Callable[[Command], bool]:
    return lambda c: any(f(c) for f in checks)


_RPM_PIN = re.compile(r"-\d")

APT = Manager(
    names=("apt-get", "apt", "aptitude"),
    install=("install", "upgrade", "dist-upgrade", "full-upgrade", "reinstall", "build-dep"),
    pinned=lambda p: "=" in p or "/" in p or p.endswith(".deb"),
    yes=("y", "yes", "assume-yes"),
    takes_value=frozenset({"t", "target-release", "o", "option", "c", "config-file"}),
    clean=_either(_rm_of("/var/lib/apt/lists"), _sub("clean"), _sub("distclean")),
    cache_dirs=("/var/cache/apt", "/var/lib/apt"),
    update=("update",),
)
APK = Manager(
    names=("apk",),
    install=("add", "upgrade"),
    pinned=lambda p: "=" in p or "~" in p or p.endswith(".apk"),
    takes_value=frozenset({"t", "virtual", "repository", "X", "root", "p", "keys-dir", "arch", "cache-dir"}),
    clean=lambda c: c.has_flag("no-cache") or _sub("cache", "clean")(c) or _rm_of("/var/cache/apk")(c),
    cache_dirs=("/var/cache/apk",),
    update=("update",),
)
YUM = Manager(
    names=("yum",),
    install=("install", "groupinstall", "localinstall", "reinstall", "upgrade", "update", "module"),
    pinned=lambda p: bool(_RPM_PIN.search(p)) or p.endswith(".rpm"),
    yes=("y", "assumeyes"),
    takes_value=frozenset({"c", "config", "d", "debuglevel", "e", "errorlevel", "installroot", "releasever", "enablerepo", "disablerepo", "x", "exclude", "setopt"}),
    clean=_either(_sub("clean", "all"), _rm_of("/var/cache/yum")),
    cache_dirs=("/var/cache/yum",),
    update=("update",),
)
DNF = Manager(
    names=("dnf", "microdnf", "tdnf"),
    install=("install", "in", "groupinstall", "localinstall", "reinstall", "rei", "upgrade", "up", "update",
             "upgrade-minimal", "up-min", "distro-sync", "dsync", "downgrade", "module", "group"),
    pinned=lambda p: bool(_RPM_PIN.search(p)) or p.endswith(".rpm") or ":" in p,
    yes=("y", "assumeyes"),
    takes_value=frozenset({"c", "config", "d", "debuglevel", "e", "errorlevel", "installroot", "releasever", "enablerepo", "disablerepo", "x", "exclude", "setopt", "repo", "repoid"}),
    clean=_either(_sub("clean", "all"), _rm_of("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5")),
    cache_dirs=("/var/cache/libdnf5", "/var/cache/dnf", "/var/cache/yum"),
    update=("update", "upgrade"),
)
ZYPPER = Manager(
    names=("zypper",),
    install=("install", "in", "remove", "rm", "source-install", "si", "patch", "update", "up", "dist-upgrade", "dup"),
    pinned=lambda p: any(op in p for op in ("=", ">", "<")) or p.endswith(".rpm"),
    yes=("n", "non-interactive", "y", "no-confirm"),
    takes_value=frozenset({"r", "repo", "root", "R", "t", "type", "c", "config"}),
    clean=_either(_sub("clean"), _sub("cc")),
    cache_dirs=("/var/cache/zypp",),
    update=("refresh", "ref", "up", "update"),
)
MICRODNF = Manager(names=("microdnf",), install=("install",), pinned=DNF.pinned, clean=DNF.clean, cache_dirs=DNF.cache_dirs)
SYSTEM_MANAGERS = (APT, APK, YUM, DNF, ZYPPER)


def installs(t: Target, mgr: Manager, *subs: str, include_onbuild: bool = True) -> Iterator[tuple[Instruction, Command]]:
    """Calls of ``mgr`` with one of ``subs`` (default: its install subcommands)."""
    wanted = subs or mgr.install
    for ins, cmd in run_commands(t.dockerfile, include_onbuild):
        if mgr.calls(cmd) and mgr.subcommand(cmd) in wanted:
            yield ins, cmd


def missing_yes(t: Target, mgr: Manager, *subs: str) -> Iterator[Hit]:
    """Hits for installs of ``mgr`` without any of its assume-yes switches."""
    for ins, cmd in installs(t, mgr, *subs):
        if not cmd.has_flag(*mgr.yes):
            yield cmd_hit(ins, cmd, f"`{cmd.name} {mgr.subcommand(cmd)}` without `-y` waits for an answer nobody gives",
                          fix=f"add `-y` to `{cmd.name} {mgr.subcommand(cmd)}`")


def vars_at(df: Dockerfile, ins: Instruction) -> dict[str, str]:
    """ARG/ENV values visible to ``ins``; for a file with no FROM, every earlier ARG/ENV."""
    if ins.stage_index is not None:
        return df.env_at(ins)
    env: dict[str, str] = {}
    for other in df.instructions[: ins.index]:
        if other.keyword in ("ARG", "ENV"):
            for key, value, _ in other.key_values():
                env[key] = expand(value, env) if value is not None else env.get(key, "")
    return env


def unpinned(t: Target, mgr: Manager, what: str, how: str, packages: Callable[[Command], list[str]] | None = None, *subs: str) -> Iterator[Hit]:
    """One hit per install of ``mgr`` naming the packages ``mgr.pinned`` rejects (variables expanded)."""
    df = t.dockerfile
    for ins, cmd in installs(t, mgr, *subs):
        env = vars_at(df, ins)
        loose = [p for p in (packages or mgr.packages)(cmd) if not mgr.pinned(expand(p, env))]
        if loose:
            yield cmd_hit(ins, cmd, f"{what} without a version: {', '.join(loose)}", fix=how, key=",".join(loose))


def cache_mounted(ins: Instruction, *dirs: str) -> bool:
    """True when every one of ``dirs`` has a cache or tmpfs mount on it (or on a parent)."""
    targets = [m.get("target", "").rstrip("/") for m in run_mounts(ins) if m["type"] in ("cache", "tmpfs")]
    return all(any(d == tg or d.startswith(tg + "/") for tg in targets if tg) for d in dirs)


def cache_left(t: Target, mgr: Manager, message: str, fix: str) -> Iterator[Hit]:
    """Installs of ``mgr`` with no cleaning command after them in the same RUN (nor a cache mount)."""
    for ins, cmd in installs(t, mgr):
        if not mgr.cleans(ins, cmd) and not any(cache_mounted(ins, d) for d in mgr.cache_dirs):
            yield cmd_hit(ins, cmd, message, fix=fix)


def stage_in_image(df: Dockerfile, ins: Instruction) -> bool:
    """True when the stage of ``ins`` ends up in an image: the final stage, or one another stage builds FROM."""
    if ins.stage_index is None or ins.stage_index == len(df.stages) - 1:
        return True
    return any(st.base_stage == ins.stage_index for st in df.stages)


# ---------------------------------------------------------------- apt


@rule("LI300", "apt-get-pin-versions", Severity.WARNING, tags=("apt", "reproducibility"), peers=("DL3008", "KICS-965a08d7"))
def apt_get_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `apt-get install`.

    ## What it does
    Flags packages named to `apt-get install` with no version (`pkg=1.2`),
    no release (`pkg/bookworm`) and that are not a local `.deb` file.

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
    """
    yield from unpinned(t, APT, "apt-get install", "pin each package: `pkg=version`", None, "install")


@rule("LI301", "apt-lists-not-removed", Severity.INFO, tags=("apt", "size"), peers=("DL3009", "DKL-DI-0005", "KICS-df746b39"),
      divergences={"DL3009": "hadolint reads a backslash followed by spaces in the middle of a line as a line break; "
                             "Docker does not, so a `--mount` written after it is not a mount and the lists stay."})
def apt_lists_not_removed(t: Target) -> Iterator[Hit]:
    """Delete the apt lists after `apt-get update`.

    ## What it does
    Flags a RUN that runs `apt-get update` (or `apt update`) and does not
    remove `/var/lib/apt/lists` (or run `apt-get distclean`) later in the
    same RUN, unless both
    `/var/lib/apt` and `/var/cache/apt` are cache or tmpfs mounts. Stages
    that are only copied from are not flagged: their files never reach
    the image.

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
    """
    df = t.dockerfile
    for ins, cmd in installs(t, APT, "update"):
        if not stage_in_image(df, ins) or cache_mounted(ins, "/var/lib/apt", "/var/cache/apt"):
            continue
        later = ins.script.after(cmd) if ins.script is not None else []
        if not any(_rm_of("/var/lib/apt/lists", "/var/lib/apt")(c) or (APT.calls(c) and APT.subcommand(c) in ("distclean", "dist-clean"))
                   for c in later):
            yield cmd_hit(ins, cmd, "apt lists are left in the layer after `apt-get update`",
                          fix="end the RUN with `&& rm -rf /var/lib/apt/lists/*`")


@rule("LI302", "apt-get-missing-yes", Severity.WARNING, tags=("apt",), peers=("DL3014", "DS-0021", "KICS-77783205"))
def apt_get_missing_yes(t: Target) -> Iterator[Hit]:
    """Use `-y` with `apt-get install`.

    ## What it does
    Flags `apt-get install` without `-y`/`--yes`/`--assume-yes` (`-qq`,
    `-q -q` and `-q=2` imply yes).

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
    """
    for ins, cmd in installs(t, APT, "install"):
        if cmd.name == "apt-get" and not cmd.has_flag(*APT.yes) and cmd.flag_count("q", "quiet") < 2 \
                and cmd.flag_value("q", "quiet") not in ("2", "=2"):
            yield cmd_hit(ins, cmd, "`apt-get install` without `-y` waits for an answer nobody gives", fix="add `-y`")


@rule("LI303", "apt-get-install-recommends", Severity.INFO, tags=("apt", "size"), peers=("DL3015", "DS-0029", "KICS-7384dfb2"))
def apt_get_install_recommends(t: Target) -> Iterator[Hit]:
    """Avoid installing recommended packages with `apt-get install`.

    ## What it does
    Flags `apt-get install` without `--no-install-recommends` (or
    `-o APT::Install-Recommends=false`).

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
    """
    for ins, cmd in installs(t, APT, "install"):
        if cmd.name == "apt-get" and not cmd.has_flag("no-install-recommends") \
                and not any(a.lower().endswith("install-recommends=false") for a in cmd.args):
            yield cmd_hit(ins, cmd, "`apt-get install` without `--no-install-recommends` pulls in optional packages",
                          fix="add `--no-install-recommends`")


@rule("LI304", "apt-in-scripts", Severity.WARNING, tags=("apt",), peers=("DL3027", "CKV_DOCKER_9", "KICS-b84a0b47"))
def apt_in_scripts(t: Target) -> Iterator[Hit]:
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


@rule("LI305", "package-update-alone", Severity.WARNING, tags=("apt", "apk", "yum", "dnf", "zypper", "cache"),
      peers=("DS-0017", "CKV_DOCKER_5", "CIS-DI-0007", "KICS-9bae49be"))
def package_update_alone(t: Target) -> Iterator[Hit]:
    """Refresh the package index in the same RUN that installs.

    ## What it does
    Flags a RUN that refreshes a package index (`apt-get update`, `apk
    update`, `yum update`, `dnf update`, `zypper refresh`/`up`, ...) but
    installs or upgrades nothing in that RUN.

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
    for ins in t.dockerfile.runs():
        cmds = ins.script.commands if ins.script is not None else (
            [Command(list(ins.json_args), 0)] if ins.json_args else [])
        updates = [c for c in cmds if any(m.calls(c) and m.subcommand(c) in m.update for m in SYSTEM_MANAGERS)]
        fetches = [c for c in cmds if any(m.calls(c) and m.subcommand(c) in m.install and m.subcommand(c) not in m.update
                                          for m in SYSTEM_MANAGERS)]
        if updates and not fetches:
            yield cmd_hit(ins, updates[0], f"`{updates[0].name} {updates[0].subcommand}` in a RUN that installs nothing",
                          fix="update and install in one RUN")


@rule("LI306", "apt-dist-upgrade", Severity.WARNING, tags=("apt",), peers=("DS-0024", "DKL-DI-0003"),
      divergences={p: "also flags `full-upgrade`, apt's other name for `dist-upgrade`" for p in ("DS-0024", "DKL-DI-0003")})
def apt_dist_upgrade(t: Target) -> Iterator[Hit]:
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


def _switch(t: Target, names: tuple[str, ...], flags: tuple[str, ...], why: str) -> Iterator[Hit]:
    """Calls of ``names`` that pass any of the long ``flags``."""
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name in names and cmd.has_flag(*flags):
            used = next(f for f in flags if cmd.has_flag(f))
            yield cmd_hit(ins, cmd, f"`{cmd.name} --{used}` {why}", fix=f"remove `--{used}`", key=used)


@rule("LI307", "apt-allow-unauthenticated", Severity.ERROR, tags=("apt", "security", "supply-chain"),
      peers=("CKV2_DOCKER_8",), security_severity=7.5)
def apt_allow_unauthenticated(t: Target) -> Iterator[Hit]:
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
def apt_force_yes(t: Target) -> Iterator[Hit]:
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


# ---------------------------------------------------------------- apk


@rule("LI310", "apk-pin-versions", Severity.WARNING, tags=("apk", "reproducibility"), peers=("DL3018", "KICS-d3499f6d"))
def apk_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `apk add`.

    ## What it does
    Flags packages named to `apk add` with no version constraint
    (`pkg=1.2-r0`, `pkg~1.2`) that are not a local `.apk` file.

    ## Why it matters
    An unpinned add installs whatever the repository serves that day, so
    builds are not reproducible.

    ## Example
    ```dockerfile
    RUN apk add --no-cache curl
    ```

    ## Fix
    ```dockerfile
    RUN apk add --no-cache curl=8.5.0-r0
    ```
    """
    yield from unpinned(t, APK, "apk add", "pin each package: `pkg=version`", None, "add")


@rule("LI311", "apk-add-cache", Severity.INFO, tags=("apk", "size"), peers=("DL3019", "DS-0025", "DKL-DI-0004", "KICS-ae9c56a6"))
def apk_add_cache(t: Target) -> Iterator[Hit]:
    """Use `apk add --no-cache`.

    ## What it does
    Flags `apk add` without `--no-cache`, unless `/var/cache/apk` is a
    cache or tmpfs mount of that RUN.

    ## Why it matters
    Without it the index and downloaded packages stay in
    `/var/cache/apk` inside the layer.

    ## Example
    ```dockerfile
    RUN apk add curl=8.5.0-r0
    ```

    ## Fix
    ```dockerfile
    RUN apk add --no-cache curl=8.5.0-r0
    ```
    """
    for ins, cmd in installs(t, APK, "add"):
        if not cmd.has_flag("no-cache") and not cache_mounted(ins, "/var/cache/apk"):
            yield cmd_hit(ins, cmd, "`apk add` without `--no-cache` leaves the package cache in the layer", fix="add `--no-cache`")


@rule("LI312", "apk-allow-untrusted", Severity.ERROR, tags=("apk", "security", "supply-chain"),
      peers=("CKV2_DOCKER_7",), security_severity=7.5)
def apk_allow_untrusted(t: Target) -> Iterator[Hit]:
    """Do not install untrusted packages with apk.

    ## What it does
    Flags `apk` with `--allow-untrusted`.

    ## Why it matters
    apk then installs packages whose signature it cannot verify.

    ## Example
    ```dockerfile
    RUN apk add --allow-untrusted ./tool.apk
    ```

    ## Fix
    Add the signing key under `/etc/apk/keys` and drop the switch.
    """
    yield from _switch(t, APK.names, ("allow-untrusted",), "installs packages whose signatures are not checked")


# ---------------------------------------------------------------- yum / dnf / microdnf / zypper


@rule("LI315", "yum-missing-yes", Severity.WARNING, tags=("yum",), peers=("DL3030", "KICS-6e19193a"))
def yum_missing_yes(t: Target) -> Iterator[Hit]:
    """Use `-y` with `yum install`.

    ## What it does
    Flags `yum install`/`groupinstall`/`localinstall` without `-y`/`--assumeyes`.

    ## Why it matters
    yum asks for confirmation and the non-interactive build aborts.

    ## Example
    ```dockerfile
    RUN yum install httpd-2.4.24
    ```

    ## Fix
    ```dockerfile
    RUN yum install -y httpd-2.4.24
    ```
    """
    yield from missing_yes(t, YUM, "install", "groupinstall", "localinstall")


@rule("LI316", "yum-clean-missing", Severity.WARNING, tags=("yum", "size"), peers=("DL3032", "DS-0015", "KICS-00481784"))
def yum_clean_missing(t: Target) -> Iterator[Hit]:
    """Run `yum clean all` after `yum install`.

    ## What it does
    Flags `yum install` not followed in the same RUN by `yum clean all`
    (or `rm -rf /var/cache/yum`), unless the cache is a mount.

    ## Why it matters
    yum's metadata and package cache stay in the layer otherwise.

    ## Example
    ```dockerfile
    RUN yum install -y httpd-2.4.24
    ```

    ## Fix
    ```dockerfile
    RUN yum install -y httpd-2.4.24 && yum clean all
    ```
    """
    yield from cache_left(t, YUM, "`yum install` without a later `yum clean all` leaves yum's cache in the layer",
                          "end the RUN with `&& yum clean all`")


@rule("LI317", "yum-pin-versions", Severity.WARNING, tags=("yum", "reproducibility"), peers=("DL3033", "KICS-6452c424"))
def yum_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `yum install`.

    ## What it does
    Flags packages named to `yum install` without a version (`pkg-1.2`)
    that are not a local `.rpm`, and modules without a stream (`mod:1`).

    ## Why it matters
    Unpinned installs make builds differ from day to day.

    ## Example
    ```dockerfile
    RUN yum install -y httpd && yum clean all
    ```

    ## Fix
    ```dockerfile
    RUN yum install -y httpd-2.4.24 && yum clean all
    ```
    """
    yield from unpinned(t, YUM, "yum install", "pin each package: `pkg-version`", _rpm_packages, "install", "module")


def _rpm_packages(cmd: Command) -> list[str]:
    """Packages of a yum/dnf install; for `module install`, the module specs (which pin with `:`)."""
    mgr = YUM if cmd.name == "yum" else DNF
    words = mgr.packages(cmd)
    if mgr.subcommand(cmd) in ("module", "group"):
        if not words or words[0] != "install" or mgr.subcommand(cmd) == "group":
            return []
        return [w if ":" not in w else "-0" for w in words[1:]]
    return words


@rule("LI318", "dnf-missing-yes", Severity.WARNING, tags=("dnf",), peers=("DL3038", "KICS-7ebd323c"))
def dnf_missing_yes(t: Target) -> Iterator[Hit]:
    """Use `-y` with `dnf install` and `microdnf install`.

    ## What it does
    Flags `dnf`/`microdnf`/`tdnf` installs without `-y`/`--assumeyes`.

    ## Why it matters
    dnf asks for confirmation and the non-interactive build aborts.

    ## Example
    ```dockerfile
    RUN dnf install httpd-2.4.24 && dnf clean all
    ```

    ## Fix
    ```dockerfile
    RUN dnf install -y httpd-2.4.24 && dnf clean all
    ```
    """
    yield from missing_yes(t, DNF, "install", "in", "groupinstall", "localinstall")


@rule("LI319", "dnf-clean-missing", Severity.WARNING, tags=("dnf", "size"), peers=("DL3040", "DS-0019", "KICS-295acb63"))
def dnf_clean_missing(t: Target) -> Iterator[Hit]:
    """Run `dnf clean all` after `dnf install`.

    ## What it does
    Flags dnf/microdnf/tdnf installs and upgrades not followed in the same
    RUN by `dnf clean all` (or removing the dnf cache), unless the cache
    directory is a cache or tmpfs mount.

    ## Why it matters
    dnf's metadata and package cache stay in the layer otherwise.

    ## Example
    ```dockerfile
    RUN dnf install -y mariadb-10.4
    ```

    ## Fix
    ```dockerfile
    RUN dnf install -y mariadb-10.4 && dnf clean all
    ```
    """
    yield from cache_left(t, DNF, "dnf install without a later `dnf clean all` leaves dnf's cache in the layer",
                          "end the RUN with `&& dnf clean all`")


@rule("LI320", "dnf-pin-versions", Severity.WARNING, tags=("dnf", "reproducibility"), peers=("DL3041", "KICS-93d88cf7"))
def dnf_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `dnf install`.

    ## What it does
    Flags packages named to dnf/microdnf/tdnf `install` without a version
    (`pkg-1.2`, `pkg-1:1.2`) that are not a local `.rpm`, and modules
    without a stream.

    ## Why it matters
    Unpinned installs make builds differ from day to day.

    ## Example
    ```dockerfile
    RUN dnf install -y tomcat && dnf clean all
    ```

    ## Fix
    ```dockerfile
    RUN dnf install -y tomcat-9.0.39 && dnf clean all
    ```
    """
    yield from unpinned(t, DNF, "dnf install", "pin each package: `pkg-version`", _rpm_packages, "install", "in", "module")


@rule("LI321", "microdnf-clean-missing", Severity.WARNING, tags=("dnf", "size"), peers=("DS-0027",))
def microdnf_clean_missing(t: Target) -> Iterator[Hit]:
    """Run `microdnf clean all` after `microdnf install`.

    ## What it does
    Flags `microdnf install` with no `microdnf clean all` after it in the
    same RUN (or a cache mount on its cache).

    ## Why it matters
    microdnf is used on minimal images precisely to stay small; its cache
    left in the layer undoes that.

    ## Example
    ```dockerfile
    RUN microdnf install -y nginx-1.20.1
    ```

    ## Fix
    ```dockerfile
    RUN microdnf install -y nginx-1.20.1 && microdnf clean all
    ```
    """
    yield from cache_left(t, MICRODNF, "`microdnf install` without a later `microdnf clean all` leaves its cache in the layer",
                          "end the RUN with `&& microdnf clean all`")


@rule("LI322", "zypper-non-interactive", Severity.WARNING, tags=("zypper",), peers=("DL3034", "KICS-45e1fca5"))
def zypper_non_interactive(t: Target) -> Iterator[Hit]:
    """Use a non-interactive switch with zypper.

    ## What it does
    Flags zypper installs, removals and patches without `-n`,
    `--non-interactive`, `-y` or `--no-confirm`.

    ## Why it matters
    zypper asks for confirmation and the build aborts.

    ## Example
    ```dockerfile
    RUN zypper install httpd=2.4.24 && zypper clean
    ```

    ## Fix
    ```dockerfile
    RUN zypper install -y httpd=2.4.24 && zypper clean
    ```
    """
    yield from missing_yes(t, ZYPPER, "install", "in", "remove", "rm", "source-install", "si", "patch")


@rule("LI323", "zypper-dist-upgrade", Severity.WARNING, tags=("zypper",), peers=("DL3035",))
def zypper_dist_upgrade(t: Target) -> Iterator[Hit]:
    """Do not run `zypper dist-upgrade` in a Dockerfile.

    ## What it does
    Flags `zypper dist-upgrade` and `zypper dup`.

    ## Why it matters
    A distribution upgrade rewrites the base image's package set; take a
    newer base image instead.

    ## Example
    ```dockerfile
    RUN zypper dist-upgrade -y
    ```

    ## Fix
    Use a newer base image tag.
    """
    for ins, cmd in installs(t, ZYPPER, "dist-upgrade", "dup"):
        yield cmd_hit(ins, cmd, "`zypper dist-upgrade` rewrites the base image's package set", fix="use a newer base image")


@rule("LI324", "zypper-clean-missing", Severity.WARNING, tags=("zypper", "size"), peers=("DL3036", "DS-0020", "KICS-38300d1a"))
def zypper_clean_missing(t: Target) -> Iterator[Hit]:
    """Run `zypper clean` after zypper installs.

    ## What it does
    Flags zypper installs, removals and patches not followed in the same
    RUN by `zypper clean`/`zypper cc`, unless `/var/cache/zypp` is a mount.

    ## Why it matters
    zypper's cache stays in the layer otherwise.

    ## Example
    ```dockerfile
    RUN zypper install -y mariadb=10.4
    ```

    ## Fix
    ```dockerfile
    RUN zypper install -y mariadb=10.4 && zypper clean
    ```
    """
    yield from cache_left(t, ZYPPER, "zypper install without a later `zypper clean` leaves its cache in the layer",
                          "end the RUN with `&& zypper clean`")


@rule("LI325", "zypper-pin-versions", Severity.WARNING, tags=("zypper", "reproducibility"), peers=("DL3037", "KICS-562952e4"))
def zypper_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `zypper install`.

    ## What it does
    Flags packages named to `zypper install` without a version constraint
    (`pkg=1.2`, `pkg>=1.2`) that are not a local `.rpm`.

    ## Why it matters
    Unpinned installs make builds differ from day to day.

    ## Example
    ```dockerfile
    RUN zypper install -y tomcat && zypper clean
    ```

    ## Fix
    ```dockerfile
    RUN zypper install -y tomcat=9.0.39 && zypper clean
    ```
    """
    yield from unpinned(t, ZYPPER, "zypper install", "pin each package: `pkg=version`", None, "install", "in")


@rule("LI326", "rpm-gpg-check-off", Severity.ERROR, tags=("yum", "dnf", "security", "supply-chain"),
      peers=("CKV2_DOCKER_9",), security_severity=7.5)
def rpm_gpg_check_off(t: Target) -> Iterator[Hit]:
    """Do not turn off GPG checks in yum, dnf or tdnf.

    ## What it does
    Flags `yum`, `dnf`, `microdnf` and `tdnf` with `--nogpgcheck`.

    ## Why it matters
    Packages are then installed without verifying their signatures, so a
    mirror or a man in the middle can replace them.

    ## Example
    ```dockerfile
    RUN dnf install -y --nogpgcheck python3
    ```

    ## Fix
    Import the repository key (`rpm --import`) and drop the switch.
    """
    yield from _switch(t, YUM.names + DNF.names, ("nogpgcheck",), "installs packages without checking their signatures")


@rule("LI327", "rpm-signature-check-off", Severity.ERROR, tags=("rpm", "security", "supply-chain"),
      peers=("CKV2_DOCKER_10",), security_severity=7.5)
def rpm_signature_check_off(t: Target) -> Iterator[Hit]:
    """Do not turn off signature or digest checks in rpm.

    ## What it does
    Flags `rpm` with `--nodigest`, `--nosignature`, `--noverify` or
    `--nofiledigest`.

    ## Why it matters
    rpm then installs packages whose integrity and origin it did not check.

    ## Example
    ```dockerfile
    RUN rpm -i --nosignature tool.rpm
    ```

    ## Fix
    Import the signing key with `rpm --import` and drop the switch.
    """
    yield from _switch(t, ("rpm",), ("nodigest", "nosignature", "noverify", "nofiledigest"), "skips integrity checks")


# ---------------------------------------------------------------- language package managers

_TRUE = frozenset({"1", "on", "yes", "true"})


EXPORTERS = frozenset({"export", "declare", "typeset", "readonly", "local"})


def dequote(text: str) -> str:
    """A shell word's value: quotes and escapes removed (``'0'`` -> ``0``, ``"0\\""`` -> ``0"``)."""
    words = split_words(text)
    return words[0].value if len(words) == 1 else text


def assigned(cmd: Command) -> list[tuple[str, str]]:
    """Variables a command sets: its ``VAR=value`` prefixes, and the words of ``export``/``declare``/…."""
    words = list(cmd.assignments) + ([w for w in cmd.args if "=" in w] if cmd.name in EXPORTERS else [])
    return [(key, dequote(value)) for key, _, value in (w.partition("=") for w in words)]


def shell_vars(ins: Instruction, cmd: Command, df: Dockerfile) -> dict[str, str]:
    """Variables ``cmd`` sees: ARG/ENV, ``export``s and bare assignments earlier in its RUN, and its own prefixes."""
    env = dict(vars_at(df, ins))
    for c in ins.script.before(cmd) if ins.script is not None else []:
        if c.name in EXPORTERS or not c.argv:  # a prefix of another command sets it for that command only
            env.update(assigned(c))
    env.update(assigned(cmd))
    return env


def as_pip(cmd: Command) -> Command | None:
    """``pip``/``pip3``/``pipx``/``python -m pip`` as a command named ``pip``/``pipx``; otherwise ``None``."""
    if re.fullmatch(r"pip[0-9.]*", cmd.name):
        return Command(["pip", *cmd.args], cmd.row, cmd.offset, cmd.operator, cmd.in_pipeline, cmd.assignments)
    if cmd.name == "pipx":
        return cmd
    if re.fullmatch(r"python[0-9.]*", cmd.name) and cmd.args[:2] == ["-m", "pip"]:
        return Command(["pip", *cmd.args[2:]], cmd.row, cmd.offset, cmd.operator, cmd.in_pipeline, cmd.assignments)
    return None


_PIP_VALUE_FLAGS = frozenset(
    "r requirement c constraint e editable i index-url extra-index-url t target b build prefix root src trusted-host f "
    "find-links platform python-version implementation abi upgrade-strategy progress-bar log proxy retries timeout "
    "exists-action cert client-cert cache-dir global-option install-option C config-settings python only-binary "
    "no-binary pip-args index suffix".split()
)
_PIP_SPEC = re.compile(r"(===|==|>=|<=|~=|!=|<|>|@)")


def _pip_pinned(p: str) -> bool:
    if p.startswith("git+"):
        return "@" in p.split("#", 1)[0].rsplit("/", 1)[-1]
    return bool(_PIP_SPEC.search(p)) or "/" in p or p.startswith(".") or p.endswith((".whl", ".tar.gz", ".zip"))


PIP = Manager(names=("pip", "pipx"), install=("install",), pinned=_pip_pinned, takes_value=_PIP_VALUE_FLAGS)


def pip_installs(t: Target) -> Iterator[tuple[Instruction, Command, Command]]:
    """``(ins, original command, command as pip)`` for every pip/pipx install."""
    for ins, cmd in run_commands(t.dockerfile):
        pip = as_pip(cmd)
        if pip is not None and PIP.subcommand(pip) == "install":
            yield ins, cmd, pip


@rule("LI330", "pip-pin-versions", Severity.WARNING, tags=("pip", "reproducibility"), peers=("DL3013", "KICS-02d9c71f"))
def pip_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `pip install`.

    ## What it does
    Flags packages named to `pip install` (also `pip3`, `python -m pip`,
    `pipx install`) without a version specifier, unless a constraints file
    (`-c`) governs them. Requirement files, local paths, URLs and wheels
    are not flagged; a `git+` URL needs an `@revision`.

    ## Why it matters
    pip installs the newest release on the day of the build; a new major
    version of a dependency can break a rebuild of unchanged code.

    ## Example
    ```dockerfile
    RUN pip install --no-cache-dir requests
    ```

    ## Fix
    ```dockerfile
    RUN pip install --no-cache-dir requests==2.32.3
    ```
    """
    for ins, cmd, pip in pip_installs(t):
        if pip.has_flag("c", "constraint"):
            continue
        loose = [p for p in PIP.packages(pip) if not _pip_pinned(p)]
        if loose:
            yield cmd_hit(ins, cmd, f"pip install without a version: {', '.join(loose)}", fix="pin each package: `pkg==version`",
                          key=",".join(loose))


@rule("LI331", "pip-cache-dir", Severity.WARNING, tags=("pip", "size"), peers=("DL3042", "KICS-f2f903fb"))
def pip_cache_dir(t: Target) -> Iterator[Hit]:
    """Use `pip install --no-cache-dir`.

    ## What it does
    Flags `pip install` without `--no-cache-dir`, unless `PIP_NO_CACHE_DIR`
    is set to a true value (by ENV, ARG, `export` or a prefix) or pip's
    cache directory is a cache or tmpfs mount. `pipx` is not flagged.

    ## Why it matters
    pip keeps every downloaded wheel under `~/.cache/pip`; in an image that
    is dead weight in the layer.

    ## Example
    ```dockerfile
    RUN pip install requests==2.32.3
    ```

    ## Fix
    ```dockerfile
    RUN pip install --no-cache-dir requests==2.32.3
    ```
    """
    df = t.dockerfile
    for ins, cmd, pip in pip_installs(t):
        if pip.name != "pip" or pip.has_flag("no-cache-dir"):
            continue
        if shell_vars(ins, cmd, df).get("PIP_NO_CACHE_DIR", "").lower() in _TRUE:
            continue
        if any(m["type"] in ("cache", "tmpfs") and m.get("target", "").rstrip("/").endswith(".cache/pip") for m in run_mounts(ins)):
            continue
        yield cmd_hit(ins, cmd, "`pip install` without `--no-cache-dir` leaves pip's download cache in the layer",
                      fix="add `--no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`)")


def _npm_pinned(p: str) -> bool:
    if p.startswith("git") or "://" in p:
        return "#" in p if p.startswith("git") else p.endswith((".tgz", ".tar.gz"))
    return "@" in p[1:] or p.startswith(("/", ".", "~")) or p.endswith((".tgz", ".tar.gz", ".tar"))


NPM = Manager(names=("npm",), install=("install", "i", "add", "isntall", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal"),
              pinned=_npm_pinned, takes_value=frozenset({"registry", "prefix", "C", "cache", "userconfig", "tag", "w", "workspace"}))


@rule("LI333", "npm-pin-versions", Severity.WARNING, tags=("npm", "reproducibility"), peers=("DL3016", "KICS-e36d8880"))
def npm_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `npm install`.

    ## What it does
    Flags packages named to `npm install` without `@version`. Local
    folders and tarballs are not flagged; a git URL needs a `#ref`.
    `npm install` with no package (installing `package.json`) is fine.

    ## Why it matters
    npm installs the newest release that day; builds then differ from
    run to run.

    ## Example
    ```dockerfile
    RUN npm install -g express
    ```

    ## Fix
    ```dockerfile
    RUN npm install -g express@4.19.2
    ```
    """
    yield from unpinned(t, NPM, "npm install", "pin each package: `pkg@version`")


def _gem_packages(cmd: Command) -> list[str]:
    if cmd.has_flag("v", "version"):
        return []
    words = cmd.args[: cmd.args.index("--")] if "--" in cmd.args else cmd.args
    out = []
    for i, w in enumerate(words):
        if w.startswith("-") or (i and words[i - 1].startswith("--") and "=" not in words[i - 1] and w in ("true", "false")):
            continue
        out.append(w)
    return out[1:]


GEM = Manager(names=("gem",), install=("install", "i"), pinned=lambda p: ":" in p or p.endswith(".gem"))


@rule("LI335", "gem-pin-versions", Severity.WARNING, tags=("gem", "reproducibility"), peers=("DL3028", "KICS-22cd11f7"))
def gem_pin_versions(t: Target) -> Iterator[Hit]:
    """Pin versions in `gem install`.

    ## What it does
    Flags gems named to `gem install` without `:version` and without
    `-v`/`--version`.

    ## Why it matters
    gem installs the newest release that day; builds then differ from run
    to run.

    ## Example
    ```dockerfile
    RUN gem install bundler
    ```

    ## Fix
    ```dockerfile
    RUN gem install bundler:2.5.11
    ```
    """
    yield from unpinned(t, GEM, "gem install", "pin each gem: `gem:version`", _gem_packages)


def _go_pinned(p: str) -> bool:
    if p.startswith((".", "/", "$")) or p.endswith(".go"):  # local packages and files
        return True
    return "@" in p and not p.endswith("@latest")


GO = Manager(names=("go",), install=("install", "get", "run"), pinned=_go_pinned,
             takes_value=frozenset({"C", "o", "p", "tags", "ldflags", "gcflags", "asmflags", "mod", "modfile", "pkgdir", "exec", "overlay", "pgo", "toolexec", "buildvcs", "covermode", "coverpkg"}))


@rule("LI336", "go-install-version", Severity.WARNING, tags=("go", "reproducibility"), peers=("DL3062",))
def go_install_version(t: Target) -> Iterator[Hit]:
    """Give `go install`, `go get` and `go run` of a remote module a version.

    ## What it does
    Flags module paths given to `go install`, `go get` and `go run`
    without `@version`, or with `@latest`. Local packages (`.`, `./cmd`,
    absolute paths) are not flagged.

    ## Why it matters
    Without a version the go command resolves the newest release that day.

    ## Example
    ```dockerfile
    RUN go install golang.org/x/tools/gopls@latest
    ```

    ## Fix
    ```dockerfile
    RUN go install golang.org/x/tools/gopls@v0.16.1
    ```
    """
    for ins, cmd in installs(t, GO):
        words = GO.packages(cmd)
        if GO.subcommand(cmd) == "run":
            words = words[:1]  # the rest are the program's arguments
        loose = [p for p in words if not _go_pinned(p)]
        if loose:
            yield cmd_hit(ins, cmd, f"`go {GO.subcommand(cmd)}` without a fixed version: {', '.join(loose)}",
                          fix="add `@vX.Y.Z`", key=",".join(loose))


@rule("LI337", "yarn-cache-clean", Severity.INFO, tags=("yarn", "size"), peers=("DL3060",))
def yarn_cache_clean(t: Target) -> Iterator[Hit]:
    """Run `yarn cache clean` after `yarn install`.

    ## What it does
    Flags `yarn install` with no `yarn cache clean` later in the same RUN,
    unless yarn's cache is a cache or tmpfs mount. Stages that are only
    copied from are not flagged.

    ## Why it matters
    yarn's offline cache holds a copy of every package; in the image it is
    dead weight.

    ## Example
    ```dockerfile
    RUN yarn install --frozen-lockfile
    ```

    ## Fix
    ```dockerfile
    RUN yarn install --frozen-lockfile && yarn cache clean
    ```
    """
    df = t.dockerfile
    for ins, cmd in run_commands(df):
        if not cmd.is_call("yarn", "install") or not stage_in_image(df, ins):
            continue
        later = ins.script.after(cmd) if ins.script is not None else []
        if any(c.name == "yarn" and c.has_args("cache") and c.has_args("clean") for c in later):
            continue
        if any(m["type"] in ("cache", "tmpfs") and "yarn" in m.get("target", "") for m in run_mounts(ins)):
            continue
        yield cmd_hit(ins, cmd, "`yarn install` without a later `yarn cache clean` leaves yarn's cache in the layer",
                      fix="end the RUN with `&& yarn cache clean`")


LOCKFILE_INSTALLS = (("npm", "ci"), ("yarn", "install"), ("pip", "sync"), ("poetry", "install"), ("bundle", "install"), ("pipenv", "install"))


@rule("LI338", "nothing-pinned", Severity.INFO, tags=("reproducibility",))
def nothing_pinned(t: Target) -> Iterator[Hit]:
    """The Dockerfile installs packages and pins none of them.

    ## What it does
    Looks at every package install of the file (apt, apk, yum, dnf,
    zypper, pip, npm, gem, go) and reports once, on the first install,
    when not a single package anywhere has a version and nothing installs
    from a lock file (`npm ci`, `pip install -r`, `poetry install`, ...).

    ## Why it matters
    One unpinned package is a detail; a file with no pin at all has no
    reproducible build, and the per-manager rules bury that in noise.
    This rule is the one finding to act on first.

    ## Example
    ```dockerfile
    RUN apt-get update && apt-get install -y curl git
    RUN pip install --no-cache-dir flask
    ```

    ## Fix
    Pin at least the packages the application depends on, or install from
    a lock file.
    """
    df = t.dockerfile
    first: tuple[Instruction, Command] | None = None
    for ins, cmd in run_commands(df):
        pip = as_pip(cmd)
        if pip is not None and pip.has_flag("r", "requirement", "c", "constraint"):
            return
        if any(cmd.is_call(n, s) for n, s in LOCKFILE_INSTALLS):
            return
        for mgr, c in ((m, cmd) for m in (APT, APK, YUM, DNF, ZYPPER, NPM, GEM, GO)) if pip is None else ((PIP, pip),):
            if not mgr.installs(c):
                continue
            words = _gem_packages(c) if mgr is GEM else mgr.packages(c)
            env = vars_at(df, ins)
            if any(mgr.pinned(expand(w, env)) for w in words):
                return
            if words and first is None:
                first = (ins, cmd)
    if first is not None:
        yield cmd_hit(first[0], first[1], "no package installed by this Dockerfile has a pinned version",
                      fix="pin versions, or install from a lock file")


@rule("LI339", "package-cache-mount", Severity.STYLE, tags=("cache", "buildkit"), enabled_by_default=False)
def package_cache_mount(t: Target) -> Iterator[Hit]:
    """Keep package downloads in a cache mount instead of deleting them.

    ## What it does
    Off by default. Flags system package installs (apt, apk, yum, dnf,
    zypper) whose RUN deletes the package manager's cache afterwards (or
    avoids it, as `apk add --no-cache` does) when that cache directory is
    not a `--mount=type=cache`.

    ## Why it matters
    Deleting the cache keeps it out of the layer, but every rebuild of the
    RUN downloads every package again. With BuildKit a cache mount gives
    both: nothing in the layer, and downloads reused across builds.

    ## Example
    ```dockerfile
    RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \\
        && rm -rf /var/lib/apt/lists/*
    ```

    ## Fix
    ```dockerfile
    RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
        --mount=type=cache,target=/var/lib/apt,sharing=locked \\
        apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5
    ```
    """
    for mgr in SYSTEM_MANAGERS:
        for ins, cmd in installs(t, mgr):
            if mgr.cleans(ins, cmd) and not cache_mounted(ins, *mgr.cache_dirs[:1]):
                yield cmd_hit(ins, cmd, f"{cmd.name} downloads are deleted and fetched again on every rebuild; "
                                        f"a cache mount on {mgr.cache_dirs[0]} keeps them out of the layer and reuses them",
                              fix=f"add `--mount=type=cache,target={mgr.cache_dirs[0]}` to the RUN and drop the cleanup")
