"""LI1xx: base images and stages — FROM references, platforms, ARGs in FROM, stage names, COPY --from."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from lintimg.config import suggest
from lintimg.dockerfile import (
    BUILTIN_ARGS,
    KNOWN_INSTRUCTIONS,
    Dockerfile,
    Instruction,
    Stage,
)
from lintimg.dockerfile.edits import token_edit
from lintimg.dockerfile.queries import hit
from lintimg.dockerfile.reference import parse_ref
from lintimg.dockerfile.stages import built_stages, from_refs
from lintimg.dockerfile.words import is_digits, variables_used
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules._common import TRIVY_STAGE_KEY, external_bases

ID_RANGE = "LI100-LI199"

_ARG_SCOPE_DIVERGENCE = (
    "trivy's rebuilt test inputs resolve an ARG declared after the first FROM in a later FROM; "
    "Docker scopes such an ARG to its stage, so the FROM sees the global default (or nothing)"
)


def _tag_left_to_build_args(resolved: str) -> bool:
    # "foo:${TAG}" with no default for TAG: the tag is chosen with --build-arg.
    return resolved.endswith((":", "@"))


@rule(
    "LI101", "base-image-untagged", Severity.WARNING, tags=("base-image", "reproducibility"),
    peers=("DL3006", "DS-0001", "CKV_DOCKER_7", "KICS-9efb0b2d"),
    divergences={"DS-0001": _ARG_SCOPE_DIVERGENCE},
)
def base_image_untagged(t: DockerfileTarget) -> Iterator[Hit]:
    """Give the base image an explicit tag or digest.

    ## What it does
    Flags a FROM whose image (after global ARG defaults are substituted) has
    neither a tag nor a digest. `scratch` and references to earlier stages
    are exempt; a tag left entirely to `--build-arg` is not judged.

    ## Why it matters
    An untagged image means `latest`, which moves: the same Dockerfile builds
    a different image tomorrow, and a rebuild can break without any change
    in the repository.

    ## Example
    ```dockerfile
    FROM debian
    ```

    ## Fix
    Name a version: `FROM debian:12.5` (or pin by digest).
    """
    for st, ref in external_bases(t.dockerfile):
        if ref.tag is None and ref.digest is None and not _tag_left_to_build_args(st.base_resolved):
            yield hit(st.from_, f"base image {st.base_resolved!r} has no tag, so it means 'latest'", token=st.from_.args[0], fix=f"pin a version, e.g. {ref.name}:<version>")


@rule(
    "LI102", "base-image-latest", Severity.WARNING, tags=("base-image", "reproducibility"),
    peers=("DL3007", "DS-0001", "CKV_DOCKER_7", "DKL-DI-0006", "KICS-f45ea400"),
    divergences={"DS-0001": _ARG_SCOPE_DIVERGENCE},
)
def base_image_latest(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not build on the `latest` tag.

    ## What it does
    Flags a FROM whose image tag is `latest`, written or coming from a
    global ARG default. A digest next to the tag pins the image and passes.

    ## Why it matters
    `latest` is whatever was pushed last; builds stop being reproducible and
    a new major version can arrive unannounced.

    ## Example
    ```dockerfile
    FROM node:latest
    ```

    ## Fix
    Use a version tag such as `node:22.11-bookworm-slim`, or a digest.
    """
    for st, ref in external_bases(t.dockerfile):
        if ref.tag == "latest" and ref.digest is None:
            yield hit(st.from_, f"base image {st.base_resolved!r} uses the 'latest' tag", token=st.from_.args[0], fix=f"pin a version, e.g. {ref.name}:<version>")


def _platform_flags(df: Dockerfile) -> Iterator[tuple[Stage, str]]:
    for st in df.stages:
        f = st.from_.flag("platform")
        if f is not None:
            yield st, f.value or ""


def _is_target_platform(value: str) -> bool:
    return value in ("$TARGETPLATFORM", "${TARGETPLATFORM}")


