"""Helpers shared by the built-in rule modules (a rule module never imports another one's helpers).

- the package-manager vocabulary: every manager described once by a :class:`Manager`
  (its commands, install subcommands, "assume yes" switches, what cleans its cache and
  what a pinned package looks like), and the helpers a package rule is a few lines over:
  :func:`installs`, :func:`missing_yes`, :func:`unpinned`, :func:`cache_left`;
- shell variables a RUN command sees (:func:`assigned`, :func:`shell_vars`), pip in its
  spellings (:func:`as_pip`);
- paths (:func:`path_under`), base images (:func:`external_bases`), and capped per-COPY
  reports (:func:`capped`);
- container shape (LI730, LI780): the files a build copies in (:func:`copied_files`), the Dockerfile's
  verdict (:func:`dockerfile_verdict`), evidence in messages and the one-process fix;
- base-image facts (:mod:`lintimg.image.basefacts`): looked up once per run in ``lintimg_prepare``
  (:func:`prepare_base_facts`) for the rules in :data:`lintimg.rules.BASEFACT_RULES`, read by rules with
  :func:`base_lookup` and :func:`base_variants`; what runs in the container (:func:`runs_app`).
"""
from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lintimg.dockerfile import Dockerfile, Instruction, Stage
from lintimg.dockerfile.queries import cmd_hit, container_command, declared_shell, hit, run_commands, run_mounts, workdir_at
from lintimg.dockerfile.reference import ImageRef, parse_ref
from lintimg.dockerfile.shape import Copied, Evidence, Verdict, decide, dockerfile_findings
from lintimg.dockerfile.shell import Command
from lintimg.dockerfile.stages import chain, inherited, ships
from lintimg.dockerfile.words import expand, is_digits, split_words
from lintimg.engine.hookspecs import BASEFACTS
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety
from lintimg.records import record
from lintimg.rules import BASEFACT_RULES, _fixes
from lintimg.rules._versions import Spec, apk_spec, apt_spec, pinned, rpm_spec, zypper_spec

if TYPE_CHECKING:  # types only: a Dockerfile-only run loads neither the context nor the base-image facts here
    from lintimg.context.copies import Copy, Source
    from lintimg.engine.target import RuleTarget, Target
    from lintimg.image.basefacts import BaseFacts, Lookup


@record(frozen=True)
class Manager:
    """How one package manager installs, prompts, pins and caches.

    Its arguments are read with the program's option table (``cmd.subcommand``,
    ``cmd.operands``: :mod:`lintimg.dockerfile.clis`); what a package word pins is
    its version grammar (:mod:`lintimg.rules._versions`).
    """

    names: tuple[str, ...]
    install: tuple[str, ...]  # subcommands that fetch packages
    grammar: Callable[[str], Spec]
    yes: tuple[str, ...] = ()  # flags that answer prompts
    clean: Callable[[Command], bool] = lambda c: False  # a command that empties its cache
    cache_dirs: tuple[str, ...] = ()  # a cache/tmpfs mount on these keeps the cache out
    update: tuple[str, ...] = ()  # subcommands that refresh the index
    refresh_flags: tuple[str, ...] = ()  # options that refresh the index as part of another operation
    operation: Callable[[Command], str | None] | None = None  # for managers whose operation is an option (pacman -S)

    def cleans(self, ins: Instruction, cmd: Command) -> bool:
        """True when ``cmd`` (an install) or a later command of its RUN empties this manager's cache."""
        later = ins.script.after(cmd) if ins.script is not None else []
        return self.clean(cmd) or any(c.name in (cmd.name, "rm") and self.clean(c) for c in later)

    def calls(self, cmd: Command) -> bool:
        return cmd.name in self.names

    def subcommand(self, cmd: Command) -> str | None:
        return self.operation(cmd) if self.operation is not None else cmd.subcommand

    def installs(self, cmd: Command) -> bool:
        return self.calls(cmd) and self.subcommand(cmd) in self.install

    def packages(self, cmd: Command) -> list[str]:
        return cmd.operands[1:] if cmd.cli.subcommands else cmd.operands

    def pinned(self, word: str) -> bool:
        return pinned(self.grammar, word)

    def refreshes(self, cmd: Command) -> bool:
        """``cmd`` refreshes this manager's index (``apt-get update``, ``apk -U add``, ``pacman -Sy``)."""
        return self.calls(cmd) and (self.subcommand(cmd) in self.update or cmd.has_flag(*self.refresh_flags))


def _rm_of(*prefixes: str) -> Callable[[Command], bool]:
    """``rm`` of a path under one of ``prefixes``."""
    return lambda c: c.name == "rm" and any(a.startswith(p) for a in c.args for p in prefixes)


def _sub(*words: str) -> Callable[[Command], bool]:
    """The manager called with all of ``words`` as arguments (``clean all``)."""
    return lambda c: all(c.has_args(w) for w in words)


def _either(*checks: Callable[[Command], bool]) -> Callable[[Command], bool]:
    return lambda c: any(f(c) for f in checks)


