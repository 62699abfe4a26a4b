"""One lint run over Dockerfiles: sources -> models -> engine -> findings."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lintimg.config import Config
from lintimg.dockerfile.sources import DockerfileText, normalized, read_source, split_lines
from lintimg.engine import Engine
from lintimg.engine.core import rule_crashed
from lintimg.engine.hookspecs import BASEFACTS, INCOMPLETE, NOTES
from lintimg.engine.target import Subject, Target
from lintimg.findings import Finding
from lintimg.records import record
from lintimg.run import RunResult, parallel

if TYPE_CHECKING:
    from lintimg.context import ContextAttacher
    from lintimg.dockerfile import Dockerfile
    from lintimg.run.cache import ResultCache

SETTLE = 1.0  # seconds a thread the first file's batch work started has to end before the rest may be split
PER_FILE = 2000  # a file's fixed cost in a share's weight, in characters of text (model, views, every rule's call)


def model_of(src: DockerfileText) -> Dockerfile:
    """The Dockerfile model of a source; unusable content becomes a parse error at line 1."""
    from lintimg.dockerfile import DockerfileSyntaxError, parse_dockerfile  # not for results from the cache

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
               stdin_context: ContextAttacher | None = None, cache: ResultCache | None = None, jobs: Jobs | None = None) -> RunResult:
    """Lint files; ``context`` finds file targets' build contexts, ``stdin_context`` the one of ``-``.

    With ``cache``, a file whose findings an earlier run kept (and whose build context still
    reads the same) is not checked again, and the findings of the files checked are kept.
    ``jobs``: how many processes the files to lint may be split between (:mod:`lintimg.run.parallel`).
    """
    return lint_sources(engine, [(read_source(p, stdin_name), stdin_context if p == "-" else context) for p in paths], cache, jobs)


def lint_sources(engine: Engine, sources: list[tuple[DockerfileText, ContextAttacher | None]],
                 cache: ResultCache | None = None, jobs: Jobs | None = None) -> RunResult:
    """Lint Dockerfile texts already read (``--fix`` lints what it wrote), each with what finds its build
    context; ``cache`` and ``jobs`` as in :func:`lint_paths`."""
    found: list[tuple[list[Finding], list[str]] | None] = [None] * len(sources)
    keys: list[str | None] = [None] * len(sources)
    if cache is not None:
        for i, (src, attach) in enumerate(sources):
            keys[i] = key = cache.key(src, attach)
            found[i] = cache.get(key)
    todo = [i for i, f in enumerate(found) if f is None]
    if todo:
        for i, checked in _checked(engine, sources, todo, keys, cache, jobs).items():
            found[i] = checked
    result = RunResult()
    for (src, _), done in zip(sources, found):
        assert done is not None
        findings, notes = done
        result.findings.extend(findings)
        result.add_file(src.path, split_lines(normalized(src.text or "")))
        result.add_notes(notes)
    return result


def checked_config(config: Config) -> Config:
    """``config`` after the checks that need a package the config loader cannot load (detector ids)."""
    if (config.settings.get("secrets") or {}).get("detectors"):
        from lintimg.secrets.scanner import check_policy

        check_policy(config.settings["secrets"], config.path or "config")
    return config


@record
class Jobs:
    """How a check may split its files between processes: at most ``processes`` (``--jobs``; ``None``: as many as
    :func:`lintimg.run.parallel.processes` finds), and the caller's state each worker changes (``carry``)."""

    processes: int | None = None
    carry: parallel.Carrier[Any] | None = None


Checked = dict[int, tuple[list[Finding], list[str]]]  # source index -> findings, notes


def _checked(engine: Engine, sources: list[tuple[DockerfileText, ContextAttacher | None]], todo: list[int],
             keys: list[str | None], cache: ResultCache | None, jobs: Jobs | None) -> Checked:
    """The findings and notes of the sources at ``todo``, in one process or split between several."""
    plan = _plan(engine, sources, todo, jobs)
    if plan is None:
        return _check(engine, sources, todo, keys, cache)[0]
    out: Checked = {}
    if not engine.imported({Subject.DOCKERFILE, Subject.CONTEXT}):
        # A fresh process: the first files (the lightest build context's: they are checked alone) import the rule
        # modules and compile what they use, here, once, for the workers to share. Its ShellCheck batch is ending (it waited for it): a
        # thread still running after that keeps the rest here too.
        first, _ = min(_groups(sources, todo), key=lambda g: g[1])
        out.update(_check(engine, sources, first, keys, cache)[0])
        todo = [i for i in todo if i not in first]
        plan = _plan(engine, sources, todo, jobs, SETTLE)
        if plan is None:
            out.update(_check(engine, sources, todo, keys, cache)[0])
            return out

    def work(share: list[int]) -> tuple[Checked, dict[str, Any]]:
        return _check(engine, sources, share, keys, cache)

    def away(share: list[int]) -> list[tuple[int, DockerfileText, bool, str | None]] | None:
        """A share as a helper checks it (:func:`help_check`): each file's index, text, whether it has the files' build
        context, and its results-cache key, by which the helper checks that it sees what this run sees."""
        if cache is None or any(sources[i][0].path == "-" for i in share):
            return None
        return [(i, sources[i][0], sources[i][1] is not None, keys[i]) for i in share]

    for checked, kept in parallel.run(plan, work, lambda share: [sources[i][0].path for i in share], jobs.carry if jobs else None, away):
        out.update(checked)
        if cache is not None:
            cache.adopt(kept)
    return out


