"""One lint run over Dockerfiles: sources -> models -> engine -> findings."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lintimg.config import Config
from lintimg.dockerfile import Dockerfile, DockerfileSyntaxError, parse_dockerfile
from lintimg.dockerfile.sources import DockerfileText, read_source
from lintimg.engine import Engine
from lintimg.engine.target import Target
from lintimg.findings import Finding
from lintimg.run import RunResult

if TYPE_CHECKING:
    from lintimg.context import ContextAttacher


def model_of(src: DockerfileText) -> Dockerfile:
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


def target_of(engine: Engine, src: DockerfileText, context: ContextAttacher | None = None) -> Target:
    """The target of one Dockerfile, with its build context when ``context`` finds one."""
    target = Target(path=src.path, config=engine.config, dockerfile=model_of(src))
    if context is not None:
        target.context = context.for_dockerfile(src.path)
    return target


def lint_source(engine: Engine, src: DockerfileText, context: ContextAttacher | None = None) -> tuple[list[Finding], Dockerfile]:
    """Lint one source on its own (prepare, then the rules)."""
    target = target_of(engine, src, context)
    engine.prepare([target])
    assert target.dockerfile is not None
    return engine.run(target), target.dockerfile


def lint_paths(engine: Engine, paths: list[str], stdin_name: str = "-", context: ContextAttacher | None = None,
               stdin_context: ContextAttacher | None = None) -> RunResult:
    """Lint files; ``context`` finds file targets' build contexts, ``stdin_context`` the one of ``-``."""
    targets = [target_of(engine, read_source(p, stdin_name), stdin_context if p == "-" else context) for p in paths]
    engine.prepare(targets)
    result = RunResult()
    for t in targets:
        assert t.dockerfile is not None
        result.findings.extend(engine.run(t))
        result.add_file(t.path, t.dockerfile.lines)
    result.collect_notes(targets)
    return result


def checked_config(config: Config) -> Config:
    """``config`` after the checks that need a package the config loader cannot load (detector ids)."""
    if (config.settings.get("secrets") or {}).get("detectors"):
        from lintimg.secrets.scanner import check_policy

        check_policy(config.settings["secrets"], config.path or "config")
    return config


def default_engine(config: Config | None = None) -> Engine:
    return Engine(config or Config())
