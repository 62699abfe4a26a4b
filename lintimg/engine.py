"""The rule engine: loads plugins through pluggy and runs the rules a target has subjects for."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from bisect import bisect_right
from pathlib import Path
from typing import Iterable

import pluggy

from lintimg import hookspecs
from lintimg.config import Config, _suggest
from lintimg.errors import LintimgError
from lintimg.findings import Finding, Hit, Location, Severity
from lintimg.pragmas import RuleIndex, Suppressions, read_suppressions
from lintimg.rule import Rule, Subject, rule
from lintimg.target import Target


@rule("LI002", "rule-crashed", Severity.ERROR, tags=("meta",))
def rule_crashed(t: Target) -> Iterable[Hit]:
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
def unknown_rule_in_pragma(t: Target) -> Iterable[Hit]:
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


class _EnginePlugin:
    """The engine's own rules travel the same hook as everyone else's."""

    @hookspecs.hookimpl
    def lintimg_rules(self) -> list[Rule]:
        return list(ENGINE_RULES)


def _load_file_module(path: Path):
    name = f"lintimg_local_rules.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LintimgError(f"{path}: cannot load rule module")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # a broken plugin file is bad input, not a crash
        raise LintimgError(f"{path}: cannot load rule module: {type(e).__name__}: {e}") from None
    return mod


def make_plugin_manager(config: Config, rules_dirs: Iterable[str] = ()) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(_EnginePlugin(), name="lintimg-engine")
    try:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    except Exception as e:  # a broken third-party plugin is a setup error, not a crash
        raise LintimgError(f"cannot load a plugin of entry-point group 'lintimg': {type(e).__name__}: {e}") from None
    if pm.get_plugin("builtin") is None:
        # Running from a source tree without installed metadata: same module, same path.
        pm.register(importlib.import_module("lintimg.rules"), name="builtin")
    for modname in config.plugins:
        try:
            pm.register(importlib.import_module(modname), name=modname)
        except ImportError as e:
            raise LintimgError(f"{config.path}: cannot import plugin {modname!r}: {e}") from None
    for d in [*config.rules_dirs, *rules_dirs]:
        folder = Path(d)
        if not folder.is_dir():
            raise LintimgError(f"{d}: rules directory not found")
        for f in sorted(folder.glob("*.py")):
            pm.register(_load_file_module(f), name=f"rules-dir:{f}")
    return pm


class Engine:
    def __init__(self, config: Config, rules_dirs: Iterable[str] = ()):
        self.config = config
        self.pm = make_plugin_manager(config, rules_dirs)
        self.rules: list[Rule] = []
        seen: dict[str, str] = {}
        try:
            provided = self.pm.hook.lintimg_rules()
        except Exception as e:  # a plugin whose rule module fails to build is a setup error
            where = traceback.extract_tb(e.__traceback__)[-1]
            raise LintimgError(
                f"plugin {Path(where.filename).name}:{where.lineno} failed to provide its rules: {type(e).__name__}: {e}"
            ) from None
        for plugin_rules in provided:
            for r in plugin_rules:
                for key in (r.id, r.slug):
                    if key in seen:
                        raise LintimgError(f"rule {key!r} is defined twice (by {seen[key]} and {r.func.__module__})")
                    seen[key] = r.func.__module__
                self.rules.append(r)
        self.rules.sort(key=lambda r: r.id)
        self.index = RuleIndex(self.rules)
        self._apply_config()

    def _apply_config(self) -> None:
        self.enabled: dict[str, bool] = {r.id: r.enabled_by_default for r in self.rules}
        self.severity: dict[str, Severity] = {r.id: r.severity for r in self.rules}
        for key, setting in self.config.rules.items():
            r = self.index.ours(key)
            if r is None:
                keys = [k for r2 in self.rules for k in (r2.id, r2.slug)]
                raise LintimgError(f"{self.config.path}: unknown rule {key!r} in 'rules'{_suggest(key, keys)}")
            if setting.enabled is not None:
                self.enabled[r.id] = setting.enabled
            if setting.severity is not None:
                self.severity[r.id] = setting.severity

    def report_formats(self) -> dict:
        out: dict = {}
        for formats in self.pm.hook.lintimg_report_formats():
            out.update(formats)
        return out

    def rule(self, key: str) -> Rule | None:
        return self.index.ours(key)

    def prepare(self, targets: list[Target]) -> None:
        """Let plugins do batch work over all targets of a run (see ``lintimg_prepare``)."""
        self.pm.hook.lintimg_prepare(targets=targets)

    def run(self, target: Target) -> list[Finding]:
        have = target.subjects
        df = target.dockerfile
        sup = read_suppressions(df, self.index) if df is not None else Suppressions()
        if self.config.disable_ignore_pragma:
            sup = Suppressions(unknown=sup.unknown, shell=sup.shell)
        starts = [i.pos.line for i in df.instructions] if df is not None else []
        findings: list[Finding] = []

        def emit(r: Rule, hit: Hit) -> None:
            path = hit.path or target.path
            line = hit.line or 1
            ins_idx = stage_idx = None
            if df is not None and hit.path in (None, target.path) and starts:
                i = bisect_right(starts, line) - 1
                if i >= 0 and df.instructions[i].pos.line <= line <= df.instructions[i].pos.end_line:
                    ins_idx, stage_idx = i, df.instructions[i].stage_index
            if sup.suppressed(r.id, ins_idx, stage_idx):
                return
            findings.append(
                Finding(
                    rule_id=r.id,
                    slug=r.slug,
                    severity=self.severity[r.id],
                    message=hit.message,
                    location=Location(path, line, hit.column or 1, hit.end_line, hit.end_column),
                    fix=hit.fix,
                    image=hit.image,
                    key=hit.key,
                    properties=hit.properties,
                )
            )

        for r in self.rules:
            if not self.enabled[r.id] or r.subject not in have:
                continue
            try:
                hits = list(r.check(target))
            except Exception as e:  # noqa: BLE001 - a rule bug must not end the run
                frame = traceback.extract_tb(e.__traceback__)[-1]
                emit(
                    rule_crashed,
                    Hit(f"rule {r.id} ({r.slug}) crashed: {type(e).__name__}: {e} at {Path(frame.filename).name}:{frame.lineno}", line=1),
                )
                continue
            for hit in hits:
                emit(r, hit)
        if self.enabled[unknown_rule_in_pragma.id]:
            for line, raw in sup.unknown:
                emit(unknown_rule_in_pragma, Hit(f"unknown rule {raw!r} in ignore pragma", line=line))
        findings.sort(key=Finding.sort_key)
        return findings