APT = Manager(
    names=("apt-get", "apt", "aptitude"),
    install=("install", "upgrade", "dist-upgrade", "full-upgrade", "reinstall", "build-dep"),
    grammar=apt_spec,
    yes=("y", "yes", "assume-yes"),
    clean=_either(_rm_of("/var/lib/apt/lists"), _sub("clean"), _sub("distclean")),
    cache_dirs=("/var/cache/apt", "/var/lib/apt"),
    update=("update",),
)


APK = Manager(
    names=("apk",),
    install=("add", "upgrade"),
    grammar=apk_spec,
    clean=lambda c: c.has_flag("no-cache") or _sub("cache", "clean")(c) or _rm_of("/var/cache/apk")(c),
    cache_dirs=("/var/cache/apk",),
    update=("update",),
    refresh_flags=("U", "update-cache"),
)


YUM = Manager(
    names=("yum",),
    install=("install", "groupinstall", "localinstall", "reinstall", "upgrade", "update", "module"),
    grammar=rpm_spec,
    yes=("y", "assumeyes"),
    clean=_either(_sub("clean", "all"), _rm_of("/var/cache/yum")),
    cache_dirs=("/var/cache/yum",),
    update=("update",),
)


DNF = Manager(
    names=("dnf", "microdnf", "tdnf"),
    install=("install", "in", "groupinstall", "localinstall", "reinstall", "rei", "upgrade", "up", "update",
             "upgrade-minimal", "up-min", "distro-sync", "dsync", "downgrade", "module", "group"),
    grammar=lambda w: rpm_spec(w, epoch_or_stream=True),
    yes=("y", "assumeyes"),
    clean=_either(_sub("clean", "all"), _rm_of("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5")),
    cache_dirs=("/var/cache/libdnf5", "/var/cache/dnf", "/var/cache/yum"),
    update=("update", "upgrade"),
    refresh_flags=("refresh",),
)


ZYPPER = Manager(
    names=("zypper",),
    install=("install", "in", "remove", "rm", "source-install", "si", "patch", "update", "up", "dist-upgrade", "dup"),
    grammar=zypper_spec,
    yes=("n", "non-interactive", "y", "no-confirm"),
    clean=_either(_sub("clean"), _sub("cc")),
    cache_dirs=("/var/cache/zypp",),
    update=("refresh", "ref", "up", "update"),
)


MICRODNF = Manager(names=("microdnf",), install=("install",), grammar=DNF.grammar, clean=DNF.clean, cache_dirs=DNF.cache_dirs)


def _pacman_operation(cmd: Command) -> str | None:
    """pacman(8): the operation is an option. ``-S`` with packages installs, ``-Su`` upgrades everything,
    ``-Sy`` alone only refreshes the index; ``-U`` installs package files."""
    ops = {o.name for o in cmd.parsed.options}
    if ops & {"s", "search", "i", "info", "l", "list", "g", "groups", "c", "clean", "p", "print", "w", "downloadonly"}:
        return None
    if ops & {"S", "sync"}:
        if cmd.operands:
            return "install"
        if ops & {"u", "sysupgrade"}:
            return "upgrade"
        return "refresh" if ops & {"y", "refresh"} else None
    return "install" if ops & {"U", "upgrade"} else None


PACMAN = Manager(
    names=("pacman",),
    install=("install", "upgrade"),
    grammar=lambda w: Spec(w, kind="file") if w.endswith((".pkg.tar.zst", ".pkg.tar.xz")) else Spec(w),
    yes=("noconfirm",),
    clean=_either(_rm_of("/var/cache/pacman"), lambda c: c.name == "pacman" and c.flag_count("c", "clean") > 0),
    cache_dirs=("/var/cache/pacman",),
    update=("refresh",),
    refresh_flags=("y", "refresh"),
    operation=_pacman_operation,
)


SYSTEM_MANAGERS = (APT, APK, YUM, DNF, ZYPPER)

# KICS queries built on its `check_multi_stage` look at the last FROM only. Rules about what ships skip the stages
# that do not ship (lintimg.dockerfile.stages), which covers KICS's builder-stage cases; they differ on a named stage
# that no other stage uses, which KICS skips and a `--target` build ships (hadolint and trivy report it too).
KICS_LAST_STAGE = ("KICS looks at the last stage only. lintimg checks every stage that ships: the last one, the stages "
                   "it is built FROM, and a named stage no other stage uses (`docker build --target` builds it as an "
                   "image of its own); a builder stage that later stages only copy from is skipped by both.")
# hadolint's cache rules look at the last stage and the stages it is built FROM; trivy's at every stage. Their own
# cases conflict on a named stage nothing uses (hadolint DL3009/DL3060 pass it); lintimg treats it as shipped.
HADOLINT_FINAL_CHAIN = ("hadolint checks the last stage and the stages it is built FROM only, so it passes a named stage "
                        "that no other stage uses; `docker build --target <name>` builds that stage as an image of its "
                        "own, so lintimg checks it.")
