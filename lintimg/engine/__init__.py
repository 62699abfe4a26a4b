"""The rule engine: the plugin contract, rules and their targets, the rule registry, pragmas, running rules."""
from __future__ import annotations

from lintimg.engine.core import Engine

__all__ = ["Engine"]
