"""Command-line tables: which options of a program take a value, read from each program's own documentation.

Data only: :func:`lintimg.dockerfile.shell.parse_argv` is the one parser that reads
argv with these tables, for every command of every RUN (shell and exec form).

An option is named without dashes (``t``, ``target-release``). Per program:

- ``value``: options that take a value, as ``-t X``, ``-tX``, ``--opt X`` and ``--opt=X``;
- ``optional``: options whose value can only be attached (``--opt=X``, ``-q=2``);
  alone they are switches;
- ``leading``: options accepted only before the subcommand (zypper's global
  options: its ``-D`` is ``--reposd-dir DIR`` there and ``--dry-run`` after ``install``);
- ``sub``: per subcommand, the options it adds;
- ``style``: ``gnu`` (short options cluster: ``-qy``), ``go`` (the Go flag package:
  one dash, no clusters, ``-tags x``), ``npm`` (npm's config parser: an option not
  known to take a value is a switch, ``--no-x`` negates);
- wrappers (``sudo``, ``env``, ``nice``, ...) run another command: ``runs`` is the
  number of operands before it (``timeout DURATION cmd``: 1), options end at the
  first operand, ``assignments`` lets ``NAME=value`` words precede the command and
  ``lookups`` are options that make the program look the command up instead of
  running it (``command -v ps`` runs nothing).

Where each table comes from is noted beside it (man page or ``--help`` of the
version named). An option missing from a table is read as a switch, which is
what the programs themselves do with a switch: never guess that it takes a value.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType

from lintimg.records import record


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


@record(frozen=True)
class Cli:
    """How one program reads its command line."""

    names: tuple[str, ...]
    value: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    leading: frozenset[str] = frozenset()  # value options accepted only before the subcommand
    sub: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    style: str = "gnu"
    subcommands: bool = True  # the first operand is a subcommand
    dashdash_ends: bool = False  # "--" ends the program's own arguments (what follows is passed on)
    # wrappers
    runs: int | None = None  # operands before the wrapped command; None: not a wrapper
    assignments: bool = False
    lookups: frozenset[str] = frozenset()

    def takes_value(self, name: str, subcommand: str | None) -> bool:
        if name in self.value:
            return True
        if subcommand is None:
            return name in self.leading
        return name in self.sub.get(subcommand, frozenset())


def _sub(**subs: str) -> Mapping[str, frozenset[str]]:
    """Per-subcommand value options; ``_`` in a keyword stands for ``-`` (``dist_upgrade``)."""
    return MappingProxyType({k.replace("_", "-"): _names(v) for k, v in subs.items()})


# ---------------------------------------------------------------- package managers

# apt-get(8), apt(8), apt 2.6: -t/--target-release/--default-release, -o/--option, -c/--config-file,
# -a/--host-architecture, -P/--build-profiles; -q=N attaches a level; --with-source FILE.
APT_GET = Cli(("apt-get", "apt", "aptitude", "apt-cache"),
              value=_names("t target-release default-release o option c config-file a host-architecture P build-profiles with-source"),
              optional=_names("q quiet"))

# apk(8) global options and apk-add(8) (apk-tools 2.14 / 3): -X/--repository, -p/--root, --arch,
# --cache-dir, --cache-max-age, --keys-dir, --repositories-file, --progress-fd, --wait, --timeout;
# add: -t/--virtual NAME.
APK = Cli(("apk",),
          value=_names("X repository p root arch cache-dir cache-max-age keys-dir repositories-file progress-fd wait timeout "
                       "t virtual"))

# yum(8) (yum 3.4) and dnf(8) (dnf 4.14) option lists: the options written with <value>.
_RPM_COMMON = ("c config d debuglevel e errorlevel installroot releasever enablerepo disablerepo x exclude setopt "
               "disableplugin enableplugin downloaddir destdir color rpmverbosity R randomwait")
YUM = Cli(("yum",), value=_names(_RPM_COMMON + " disableexcludes exclude-from-repo"))
DNF = Cli(("dnf", "dnf5", "dnf-3"),
          value=_names(_RPM_COMMON + " repo repoid forcearch excludepkgs comment repofrompath advisory advisories bz bzs cve cves "
                       "sec-severity secseverity disableexcludes disableexcludepkgs"))
# microdnf --help (microdnf 3.x): --config, --installroot, --releasever, --setopt, --enablerepo, --disablerepo,
# --setopt, --best/--nobest are switches.
MICRODNF = Cli(("microdnf",), value=_names("config installroot releasever setopt enablerepo disablerepo repo repoid platform-id"))
# tdnf(8) (tdnf 3.x): -c/--config, --installroot, --releasever, --enablerepo, --disablerepo, --repoid, --setopt,
# --exclude, --downloaddir, --rpmverbosity.
TDNF = Cli(("tdnf",), value=_names("c config installroot releasever enablerepo disablerepo repo repoid setopt exclude "
                                   "downloaddir rpmverbosity"))

# zypper(8) (zypper 1.14): global options before the command (-c/--config, -D/--reposd-dir, -C/--cache-dir,
# --raw-cache-dir, --solv-cache-dir, --pkg-cache-dir, --userdata, -p/--plus-repo, --plus-content, --releasever,
# -R/--root, --installroot, -s/--table-style); install/update/patch/...: -r/--repo, -t/--type, --from, --download,
# --solver-focus; -D is --dry-run after the command, hence "leading".
_ZYPPER_SUB = "r repo t type from download solver-focus"
ZYPPER = Cli(("zypper",),
             leading=_names("c config D reposd-dir C cache-dir raw-cache-dir solv-cache-dir pkg-cache-dir userdata "
                            "p plus-repo plus-content releasever R root installroot s table-style"),
             sub=_sub(install=_ZYPPER_SUB, **{"in": _ZYPPER_SUB}, update=_ZYPPER_SUB, up=_ZYPPER_SUB, patch=_ZYPPER_SUB + " g category date severity",
                      dist_upgrade=_ZYPPER_SUB, dup=_ZYPPER_SUB, remove=_ZYPPER_SUB, rm=_ZYPPER_SUB,
                      source_install=_ZYPPER_SUB, si=_ZYPPER_SUB, refresh=_ZYPPER_SUB, ref=_ZYPPER_SUB,
                      addrepo="n name p priority m medium-type", ar="n name p priority m medium-type"))

# pacman(8) (pacman 6.0): operations are options (-S, -Syu); value options -b/--dbpath, -r/--root, --arch,
# --cachedir, --color, --config, --gpgdir, --hookdir, --logfile, --sysroot, --assume-installed, --print-format,
# --ignore, --ignoregroup, --overwrite; -Q's -o/--owns and -s/--search take one too but -S's -s does not.
PACMAN = Cli(("pacman",), subcommands=False,
             value=_names("b dbpath r root arch cachedir color config gpgdir hookdir logfile sysroot assume-installed "
                          "print-format ignore ignoregroup overwrite"))

# pip --help and pip install --help (pip 23.2; general options are accepted after the command too).
PIP = Cli(("pip", "pipx"),
          value=_names("python log keyring-provider proxy retries timeout exists-action trusted-host cert client-cert cache-dir "
                       "use-feature use-deprecated r requirement c constraint e editable t target platform python-version "
                       "implementation abi root prefix src upgrade-strategy C config-settings global-option install-option "
                       "no-binary only-binary progress-bar root-user-action report i index-url extra-index-url f find-links "
                       "b build group suffix index pip-args spec"))

# npm's config definitions (npm 11, @npmcli/config): every key whose type is not Boolean, and the shorthands that
# take one (-C prefix, -w workspace, -L location, -c call, -m message, --reg registry); any other option is a switch.
NPM = Cli(("npm", "npx"), style="npm",
          value=_names("_auth access allow-directory allow-file allow-git allow-remote allow-scripts also audit-level auth-type "
                       "before ca cache cache-max cache-min cafile call cert cidr cpu depth diff diff-dst-prefix diff-src-prefix "
                       "diff-unified editor expect-result-count expires fetch-retries fetch-retry-factor fetch-retry-maxtimeout "
                       "fetch-retry-mintimeout fetch-timeout git globalconfig heading https-proxy include init-author-email "
                       "init-author-name init-author-url init-license init-module init-type init-version key libc local-address "
                       "location lockfile-version loglevel logs-dir logs-max maxsockets message min-release-age node-gyp "
                       "node-options noproxy omit only orgs os otp pack-destination prefix provenance-file proxy registry "
                       "replace-registry-host save-prefix sbom-format sbom-type scope script-shell searchexclude searchlimit "
                       "searchopts searchstaleness shell tag tag-version-prefix umask user-agent userconfig viewer which "
                       "workspace install-strategy min-release-age-exclude name package packages preid scopes password "
                       "orgs-permission packages-and-scopes-permission token-description init.author.email init.author.name "
                       "init.author.url init.license init.module init.version C w L c m reg enjoy-by"))

# yarn --help (yarn 1.22) global options, and yarn 2+ (`--cwd`); pnpm --help (pnpm 8/9): -C/--dir, --filter/-F,
# --reporter, --store-dir, --virtual-store-dir, --registry, --loglevel, -w is a switch there (--workspace-root).
YARN = Cli(("yarn", "yarnpkg"),
           value=_names("cache-folder modules-folder mutex network-timeout network-concurrency registry cwd global-folder "
                        "link-folder preferred-cache-folder https-proxy proxy use-yarnrc otp emoji"))
PNPM = Cli(("pnpm",), value=_names("C dir filter F reporter store-dir virtual-store-dir registry loglevel config-dir modules-dir "
                                   "lockfile-dir workspace-concurrency network-concurrency"))

# gem help install (RubyGems 3.4): -i/--install-dir, -n/--bindir, -s/--source, -v/--version, --platform,
# --build-root, -P/--trust-policy, --without; -p/--[no-]http-proxy [URL], -g/--file [FILE] and --document [TYPES]
# take an optional value, so only an attached one counts; "--" starts the gem's build flags.
GEM = Cli(("gem",), dashdash_ends=True, value=_names("i install-dir n bindir s source v version platform build-root P trust-policy without config-file"),
          optional=_names("p http-proxy g file document"))

# go help build / go help install / go help get (Go 1.22): build flags with a value; the Go flag package
# (boolean flags such as -race, -trimpath, -v take no value; flags end at the first package).
GO = Cli(("go",), style="go",
         value=_names("C o p tags ldflags gcflags asmflags gccgoflags mod modfile pkgdir exec overlay pgo toolexec buildmode "
                      "compiler covermode coverpkg installsuffix"))

# cargo install --help (cargo 1.7x).
CARGO = Cli(("cargo",),
            value=_names("version index registry git branch tag rev path root message-format color config F features j jobs "
                         "profile target target-dir bin example Z manifest-path"))

# composer help require/install (Composer 2.5): -d/--working-dir and the install-time options with values.
COMPOSER = Cli(("composer", "composer.phar"),
               value=_names("d working-dir prefer-install audit-format ignore-platform-req"))

# conda install --help (conda 23/24, mamba the same): -n/--name, -p/--prefix, -c/--channel, --file, --override-channels
# is a switch; --solver, --repodata-fn, --subdir/--platform.
CONDA = Cli(("conda", "mamba", "micromamba"),
            value=_names("n name p prefix c channel file solver repodata-fn subdir platform rc-file r root-prefix"))

# ---------------------------------------------------------------- wrappers: programs that run another command

WRAPPERS: tuple[Cli, ...] = (
    # sudo(8) 1.9: -u user, -g group, -C num, -D dir, -h host (--host), -p prompt, -R dir, -r role, -t type,
    # -U user, -T timeout; options end at the command; NAME=value may precede it.
    Cli(("sudo",), runs=0, assignments=True, value=_names("u user g group C close-from D chdir host p prompt R chroot r role t type U other-user T command-timeout")),
    # env --help (coreutils 9.1): -u/--unset NAME, -C/--chdir DIR, -S/--split-string S; NAME=value words.
    Cli(("env",), runs=0, assignments=True, value=_names("u unset C chdir S split-string"),
        optional=_names("block-signal default-signal ignore-signal")),
    # nice --help: -n/--adjustment N (and the obsolete "-N" form, read as a switch cluster of digits).
    Cli(("nice",), runs=0, value=_names("n adjustment")),
    # timeout --help: -k/--kill-after DURATION, -s/--signal SIGNAL, then DURATION, then the command.
    Cli(("timeout",), runs=1, value=_names("k kill-after s signal")),
    # stdbuf --help: -i/-o/-e MODE.
    Cli(("stdbuf",), runs=0, value=_names("i input o output e error")),
    # ionice --help (util-linux 2.38): -c/--class, -n/--classdata.
    Cli(("ionice",), runs=0, value=_names("c class n classdata")),
    # chroot --help: --userspec, --groups; NEWROOT, then the command.
    Cli(("chroot",), runs=1, value=_names("userspec groups")),
    # xargs --help (findutils 4.9): -a/--arg-file, -d/--delimiter, -E, -I, -L/--max-lines, -n/--max-args,
    # -P/--max-procs, -s/--max-chars, --process-slot-var; -e/-i/-l attach optional values.
    Cli(("xargs",), runs=0, value=_names("a arg-file d delimiter E I L max-lines n max-args P max-procs s max-chars process-slot-var"),
        optional=_names("e eof i replace l")),
    # tini -h (tini 0.19): -p SIGNAL, -e EXIT_CODE.
    Cli(("tini", "tini-static"), runs=0, value=_names("p e")),
    # gosu USER COMMAND; su-exec USER[:GROUP] COMMAND.
    Cli(("gosu", "su-exec"), runs=1),
    # runuser --help (util-linux): -u/--user, -g/--group, -G/--supp-group, -w/--whitelist-environment.
    Cli(("runuser",), runs=0, value=_names("u user g group G supp-group w whitelist-environment s shell")),
    # GNU time: -f/--format, -o/--output; bash's `time -p`.
    Cli(("time",), runs=0, value=_names("f format o output")),
    # bash builtins: exec [-cl] [-a name]; command [-pVv] (-v/-V look the command up).
    Cli(("exec",), runs=0, value=_names("a")),
    Cli(("command",), runs=0, lookups=_names("v V")),
    Cli(("nohup", "eatmydata", "dumb-init", "fakeroot", "unbuffer", "chronic"), runs=0),
)

PROGRAMS: tuple[Cli, ...] = (APT_GET, APK, YUM, DNF, MICRODNF, TDNF, ZYPPER, PACMAN, PIP, NPM, YARN, PNPM, GEM, GO, CARGO,
                             COMPOSER, CONDA, *WRAPPERS)

_BY_NAME: dict[str, Cli] = {name: cli for cli in PROGRAMS for name in cli.names}
# Versioned names of the same program: pip3, pip3.12, python-style suffixes.
_VERSIONED = re.compile(r"^(pip|pipx)[0-9.]*$")

GENERIC = Cli(())


def cli_of(name: str) -> Cli:
    """The table for a program name (``GENERIC`` when none: every option a switch)."""
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    m = _VERSIONED.match(name)
    return _BY_NAME[m.group(1)] if m else GENERIC
