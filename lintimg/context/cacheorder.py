"""Layer order for cache reuse: dependency installs, expensive steps, and what a change rebuilds."""
from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from lintimg.dockerfile import Dockerfile, Instruction
from lintimg.dockerfile.queries import run_commands
from lintimg.dockerfile.shell import Command
from lintimg.dockerfile.stages import chain
from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.context import BuildContext
    from lintimg.context.copies import Copy
    from lintimg.context.walk import Entry, Subtree


@record(frozen=True)
class Ecosystem:
    name: str
    manifests: tuple[str, ...]  # file name patterns the install reads
    copy_first: str  # the COPY to put before the install

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile("|".join(fnmatch.translate(m) for m in self.manifests))


ECOSYSTEMS = {
    e.name: e
    for e in (
        Ecosystem("npm", ("package.json", "package-lock.json", "npm-shrinkwrap.json"), "COPY package*.json ./"),
        Ecosystem("yarn", ("package.json", "yarn.lock", ".yarnrc.yml"), "COPY package.json yarn.lock ./"),
        Ecosystem("pnpm", ("package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"), "COPY package.json pnpm-lock.yaml ./"),
        Ecosystem("pip", ("requirements*.txt", "constraints*.txt"), "COPY requirements*.txt ./"),
        Ecosystem("poetry", ("pyproject.toml", "poetry.lock"), "COPY pyproject.toml poetry.lock ./"),
        Ecosystem("pipenv", ("Pipfile", "Pipfile.lock"), "COPY Pipfile Pipfile.lock ./"),
        Ecosystem("uv", ("pyproject.toml", "uv.lock"), "COPY pyproject.toml uv.lock ./"),
        Ecosystem("go", ("go.mod", "go.sum"), "COPY go.mod go.sum ./ then RUN go mod download"),
        Ecosystem("cargo", ("Cargo.toml", "Cargo.lock"), "COPY Cargo.toml Cargo.lock ./ then build the dependencies (e.g. cargo fetch, or cargo-chef)"),
        Ecosystem("maven", ("pom.xml",), "COPY pom.xml ./ then RUN mvn dependency:go-offline"),
        Ecosystem("gradle", ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradle.properties"), "COPY build.gradle* settings.gradle* ./ then RUN gradle dependencies"),
        Ecosystem("bundler", ("Gemfile", "Gemfile.lock"), "COPY Gemfile Gemfile.lock ./"),
        Ecosystem("composer", ("composer.json", "composer.lock"), "COPY composer.json composer.lock ./"),
    )
}
_SYSTEM_INSTALLS = {"apt-get": "install", "apt": "install", "apk": "add", "yum": "install", "dnf": "install", "microdnf": "install", "zypper": "install", "tdnf": "install"}


def _operands(cmd: Command, after: str) -> list[str]:
    ops = cmd.args_no_flags()
    return ops[ops.index(after) + 1 :] if after in ops else ops


def dependency_install(cmd: Command) -> Ecosystem | None:
    """The ecosystem whose manifests ``cmd`` installs from (``npm ci``, ``pip install -r …``, ``go mod download`` …)."""
    argv = cmd.argv
    name = cmd.name
    if name.startswith("python") and argv[1:3] == ["-m", "pip"]:
        name, argv = "pip", ["pip", *argv[3:]]
        cmd = Command(argv, cmd.row)
    sub = cmd.subcommand
    if name == "npm" and (sub == "ci" or (sub in ("install", "i") and not _operands(cmd, sub))):
        return ECOSYSTEMS["npm"]
    if name == "yarn" and (sub is None or (sub == "install")):
        return ECOSYSTEMS["yarn"]
    if name == "pnpm" and sub in ("install", "i") and not _operands(cmd, sub):
        return ECOSYSTEMS["pnpm"]
    if name in ("pip", "pip3") and sub == "install":
        if cmd.has_flag("r", "requirement") or any(o in (".", "./") for o in _operands(cmd, "install")) \
                or cmd.flag_value("e", "editable") in (".", "./"):
            return ECOSYSTEMS["pip"]
    if name == "poetry" and sub == "install":
        return ECOSYSTEMS["poetry"]
    if name == "pipenv" and sub in ("install", "sync") and not _operands(cmd, sub):
        return ECOSYSTEMS["pipenv"]
    if name == "uv" and (sub == "sync" or (sub == "pip" and (cmd.has_flag("r", "requirement") or "sync" in cmd.args))):
        return ECOSYSTEMS["uv"]
    if name == "go" and (cmd.args[:2] == ["mod", "download"] or sub in ("build", "install")):
        return ECOSYSTEMS["go"]
    if name == "cargo" and sub in ("fetch", "build", "install"):
        return ECOSYSTEMS["cargo"]
    if name in ("mvn", "mvnw") and cmd.args:
        return ECOSYSTEMS["maven"]
    if name in ("gradle", "gradlew") and cmd.args:
        return ECOSYSTEMS["gradle"]
    if name == "bundle" and sub in (None, "install"):
        return ECOSYSTEMS["bundler"]
    if name == "composer" and sub == "install":
        return ECOSYSTEMS["composer"]
    return None


def system_install(cmd: Command) -> bool:
    return _SYSTEM_INSTALLS.get(cmd.name) == cmd.subcommand


def _names_manifest(source: str, eco: Ecosystem) -> bool:
    """A COPY source (maybe a wildcard such as ``package*.json``) that names a manifest."""
    name = os.path.basename(source.rstrip("/"))
    if eco.regex.match(name):
        return True
    return any(ch in name for ch in "*?[") and any(fnmatch.fnmatchcase(m, name) for m in eco.manifests)


def _copies_manifest(ins: Instruction, eco: Ecosystem) -> bool:
    return any(_names_manifest(t.value, eco) for t in ins.args[:-1])


def _whole_source(ins: Instruction) -> bool:
    return any(t.value.strip() in (".", "./", "*", "./*", "/") for t in ins.args[:-1])


def manifests_sent(copy: Copy, eco: Ecosystem) -> list[Entry]:
    """The manifest files of ``eco`` that ``copy`` sends (per directory tree, computed once per run)."""

    from lintimg.context.walk import Subtree  # only with a build context

    def pick(st: Subtree) -> list[Entry]:
        return [e for e in st.files if eco.regex.match(e.name)]

    out: list[Entry] = []
    for _, tree, entries in copy.parts:
        out += tree.cached(f"manifests:{eco.name}", pick) if tree is not None else pick(Subtree(files=entries))
    return out


def _sends_source_with_manifest(copy: Copy, eco: Ecosystem) -> bool:
    return 0 < len(manifests_sent(copy, eco)) < sum(len(p[2]) for p in copy.parts)


@record
class MisplacedInstall:
    run: Instruction
    cmd: Command
    ecosystem: Ecosystem
    copy: Instruction  # the COPY that brought in the whole source before it


def stage_chain(df: Dockerfile, ins: Instruction) -> list[Instruction]:
    """Instructions before ``ins`` that share its cache chain: its stage and the stages it builds FROM."""
    st = df.stage_of(ins)
    stages = reversed(chain(df, st)) if st is not None else ()
    return [i for s in stages for i in s.instructions if i.index < ins.index]


def misplaced_installs(df: Dockerfile, ctx: BuildContext | None = None) -> Iterator[MisplacedInstall]:
    """Dependency installs that run after a COPY of the whole source, with no manifest COPY before it."""
    broad_by_ctx = {c.ins.index: c for c in ctx.copies(df)} if ctx is not None else {}
    for ins, cmd in run_commands(df, include_onbuild=False):
        eco = dependency_install(cmd)
        if eco is None:
            continue
        before = [i for i in stage_chain(df, ins) if i.keyword in ("COPY", "ADD") and i.flag("from") is None]
        broad = None
        for i in before:
            copy = broad_by_ctx.get(i.index)
            if _whole_source(i) or (copy is not None and _sends_source_with_manifest(copy, eco)):
                broad = i
                break
        if broad is None:
            continue
        if any(_copies_manifest(i, eco) and not _whole_source(i) for i in before if i.index < broad.index):
            continue
        yield MisplacedInstall(ins, cmd, eco, broad)


def expensive_steps(df: Dockerfile) -> Iterator[tuple[Instruction, Command, str]]:
    """RUN commands worth caching: system and dependency package installs."""
    for ins, cmd in run_commands(df, include_onbuild=False):
        if system_install(cmd):
            yield ins, cmd, f"{cmd.name} {cmd.subcommand}"
        elif dependency_install(cmd) is not None:
            yield ins, cmd, " ".join(cmd.argv[:2])


LAYER_INSTRUCTIONS = ("RUN", "COPY", "ADD")


def rebuilt_after(df: Dockerfile, ins: Instruction) -> list[Instruction]:
    """Layer-making instructions that rerun when ``ins`` misses the cache: the rest of its
    stage, and every stage built FROM it or copying ``--from`` it (from that COPY on)."""
    out: list[Instruction] = []
    seen: set[int] = set()

    def follow(stage_index: int, from_index: int) -> None:
        st = df.stages[stage_index]
        for i in st.instructions:
            if i.index > from_index and i.index not in seen:
                seen.add(i.index)
                if i.keyword in LAYER_INSTRUCTIONS:
                    out.append(i)
        for other in df.stages[stage_index + 1 :]:
            if other.base_stage == stage_index:
                follow(other.index, other.from_.index)
                continue
            for i in other.instructions:
                ref = i.flag("from")
                if i.keyword == "COPY" and ref is not None and df.stage_by_ref(ref.value or "", before=other.index) is st:
                    follow(other.index, i.index - 1)
                    break

    if ins.stage_index is not None:
        follow(ins.stage_index, ins.index)
    return out
