"""LI630–LI649: size from the Dockerfile — measured base-image size, SDK images shipped as the runtime, single-stage builds."""
from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from lintimg.config import parse_size
from lintimg.dockerfile import Dockerfile, Instruction, Stage
from lintimg.dockerfile.queries import cmd_hit, command_line, hit, workdir_at
from lintimg.dockerfile.reference import ImageRef, parse_ref, split_tag
from lintimg.dockerfile.shell import Command
from lintimg.dockerfile.stages import chain
from lintimg.dockerfile.words import expand
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity
from lintimg.records import record
from lintimg.rules._common import Installed, as_pip, base_lookup, base_variants, chain_commands, installed_packages, measured_stages, runs_app

ID_RANGE = "LI630-LI649"


def _human(n: float) -> str:
    from lintimg.image.stats import human

    return human(n)


# ---------------------------------------------------------------- LI630 measured base size


@rule("LI630", "base-image-too-large", Severity.WARNING, tags=("size", "base-image", "policy"))
def base_image_too_large(t: DockerfileTarget) -> Iterator[Hit]:
    """The base image is larger than `max-base-image-size`, measured from the engine or the registry.

    ## What it does
    With `max-base-image-size` set, measures the base image of the final
    stage (every stage's with `all-stages: true`), global ARG defaults
    applied, for the stage's `--platform` or this machine's: first the
    disk cache, then the local engine (`docker image inspect`), then —
    only with `base-image-lookup: registry` — the registry (the manifest
    for the platform, and each layer's gzip trailer for the unpacked size).
    Nothing is estimated: the finding gives the measured uncompressed size,
    where it came from, and the tags of the same version in the same
    repository that really exist and measure smaller (`3.11` → `3.11-slim`,
    never `2.7-alpine`), each with its size. When the size cannot be
    measured (registry lookups off, registry unreachable, image not found,
    compressed layers whose unpacked size is unknown and whose compressed
    size is under the limit) the finding says so and why, and assumes no
    size: at the default threshold it fails the run (exit 1), because a
    limit that could not be checked has not been met.

    ## Why it matters
    The base is usually most of an image. A 1 GB SDK base is pulled on
    every node, scanned, patched and stored for each service built on it;
    the slim variant of the same version usually runs the same program.

    ## Example
    ```yaml
    # .lintimg.yaml
    max-base-image-size: 300MB
    base-image-lookup: registry
    ```
    ```dockerfile
    FROM python:3.11
    ```

    ## Fix
    Use one of the smaller variants the finding lists (`python:3.11-slim`),
    or build in a full image and copy the result into a small runtime stage.
    """
    policy = t.setting("max-base-image-size")
    if policy is None:
        return
    from lintimg.image.basefacts import Unavailable  # only with a size policy: Dockerfile-only runs load no image code

    limit = parse_size(policy["size"] if isinstance(policy, dict) else policy)
    all_stages = isinstance(policy, dict) and bool(policy.get("all-stages"))
    for st in measured_stages(t.dockerfile, all_stages):
        found = base_lookup(t, st)
        if found is None:
            continue
        tok = st.from_.args[0] if st.from_.args else None
        name = st.base_resolved
        if isinstance(found, Unavailable):
            yield hit(st.from_, f"size of base image {name!r} could not be measured: {found.reason}; no size is assumed",
                      token=tok, key=f"unmeasured:{name}", fix="allow registry lookups (base-image-lookup: registry) or pull the image, then re-run",
                      measured=False, reason=found.reason)
            continue
        size, packed = found.uncompressed_size, found.compressed_size
        where = f"from the {found.source}" + (", cached" if found.cached else "")
        if size is None and (packed is None or packed <= limit):
            shown = f"; it downloads {_human(packed)} compressed" if packed else ""
            yield hit(st.from_, f"size of base image {name!r} could not be measured: the registry does not give its unpacked size{shown}; no size is assumed",
                      token=tok, key=f"unmeasured:{name}", measured=False, compressed_bytes=packed)
            continue
        over = size if size is not None else packed
        assert over is not None
        if over <= limit:
            continue
        what = f"{_human(over)} unpacked" if size is not None else f"at least {_human(over)} (compressed; the unpacked size is not known)"
        extra = f", {_human(packed)} compressed" if size is not None and packed else ""
        variants = base_variants(t, found)
        smaller = [v for v in variants if v.size is not None]
        listed = ", ".join(f"{v.reference} ({_human(v.size or 0)})" for v in smaller)
        tail = f"; smaller variants in the same repository: {listed}" if listed else ""
        fits = next((v for v in smaller if (v.size or 0) <= limit), None)
        fix = f"use {fits.reference} ({_human(fits.size or 0)})" if fits else (
            f"use a smaller variant such as {smaller[0].reference}" if smaller else "use a slimmer base (a -slim or -alpine variant, distroless), or build in a full image and copy the result into a small runtime stage")
        yield hit(st.from_, f"base image {name!r} is {what}{extra} (measured {where}), over max-base-image-size {_human(limit)}{tail}",
                  token=tok, key=f"size:{name}", fix=fix, measured=True, bytes=size, compressed_bytes=packed, source=found.source,
                  variants=[{"image": v.reference, "bytes": v.size} for v in smaller])


