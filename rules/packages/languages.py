"""LI330–LI339: Language package managers (pip, npm, yarn, gem, go), pins across every manager, cache mounts."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile import Instruction
from lintimg.dockerfile.queries import cmd_hit, run_commands, run_mounts
from lintimg.dockerfile.shell import Command
from lintimg.dockerfile.stages import ships
from lintimg.dockerfile.words import expand
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes
from lintimg.rules._common import (
    APK,
    APT,
    DNF,
    HADOLINT_FINAL_CHAIN,
    SYSTEM_MANAGERS,
    YUM,
    ZYPPER,
    Manager,
    as_pip,
    cache_mounted,
    installs,
    shell_vars,
    unpinned,
)
from lintimg.rules._versions import gem_spec, go_spec, npm_spec, pip_spec

ID_RANGE = "LI330-LI339"


_TRUE = frozenset({"1", "on", "yes", "true"})


PIP = Manager(names=("pip", "pipx"), install=("install",), grammar=pip_spec)


def pip_installs(t: DockerfileTarget) -> Iterator[tuple[Instruction, Command, Command]]:
    """``(ins, original command, command as pip)`` for every pip/pipx install."""
    for ins, cmd in run_commands(t.dockerfile):
        pip = as_pip(cmd)
        if pip is not None and PIP.subcommand(pip) == "install":
            yield ins, cmd, pip


@rule("LI330", "pip-pin-versions", Severity.WARNING, tags=("pip", "reproducibility"), peers=("DL3013", "KICS-02d9c71f"))
def pip_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `pip install`.

    ## What it does
    Flags packages named to `pip install` (also `pip3`, `python -m pip`,
    `pipx install`) without a version specifier, unless a constraints file
    (`-c`) governs them. Requirement files, local paths, URLs and wheels
    are not flagged; a `git+` URL needs an `@revision`.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

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
        loose = [p for p in PIP.packages(pip) if not PIP.pinned(p)]
        if loose:
            yield cmd_hit(ins, cmd, f"pip install without a version: {', '.join(loose)}", fix="pin each package: `pkg==version`",
                          key=",".join(loose))


@rule("LI331", "pip-cache-dir", Severity.WARNING, tags=("pip", "size"), peers=("DL3042", "KICS-f2f903fb"), fixable=(Safety.SAFE,))
def pip_cache_dir(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `pip install --no-cache-dir`.

    ## What it does
    Flags `pip install` without `--no-cache-dir`, unless `PIP_NO_CACHE_DIR`
    is set to a true value (by ENV, ARG, `export` or a prefix) or pip's
    cache directory is a cache or tmpfs mount. `pipx` is not flagged, nor
    is a stage that is not shipped (only copied from).

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
    Safe autofix: `--no-cache-dir` is added after `install`; pip installs
    the same packages, only without keeping the downloads.
    """
    df = t.dockerfile
    for ins, cmd, pip in pip_installs(t):
        if pip.name != "pip" or pip.has_flag("no-cache-dir") or not ships(df, ins):
            continue
        if shell_vars(ins, cmd, df).get("PIP_NO_CACHE_DIR", "").lower() in _TRUE:
            continue
        if any(m["type"] in ("cache", "tmpfs") and m.get("target", "").rstrip("/").endswith(".cache/pip") for m in run_mounts(ins)):
            continue
        yield cmd_hit(ins, cmd, "`pip install` without `--no-cache-dir` leaves pip's download cache in the layer",
                      fix="add `--no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`)",
                      edits=_fixes.add_option(ins, cmd, "--no-cache-dir", after="install"))


