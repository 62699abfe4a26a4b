"""The rule engine: the run's plugins and rule registry, batch preparation, and running rules on a target."""
from __future__ import annotations

import sys
from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from lintimg import cachefiles, limits
from lintimg.config import Config
from lintimg.engine import hookspecs
from lintimg.engine.hookspecs import Reporter
from lintimg.engine.plugins import BUILTIN, add_configured, base_manager, code_stamp
from lintimg.engine.redaction import plugin_finder, protect
from lintimg.engine.registry import Registry
from lintimg.engine.rule import Rule, RuleFunc, rule
from lintimg.engine.target import DockerfileTarget, RuleTarget, Subject, Target
from lintimg.errors import LintimgError
from lintimg.findings import Finding, Hit, Location, Safety, Severity
from lintimg.redaction import Redactor

if TYPE_CHECKING:
    import pluggy

    from lintimg.dockerfile import Dockerfile, Instruction  # types only: a kept run loads no model


@rule("LI002", "rule-crashed", Severity.ERROR, tags=("meta",))
def rule_crashed(t: DockerfileTarget) -> Iterable[Hit]:
    """A rule raised an exception; its results for this file are missing.

    ## What it does
    Reports, in place of the rule's results, that a rule failed with an
    exception, naming the rule and the exception.

    ## Why it matters
    A crash must not pass for a clean result: the run goes on with the
    other rules, and this finding makes the gap visible (and fails the run
    at the default threshold).

    ## Example
    A third-party rule that indexes past the end of a list.

    ## Fix
    Report the bug to the rule's author, or turn the rule off in config.
    """
    return ()


@rule("LI003", "unknown-rule-in-pragma", Severity.WARNING, tags=("meta",))
def unknown_rule_in_pragma(t: DockerfileTarget) -> Iterable[Hit]:
    """A `# lintimg ignore=` pragma names a rule that does not exist.

    ## What it does
    Flags ids and slugs in lintimg pragmas that match no loaded rule.

    ## Why it matters
    A typo in a suppression silently suppresses nothing, or hides that a
    rule was renamed.

    ## Example
    ```dockerfile
    # lintimg ignore=LI9999
    RUN apt-get install -y curl
    ```

    ## Fix
    Use an id or slug that `lintimg rules` lists.
    """
    return ()


ENGINE_RULES = (rule_crashed, unknown_rule_in_pragma)
BUILTIN_REPORTS = next(name for name, module in BUILTIN.items() if module == "lintimg.reports")


_ENGINE_PLUGIN = "lintimg-engine"


class _EnginePlugin:
    """The engine's own rules travel the same hook as everyone else's."""

    @hookspecs.hookimpl
    def lintimg_rules(self) -> list[Rule]:
        return list(ENGINE_RULES)


def _where(e: BaseException) -> tuple[str, int | None]:
    """The file name and line an exception was raised at."""
    import traceback  # only when something went wrong

    frame = traceback.extract_tb(e.__traceback__)[-1]
    return Path(frame.filename).name, frame.lineno


def _loaded(r: Rule) -> Rule:
    """``r`` with its function; a rule module that fails to import is a setup error, like a plugin's."""
    try:
        return r.loaded()
    except LintimgError:
        raise
    except Exception as e:
        name, line = _where(e)
        raise LintimgError(f"plugin {name}:{line} failed to provide rule {r.id}: {type(e).__name__}: {e}") from None


def _check_of(r: Rule) -> RuleFunc:
    """``r``'s function, called directly: the engine calls thousands of checks in a run."""
    func = _loaded(r).func
    assert func is not None  # a loaded rule has its function
    return func


def instruction_anchor(df: Dockerfile, ins: Instruction) -> str:
    """``<stage>\x1f<digest>``: the stage's name (its index when unnamed) and a digest of the instruction's text
    with continuations, comments and runs of whitespace folded, heredoc bodies included. A digest, not the text:
    the text may hold a secret, and findings are kept on disk (the results cache)."""
    stage = df.stages[ins.stage_index] if ins.stage_index is not None and 0 <= ins.stage_index < len(df.stages) else None
    label = (stage.name or str(stage.index)) if stage is not None else ""
    words = [ins.keyword, *(f.token.text for f in ins.flags), ins.args_text, *(h.content for h in ins.heredocs)]
    return label + "\x1f" + cachefiles.digest(" ".join(" ".join(words).split()).encode("utf-8", "surrogatepass"))[:32]


