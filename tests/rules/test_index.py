"""The rule modules, read as source (no engine loaded): ids in their module's range and unique,
one test module per rule module, and the generated index the engine loads rules from is current."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
ENGINE_RULES = REPO / "lintimg" / "engine" / "core.py"


def rule_modules() -> list[Path]:
    """Every rule module (private helpers, ``_name``, and package ``__init__`` files left out)."""
    return sorted(p for p in RULES.rglob("*.py") if not any(part.startswith("_") for part in p.relative_to(RULES).parts))


def declared(path: Path) -> tuple[list[tuple[str, str, int]], str | None]:
    """``([(id, slug, line)], ID_RANGE)`` of a module, from its ``@rule(...)`` decorators."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, id_range = [], None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rule" and len(node.args) >= 2:
            rid, slug = node.args[0], node.args[1]
            assert isinstance(rid, ast.Constant) and isinstance(slug, ast.Constant), f"{path}:{node.lineno}: id and slug must be literals"
            found.append((rid.value, slug.value, node.lineno))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ID_RANGE" for t in node.targets):
            assert isinstance(node.value, ast.Constant)
            id_range = node.value.value
    return found, id_range


def in_range(rule_id: str, spec: str) -> bool:
    """``spec`` is ``LI300-LI309`` or several such ranges separated by commas."""
    n = int(rule_id[2:])
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        if int(lo[2:]) <= n <= int((hi or lo)[2:]):
            return True
    return False


def test_every_rule_id_lies_in_its_modules_declared_range_and_is_unique():
    seen: dict[str, str] = {}
    problems = []
    for path in [*rule_modules(), ENGINE_RULES]:
        rules, id_range = declared(path)
        where = path.relative_to(REPO)
        if path != ENGINE_RULES:
            assert rules, f"{where}: a rule module without rules"
            assert id_range and re.fullmatch(r"LI\d{3}-LI\d{3}(, *LI\d{3}-LI\d{3})*", id_range), f"{where}: declare ID_RANGE = 'LI300-LI309'"
        for rid, slug, line in rules:
            if id_range and not in_range(rid, id_range):
                problems.append(f"{where}:{line}: {rid} is outside {id_range}")
            for key in (rid, slug):
                if key in seen:
                    problems.append(f"{where}:{line}: {key} is also defined in {seen[key]}")
                seen[key] = f"{where}:{line}"
    assert problems == []


def test_the_declared_ranges_do_not_overlap():
    ranges = []
    for path in rule_modules():
        _, spec = declared(path)
        assert spec is not None
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            ranges.append((int(lo[2:]), int(hi[2:]), path.relative_to(REPO)))
    ranges.sort()
    for (_, hi1, a), (lo2, _, b) in zip(ranges, ranges[1:]):
        assert hi1 < lo2, f"{a} and {b} declare overlapping id ranges"


def test_every_rule_module_has_its_test_module_naming_each_of_its_rules():
    """rules/packages/apt.py is tested by tests/rules/packages/test_apt.py, which names every id it defines."""
    problems = []
    for path in rule_modules():
        rel = path.relative_to(RULES)
        test = REPO / "tests" / "rules" / rel.parent / f"test_{rel.name}"
        if not test.is_file():
            problems.append(f"{path.relative_to(REPO)}: no {test.relative_to(REPO)}")
            continue
        text = test.read_text(encoding="utf-8")
        missing = [rid for rid, slug, _ in declared(path)[0] if rid not in text and slug not in text]
        if missing:
            problems.append(f"{test.relative_to(REPO)} does not test {', '.join(missing)}")
    assert problems == []


def test_the_rule_index_is_current():
    """rules/_index.py is what the engine loads rules from without importing their modules."""
    from lintimg.rules._build_index import REGENERATE, render

    current = (RULES / "_index.py").read_text(encoding="utf-8")
    assert current == render(), f"rules/_index.py is stale: run `{REGENERATE}` from the repository root"


def test_the_index_matches_the_rules_the_modules_define():
    """Independently of the generator: every rule the engine gets by metadata is the rule its module defines."""
    import importlib

    from lintimg.engine.rule import rules_in
    from lintimg.rules import lintimg_rules

    for r in lintimg_rules():
        real = {x.id: x for x in rules_in(importlib.import_module(r.module))}[r.id]
        assert (r.slug, r.severity, r.subject, r.tags, r.peers, r.security_severity, r.enabled_by_default) == (
            real.slug, real.severity, real.subject, real.tags, real.peers, real.security_severity, real.enabled_by_default)
    modules = {p.relative_to(RULES).with_suffix("").as_posix().replace("/", ".") for p in rule_modules()}
    assert {r.module.removeprefix("lintimg.rules.") for r in lintimg_rules()} == modules