# ---------------------------------------------------------------- SDK families (data file + sdk-images)


@record(frozen=True)
class Family:
    name: str
    images: tuple[str, ...]
    sdk_tags: tuple[str, ...] = ("*",)
    runtime_tags: tuple[str, ...] = ()
    runtime: tuple[str, ...] = ()

    @classmethod
    def of(cls, d: dict[str, Any]) -> Family:
        return cls(str(d.get("name") or d["images"][0]), tuple(d["images"]), tuple(d.get("sdk-tags") or ("*",)),
                   tuple(d.get("runtime-tags") or ()), tuple(d.get("runtime") or ()))


DATA_FILE = Path(__file__).with_name("sdk_images.json")


@lru_cache(maxsize=1)
def builtin_families() -> tuple[Family, ...]:
    with open(DATA_FILE, encoding="utf-8") as fh:
        return tuple(Family.of(d) for d in json.load(fh)["family"])


def families(t: DockerfileTarget) -> list[Family]:
    """The configured families (``sdk-images``) before the built-in ones, so that they decide first."""
    return [Family.of(d) for d in t.setting("sdk-images") or []] + list(builtin_families())


@lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that matches what any of the shell-style ``patterns`` matches (like ``fnmatchcase``): a package
    list is checked against every toolchain pattern, and fnmatch compiles and looks up each one on every call."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or "(?!)")


def compile_builtin_globs() -> None:
    """Compile the patterns of the built-in families and toolchain packages now (the resident server does, before any run)."""
    for fam in builtin_families():
        for patterns in (fam.images, fam.runtime_tags, fam.sdk_tags):
            _globs(patterns)
    for patterns in TOOLCHAIN_PACKAGES.values():
        _globs(patterns)


def sdk_family(ref: ImageRef, fams: list[Family]) -> Family | None:
    """The SDK family ``ref`` belongs to, unless its tag is one of the family's runtime variants."""
    names = (ref.name, ref.full_name)
    tag = ref.tag or ("latest" if ref.digest is None else "")
    for fam in fams:
        if not any(_globs(fam.images).match(n) for n in names):
            continue
        if not tag:  # pinned by digest alone: which variant it is cannot be told by name
            return fam if not fam.runtime_tags and fam.sdk_tags == ("*",) else None
        if _globs(fam.runtime_tags).match(tag):
            return None
        return fam if _globs(fam.sdk_tags).match(tag) else None
    return None


def runtime_suggestion(fam: Family, ref: ImageRef) -> str:
    version = split_tag(ref.tag or "latest")[0]
    picks = [r.replace("{version}", version) for r in fam.runtime if "{version}" not in r or version not in ("", "latest")]
    return " or ".join(picks[:2]) if picks else "a runtime image without the toolchain"


def _root_base(df: Dockerfile, stage: Stage) -> Stage:
    return chain(df, stage)[-1]


# ---------------------------------------------------------------- builds in the final stage