# hadolint (DL3049, DL4003, ...), trivy and BuildKit's lint check every stage, one that no build can produce included.
DEAD_STAGE = ("This peer also checks a stage that no build produces: one without an `AS` name that no other stage uses "
              "and that is not the last. `--target` picks a stage by its name only and BuildKit builds only the stages "
              "the target needs, so nothing in such a stage runs or reaches an image; lintimg reports the stage itself "
              "(LI118 stage-never-built) rather than what is in it.")
# trivy's Rego tests give each stage as an entry keyed by its FROM text, and its checks read the stage name from that key;
# the oracle's rebuilt Dockerfile text keeps the FROM's words, which some tests set differently from the key.
TRIVY_STAGE_KEY = ("trivy's checks read a stage's name from the key its input gives the stage, not from the words of the FROM "
                   "line; its tests can give the two different names, so the same FROM line is a catch in one test and a "
                   "pass in another. lintimg reads the FROM line, as Docker does.")
# Managers whose index a RUN can refresh for a later RUN to install from (LI305).
INDEX_MANAGERS = (*SYSTEM_MANAGERS, PACMAN)


def installs(t: DockerfileTarget, mgr: Manager, *subs: str, include_onbuild: bool = True) -> Iterator[tuple[Instruction, Command]]:
    """Calls of ``mgr`` with one of ``subs`` (default: its install subcommands)."""
    wanted = subs or mgr.install
    for ins, cmd in run_commands(t.dockerfile, include_onbuild):
        if mgr.calls(cmd) and mgr.subcommand(cmd) in wanted:
            yield ins, cmd


def shipped_installs(t: DockerfileTarget, mgr: Manager, *subs: str) -> Iterator[tuple[Instruction, Command]]:
    """:func:`installs` in the stages that ship, for rules about what the image holds (a stage only copied from is skipped)."""
    df = t.dockerfile
    return ((ins, cmd) for ins, cmd in installs(t, mgr, *subs) if ships(df, ins))


def unpinned(t: DockerfileTarget, mgr: Manager, what: str, how: str, packages: Callable[[Command], list[str]] | None = None, *subs: str,
             base_db: str | None = None) -> Iterator[Hit]:
    """One hit per install of ``mgr`` naming the packages its version grammar finds unpinned; with ``base_db``
    (``dpkg``, ``apk``), an unsafe fix pins them to the base image's versions when known.

    Variables are expanded with what the command sees (:func:`run_vars`); a name it
    cannot know stays as written and the word is given the benefit of the doubt.
    """
    df = t.dockerfile
    for ins, cmd in installs(t, mgr, *subs):
        env = run_vars(df, ins, cmd)
        loose = [p for p in (packages or mgr.packages)(cmd) if not mgr.pinned(expand(p, env, keep_unknown=True))]
        if loose:
            yield cmd_hit(ins, cmd, f"{what} without a version: {', '.join(loose)}", fix=how, key=",".join(loose),
                          edits=_fixes.pin_to_base(t, base_db, ins, cmd, loose) if base_db else (), safety=Safety.UNSAFE)


# Official images whose config sets no variable but PATH (docker-library's alpine, busybox, debian and
# ubuntu images, every tag); scratch gets the builder's default PATH. A base not listed here is unknown.
PATH_ONLY_BASES = frozenset({"docker.io/library/alpine", "docker.io/library/busybox", "docker.io/library/debian",
                             "docker.io/library/ubuntu"})


def base_env_names(df: Dockerfile, stage: Stage) -> frozenset[str] | None:
    """The variables the base image of ``stage``'s chain sets in its config, when known without a registry; else ``None``."""
    root = chain(df, stage)[-1]
    if root.is_scratch:
        return frozenset({"PATH"})
    if not root.base_resolved or "$" in root.base_resolved:
        return None
    ref = parse_ref(root.base_resolved)
    return frozenset({"PATH"}) if ref.full_name in PATH_ONLY_BASES else None


def base_env(t: RuleTarget, df: Dockerfile, stage: Stage) -> frozenset[str] | None:
    """The variables the base image of ``stage``'s chain sets: :func:`base_env_names`, else the names in the Env
    of its config when the run looked the image up (:func:`prepare_base_facts`); ``None`` when neither knows."""
    known = base_env_names(df, stage)
    root = chain(df, stage)[-1]
    found = base_lookup(t, root) if known is None and root.base_stage is None else None
    if found is None:
        return known
    from lintimg.image.basefacts import BaseFacts  # a lookup ran: the image code is loaded already

    env = found.config.get("Env") if isinstance(found, BaseFacts) else None
    return frozenset(e.split("=", 1)[0] for e in env if isinstance(e, str)) if isinstance(env, list) else None


def run_vars(df: Dockerfile, ins: Instruction, cmd: Command) -> Callable[[str], str | None]:
    """What a variable holds for ``cmd``: a value, or ``None`` when only the build or the base image knows it.

    ARG/ENV in scope (an ARG without a value: ``None``), ``export``s and bare assignments
    earlier in its RUN, its own prefixes; a name set nowhere is empty only when the base
    image's variables are known (:func:`base_env_names`), otherwise unknown.
    """
    env: dict[str, str | None] = {k: (v if v else None) for k, v in df.env_at(ins).items()}
    env.update(script_vars(ins, cmd))
    stage = df.stage_of(ins)
    base = base_env_names(df, stage) if stage is not None else None

    def get(name: str) -> str | None:
        if name in env:
            return env[name]
        return "" if base is not None and name not in base else None

    return get