# The base plugin manager and its code stamp, made ahead of any request by the resident server
# (:func:`ready_plugins`) and taken by the first engine of a served child: both are functions of installed
# code alone, which the server's key proves unchanged. At most one: a second engine builds its own.
_ready: list[tuple[pluggy.PluginManager, str]] = []


def ready_plugins() -> None:
    """Build the base plugin manager and its code stamp now, for the first :class:`Engine` of this process
    (the resident server's warm-up; each child it forks takes its own copy). Not when a third-party plugin is
    installed: the server key covers lintimg's code, not the plugin's, so each child loads it afresh."""
    from lintimg.distributions import entry_points

    if any(not value.startswith("lintimg.") for _, value in entry_points(hookspecs.PROJECT)):
        return
    pm = base_manager([(_ENGINE_PLUGIN, _EnginePlugin())])
    _ready[:] = [(pm, code_stamp(pm))]


class Engine:
    """The plugins and rules of one run (``rules_dirs``: ``--rules-dir`` folders besides the config's)."""

    def __init__(self, config: Config, rules_dirs: Iterable[str] = ()):
        self.config = config
        ready = _ready.pop() if _ready else None
        self.pm = ready[0] if ready else base_manager([(_ENGINE_PLUGIN, _EnginePlugin())])
        self._stamp: str | None = ready[1] if ready else None
        if add_configured(self.pm, config, rules_dirs):
            self._stamp = None  # more code than the base's
        try:
            provided = self.pm.hook.lintimg_rules()
        except Exception as e:  # a plugin whose rule module fails to build is a setup error
            name, line = _where(e)
            raise LintimgError(f"plugin {name}:{line} failed to provide its rules: {type(e).__name__}: {e}") from None
        self.registry = Registry((r for plugin_rules in provided for r in plugin_rules), config)
        # Each rule's check by id, its module imported on first use: every target asks for it again.
        self._checks: dict[str, RuleFunc] = {}

    @property
    def rules(self) -> list[Rule]:
        return self.registry.rules

    def rule(self, key: str) -> Rule | None:
        return self.registry.get(key)

    def report_formats(self) -> dict[str, Reporter]:
        """Every output format the plugins provide (the built-in ones come through the same hook).

        A plugin's format replaces a built-in one of the same name, whatever order the plugins load in.
        Each renders what the redaction layer lets through (:func:`lintimg.engine.redaction.protect`).
        """
        out: dict[str, Reporter] = {}
        impls = self.pm.hook.lintimg_report_formats.get_hookimpls()  # in registration order
        for impl in sorted(impls, key=lambda i: i.plugin_name != BUILTIN_REPORTS):
            out.update(cast("dict[str, Reporter]", impl.function()))  # the hookspec's return type
        return {name: self._protected(render) for name, render in out.items()}

    @property
    def redactor(self) -> Redactor:
        """Masks what every plugin's ``lintimg_secret_spans`` finds (the built-in detectors included)."""
        return Redactor([plugin_finder(self.pm)])

    def _protected(self, render: Reporter) -> Reporter:
        def shown(findings: list[Finding], info: hookspecs.RunInfo) -> str:
            return render(*protect(findings, info, self.redactor))

        return shown

    def cache_key(self) -> list[object]:
        """What every result of this engine depends on besides its target: the code (lintimg, the
        plugins, installed distributions), the configuration, which rules run at which severity,
        and what the plugins say their rules depend on (``lintimg_cache_key``)."""
        return [
            self._stamp if self._stamp is not None else code_stamp(self.pm),
            repr(self.config),
            self.registry.state(),
            self.pm.hook.lintimg_cache_key(enabled=self.registry.enabled_ids),
        ]

    def prepare(self, targets: list[Target], only: frozenset[str] | None = None) -> None:
        """Let plugins do batch work over all targets of a run (see ``lintimg_prepare``); ``only``: as in :meth:`run`."""
        enabled = self.registry.enabled_ids if only is None else self.registry.enabled_ids & only
        self.pm.hook.lintimg_prepare(targets=targets, enabled=enabled)

    def imported(self, subjects: set[Subject]) -> bool:
        """Whether the modules of the rules that run on ``subjects`` are imported (the resident server imports them
        before any request; a fresh process imports them, and compiles what they use, on its first target)."""
        return all(r.func is not None or r.module in sys.modules for r in self.registry.running(subjects))

    def prepare_splits(self) -> bool:
        """Whether the run's targets may be prepared in parts, one process each (:mod:`lintimg.run.parallel`): every
        plugin with batch work (``lintimg_prepare``) says, through ``lintimg_prepare_splits``, that it may."""
        hook = self.pm.hook
        batch = {impl.plugin_name for impl in hook.lintimg_prepare.get_hookimpls()}
        if not batch <= {impl.plugin_name for impl in hook.lintimg_prepare_splits.get_hookimpls()}:
            return False
        return all(hook.lintimg_prepare_splits(config=self.config, enabled=self.registry.enabled_ids))

    def run(self, target: Target, only: frozenset[str] | None = None) -> list[Finding]:
        """The findings of every enabled rule on ``target`` (of the enabled rules in ``only``, when given:
        the fix passes run just the rules that can fix something)."""
        registry = self.registry
        df = target.dockerfile
        sup = None  # pragmas live in Dockerfiles: an image alone has none (nor loads the comment parser)
        if df is not None:
            from lintimg.engine.pragmas import Suppressions, read_suppressions  # with the model: only when rules run

            sup = read_suppressions(df, registry)
            if self.config.disable_ignore_pragma:
                sup = Suppressions(unknown=sup.unknown, shell=sup.shell)
        starts = [i.pos.line for i in df.instructions] if df is not None else []
        anchors: dict[int, str] = {}
        findings: list[Finding] = []

        def emit(r: Rule, hit: Hit) -> None:
            path = hit.path or target.path
            line = hit.line or 1
            ins_idx = stage_idx = None
            anchor = None
            if df is not None and hit.path in (None, target.path) and starts:
                i = bisect_right(starts, line) - 1
                if i >= 0 and df.instructions[i].pos.line <= line <= df.instructions[i].pos.end_line:
                    ins_idx, stage_idx = i, df.instructions[i].stage_index
                    anchor = anchors.get(i)
                    if anchor is None:
                        anchor = anchors[i] = instruction_anchor(df, df.instructions[i])
            if sup is not None and sup.suppressed(r.id, ins_idx, stage_idx):
                return
            severity = registry.hit_severity(r.id, hit)
            if severity is None:  # a single code of a family rule (SC2086 of LI390) turned off
                return
            edits, safety = hit.edits, hit.safety
            if edits and safety not in r.fixable:
                # A fix the rule does not declare: unsafe when it declares unsafe ones, else not offered.
                edits, safety = (edits, Safety.UNSAFE) if Safety.UNSAFE in r.fixable else ((), safety)
            findings.append(
                Finding(
                    rule_id=r.id,
                    slug=r.slug,
                    severity=severity,
                    message=hit.message,
                    location=Location(path, line, hit.column or 1, hit.end_line, hit.end_column),
                    fix=hit.fix,
                    image=hit.image,
                    key=hit.key,
                    properties=hit.properties,
                    target=target.path,
                    anchor=anchor,
                    edits=edits,
                    safety=safety,
                )
            )

        views: dict[Subject, RuleTarget] = {}
        for r in registry.running(target.subjects):
            limits.check_clock()  # the run's deadline, or a signal to stop
            if only is not None and r.id not in only:
                continue
            view = views.get(r.subject) or views.setdefault(r.subject, target.view(r.subject))
            check = self._checks.get(r.id) or self._checks.setdefault(r.id, _check_of(r))
            try:
                hits = list(check(view))
            except limits.Stopped:
                raise  # a signal or the deadline, raised while the rule ran: the run ends, the rule did nothing wrong
            except Exception as e:  # noqa: BLE001 - a rule bug must not end the run
                name, line = _where(e)
                emit(rule_crashed, Hit(f"rule {r.id} ({r.slug}) crashed: {type(e).__name__}: {e} at {name}:{line}", line=1))
                continue
            for hit in hits:
                emit(r, hit)
        # A stop the last rule swallowed (its own ``except Exception`` around the call the signal interrupted) is
        # not waited out: the next check of the clock may be after a long wait for another process.
        limits.check_clock()
        if sup is not None and registry.enabled(unknown_rule_in_pragma.id) and only is None:
            for line, raw in sup.unknown:
                emit(unknown_rule_in_pragma, Hit(f"unknown rule {raw!r} in ignore pragma", line=line))
        findings.sort(key=Finding.sort_key)
        return findings