@record(frozen=True)
class Build:
    ins: Instruction
    cmd: Command
    tool: str  # "go build", "npm run build", ...
    kind: str  # go, js, maven, gradle, cargo, c, dotnet
    artefact: str  # what COPY --from should bring (a path, or a description in <>)


_JS_RUNNERS = ("npm", "yarn", "pnpm")
_GRADLE_TASKS = frozenset({"build", "assemble", "bootjar", "jar", "shadowjar", "installdist", "bootwar", "war", "distzip", "disttar"})
_MAVEN_PHASES = frozenset({"package", "install", "verify", "deploy"})
_CC = frozenset({"gcc", "g++", "cc", "c++", "clang", "clang++"})
_C_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".o", ".s")


def _in(df: Dockerfile, ins: Instruction, path: str) -> str:
    return posixpath.normpath(posixpath.join(workdir_at(df, ins), expand(path, df.env_at(ins))))


def _build_of(df: Dockerfile, ins: Instruction, cmd: Command) -> Build | None:
    name, sub = cmd.name, cmd.subcommand
    wd = workdir_at(df, ins)
    if name == "go" and sub in ("build", "install"):
        out = cmd.flag_value("o")
        art = _in(df, ins, out) if out else (f"<the binary go build writes in {wd}>" if sub == "build" else "<the binaries in $GOPATH/bin (/go/bin)>")
        return Build(ins, cmd, f"go {sub}", "go", art)
    if name in _JS_RUNNERS:
        args = cmd.args_no_flags()
        script = args[1] if args[:1] in (["run"], ["run-script"]) and len(args) > 1 else (args[0] if name != "npm" and args else "")
        if script.split(":")[0] in ("build", "compile") or script.startswith("build"):
            return Build(ins, cmd, f"{name} {'run ' if name == 'npm' else ''}{script}", "js", f"<the build output in {wd}, e.g. {posixpath.join(wd, 'dist')}>")
    if name in ("mvn", "mvnw") and _MAVEN_PHASES.intersection(a.split(":")[-1] for a in cmd.args_no_flags()):
        return Build(ins, cmd, "mvn package", "maven", posixpath.join(wd, "target/*.jar"))
    if name in ("gradle", "gradlew") and _GRADLE_TASKS.intersection(a.split(":")[-1].lower() for a in cmd.args_no_flags()):
        return Build(ins, cmd, "gradle build", "gradle", posixpath.join(wd, "build/libs/*.jar"))
    if name == "cargo" and sub in ("build", "install"):
        art = posixpath.join(wd, "target/release/<binary>") if cmd.has_flag("release", "r") or sub == "install" else posixpath.join(wd, "target/debug/<binary>")
        return Build(ins, cmd, f"cargo {sub}", "cargo", art if sub == "build" else "<the binary in $CARGO_HOME/bin>")
    if name in _CC and not cmd.has_flag("E", "M", "v", "version", "dumpversion") and any(a.endswith(_C_SOURCES) for a in cmd.args):
        out = cmd.flag_value("o")
        return Build(ins, cmd, name, "c", _in(df, ins, out) if out else posixpath.join(wd, "a.out"))
    if name == "dotnet" and sub in ("publish", "build"):
        out = cmd.flag_value("o", "output")
        return Build(ins, cmd, f"dotnet {sub}", "dotnet", _in(df, ins, out) if out else posixpath.join(wd, "bin/Release/<framework>/publish"))
    return None


# Packages that put a compiler or SDK in the image, by kind of build (manager-neutral name patterns).
TOOLCHAIN_PACKAGES: dict[str, tuple[str, ...]] = {
    "c": ("gcc", "gcc-[0-9]*", "g++", "g++-[0-9]*", "gcc-c++", "clang", "clang-[0-9]*", "build-essential", "build-base", "alpine-sdk",
          "@development-tools", "development tools"),
    "go": ("golang", "golang-go", "golang-[0-9]*-go", "go"),
    "cargo": ("rust", "rustc", "cargo"),
    "maven": ("default-jdk", "default-jdk-headless", "openjdk-*-jdk", "openjdk-*-jdk-headless", "openjdk*-jdk", "java-*-openjdk-devel", "maven"),
    "gradle": ("gradle",),
    "dotnet": ("dotnet-sdk-*",),
}
_KIND_ALIASES = {"gradle": ("gradle", "maven")}  # a gradle build runs on a JDK installed like maven's