def cache_mounted(ins: Instruction, *dirs: str) -> bool:
    """True when every one of ``dirs`` has a cache or tmpfs mount on it (or on a parent)."""
    targets = [m.get("target", "").rstrip("/") for m in run_mounts(ins) if m["type"] in ("cache", "tmpfs")]
    return all(any(d == tg or d.startswith(tg + "/") for tg in targets if tg) for d in dirs)


def _switch(t: DockerfileTarget, names: tuple[str, ...], flags: tuple[str, ...], why: str) -> Iterator[Hit]:
    """Calls of ``names`` that pass any of the long ``flags``."""
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name in names and cmd.has_flag(*flags):
            used = next(f for f in flags if cmd.has_flag(f))
            yield cmd_hit(ins, cmd, f"`{cmd.name} --{used}` {why}", fix=f"remove `--{used}`", key=used)


EXPORTERS = frozenset({"export", "declare", "typeset", "readonly", "local"})


def dequote(text: str) -> str:
    """A shell word's value: quotes and escapes removed (``'0'`` -> ``0``, ``"0\\""`` -> ``0"``)."""
    words = split_words(text)
    return words[0].value if len(words) == 1 else text


def shell_vars(ins: Instruction, cmd: Command, df: Dockerfile) -> dict[str, str]:
    """Variables ``cmd`` sees: ARG/ENV, ``export``s and bare assignments earlier in its RUN, and its own prefixes."""
    return {**df.env_at(ins), **script_vars(ins, cmd)}


def script_vars(ins: Instruction, cmd: Command) -> dict[str, str]:
    """Variables the RUN itself sets for ``cmd``: ``export``s and bare assignments before it, and its own prefixes."""
    env: dict[str, str] = {}
    for c in ins.script.before(cmd) if ins.script is not None else []:
        if c.name in EXPORTERS or not c.argv:  # a prefix of another command sets it for that command only
            env.update(assigned(c))
    env.update(assigned(cmd))
    return env


def assigned(cmd: Command) -> list[tuple[str, str]]:
    """Variables a command sets: its ``VAR=value`` prefixes, and the words of ``export``/``declare``/…."""
    words = list(cmd.assignments) + ([w for w in cmd.args if "=" in w] if cmd.name in EXPORTERS else [])
    return [(key, dequote(value)) for key, _, value in (w.partition("=") for w in words)]


def as_pip(cmd: Command) -> Command | None:
    """``pip``/``pip3``/``pipx``/``python -m pip`` as a command named ``pip``/``pipx``; otherwise ``None``."""
    if re.fullmatch(r"pip[0-9.]*", cmd.name):
        return Command(["pip", *cmd.args], cmd.row, cmd.offset, cmd.operator, cmd.in_pipeline, cmd.assignments)
    if cmd.name == "pipx":
        return cmd
    if re.fullmatch(r"python[0-9.]*", cmd.name) and cmd.args[:2] == ["-m", "pip"]:
        return Command(["pip", *cmd.args[2:]], cmd.row, cmd.offset, cmd.operator, cmd.in_pipeline, cmd.assignments)
    return None


def missing_yes(t: DockerfileTarget, mgr: Manager, *subs: str, add: str = "-y", global_option: bool = False) -> Iterator[Hit]:
    """Hits for installs of ``mgr`` without any of its assume-yes switches; the fix inserts ``add``
    after the subcommand (or after the command name, for a ``global_option``)."""
    for ins, cmd in installs(t, mgr, *subs):
        if not cmd.has_flag(*mgr.yes):
            sub = mgr.subcommand(cmd)
            yield cmd_hit(ins, cmd, f"`{cmd.name} {sub}` without `-y` waits for an answer nobody gives",
                          fix=f"add `{add}` to `{cmd.name} {sub}`",
                          edits=_fixes.add_option(ins, cmd, add, after=None if global_option else sub))


def cache_left(t: DockerfileTarget, mgr: Manager, message: str, fix: str, clean: str | None = None) -> Iterator[Hit]:
    """Installs of ``mgr`` in a stage that ships with no cleaning command after them in the same RUN (nor a cache mount);
    the fix ends the RUN with ``clean`` (``{name}`` is the command as called: ``dnf``, ``microdnf``)."""
    for ins, cmd in shipped_installs(t, mgr):
        if not mgr.cleans(ins, cmd) and not any(cache_mounted(ins, d) for d in mgr.cache_dirs):
            yield cmd_hit(ins, cmd, message, fix=fix, edits=_fixes.append(ins, clean.format(name=cmd.name)) if clean else ())


# ---------------------------------------------------------------- users


