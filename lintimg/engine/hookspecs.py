"""The whole plugin contract of lintimg.

A plugin is any module or object with functions named like the hooks below,
marked with :data:`hookimpl`. Plugins are found three ways, all equal:

- the entry-point group ``lintimg`` (the built-in rules and report formats are
  registered this way: ``lintimg.rules`` and ``lintimg.reports``);
- ``--rules-dir DIR`` / ``rules-dirs:`` in config: every ``*.py`` file in DIR;
- ``plugins:`` in config: importable module names (only from a config the user
  trusts, see docs/configuration.md).

``Target.cache`` keys (batch results travel from ``lintimg_prepare`` to the
rules of the same plugin through them; use a key of your own, named for your
plugin):

==================== ==============================================================
key                  holds
==================== ==============================================================
``"notes"``          ``list[str]``: one-line remarks for the report (e.g. "shellcheck
                     not found"); every run collects them, de-duplicated, into
                     :attr:`RunInfo.notes`. Any plugin may append.
``"incomplete"``     ``True`` when this target's results miss something that may work next
                     time (a tool failed or timed out): the run keeps no result of it for
                     later runs (:mod:`lintimg.run.cache`). Any plugin may set it.
``"shellcheck"``     the built-in plugin's ShellCheck comments per RUN
                     (:mod:`lintimg.shellcheck`)
``"shellcheck-batch"`` the background ShellCheck batch a target waits for
``"basefacts"``      the built-in plugin's base-image lookups: ``{"mode", "facts": {(ref,
                     platform): BaseFacts | Unavailable}, "variants": {reference:
                     [BaseFacts]}, "read": {(ref, platform) | None}}``
                     (:mod:`lintimg.image.basefacts`; rules read it with
                     ``lintimg.rules._common.base_lookup``, which adds what was read to
                     ``"read"`` — ``None`` for variants — so that a kept result is reused
                     only while the same lookups give the same answers)
``"fix"``            set by ``lintimg --fix``/``--diff`` before each fix pass:
                     ``"safe"`` or ``"unsafe"`` (``--unsafe-fixes``). A plugin may do
                     costly work for a fix only then (the built-in one reads base
                     images' package databases for unsafe version pins).
``"base-packages"``  the built-in plugin's ``{stage index: {"dpkg"|"apk": {package:
                     version}}}`` of external base images (unsafe fix runs only)
==================== ==============================================================
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from lintimg.config import Config
    from lintimg.engine.rule import Rule
    from lintimg.engine.target import Target
    from lintimg.findings import Finding

PROJECT = "lintimg"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

NOTES = "notes"
INCOMPLETE = "incomplete"
BASEFACTS = "basefacts"
FIX = "fix"


@dataclass
class RunInfo:
    """What a report format receives besides the findings."""

    rules: list[Rule]  # every loaded rule (SARIF lists them)
    files: list[str]  # every file checked, clean ones too
    sources: dict[str, list[str]] = field(default_factory=dict)  # path -> lines, for excerpts
    color: bool = False
    kind: str = "dockerfile"  # "dockerfile" or "image": SARIF category and JSON "kind"
    image: str | None = None  # the image reference for image runs
    tool_version: str = ""
    notes: list[str] = field(default_factory=list)  # one-line remarks (e.g. shellcheck missing)
    quiet: bool = False  # text: the finding lines only (--quiet)
    statistics: bool = False  # text: counts by rule instead of the findings (--statistics)
    # Set when a baseline was applied: {"file", "baselined", "stale"} (reports that have a summary show it).
    baseline: dict[str, Any] | None = None


Reporter = Callable[["list[Finding]", RunInfo], str]


@hookspec
def lintimg_rules() -> list[Rule]:  # type: ignore[empty-body]
    """Return the rules this plugin provides.

    Each rule is made with :func:`lintimg.engine.rule.rule` (or declared by its
    metadata with :func:`lintimg.engine.rule.declared`, to be imported only when
    it runs); ids and slugs must be unique across all plugins (a clash is a
    usage error naming both plugins).
    """


@hookspec
def lintimg_report_formats() -> dict[str, Reporter]:  # type: ignore[empty-body]
    """Return output formats: ``{name: render(findings, run_info) -> str}``."""


@hookspec
def lintimg_secret_spans(texts: list[str]) -> list[list[tuple[int, int]]]:  # type: ignore[empty-body]
    """Return, for each of ``texts``, the ``(start, end)`` spans that hold secret values.

    The redaction layer (:mod:`lintimg.engine.redaction`) calls this with every
    text a report is about to show (messages, fixes, paths, image history,
    notes, whole source files) and masks the spans of every plugin before any
    format sees them; the CLI does the same with its error lines. The built-in
    implementation is :mod:`lintimg.secrets.spans`; a plugin with a detector of
    its own implements this hook, and its spans are masked too.
    """


@hookspec
def lintimg_cache_key(enabled: frozenset[str]) -> str | None:
    """Return what your enabled rules' results depend on beyond the Dockerfile, its build
    context, the configuration and your plugin's own files (a tool's version, say); ``None``
    when nothing.

    ``lintimg check`` reuses a file's earlier findings only while every plugin returns the
    same here (and nothing else they depend on changed: docs/architecture.md, Caches). ``enabled``
    holds the ids of the rules that will run.
    """


@hookspec
def lintimg_prepare(targets: list[Target], enabled: frozenset[str]) -> None:
    """Called once per run with every target, before any rule runs.

    For work that is cheaper in one batch than per file (running ShellCheck
    over every RUN script of the run in one process, say). ``enabled`` holds
    the ids of the rules that will run, so work for a rule that is off can be
    skipped. Store results in ``target.cache`` under a key of your own (see
    the table above); rules read them from there.

    A check over many files may split its targets between processes
    (docs/configuration.md, ``--jobs``) and call this hook once in each, with
    its part: only when every plugin that implements it agrees through
    :func:`lintimg_prepare_splits`. A rule sees one target; anything that looks
    across targets is batch work here.
    """


@hookspec
def lintimg_prepare_splits(config: Config, enabled: frozenset[str]) -> bool:  # type: ignore[empty-body]
    """Return ``True`` when your :func:`lintimg_prepare` may be given a run's targets in parts, one call per
    part (each in a process of its own), and every target still gets what one call with all of them gives it:
    your batch work for a target reads that target alone (ShellCheck over its scripts), not the others.

    A run whose targets some plugin's ``lintimg_prepare`` must see together (a rule about several
    Dockerfiles at once, lookups that share one deadline) is checked in one process: a plugin that
    implements ``lintimg_prepare`` and not this hook, or returns ``False`` for this ``config`` and
    ``enabled`` (the ids of the rules that will run), keeps it so.
    """