def _toolchain_kind(pkg: str) -> str | None:
    return next((kind for kind, pats in TOOLCHAIN_PACKAGES.items() if _globs(pats).match(pkg)), None)


@record
class _Chain:
    """What the final image's stages do, in build order."""

    builds: list[tuple[Build, bool]]  # (build, its toolchain is still there at the end)
    installed: list[Installed]  # toolchain packages installed and not removed later


def _js_pruned(cmd: Command) -> bool:
    """Dev dependencies go: ``npm prune``, an install with --production/--omit, or node_modules removed."""
    if cmd.name in _JS_RUNNERS:
        return cmd.is_call(_JS_RUNNERS, "prune") or cmd.has_flag("production", "omit", "only", "prod")
    return cmd.name == "rm" and any(a.rstrip("/").endswith("node_modules") for a in cmd.args)


def _final_chain(df: Dockerfile) -> _Chain | None:
    """Builds and toolchain installs of the final image's stages, each judged by what later commands remove."""
    final = df.final_stage
    if final is None:
        return None
    commands = chain_commands(df, final)
    tools = [(i, k) for i in installed_packages(df, final) if (k := _toolchain_kind(i.name))]
    builds = []
    for pos, (ins, cmd) in enumerate(commands):
        b = _build_of(df, ins, cmd)
        if b is None:
            continue
        if b.kind == "js":
            kept = not any(_js_pruned(c) for _, c in commands[pos + 1:])
        else:
            kinds = _KIND_ALIASES.get(b.kind, (b.kind,))
            kept = not any(k in kinds and i.removed_at is not None and i.removed_at > pos for i, k in tools)
        builds.append((b, kept))
    used = [i for i, _ in tools if i.removed_at is None and any(_compiles(c) for _, c in commands[i.pos + 1:])]
    return _Chain(builds, used)


# Commands that put an installed compiler or SDK to work while the image builds (a toolchain installed
# and never used at build time is there for the running program: a workbench, bcc, a DKMS builder).
_COMPILING = frozenset({"make", "gmake", "cmake", "ninja", "meson", "configure", "autoreconf", "gcc", "g++", "cc", "c++", "clang", "clang++",
                        "go", "cargo", "rustc", "mvn", "mvnw", "gradle", "gradlew", "ant", "javac", "dotnet", "gem", "bundle", "npm", "yarn",
                        "pnpm", "node-gyp", "cpanm", "luarocks", "R", "Rscript", "pecl", "phpize", "docker-php-ext-install", "cabal", "stack"})


def _compiles(cmd: Command) -> bool:
    if cmd.name in _COMPILING or as_pip(cmd) is not None:
        return True
    return cmd.name.startswith("python") and any(a.endswith("setup.py") for a in cmd.args)


def final_builds(df: Dockerfile) -> list[Build]:
    """Builds in the final image's stages whose toolchain is still there at the end."""
    ch = _final_chain(df)
    return [b for b, kept in ch.builds if kept] if ch else []


# ---------------------------------------------------------------- LI631 SDK image as the final base