def user_allowed(user: str, allowed: list[str | int]) -> bool | None:
    """Whether ``user`` (``name``, ``uid``, ``uid:gid``; empty is root) is in ``allowed`` (names, UIDs, ``lo-hi`` ranges);
    None when it cannot be told (a name against UID ranges only)."""
    name = (user.split(":", 1)[0] or "root").strip()
    uid = 0 if name == "root" else (int(name) if is_digits(name) else None)
    names = {str(a).strip() for a in allowed}
    if name in names or (uid == 0 and "0" in names):
        return True
    for a in names:
        lo, dash, hi = a.partition("-")
        if uid is not None and is_digits(lo) and (is_digits(hi) if dash else True) and int(lo) <= uid <= int(hi if dash else lo):
            return True
    if uid is None and all(is_digits(a.replace("-", "")) for a in names):
        return None
    return False


# ---------------------------------------------------------------- paths, base images, per-COPY caps


def path_under(path: str, dirs: tuple[str, ...]) -> bool:
    """``path`` is one of ``dirs`` or inside one."""
    p = path.rstrip("/") or "/"
    return any(p == d or p.startswith(d + "/") for d in dirs)


def external_bases(df: Dockerfile) -> Iterator[tuple[Stage, ImageRef]]:
    """Stages built FROM a registry image (not ``scratch``, not another stage), with the
    reference as the global ARG defaults make it. References that stay empty are skipped."""
    for st in df.stages:
        if st.base_stage is not None or st.is_scratch or not st.base_resolved:
            continue
        yield st, parse_ref(st.base_resolved)


MAX_PER_COPY = 10  # findings of one kind per COPY; the rest are counted in one more finding


def capped(copy: Copy, groups: list[tuple[Source, list]], what: str, make: Callable[[Any, Source], Hit]) -> Iterator[Hit]:
    """Hits for the first MAX_PER_COPY items of a COPY's ``(source, items)`` groups, then one
    that counts the rest: a folder of thousands of files cannot flood a report."""
    total = sum(len(items) for _, items in groups)
    shown = 0
    for src, items in groups:
        for item in items:
            if shown == MAX_PER_COPY:
                yield hit(copy.ins, f"{copy.ins.keyword} sends {total - shown} more {what} not listed here", token=src.token, key="more")
                return
            shown += 1
            yield make(item, src)


# ---------------------------------------------------------------- base-image facts

def wants_facts(t: RuleTarget | Target, setting: str) -> bool:
    """Whether ``setting`` asks for base-image facts in this run; ``base-image-lookup`` asks when it is set (in the
    config or the environment) to a mode other than off."""
    if setting != "base-image-lookup":
        return t.setting(setting) is not None
    from lintimg.config import LOOKUP_ENV, LOOKUP_MODES

    asked = t.setting(setting) is not None or os.environ.get(LOOKUP_ENV, "") in LOOKUP_MODES
    return asked and lookup_mode(t) != "off"


def lookup_mode(t: RuleTarget | Target) -> str:
    """``base-image-lookup`` for this run: the environment variable, else the config, else ``local``."""
    from lintimg.config import LOOKUP_ENV, LOOKUP_MODES

    env = os.environ.get(LOOKUP_ENV, "")
    if env in LOOKUP_MODES:
        return env
    return str(t.setting("base-image-lookup") or "local")


def from_platform(st: Stage) -> str | None:
    """The stage's constant ``FROM --platform`` (None: this machine's, as for a variable platform)."""
    return st.platform if st.platform and "$" not in st.platform else None


def lookable(st: Stage) -> bool:
    """``st`` is built FROM a registry image named without a build argument: a base-image lookup can ask for it."""
    return st.base_stage is None and not st.is_scratch and bool(st.base_resolved) and "$" not in st.base_resolved


def measured_stages(df: Dockerfile, all_stages: bool = False) -> list[Stage]:
    """Stages whose base image a size policy measures: the final image's (through FROM <stage>), or every external one."""
    if all_stages:
        return [st for st in df.stages if lookable(st)]
    final = df.final_stage
    if final is None:
        return []
    root = chain(df, final)[-1]
    return [root] if lookable(root) else []


def base_lookup(t: RuleTarget, st: Stage) -> Lookup | None:
    """What the run's lookup found for ``st``'s base image; None when no lookup was made for it."""
    entry = t.cache.get(BASEFACTS)
    if entry is None:
        return None
    key = (st.base_resolved, from_platform(st))
    found: Lookup | None = entry["facts"].get(key)
    if found is not None:
        entry["read"].add(key)  # the findings now depend on this answer (lintimg.run.cache asks again before reusing them)
    return found


def base_variants(t: RuleTarget, facts: BaseFacts) -> list[BaseFacts]:
    """Smaller tags of the same version that the run measured for ``facts`` (registry lookups only)."""
    entry = t.cache.get(BASEFACTS)
    if entry is None:
        return []
    found: list[BaseFacts] = entry["variants"].get(facts.reference, [])
    if found:
        entry["read"].add(None)  # tag lists and sibling images: not asked again, so such findings are not kept
    return found


