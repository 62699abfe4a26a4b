"""The rule engine: the plugin contract, rules and the views of a target they receive, the rule
registry, pragmas, running rules.

What a plugin author needs is importable from here::

    from lintimg.engine import DockerfileTarget, hookimpl, rule, rules_in
"""
from __future__ import annotations

from lintimg.engine.core import Engine
from lintimg.engine.hookspecs import RunInfo, hookimpl
from lintimg.engine.rule import Rule, declared, rule, rules_in
from lintimg.engine.target import ContextTarget, DockerfileTarget, ImageTarget, MappedImageTarget, Subject, Target

__all__ = [
    "ContextTarget", "DockerfileTarget", "Engine", "ImageTarget", "MappedImageTarget", "Rule", "RunInfo", "Subject", "Target",
    "declared", "hookimpl", "rule", "rules_in",
]
