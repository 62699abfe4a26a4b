"""One lint run over Dockerfiles: sources -> models -> engine -> findings."""
from __future__ import annotations

from dataclasses import dataclass, field

from lintimg.config import Config
from lintimg.dockerfile import Dockerfile, DockerfileSyntaxError, parse_dockerfile
from lintimg.engine import Engine
from lintimg.findings import Finding
from lintimg.sources import Source, read_source
from lintimg.target import Target


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)


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


def lint_source(engine: Engine, src: Source, attach=None) -> tuple[list[Finding], Dockerfile]:
    """Lint one source. ``attach(target)`` may add a context or image before the rules run."""
    df = model_of(src)
    target = Target(path=src.path, config=engine.config, dockerfile=df)
    if attach is not None:
        attach(target)
    return engine.run(target), df


def lint_paths(engine: Engine, paths: list[str], stdin_name: str = "-", attach=None) -> LintResult:
    result = LintResult()
    for p in paths:
        src = read_source(p, stdin_name)
        findings, df = lint_source(engine, src, attach)
        result.findings.extend(findings)
        result.files.append(src.path)
        result.sources[src.path] = df.lines
    return result


def default_engine(config: Config | None = None) -> Engine:
    return Engine(config or Config())