@rule("LI103", "from-platform-flag", Severity.WARNING, tags=("base-image", "portability"), peers=("DL3029", "KICS-b16e8501"))
def from_platform_flag(t: DockerfileTarget) -> Iterator[Hit]:
    """Avoid `FROM --platform` unless it names the build platform.

    ## What it does
    Flags `FROM --platform=...` except `$BUILDPLATFORM` (the usual
    cross-compilation pattern) and `$TARGETPLATFORM` (reported as redundant
    by LI105).

    ## Why it matters
    A fixed platform makes the image build for that platform only, whatever
    `docker build --platform` asks for; multi-platform builds then ship the
    wrong binaries.

    ## Example
    ```dockerfile
    FROM --platform=linux/amd64 debian:12
    ```

    ## Fix
    Drop the flag, or use `--platform=$BUILDPLATFORM` for a builder stage
    that cross-compiles.
    """
    for st, value in _platform_flags(t.dockerfile):
        if "BUILDPLATFORM" not in value and not _is_target_platform(value):
            yield hit(st.from_, f"FROM uses --platform={value}", token=st.from_.flag_token("platform"), fix="remove the flag, or use --platform=$BUILDPLATFORM for a cross-compiling builder")


@rule("LI104", "from-platform-flag-const", Severity.WARNING, tags=("base-image", "portability"), peers=("FromPlatformFlagConstDisallowed",))
def from_platform_flag_const(t: DockerfileTarget) -> Iterator[Hit]:
    """`FROM --platform` should not be a constant.

    ## What it does
    Flags `FROM --platform=` with a value that has no variable in it. As in
    BuildKit, a stage whose name contains the platform's OS or architecture
    (`FROM --platform=linux/arm64 alpine AS build-arm64`) is exempt: that
    stage is meant for one platform.

    ## Why it matters
    A constant platform pins the stage to one architecture, so a
    multi-platform build silently produces mismatched images.

    ## Example
    ```dockerfile
    FROM --platform=linux/amd64 alpine:3.20 AS build
    ```

    ## Fix
    Use `$BUILDPLATFORM` or `$TARGETPLATFORM`, or drop the flag.
    """
    for st, value in _platform_flags(t.dockerfile):
        if "$" in value or not value:
            continue
        parts = [p for p in re.split(r"[/,]", value.lower()) if p]
        if st.name and any(p in st.name for p in parts):
            continue
        yield hit(st.from_, f"FROM --platform={value} is a constant", token=st.from_.flag_token("platform"), fix="use --platform=$BUILDPLATFORM or $TARGETPLATFORM, or remove the flag")


@rule("LI105", "redundant-target-platform", Severity.WARNING, tags=("base-image",), peers=("DL3065", "RedundantTargetPlatform"))
def redundant_target_platform(t: DockerfileTarget) -> Iterator[Hit]:
    """`FROM --platform=$TARGETPLATFORM` is the default and can go.

    ## What it does
    Flags `FROM --platform=$TARGETPLATFORM` (or `${TARGETPLATFORM}`).

    ## Why it matters
    A stage is built for the target platform anyway; the flag adds noise
    and suggests a special case where there is none.

    ## Example
    ```dockerfile
    FROM --platform=$TARGETPLATFORM alpine:3.20
    ```

    ## Fix
    Remove the `--platform` flag.
    """
    for st, value in _platform_flags(t.dockerfile):
        if _is_target_platform(value):
            yield hit(st.from_, "--platform=$TARGETPLATFORM is the default and is redundant", token=st.from_.flag_token("platform"), fix="remove the --platform flag")


def _from_vars(ins: Instruction) -> Iterator[tuple[str, str]]:
    """Variables a FROM line uses, with the text they appear in."""
    texts = [ins.args[0].value] if ins.args else []
    texts += [f.value for f in ins.flags if f.value]
    for text in texts:
        for name, _ in variables_used(text):
            yield name, text


