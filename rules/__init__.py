"""lintimg's built-in rules, one module per family, loaded through the ``lintimg`` entry point."""
from __future__ import annotations

import importlib
import pkgutil

from lintimg.hookspecs import hookimpl
from lintimg.rule import Rule, rules_in


def _modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{__name__}.{info.name}")


@hookimpl
def lintimg_rules() -> list[Rule]:
    return rules_in(*_modules())


@hookimpl
def lintimg_prepare(targets: list) -> None:
    # ShellCheck (LI390) runs once over the RUN scripts of every target, not once per RUN.
    from lintimg import shellcheck

    shellcheck.prepare(targets)
