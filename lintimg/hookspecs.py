"""The whole plugin contract of lintimg.

A plugin is any module or object with functions named like the hooks below,
marked with :data:`hookimpl`. Plugins are found three ways, all equal:

- the entry-point group ``lintimg`` (the built-in rules are registered this way);
- ``--rules-dir DIR`` / ``rules-dirs:`` in config: every ``*.py`` file in DIR;
- ``plugins:`` in config: importable module names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    from lintimg.findings import Finding
    from lintimg.reports import RunInfo
    from lintimg.rule import Rule
    from lintimg.target import Target

PROJECT = "lintimg"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Reporter = Callable[["list[Finding]", "RunInfo"], str]


@hookspec
def lintimg_rules() -> "list[Rule]":
    """Return the rules this plugin provides.

    Each rule is made with :func:`lintimg.rule.rule`; ids must be unique across
    all plugins (a clash is a usage error naming both plugins).
    """


@hookspec
def lintimg_report_formats() -> "dict[str, Reporter]":
    """Return extra output formats: ``{name: render(findings, run_info) -> str}``."""


@hookspec
def lintimg_prepare(targets: "list[Target]") -> None:
    """Called once per run with every target, before any rule runs.

    For work that is cheaper in one batch than per file (running ShellCheck
    over every RUN script of the run in one process, say). Store results in
    ``target.cache`` under a key of your own; rules read them from there.
    """