@rule("LI106", "undefined-arg-in-from", Severity.WARNING, tags=("base-image", "arg"), peers=("UndefinedArgInFrom",))
def undefined_arg_in_from(t: DockerfileTarget) -> Iterator[Hit]:
    """FROM uses a variable that no global ARG declares.

    ## What it does
    Flags variables in a FROM line (image or `--platform`) that are neither
    declared by an `ARG` before the first FROM nor one of the platform ARGs
    the builder predefines, and suggests a declared name that is close.

    ## Why it matters
    FROM only sees global ARGs; an undeclared one (often a typo) expands to
    nothing and the build pulls a different image than intended, or fails.

    ## Example
    ```dockerfile
    ARG VERSION=3.20
    FROM alpine:${VERSOIN}
    ```

    ## Fix
    Declare the ARG before the first FROM, or fix the name.
    """
    df = t.dockerfile
    known = set(df.global_args) | BUILTIN_ARGS
    for st in df.stages:
        seen: set[str] = set()
        for name, _ in _from_vars(st.from_):
            if name not in known and name not in seen:
                seen.add(name)
                yield hit(st.from_, f"FROM uses ARG {name!r}, which is not declared before the first FROM{suggest(name, df.global_args)}", fix=f"add 'ARG {name}=<default>' before the first FROM")


@rule("LI107", "invalid-default-arg-in-from", Severity.WARNING, tags=("base-image", "arg"), peers=("InvalidDefaultArgInFrom",))
def invalid_default_arg_in_from(t: DockerfileTarget) -> Iterator[Hit]:
    """With the ARG defaults, the FROM image name is empty or invalid.

    ## What it does
    For a FROM whose image uses ARGs, substitutes the global ARG defaults
    (no `--build-arg`) and flags the result when it is empty or not a valid
    image reference, e.g. `foo:` from `FROM foo:${TAG}` with `ARG TAG`.

    ## Why it matters
    A plain `docker build` with no build arguments fails; tools that read
    the Dockerfile without your CI's arguments (scanners, IDEs, Dependabot)
    cannot tell which image it uses.

    ## Example
    ```dockerfile
    ARG TAG
    FROM alpine:${TAG}
    ```

    ## Fix
    Give the ARG a default that makes a valid reference: `ARG TAG=3.20`.
    """
    for st in t.dockerfile.stages:
        if "$" not in st.base or st.base_stage is not None:
            continue
        resolved = st.base_resolved
        if "$" in resolved:  # nested or chained defaults lintimg could not resolve: not judged
            continue
        problem = "the image name is empty" if not resolved else parse_ref(resolved).problem()
        if problem:
            yield hit(st.from_, f"with only the ARG defaults, FROM {st.base} is not usable: {problem}", token=st.from_.args[0], fix="give the ARGs it uses defaults that form a valid image reference")


@rule("LI108", "instruction-before-from", Severity.ERROR, tags=("syntax", "stage"), peers=("DL3061",))
def instruction_before_from(t: DockerfileTarget) -> Iterator[Hit]:
    """Only ARG may come before the first FROM.

    ## What it does
    Flags every instruction other than `ARG` that appears before the first
    `FROM` (comments and parser directives are fine).

    ## Why it matters
    The builder rejects such a file: there is no stage yet for the
    instruction to act on.

    ## Example
    ```dockerfile
    LABEL maintainer=me@example.com
    FROM alpine:3.20
    ```

    ## Fix
    Move the instruction below the `FROM`. (An unknown keyword is a
    parse error, LI001, and not reported again here.)
    """
    for ins in t.dockerfile.instructions:
        if ins.stage_index is None and ins.keyword in KNOWN_INSTRUCTIONS and ins.keyword not in ("ARG", "FROM"):
            yield hit(ins, f"{ins.keyword} before the first FROM; only ARG may come first", fix="move it below FROM")