@rule("LI631", "sdk-image-as-final-base", Severity.WARNING, tags=("size", "base-image", "multi-stage"))
def sdk_image_as_final_base(t: DockerfileTarget) -> Iterator[Hit]:
    """The final image is built on a full SDK or toolchain image.

    ## What it does
    Reads the base image of the final stage (through `FROM <stage>` chains,
    ARG defaults applied) and matches its name and tag against SDK families:
    `golang`, `rust`, `gcc`, `buildpack-deps`, `maven`, `gradle`, JDK
    images (`openjdk`, `eclipse-temurin`, `amazoncorretto`, … except `jre`
    tags), `mcr.microsoft.com/dotnet/sdk`, and the full `node`, `python`
    and `ruby` images (without `-slim`/`-alpine`). The families live in
    `sdk_images.json` next to the rules; `sdk-images` in `.lintimg.yaml`
    adds your own (and decides before the built-in ones). Works offline, by
    name only. Images that run no program — a CMD or ENTRYPOINT that is
    only a bare shell or REPL or that builds or tests (`make`, `mvn
    package`, `go test`, `./build.sh`), or none and no EXPOSE (toolbox,
    workbench, CI and builder images) — are left alone, and a final stage that also builds is
    reported by LI632 with the split instead.

    ## Why it matters
    An SDK image carries compilers, headers, package managers and caches
    that the running program never uses: hundreds of megabytes to pull and
    patch, and tools for an attacker who gets in.

    ## Example
    ```dockerfile
    FROM maven:3.9-eclipse-temurin-21
    COPY target/app.jar /app.jar
    CMD ["java", "-jar", "/app.jar"]
    ```

    ## Fix
    Ship on the runtime image of the family (`eclipse-temurin:21-jre`,
    `node:20-slim`, `gcr.io/distroless/static-debian12` for a static Go
    binary); build, if needed, in an earlier stage.
    """
    df = t.dockerfile
    final = df.final_stage
    if final is None or not runs_app(df, final) or final_builds(df):
        return
    root = _root_base(df, final)
    if root.base_stage is not None or root.is_scratch or not root.base_resolved or "$" in root.base_resolved:
        return
    ref = parse_ref(root.base_resolved)
    fam = sdk_family(ref, families(t)) if ref.problem() is None else None  # a template placeholder is no image
    if fam is not None:
        yield hit(root.from_, f"the final image is built on {root.base_resolved} ({fam.name}): its compilers and build tools ship with the program",
                  token=root.from_.args[0] if root.from_.args else None, key=f"sdk:{ref.name}",
                  fix=f"ship on {runtime_suggestion(fam, ref)}; build, if needed, in an earlier stage", family=fam.name)


# ---------------------------------------------------------------- LI632 single-stage build


_RUNTIME_BY_KIND = {
    "go": "gcr.io/distroless/static-debian12",
    "cargo": "gcr.io/distroless/cc-debian12",
    "maven": "eclipse-temurin:<java version>-jre",
    "gradle": "eclipse-temurin:<java version>-jre",
    "dotnet": "mcr.microsoft.com/dotnet/aspnet:<version>",
    "c": "debian:bookworm-slim",
    "js": "node:<version>-slim",
}


def _runtime_for(t: DockerfileTarget, root: Stage, builds: list[Build]) -> str:
    kind = builds[-1].kind
    if root.base_stage is None and root.base_resolved and "$" not in root.base_resolved:
        ref = parse_ref(root.base_resolved)
        fam = sdk_family(ref, families(t))
        if fam is not None:
            pick = runtime_suggestion(fam, ref).split(" or ")[0]
            if kind == "go" and pick.startswith("gcr.io/distroless/static") and not _static_go(t.dockerfile, builds):
                return "gcr.io/distroless/base-debian12"
            return pick
    if kind == "go" and not _static_go(t.dockerfile, builds):
        return "gcr.io/distroless/base-debian12"
    return _RUNTIME_BY_KIND[kind]


def _static_go(df: Dockerfile, builds: list[Build]) -> bool:
    for b in builds:
        if b.kind == "go":
            env = {**df.env_at(b.ins), **dict(a.split("=", 1) for a in b.cmd.assignments if "=" in a)}
            if env.get("CGO_ENABLED") == "0":
                return True
    return False


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