def prepare_base_facts(targets: list[Target], enabled: frozenset[str]) -> None:
    """Look up, in one batch within one deadline, the base images the enabled rules of :data:`BASEFACT_RULES` read."""
    import time

    from lintimg.config import parse_size
    from lintimg.image.basefacts import DEADLINE, BaseFacts, BaseFactsService, smaller_variants

    wanted: dict[int, list[Stage]] = {}
    for i, t in enumerate(targets):
        df = t.dockerfile
        if df is None:
            continue
        policy = t.setting("max-base-image-size") if "LI630" in enabled else None
        stages = measured_stages(df, isinstance(policy, dict) and bool(policy.get("all-stages"))) if policy is not None else []
        final = df.final_stage
        if final is not None and not inherited(df, final, "USER") and (
                ("LI905" in enabled and t.setting("allowed-users")) or ("LI702" in enabled and wants_facts(t, "base-image-lookup"))):
            stages += [st for st in measured_stages(df) if st not in stages]  # the base decides the user
        if "LI705" in enabled and wants_facts(t, "base-image-lookup") and final is not None and not inherited(df, final, "HEALTHCHECK"):
            stages += [st for st in measured_stages(df) if st not in stages]  # the base may define the health check
        if stages:
            wanted[i] = stages
        if ("LI206" in enabled or "LI364" in enabled) and wants_facts(t, "base-image-lookup"):
            stages += [st for st in shell_bases(df) if st not in stages]  # the base may set the SHELL they run under
        if "LI213" in enabled and wants_facts(t, BASEFACT_RULES["LI213"]):  # the Env of bases not known offline
            more = [st for st in df.stages if lookable(st) and base_env_names(df, st) is None]
            wanted.setdefault(i, []).extend(st for st in more if st not in wanted.get(i, []))
    if not any(wanted.values()):
        return
    end = time.monotonic() + DEADLINE
    service = BaseFactsService(lookup_mode(targets[0]))
    refs = [(st.base_resolved, from_platform(st)) for stages in wanted.values() for st in stages]
    facts = service.lookup_many(refs, DEADLINE)
    variants: dict[str, list[BaseFacts]] = {}
    for i, stages in wanted.items():
        policy = targets[i].setting("max-base-image-size")
        if policy is None or "LI630" not in enabled:
            continue
        limit = parse_size(policy["size"] if isinstance(policy, dict) else policy)
        for st in stages:
            f = facts.get((st.base_resolved, from_platform(st)))
            if isinstance(f, BaseFacts) and f.size is not None and f.size > limit and f.reference not in variants and service.mode == "registry":
                left = end - time.monotonic()
                found = smaller_variants(service, f, deadline=max(left, 1.0))
                variants[f.reference] = found if isinstance(found, list) else []
    for i in wanted:
        targets[i].cache[BASEFACTS] = {"mode": service.mode, "facts": facts, "variants": variants, "read": set()}


def shell_bases(df: Dockerfile) -> list[Stage]:
    """External base stages of chains that no SHELL of the Dockerfile sets: their image's config decides the shell."""
    roots = [chain(df, st)[-1] for st in df.stages if not inherited(df, st, "SHELL")]
    return [root for i, root in enumerate(roots) if lookable(root) and root not in roots[:i]]


def base_shell(t: RuleTarget, df: Dockerfile, ins: Instruction) -> list[str] | None:
    """The SHELL the base image's config sets for ``ins`` (a base built with a SHELL instruction keeps it), when no
    SHELL of the Dockerfile is in force before ``ins`` and the run's lookup found that config; ``None`` otherwise."""
    stage = df.stage_of(ins)
    if stage is None or declared_shell(df, ins) is not None:
        return None
    config = base_config(t, chain(df, stage)[-1])
    shell = config.get("Shell") if config else None
    return shell if isinstance(shell, list) and shell and all(isinstance(a, str) for a in shell) else None


def base_config(t: RuleTarget, st: Stage) -> dict[str, Any] | None:
    """The container config of ``st``'s base image when the run's lookup found it; None otherwise."""
    found = base_lookup(t, st)
    if found is None:
        return None
    from lintimg.image.basefacts import BaseFacts  # a lookup ran: the image code is loaded already

    return found.config if isinstance(found, BaseFacts) else None


def base_user(t: RuleTarget, root: Stage) -> tuple[str | None, str]:
    """The user the image built on ``root`` (the first stage of the final image's chain) runs as when its
    Dockerfile sets none, and where that comes from; ``(None, why it cannot be known)`` otherwise."""
    if root.is_scratch:
        return "", "a scratch image with no USER"
    if "$" in root.base and ("$" in root.base_resolved or not root.base_resolved):
        return None, "the base image is chosen by a build argument with no default"
    found = base_lookup(t, root)
    if found is None:
        return None, "base-image lookups did not run"
    from lintimg.image.basefacts import BaseFacts  # a lookup ran: the image code is loaded already

    if isinstance(found, BaseFacts):
        return str(found.config.get("User") or ""), f"base image {root.base_resolved!r} (read from the {found.source})"
    return None, found.reason