@rule(
    "LI110", "duplicate-stage-name", Severity.ERROR, tags=("stage",),
    peers=("DL3024", "DuplicateStageName", "DS-0012", "CKV_DOCKER_11", "KICS-f2daed12"),
    divergences={"DS-0012": TRIVY_STAGE_KEY,
                 "KICS-f2daed12": "KICS places the finding on the first stage of the name; lintimg on the later one, the FROM "
                                  "that reuses a taken name, where BuildKit's DuplicateStageName and hadolint's DL3024 put it "
                                  "too (each checks a stage's name against the names seen before it)."},
)
def duplicate_stage_name(t: DockerfileTarget) -> Iterator[Hit]:
    """Two stages have the same name.

    ## What it does
    Flags a `FROM ... AS name` whose name (compared case-insensitively, as
    the builder does) was already used by an earlier stage.

    ## Why it matters
    The builder refuses the file; where a tool accepts it, `--from=name` and
    `--target name` become ambiguous.

    ## Example
    ```dockerfile
    FROM golang:1.23 AS build
    FROM node:22 AS build
    ```

    ## Fix
    Give each stage its own name.
    """
    seen: dict[str, int] = {}
    for st in t.dockerfile.stages:
        if st.name is None:
            continue
        if st.name in seen:
            yield hit(st.from_, f"stage name {st.name_raw!r} is already used by the stage on line {seen[st.name]}", token=st.name_token, fix="rename one of the stages")
        else:
            seen[st.name] = st.from_.line


@rule("LI111", "reserved-stage-name", Severity.WARNING, tags=("stage",), peers=("DL3063", "ReservedStageName"))
def reserved_stage_name(t: DockerfileTarget) -> Iterator[Hit]:
    """`scratch` and `context` cannot be stage names.

    ## What it does
    Flags `FROM ... AS scratch` and `FROM ... AS context`.

    ## Why it matters
    Both words already mean something to the builder (the empty image, the
    build context in `--from`), so the stage cannot be referred to.

    ## Example
    ```dockerfile
    FROM alpine:3.20 AS scratch
    ```

    ## Fix
    Choose another name.
    """
    for st in t.dockerfile.stages:
        if st.name in ("scratch", "context"):
            yield hit(st.from_, f"stage name {st.name_raw!r} is reserved", token=st.name_token, fix="choose another stage name")


@rule("LI112", "stage-name-casing", Severity.WARNING, tags=("stage", "style"), peers=("StageNameCasing",))
def stage_name_casing(t: DockerfileTarget) -> Iterator[Hit]:
    """Stage names should be lower case.

    ## What it does
    Flags `FROM ... AS Name` when the name has upper-case letters.

    ## Why it matters
    The builder lower-cases stage names, so `--from=Build` and `--target
    Build` work only by accident and read as if case mattered.

    ## Example
    ```dockerfile
    FROM golang:1.23 AS Builder
    ```

    ## Fix
    `FROM golang:1.23 AS builder`.
    """
    for st in t.dockerfile.stages:
        if st.name_raw and st.name_raw != st.name_raw.lower():
            yield hit(st.from_, f"stage name {st.name_raw!r} should be lower case: {st.name_raw.lower()!r}", token=st.name_token, fix=f"use {st.name_raw.lower()!r}")


def _case(word: str) -> str | None:
    return "upper" if word.isupper() else "lower" if word.islower() else None