def _plan(engine: Engine, sources: list[tuple[DockerfileText, ContextAttacher | None]], todo: list[int],
          jobs: Jobs | None, settle: float = 0.0) -> list[list[int]] | None:
    """The shares of ``todo`` for the processes of a split check, or ``None`` to check them here, in one (see
    :mod:`lintimg.run.parallel`), each build context's Dockerfiles in one (:func:`_groups`)."""
    if len(todo) < 2 * parallel.MIN_FILES:
        return None
    processes = min(parallel.processes(jobs.processes if jobs else parallel.requested(None)), len(todo) // parallel.MIN_FILES)
    if processes < 2 or not parallel.can_fork(settle) or not engine.prepare_splits():
        return None
    plan = parallel.shares(_groups(sources, todo), processes)
    return plan if len(plan) > 1 else None


def _groups(sources: list[tuple[DockerfileText, ContextAttacher | None]], todo: list[int]) -> list[tuple[list[int], int]]:
    """The sources at ``todo`` by build context (Dockerfiles of one share its walk), each group with its weight: its
    texts, plus a fixed cost per file."""
    members: dict[object, list[int]] = {}
    weights: dict[object, int] = {}
    for i in todo:
        src, attach = sources[i]
        root = attach.root_of(src.path)[0] if attach is not None else None
        members.setdefault(root or i, []).append(i)
        weights[root or i] = weights.get(root or i, 0) + len(src.text or "") + PER_FILE
    return [(group, weights[key]) for key, group in members.items()]


def _check(engine: Engine, sources: list[tuple[DockerfileText, ContextAttacher | None]], todo: list[int],
           keys: list[str | None], cache: ResultCache | None) -> tuple[Checked, dict[str, Any]]:
    """Run the rules on the sources at ``todo`` (prepare, then each target), keeping what they find in ``cache``:
    their findings and notes, and what the cache knows of their entries (:meth:`ResultCache.kept`)."""
    found: Checked = {}
    recorder = None
    if cache is not None:
        from lintimg.context.observe import Observations, Recorder

        recorder = Recorder()
        for attach in {id(a): a for _, a in sources if a is not None}.values():
            attach.recorder = recorder
    targets = [target_of(engine, *sources[i]) for i in todo]
    if recorder is None:
        engine.prepare(targets)
        for i, t in zip(todo, targets):
            found[i] = engine.run(t), list(t.cache.get(NOTES, ()))
        return found, {}
    assert cache is not None
    from lintimg.run.cache import base_probes

    observed = [Observations() for _ in targets]
    with recorder.into(*observed):  # batch work may read any target's context: every target depends on it
        engine.prepare(targets)
    kept: list[tuple[str, list[Finding], list[str], Observations]] = []
    for i, t, obs in zip(todo, targets, observed):
        with recorder.into(obs):
            findings = engine.run(t)
        notes = list(t.cache.get(NOTES, ()))
        found[i] = findings, notes
        key = keys[i]
        # A crash, or a plugin's "incomplete" (ShellCheck failed), may not happen next time: such a result is not kept.
        if key is None or obs.volatile or t.cache.get(INCOMPLETE) or any(f.rule_id == rule_crashed.id for f in findings):
            continue
        looked_up = base_probes(t.cache.get(BASEFACTS))  # what rules read of base images, asked again before reuse
        if looked_up is not None:
            obs.probes.update(looked_up)
            kept.append((key, findings, notes, obs))
    cache.put_all(kept)
    return found, cache.kept([keys[i] for i in todo])


def help_check(engine: Engine, context: ContextAttacher | None, cache: ResultCache | None, channel: Any) -> None:
    """In the resident server's helper process: check the share of files a run hands over (``_checked``'s ``away``)
    with this engine, build contexts and results cache, set up from the run's command line (docs/daemon.md).
    A file whose key differs from the run's (its text, or the configuration, changed between the two reads) makes
    the whole share the run's own again."""
    def work(rows: list[tuple[int, DockerfileText, bool, str | None]]) -> tuple[bool, Any, Any] | None:
        if cache is None:
            return None
        sources = [(src, context if attached else None) for _, src, attached, _ in rows]
        keys: list[str | None] = [cache.key(src, attach) for src, attach in sources]
        if keys != [key for _, _, _, key in rows]:
            return None
        checked, kept = _check(engine, sources, list(range(len(rows))), keys, cache)
        return True, ({rows[i][0]: found for i, found in checked.items()}, kept), None

    parallel.serve_share(channel, work)


def default_engine(config: Config | None = None) -> Engine:
    return Engine(config or Config())
