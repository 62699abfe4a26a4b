"""Fix specs: the exact text ``--fix`` makes of a Dockerfile, written out by hand.

    def test_yes():
        fixes_to("FROM a:1\\nRUN apt-get install x\\n", "FROM a:1\\nRUN apt-get install -y x\\n", only="LI302")
"""
from __future__ import annotations

from typing import Any

from lintimg.run.fix import FileFix, Source, fix_source
from tests.rulespec import engine, lint


def run_fix(text: str, *, unsafe: bool = False, only: str | None = None, config: dict[str, Any] | None = None) -> FileFix:
    """Fix ``text`` (only rule ``only``'s fixes when given); no fix may be refused or leave its finding."""
    cfg = dict(config or {})
    if only is not None:
        cfg["rules"] = {**{r.id: "off" for r in engine().rules if r.fixable and r.id != only}, **cfg.get("rules", {})}
    result = fix_source(engine(cfg), Source("Dockerfile", text), unsafe=unsafe)
    assert not result.problems, result.problems
    return result


def fixes_to(text: str, expected: str, *, unsafe: bool = False, only: str | None = None, config: dict[str, Any] | None = None) -> FileFix:
    """Assert ``text`` is fixed to exactly ``expected``, and that fixing that again changes nothing."""
    result = run_fix(text, unsafe=unsafe, only=only, config=config)
    assert result.fixed == expected, f"fixed to:\n{result.fixed!r}\nexpected:\n{expected!r}"
    again = run_fix(expected, unsafe=unsafe, only=only, config=config)
    assert again.fixed == expected and not again.applied, f"a second --fix changed it again:\n{again.fixed!r}"
    return result


def not_fixed(text: str, rule: str, *, unsafe: bool = False, config: dict[str, Any] | None = None) -> None:
    """Assert ``rule`` reports on ``text`` and its finding has no fix (of the kind asked for)."""
    found = [f for f in lint(text, config) if f.rule_id == rule]
    assert found, f"{rule} did not report on:\n{text}"
    result = run_fix(text, unsafe=unsafe, only=rule, config=config)
    assert result.fixed == text, f"{rule} was fixed although it should not be:\n{result.fixed}"