@rule("LI113", "from-as-casing", Severity.STYLE, tags=("stage", "style"), peers=("FromAsCasing",), fixable=(Safety.SAFE,))
def from_as_casing(t: DockerfileTarget) -> Iterator[Hit]:
    """The `AS` keyword should be cased like `FROM`.

    ## What it does
    Flags `FROM x as y` and `from x AS y`: when `FROM` is all upper or all
    lower case, `AS` must match it.

    ## Why it matters
    Mixed keyword casing is harder to read and to search for.

    ## Example
    ```dockerfile
    FROM debian:12 as build
    ```

    ## Fix
    `FROM debian:12 AS build`. Safe autofix: `AS` is rewritten in the case
    of `FROM`.
    """
    for st in t.dockerfile.stages:
        if st.as_token is None:
            continue
        want = _case(st.from_.keyword_raw)
        if want is not None and _case(st.as_token.text) != want:
            good = st.as_token.text.upper() if want == "upper" else st.as_token.text.lower()
            yield hit(st.from_, f"'{st.as_token.text}' does not match the casing of '{st.from_.keyword_raw}'", token=st.as_token,
                      fix=f"write '{good}'", edits=(token_edit(st.as_token, good),))


def _copy_froms(df: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    """``COPY --from`` values (ADD has no --from), ONBUILD triggers included."""
    for ins in df.instructions:
        for c in (ins, ins.onbuild):
            if c is not None and c.keyword == "COPY":
                f = c.flag("from")
                if f is not None and f.value and "$" not in f.value:
                    yield c, f.value


@rule(
    "LI114", "copy-from-current-stage", Severity.ERROR, tags=("stage",),
    peers=("DL3023", "DS-0006", "KICS-cdddb86f"),
    divergences={"DS-0006": TRIVY_STAGE_KEY + " A `--from` name that no FROM line defines is an image (LI115), not the current stage."},
)
def copy_from_current_stage(t: DockerfileTarget) -> Iterator[Hit]:
    """`COPY --from` names the stage it is in.

    ## What it does
    Flags `COPY --from=<name or index>` that refers to the stage containing
    the COPY (names compared case-insensitively).

    ## Why it matters
    A stage cannot copy from itself; the builder fails (or, with an image of
    the same name, silently copies from that image instead).

    ## Example
    ```dockerfile
    FROM golang:1.23 AS build
    COPY --from=build /out/app /app
    ```

    ## Fix
    Copy from an earlier stage, or drop `--from`.
    """
    df = t.dockerfile
    for ins, ref in _copy_froms(df):
        st = df.stage_of(ins)
        if st is not None and (ref.lower() == st.name or ref == str(st.index)):
            yield hit(ins, f"COPY --from={ref} refers to the stage it is in", token=ins.flag_token("from"), fix="copy from an earlier stage")


@rule("LI115", "copy-from-undefined-stage", Severity.WARNING, tags=("stage",), peers=("DL3022",))
def copy_from_undefined_stage(t: DockerfileTarget) -> Iterator[Hit]:
    """`COPY --from` names a stage that was not defined before it.

    ## What it does
    Flags `COPY --from=name` where no earlier `FROM ... AS name` exists and
    the name does not look like an image (no `:`, `/` or `@`), and
    `--from=N` where stage N does not exist yet.

    ## Why it matters
    The builder treats an unknown name as an image on Docker Hub: a typo in
    a stage name pulls (or fails to pull) some unrelated image.

    ## Example
    ```dockerfile
    FROM golang:1.23 AS build
    FROM alpine:3.20
    COPY --from=biuld /out/app /app
    ```

    ## Fix
    Name a stage defined above, or write a full image reference.
    """
    df = t.dockerfile
    for ins, ref in _copy_froms(df):
        cur = ins.stage_index
        limit = 0 if cur is None else cur + 1
        if is_digits(ref):
            if int(ref) >= limit:
                yield hit(ins, f"COPY --from={ref}: there is no stage {ref} before this one", token=ins.flag_token("from"), fix="use the index or name of an earlier stage")
        elif not any(c in ref for c in ":/@") and df.stage_by_ref(ref, before=limit) is None:
            names = [s.name for s in df.stages[:limit] if s.name]
            yield hit(ins, f"COPY --from={ref}: no stage of that name is defined above{suggest(ref.lower(), names)}", token=ins.flag_token("from"), fix="name a stage defined above, or give a full image reference")


@rule("LI116", "unnamed-stage-reference", Severity.STYLE, tags=("stage", "style"), peers=("KICS-68a51e22",))
def unnamed_stage_reference(t: DockerfileTarget) -> Iterator[Hit]:
    """Refer to stages by name, not by index.

    ## What it does
    Flags `COPY --from=N` with a numeric stage index.

    ## Why it matters
    Indexes break silently when a stage is added or moved; names say what
    is being copied and keep working.

    ## Example
    ```dockerfile
    FROM golang:1.23
    RUN go build -o /app .
    FROM alpine:3.20
    COPY --from=0 /app /app
    ```

    ## Fix
    Name the stage (`FROM golang:1.23 AS build`) and use `--from=build`.
    """
    for ins, ref in _copy_froms(t.dockerfile):
        if is_digits(ref):
            yield hit(ins, f"COPY --from={ref} refers to a stage by index", token=ins.flag_token("from"), fix="name the stage with 'AS name' and copy --from=name")


@rule("LI117", "copy-whole-stage", Severity.WARNING, tags=("stage", "size"), peers=("DL3067",))
def copy_whole_stage(t: DockerfileTarget) -> Iterator[Hit]:
    """`COPY --from=<stage> / /` copies a whole filesystem.

    ## What it does
    Flags `COPY --from=...` whose only source is `/` and whose destination
    is `/`.

    ## Why it matters
    It drags everything of the other stage (compilers, caches, package
    databases) into this one, defeating the point of a multi-stage build.

    ## Example
    ```dockerfile
    COPY --from=build / /
    ```

    ## Fix
    Copy only the artefacts you need: `COPY --from=build /out/app /usr/local/bin/app`.
    """
    for ins, ref in _copy_froms(t.dockerfile):
        paths = [a.value for a in ins.args]
        if len(paths) == 2 and all(posixpath.normpath(p) == "/" for p in paths):
            yield hit(ins, f"COPY --from={ref} / / copies the whole filesystem of {ref}", fix="copy only the files the image needs")


@rule("LI118", "stage-never-built", Severity.WARNING, tags=("stage",))
def stage_never_built(t: DockerfileTarget) -> Iterator[Hit]:
    """No build runs this stage.

    ## What it does
    Flags a stage that has no `AS` name, is not the last stage, and that no
    stage a build runs is built FROM or copies from (`--from=<index>`).
    `docker build` builds the last stage and `--target` any named one, with
    the stages they need; nothing can ask for this one. A file with a
    `--from` that a build argument picks is not checked.

    ## Why it matters
    BuildKit, Docker's builder since 23.0, skips the stage: its RUN steps
    (tests, checks) never run and nothing in it reaches an image, without a
    word in the build output. The legacy builder ran every stage, so such a
    stage is often a test step that stopped running when the builder changed,
    or a leftover. A FROM starts a new image rather than adding to the one
    before it, so `FROM mysql:8` then `FROM golang:1.23` ships golang only.
    Other rules still check what the stage holds, as the classic builder
    (`DOCKER_BUILDKIT=0`) builds it and naming or using it builds it again;
    rules about how a container runs (its user, ports, command form) skip it.

    ## Example
    ```dockerfile
    FROM python:3.12 AS base
    COPY . /app
    FROM base
    RUN pytest /app
    FROM base
    CMD ["python", "/app/main.py"]
    ```

    ## Fix
    Name it (`FROM base AS test`) and build it with `--target test`, copy
    something from it into a stage that ships, or delete it.
    """
    df = t.dockerfile
    if any("$" in ref for _, ref in from_refs(df)):
        return  # a build argument may pick this stage by its index
    built = built_stages(df)
    for st in df.stages:
        if st.index not in built:
            yield hit(st.from_, f"stage {st.index} (FROM {st.base}) is never built: it has no AS name, is not the last stage, "
                                "and no stage that is built uses it", fix="name it and build it with --target, use it from a later stage, "
                                                                           "or delete it")
