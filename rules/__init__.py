"""lintimg's built-in rules, one module per family, registered through the ``lintimg`` entry point.

The hooks hand the engine every rule by its metadata from :mod:`._index`
(generated from the modules; ``tests/rules/test_index.py`` fails while it is
stale), so a run imports only the modules of the rules it runs: a
Dockerfile-only run never loads the image or build-context rules.
"""
from __future__ import annotations

from functools import cache

from lintimg.config import Config
from lintimg.engine.hookspecs import FIX, hookimpl
from lintimg.engine.rule import Rule, declared
from lintimg.engine.target import Subject, Target
from lintimg.findings import Safety, Severity

# Rules that read base-image facts, each with the setting without which it needs none. LI702 and LI705 are on by
# default, so they look only when lookups are asked for (base-image-lookup, or LINTIMG_BASE_IMAGE_LOOKUP): a
# default Dockerfile-only run then loads no image code and touches neither engine nor cache.
BASEFACT_RULES = {"LI630": "max-base-image-size", "LI905": "allowed-users", "LI702": "base-image-lookup", "LI705": "base-image-lookup",
                  "LI213": "base-image-lookup", "LI206": "base-image-lookup", "LI364": "base-image-lookup"}


@hookimpl
def lintimg_rules() -> list[Rule]:
    return list(_declared())


@cache
def _declared() -> tuple[Rule, ...]:
    """The built-in rules by their metadata (frozen records of the generated index: built once per process; the
    resident server builds them before any request)."""
    from lintimg.rules._index import RULES

    return tuple(
        declared(rid, slug, Severity.parse(severity), Subject(subject), f"{__name__}.{module}", tags=tags, peers=peers,
                 security_severity=security_severity, enabled_by_default=on, fixable=[Safety(k) for k in fixes])
        for rid, slug, severity, subject, module, tags, peers, security_severity, on, fixes in RULES
    )


@hookimpl
def lintimg_cache_key(enabled: frozenset[str]) -> str | None:
    # LI390's findings are ShellCheck's: a different ShellCheck (or none) may find otherwise.
    if "LI390" in enabled:
        from lintimg import shellcheck

        return shellcheck.identity()
    return None


@hookimpl
def lintimg_prepare(targets: list[Target], enabled: frozenset[str]) -> None:
    # ShellCheck (LI390) runs once over the RUN scripts of every target, not once per RUN.
    if "LI390" in enabled:
        from lintimg import shellcheck

        shellcheck.prepare(targets)
    # Base-image facts (engine, cache, registry) for the rules that read them, only when their setting is on.
    if targets and _looks_up_bases(targets[0], enabled):
        from lintimg.rules._common import prepare_base_facts

        prepare_base_facts(targets, enabled)
    # Unsafe version pins read the base images' package databases: only in a fix run that may apply them.
    unsafe = [t for t in targets if t.cache.get(FIX) == "unsafe" and t.dockerfile is not None]
    if unsafe and enabled & {"LI300", "LI310"}:
        from lintimg.rules._basepackages import prepare_base_packages

        prepare_base_packages(unsafe)


@hookimpl
def lintimg_prepare_splits(config: Config, enabled: frozenset[str]) -> bool:
    # ShellCheck's batch and the unsafe pins' package databases are per target. Base-image lookups are not: one batch
    # for the whole run within one deadline, each image asked once (of the engine or a registry).
    return not _looks_up_bases(Target(path="", config=config), enabled)


def _looks_up_bases(t: Target, enabled: frozenset[str]) -> bool:
    """Whether this run looks up base-image facts: a rule that reads them runs and its setting is on (the settings
    are the run's: any target tells). The helpers (rules._common: the shell parser, package vocabularies; ~40 ms
    of imports) load only when such a rule runs."""
    if enabled.isdisjoint(BASEFACT_RULES):
        return False
    from lintimg.rules._common import wants_facts

    return any(rid in enabled and wants_facts(t, key) for rid, key in BASEFACT_RULES.items())