# Programs that, run with no arguments, only give a prompt: an image whose command is one is a toolbox, not a service.
PROMPTS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "fish", "busybox", "python", "python2", "python3", "node", "irb", "jshell",
                     "pwsh", "powershell", "ipython", "R", "julia", "ghci", "iex", "erl", "scala", "groovysh", "php", "perl", "lua"})


def _prompt(word: str) -> bool:
    name = word.rsplit("/", 1)[-1]
    return name in PROMPTS or bool(re.fullmatch(r"(python|pypy|ruby|jruby|node)[0-9.]*", name))


def runs_app(df: Dockerfile, stage: Stage) -> bool:
    """Whether ``stage``'s image runs a service or program: a CMD or ENTRYPOINT that is more than a bare shell or
    REPL, or, when the Dockerfile gives no command, an EXPOSE (a server whose command the base image may give).
    Toolbox and builder images do neither; a workbench that EXPOSEs its notebook ports but starts a bare shell
    is a toolbox too, and an image whose command builds or tests (``make``, ``mvn package``, ``./build.sh``)
    is a builder."""
    argv = container_command(df, stage).argv
    if not argv:
        return bool(inherited(df, stage, "EXPOSE"))
    if len(argv) >= 3 and argv[-2] == "-c" and posixpath.basename(argv[0]) in ("sh", "bash", "dash", "ash", "zsh"):
        argv = argv[-1].split()
    words = [a for a in argv if not a.startswith("-")]
    if len(words) <= 1 and (not words or _prompt(words[0])):
        return False
    return not _builds(words)


# Toolchain commands whose every use builds or tests; `go`/`dotnet` only with these subcommands (`go run` and
# `dotnet app.dll` run a program).
_BUILD_TOOLS = frozenset({"make", "gmake", "cmake", "ninja", "cargo", "mvn", "mvnw", "gradle", "gradlew", "ant", "sbt", "bazel"})
_BUILD_SUBCOMMANDS = {"go": ("build", "install", "test", "generate", "vet"), "dotnet": ("build", "test", "publish", "pack")}


def _builds(words: list[str]) -> bool:
    """Whether a container command runs a build (the toolchain is its purpose): a build tool, or a build/compile script."""
    name = posixpath.basename(words[0])
    if any(re.search(r"(^|:)(run|bootRun|start|serve)$", w) for w in words[1:]):
        return False  # `mvn jetty:run`, `make run`, `cargo run`: the program runs through its toolchain
    if name in _BUILD_TOOLS or re.fullmatch(r"(build|compile)[\w.-]*\.sh", name):
        return True
    return name in _BUILD_SUBCOMMANDS and len(words) > 1 and words[1] in _BUILD_SUBCOMMANDS[name]


# ---------------------------------------------------------------- packages the final image keeps

_REMOVE = {"apt-get": ("purge", "remove", "autoremove"), "apt": ("purge", "remove", "autoremove"), "apk": ("del",),
           "yum": ("remove", "erase", "autoremove"), "dnf": ("remove", "erase", "autoremove"), "microdnf": ("remove",), "zypper": ("remove", "rm")}


@record
class Installed:
    """A package a system package manager installs in a stage chain, and the command that removes it again, if any."""

    ins: Instruction
    cmd: Command
    package: str  # as written (version pins kept)
    pos: int  # position of the install among the chain's RUN commands
    removed_at: int | None = None  # position of the removing command

    @property
    def name(self) -> str:
        return re.split(r"[=<>~]", self.package, maxsplit=1)[0].lower()


def removal(cmd: Command) -> tuple[set[str], bool] | None:
    """(package and apk virtual names removed, whether unneeded packages are auto-removed) for a removing command."""
    if cmd.name not in _REMOVE or cmd.subcommand not in _REMOVE[cmd.name]:
        return None
    names = {a.split("=")[0].lower() for a in cmd.args_no_flags()[1:]}
    return names, cmd.subcommand == "autoremove" or cmd.has_flag("auto-remove", "autoremove")


def chain_commands(df: Dockerfile, stage: Stage) -> list[tuple[Instruction, Command]]:
    """The RUN commands (ONBUILD triggers left out) of ``stage`` and the stages it is built FROM, in build order."""
    stages = {st.index for st in chain(df, stage)}
    return [(ins, cmd) for ins, cmd in run_commands(df, include_onbuild=False) if ins.stage_index in stages]


def installed_packages(df: Dockerfile, stage: Stage) -> list[Installed]:
    """Every package installed in ``stage``'s chain, each with where a later command removes it (by name, by apk
    ``--virtual`` name, or by an auto-remove such as docker-library's ``apt-mark auto`` + ``apt-get purge --auto-remove``)."""
    out: list[Installed] = []
    virtual: dict[int, str] = {}
    for pos, (ins, cmd) in enumerate(chain_commands(df, stage)):
        gone = removal(cmd)
        if gone is not None:
            names, auto = gone
            for i in out:
                if i.removed_at is None and (i.name in names or virtual.get(id(i), "") in names or auto):
                    i.removed_at = pos
            continue
        mgr = next((m for m in SYSTEM_MANAGERS if m.installs(cmd)), None)
        if mgr is None:
            continue
        v = (cmd.flag_value("virtual", "t") or "") if cmd.name == "apk" else ""
        for p in mgr.packages(cmd):
            item = Installed(ins, cmd, p, pos)
            out.append(item)
            if v:
                virtual[id(item)] = v.lower()
    return out


