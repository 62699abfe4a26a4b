"""One lint run over Dockerfiles: sources -> models -> engine -> findings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from lintimg.config import Config
from lintimg.dockerfile import Dockerfile, DockerfileSyntaxError, parse_dockerfile
from lintimg.engine import Engine
from lintimg.findings import Finding
from lintimg.sources import Source, read_source
from lintimg.target import Target

# Adds subjects (a build context, an image) to a target before the rules run.
Attach = Callable[[Target], None]


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # one-line remarks plugins left in target.cache["notes"]


def model_of(src: Source) -> Dockerfile:
    """The Dockerfile model of a source; unusable content becomes a parse error at line 1."""
    if src.text is None:
        df = parse_dockerfile("", src.path)
        df.errors.append(DockerfileSyntaxError(src.problem or "unreadable", 1))
        return df
    df = parse_dockerfile(src.text, src.path)
    if not df.instructions and not df.errors:
        df.errors.append(DockerfileSyntaxError("file has no instructions", 1))
    elif df.instructions and not df.stages and not df.errors:
        df.errors.append(DockerfileSyntaxError("no FROM instruction: a Dockerfile must start a stage", df.instructions[0].pos.line))
    return df


def target_of(engine: Engine, src: Source, attach: Attach | None = None) -> Target:
    target = Target(path=src.path, config=engine.config, dockerfile=model_of(src))
    if attach is not None:
        attach(target)
    return target


def lint_source(engine: Engine, src: Source, attach: Attach | None = None) -> tuple[list[Finding], Dockerfile]:
    """Lint one source on its own (prepare, then the rules)."""
    target = target_of(engine, src, attach)
    engine.prepare([target])
    return engine.run(target), target.dockerfile


def lint_paths(engine: Engine, paths: list[str], stdin_name: str = "-", attach: Attach | None = None, attach_stdin: Attach | None = None) -> LintResult:
    """Lint files; ``attach`` adds subjects to file targets, ``attach_stdin`` to the one read from ``-``."""
    targets = [target_of(engine, read_source(p, stdin_name), attach_stdin if p == "-" else attach) for p in paths]
    engine.prepare(targets)
    result = LintResult()
    for t in targets:
        result.findings.extend(engine.run(t))
        result.files.append(t.path)
        result.sources[t.path] = t.dockerfile.lines
        result.notes += [n for n in t.cache.get("notes", ()) if n not in result.notes]
    return result


def default_engine(config: Config | None = None) -> Engine:
    return Engine(config or Config())