@rule("LI632", "single-stage-toolchain", Severity.WARNING, tags=("size", "multi-stage"))
def single_stage_toolchain(t: DockerfileTarget) -> Iterator[Hit]:
    """The final stage builds the program, so the image ships the toolchain that built it.

    ## What it does
    Looks at the stages that make the final image (the last stage and those
    it is built `FROM`) for build steps — `go build`/`go install`,
    `npm`/`yarn`/`pnpm run build`, `mvn package`, `gradle build`/`bootJar`,
    `cargo build`, `gcc`/`g++`/`clang` on source files, `dotnet publish` —
    and for compiler or SDK packages installed with apt, apk, yum, dnf or
    zypper (`gcc`, `build-essential`, `build-base`, `golang`,
    `openjdk-*-jdk`, `maven`, …) that a later build step uses (make,
    cmake, configure, a compiler, pip, gem, npm, go, cargo, …: a toolchain
    installed and never used while building is there for the running
    program, as in a workbench or bcc). Only images that run something are
    judged (a CMD or ENTRYPOINT beyond a bare shell, a REPL or a build
    or test command, or, with neither, an EXPOSE):
    a builder or toolbox image that runs nothing ships its toolchain on
    purpose. A build whose toolchain is removed again (`apk del
    .build-deps`, `apt-get purge gcc`, `apt-get purge --auto-remove` after
    `apt-mark auto`, `npm prune --omit=dev`) is not reported; builds in a
    stage the final one only copies from are not either. ONBUILD
    triggers are left to the image built FROM this one. The finding
    proposes the split: which lines form the build stage, the runtime
    base, and what `COPY --from=build` brings over (the `-o` output of the
    build when it names one). Needs only the Dockerfile; LI603 measures
    the same problem in a built image.

    ## Why it matters
    Compilers, SDKs, dev dependencies and intermediate files are needed to
    build, not to run: they make the image several times larger and give
    an intruder a complete toolchain.

    ## Example
    ```dockerfile
    FROM golang:1.22
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .
    ENTRYPOINT ["/usr/local/bin/app"]
    ```

    ## Fix
    Name the building stage and copy only the result into a small runtime stage:
    ```dockerfile
    FROM golang:1.22 AS build
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /usr/local/bin/app .

    FROM gcr.io/distroless/static-debian12
    COPY --from=build /usr/local/bin/app /usr/local/bin/app
    ENTRYPOINT ["/usr/local/bin/app"]
    ```
    """
    df = t.dockerfile
    final = df.final_stage
    ch = _final_chain(df)
    if final is None or ch is None:
        return
    builds = [b for b, kept in ch.builds if kept]
    if not (builds or ch.installed) or not runs_app(df, final):
        return
    root = _root_base(df, final)
    last_ins = max([b.ins for b in builds] + [i.ins for i in ch.installed], key=lambda i: i.index)
    first_line, last_line = root.from_.pos.line, last_ins.pos.end_line
    after = [ins for ins in final.instructions if ins.index > last_ins.index]
    art = list(dict.fromkeys(b.artefact for b in builds)) or ["<what the program needs at run time>"]
    copies = "; ".join(f"COPY --from=build {a} {a}" if not a.startswith("<") else f"COPY --from=build {a}" for a in art)
    runtime = _runtime_for(t, root, builds) if builds else "a runtime image without the compilers"
    rest = f", then {_span(after[0].pos.line, after[-1].pos.end_line)}" if after else ""
    if builds:
        b = builds[-1]
        what = f"`{b.tool}` (line {command_line(b.ins, b.cmd)}) runs in the final stage"
        if ch.installed:
            what += f" with {', '.join(dict.fromkeys(i.package for i in ch.installed))} installed"
        target = (b.ins, b.cmd)
    else:
        pkgs = ", ".join(dict.fromkeys(i.package for i in ch.installed))
        what = f"the final stage installs {pkgs} and keeps {'it' if ',' not in pkgs else 'them'}"
        target = (ch.installed[-1].ins, ch.installed[-1].cmd)
    proposal = "\n".join([
        f"# build stage: {_span(first_line, last_line)}, with `AS build` on its FROM",
        f"FROM {runtime}",
        *[f"COPY --from=build {a} {a}" if not a.startswith("<") else f"# COPY --from=build {a}" for a in art],
        *(f"# then {_span(after[0].pos.line, after[-1].pos.end_line)}" for _ in after[:1]),
    ])
    yield cmd_hit(
        target[0], target[1],
        f"single-stage build: {what}, so the image ships its toolchain; split it: build stage = {_span(first_line, last_line)} (`AS build`), "
        f"runtime stage = FROM {runtime}, {copies}{rest}",
        fix=f"end the build stage after line {last_line}, start a runtime stage FROM {runtime} and copy only the build output into it",
        key="single-stage", build_lines=[first_line, last_line], runtime_base=runtime, artefacts=art,
        runtime_lines=[after[0].pos.line, after[-1].pos.end_line] if after else [], proposal=proposal,
    )