# ---------------------------------------------------------------- container shape (LI730, LI780)

MAX_READ = 256 * 1024  # bytes of a copied script or supervisor config read from the context
SHOWN = 12  # evidence items in a message; properties carry them all

# The one-process way, per kind of service found.
_WAYS = {
    "sshd": "drop sshd: `docker exec` / `kubectl exec` give a shell to those who should have one",
    "cron": "run scheduled work as the orchestrator's jobs (a Kubernetes CronJob, an ECS scheduled task, a systemd timer on the host) that start this image",
    "syslog": "log to stdout/stderr and let the runtime's log driver collect it",
}
_REST = "run each remaining service as its own container (a sidecar in the same pod or compose project), with the application as PID 1 behind an init shim such as tini if it needs one"


def one_process_fix(services: list[str]) -> str:
    """The fix text for the services found: the one-process way for each kind."""
    ways = [_WAYS[s] for s in dict.fromkeys(services) if s in _WAYS]
    return "; ".join([*ways, _REST])


def evidence_text(v: Verdict) -> str:
    shown = "; ".join(f"{e.what} ({e.where})" for e in v.evidence[:SHOWN])
    more = f"; and {len(v.evidence) - SHOWN} more" if len(v.evidence) > SHOWN else ""
    return f"{shown}{more}"


def evidence_props(evidence: list[Evidence]) -> list[dict[str, object]]:
    return [{k: v for k, v in (("what", e.what), ("where", e.where), ("line", e.line), ("path", e.path), ("service", e.service)) if v is not None}
            for e in evidence]


def _read_context(root: str, rel: str) -> str | None:
    try:
        with open(os.path.join(root, rel), "rb") as fh:
            data = fh.read(MAX_READ + 1)
    except OSError:
        return None
    return None if len(data) > MAX_READ or b"\0" in data else data.decode("utf-8", "replace")


def copied_files(t: DockerfileTarget, stage: Stage) -> dict[str, Copied]:
    """Files the COPY/ADD instructions of ``stage``'s chain put in the image, by image path: heredocs always,
    context files when the run has the context. Contents are read only when asked for."""
    df = t.dockerfile
    stages = {st.index for st in chain(df, stage)}
    out: dict[str, Copied] = {}
    for ins in df.of("COPY", "ADD"):
        if ins.stage_index not in stages or ins.flag("from") is not None or len(ins.args) < 2:
            continue
        dest = _dest(df, ins)
        many = len(ins.args) > 2 or dest.endswith("/")
        for h in ins.heredocs:
            path = posixpath.join(dest, h.name) if many else dest.rstrip("/") or "/"
            out[posixpath.normpath(path)] = Copied(posixpath.normpath(path), f"heredoc {h.name} (line {ins.pos.line})", ins.pos.line,
                                                   _constant(h.content))
    if t.context is None:
        return out
    root = t.context.root
    for copy in t.context.copies(df):
        ins = copy.ins
        if ins.stage_index not in stages:
            continue
        dest = _dest(df, ins)
        sources = copy.context_sources
        for src in sources:
            prefix = src.path.rstrip("/") + "/" if src.path else ""
            for tree in src.trees:
                for e in tree.files:
                    if e.kind == "file":
                        inner = e.rel[len(prefix):] if e.rel.startswith(prefix) else e.name
                        _add(out, posixpath.join(dest, inner), root, e.rel, ins.pos.line)
            single_many = len(sources) > 1 or dest.endswith("/") or len(src.singles) > 1
            for e in src.singles:
                if e.kind == "file":
                    _add(out, posixpath.join(dest, e.name) if single_many else dest, root, e.rel, ins.pos.line)
    return out


def _constant(text: str) -> Callable[[], str | None]:
    return lambda: text


def _dest(df: Dockerfile, ins: Instruction) -> str:
    raw = expand(ins.args[-1].value, df.env_at(ins))
    path = raw if raw.startswith("/") else posixpath.join(workdir_at(df, ins), raw)
    return path + ("/" if raw.endswith("/") and not path.endswith("/") else "")


def _add(out: dict[str, Copied], dest: str, root: str, rel: str, line: int) -> None:
    path = posixpath.normpath(dest)
    out[path] = Copied(path, f"{rel} (line {line})", line, lambda: _read_context(root, rel))


def dockerfile_verdict(t: DockerfileTarget, stage: Stage) -> tuple[Verdict | None, int]:
    """The verdict on ``stage``'s image from the Dockerfile (and context), and the line to report it at."""
    df = t.dockerfile
    packages = [(i.ins.pos.line, i.package) for i in installed_packages(df, stage) if i.removed_at is None]
    found = dockerfile_findings(df, stage, copied_files(t, stage), packages)
    where = found.pid1_where.line if found.pid1_where is not None and found.pid1_where.line else stage.from_.pos.line
    return decide(found), where