NPM = Manager(names=("npm",), install=("install", "i", "add", "isntall", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal"),
              grammar=npm_spec)


@rule("LI333", "npm-pin-versions", Severity.WARNING, tags=("npm", "reproducibility"), peers=("DL3016", "KICS-e36d8880"),
      divergences={"KICS-e36d8880": "KICS passes a git URL without `#ref` (`npm install git://…/cli.git`); it follows the "
                                    "default branch, so lintimg reports it, as hadolint does."})
def npm_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `npm install`.

    ## What it does
    Flags packages named to `npm install` without `@version`. Local
    folders and tarballs are not flagged; a git URL needs a `#ref`.
    `npm install` with no package (installing `package.json`) is fine.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

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
    """Gems of a ``gem install`` that its own words do not pin; ``-v REQ`` pins the gem only when exactly one is named
    (RubyGems refuses ``--version`` with several gems)."""
    # `--flag true`: a value of an option gem does not document (a build flag given before `--`), not a gem
    gems = [w for w, i in cmd.parsed.operands[1:] if not (w in ("true", "false") and cmd.argv[i - 1].startswith("--"))]
    if len(gems) == 1 and cmd.flag_value("v", "version"):
        return []
    return gems


GEM = Manager(names=("gem",), install=("install", "i"), grammar=gem_spec)


@rule("LI335", "gem-pin-versions", Severity.WARNING, tags=("gem", "reproducibility"), peers=("DL3028", "KICS-22cd11f7"))
def gem_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `gem install`.

    ## What it does
    Flags gems named to `gem install` without `:version` and without
    `-v`/`--version`.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

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


GO = Manager(names=("go",), install=("install", "get", "run"), grammar=go_spec)


@rule("LI336", "go-install-version", Severity.WARNING, tags=("go", "reproducibility"), peers=("DL3062",))
def go_install_version(t: DockerfileTarget) -> Iterator[Hit]:
    """Give `go install`, `go get` and `go run` of a remote module a version.

    ## What it does
    Flags module paths given to `go install`, `go get` and `go run`
    without `@version`, or with `@latest`. Local packages (`.`, `./cmd`,
    absolute paths) are not flagged.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

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
        loose = [p for p in words if not GO.pinned(p)]
        if loose:
            yield cmd_hit(ins, cmd, f"`go {GO.subcommand(cmd)}` without a fixed version: {', '.join(loose)}",
                          fix="add `@vX.Y.Z`", key=",".join(loose))


@rule("LI337", "yarn-cache-clean", Severity.INFO, tags=("yarn", "size"), peers=("DL3060",),
      divergences={"DL3060": HADOLINT_FINAL_CHAIN})
def yarn_cache_clean(t: DockerfileTarget) -> Iterator[Hit]:
    """Run `yarn cache clean` after `yarn install`.

    ## What it does
    Flags `yarn install` with no `yarn cache clean` later in the same RUN,
    unless yarn's cache is a cache or tmpfs mount. A stage that is not
    shipped (only copied from) is not checked.

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
        if not cmd.is_call("yarn", "install") or not ships(df, ins):
            continue
        later = ins.script.after(cmd) if ins.script is not None else []
        if any(c.name == "yarn" and c.has_args("cache") and c.has_args("clean") for c in later):
            continue
        if any(m["type"] in ("cache", "tmpfs") and "yarn" in m.get("target", "") for m in run_mounts(ins)):
            continue
        yield cmd_hit(ins, cmd, "`yarn install` without a later `yarn cache clean` leaves yarn's cache in the layer",
                      fix="end the RUN with `&& yarn cache clean`")


LOCKFILE_INSTALLS = (("npm", "ci"), ("yarn", "install"), ("pip", "sync"), ("poetry", "install"), ("bundle", "install"), ("pipenv", "install"))


@rule("LI338", "nothing-pinned", Severity.INFO, tags=("reproducibility",), enabled_by_default=False)
def nothing_pinned(t: DockerfileTarget) -> Iterator[Hit]:
    """The Dockerfile installs packages and pins none of them.

    ## What it does
    Looks at every package install of the file (apt, apk, yum, dnf,
    zypper, pip, npm, gem, go) and reports once, on the first install,
    when not a single package anywhere has a version and nothing installs
    from a lock file (`npm ci`, `pip install -r`, `poetry install`, ...).
    Off by default: on real Dockerfiles a per-manager pin rule (LI300,
    LI310, LI330, …) reports the same files (docs/defaults.md); turn it on
    to get one summary finding per file.

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
            env = df.env_at(ins)
            if any(mgr.pinned(expand(w, env)) for w in words):
                return
            if words and first is None:
                first = (ins, cmd)
    if first is not None:
        yield cmd_hit(first[0], first[1], "no package installed by this Dockerfile has a pinned version",
                      fix="pin versions, or install from a lock file")


@rule("LI339", "package-cache-mount", Severity.STYLE, tags=("cache", "buildkit"), enabled_by_default=False)
def package_cache_mount(t: DockerfileTarget) -> Iterator[Hit]:
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
