"""Writes rules/_index.py from the rule modules: ``python -m lintimg.rules._build_index`` (from the repository root)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import lintimg.rules
from lintimg.engine.rule import Rule, rules_in

REGENERATE = "python -m lintimg.rules._build_index"


def rule_modules() -> list[str]:
    """Every rule module of the package (dotted, relative to it), private helpers (``_name``) left out."""
    out = []
    prefix = "lintimg.rules."
    for info in pkgutil.walk_packages(lintimg.rules.__path__, prefix=prefix):
        name = info.name.removeprefix(prefix)
        if not any(part.startswith("_") for part in name.split(".")) and not info.ispkg:
            out.append(name)
    return sorted(out)


def all_rules() -> list[tuple[str, Rule]]:
    return [(m, r) for m in rule_modules() for r in rules_in(importlib.import_module(f"lintimg.rules.{m}"))]


def render() -> str:
    rows = []
    for module, r in sorted(all_rules(), key=lambda mr: mr[1].id):
        rows.append(f"    ({r.id!r}, {r.slug!r}, {str(r.severity)!r}, {r.subject.value!r}, {module!r}, {r.tags!r}, {r.peers!r}, "
                    f"{r.security_severity!r}, {r.enabled_by_default!r}, {tuple(str(k) for k in r.fixable)!r}),")
    return (
        '"""Every built-in rule by its metadata and module, so a run imports only the modules it runs.\n\n'
        f"Generated from the rule modules by ``{REGENERATE}``; do not edit.\n"
        '"""\n'
        "from __future__ import annotations\n\n"
        "# (id, slug, severity, subject, module, tags, peers, security severity, on by default, fix kinds)\n"
        "RULES: tuple[tuple[str, str, str, str, str, tuple[str, ...], tuple[str, ...], float | None, bool, tuple[str, ...]], ...] = (\n"
        + "\n".join(rows) + "\n)\n"
    )


def main() -> int:
    Path(lintimg.rules.__path__[0], "_index.py").write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
