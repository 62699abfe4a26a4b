"""Peer conformance: the peers' own test cases, run through lintimg.

Every case of ``../shared/oracle/{hadolint,trivy-checks,checkov,kics,buildkit}-cases.jsonl``
is linted; a peer id is mapped to the lintimg rules that claim it in their
``peers`` metadata. A case agrees when the mapped rules catch it exactly when
the peer does, with hadolint's count semantics (``ruleCatches`` at least one,
``onBuildRuleCatches`` exactly one, ``*Not`` none, ``failsWith`` exactly
``expected_count``). Findings are counted per instruction, as the peers count
them. KICS and BuildKit cases also give the lines the peer reports
(``expected_lines``): the instructions reported must be exactly those; a
BuildKit case with only a warning count (``expected_count``) must report that
many instructions. A case with a ``dockerignore`` is linted with a build
context holding it. A crash of a mapped rule (LI002) on a case is always a
disagreement.

Each peer rule needs 98% agreement. A mapped rule may declare a divergence
for the peer id (``divergences={"DL3008": "why"}``): a reason its docs show,
naming a mechanism, never a list of cases. A disagreement counts as explained
only when that mechanism is present in the case's Dockerfile (``APPLIES``
below: a stage no build produces, a SHELL instruction, an exec-form ``|`` ...),
so a reason cannot excuse a case it does not describe; agreement plus
explained cases must still reach 98%. A peer id no rule claims fails too,
unless its rows of the merged table (docs/peer-mapping.md) are all outside
Dockerfile scope.

Two hadolint pseudo-ids: ``shellcheck`` (any ShellCheck finding: rules that
claim an ``SC`` id) and ``ALL`` (``passesAllEnabled``: none of the rules that
claim a hadolint id may report; rules for checks hadolint does not have are
not part of that assertion). The one record marked ``note`` has a garbage
rule id upstream (a vacuous assertion) and is listed, not counted.
"""
from __future__ import annotations

import json
import re
import tempfile
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lintimg.config import from_hadolint
from lintimg.context import ContextAttacher
from lintimg.dockerfile import Dockerfile
from lintimg.dockerfile.sources import decode
from lintimg.dockerfile.stages import built_stages, leaf_stages, tagged_stages
from lintimg.engine.rule import Rule
from lintimg.reports import ruledocs
from lintimg.rules._common import DEAD_STAGE, HADOLINT_FINAL_CHAIN, KICS_LAST_STAGE, TRIVY_STAGE_KEY
from lintimg.run.check import lint_source
from tests.rulespec import engine
from tests.shared import ORACLE
from tests.test_peer_mapping import DOCKERFILE_SCOPES, doc_rows, peer_matches

THRESHOLD = 0.98
HADOLINT_ID = re.compile(r"^(DL\d{4}|SC\d{4}|SC\*)$")

pytestmark = pytest.mark.shared(ORACLE, "the peer oracle")


@dataclass
class Case:
    peer: str
    expect: str  # "catch" or "pass"
    text: str
    where: str  # provenance, for the report
    exactly: int | None = None  # exact count the peer asserts; None = at least one for catch
    config: dict = field(default_factory=dict)
    ignored: tuple[str, ...] = ()  # hadolint "ignored" peer ids
    lines: tuple[int, ...] = ()  # KICS/BuildKit: the lines the peer reports (its instructions must be ours exactly)
    count: int | None = None  # BuildKit: the number of warnings, when no lines are given
    dockerignore: str | None = None  # a context case: this .dockerignore next to the Dockerfile


def hadolint_case(rec: dict) -> Case | None:
    helper = rec["helper"]
    if helper == "assertChecks/failsWith":
        exactly = rec["expected_count"]
    elif helper.startswith("onBuildRuleCatches") and not helper.endswith("Not"):
        exactly = 1
    elif rec["expect"] == "pass":
        exactly = 0
    else:
        exactly = None
    cfg = rec.get("config", {})
    # the case's hadolint settings read as lintimg reads a .hadolint.yaml; "ignored" is applied per rule below
    converted, _ = from_hadolint({k: v for k, v in cfg.items() if k != "ignored"})
    return Case(
        peer=rec["rule"],
        expect=rec["expect"],
        text=rec["dockerfile_effective"],
        where=f"{rec['source_file']}:{rec['source_line']}",
        exactly=exactly,
        config=converted,
        ignored=tuple(cfg.get("ignored", ())),
    )


def plain_case(rec: dict) -> Case:
    if "peer_rule" in rec:  # KICS and BuildKit records
        where = rec["source_path"] + (f"#{rec['case']}" if rec.get("case") else "")
        return Case(peer=rec["peer_rule"], expect=rec["expect"], text=rec["dockerfile"], where=where,
                    exactly=0 if rec["expect"] == "pass" else None, lines=tuple(rec.get("expected_lines") or ()),
                    count=rec.get("expected_count") if rec["expect"] == "catch" else None, dockerignore=rec.get("dockerignore"))
    where = f"{rec['source_file']}:{rec.get('source_line', rec.get('example_index', ''))}"
    return Case(peer=rec["rule"], expect=rec["expect"], text=rec["dockerfile"], where=where, exactly=0 if rec["expect"] == "pass" else None)


def load(name: str) -> tuple[list[Case], list[str]]:
    cases, defects = [], []
    for line in (ORACLE / name).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "note" in rec:
            defects.append(f"{rec['source_file']}:{rec['source_line']}: {rec['note']}")
            continue
        cases.append(hadolint_case(rec) if name.startswith("hadolint") else plain_case(rec))
    return cases, defects


def mapped(rules: list[Rule], peer: str) -> list[Rule]:
    if peer == "ALL":
        return [r for r in rules if any(HADOLINT_ID.match(p) for p in r.peers)]
    if peer == "shellcheck":
        return [r for r in rules if any(peer_matches(p, "SC*") for p in r.peers)]
    return [r for r in rules if any(peer_matches(p, peer) for p in r.peers)]


def units(findings, df) -> set:
    """Distinct instructions the findings sit on (a line outside any instruction counts alone)."""
    return line_units([f.location.line for f in findings], df)


def line_units(lines, df) -> set:
    starts = [i.pos.line for i in df.instructions]
    out = set()
    for line in lines:
        i = bisect_right(starts, line) - 1
        inside = i >= 0 and line <= df.instructions[i].pos.end_line
        out.add(("ins", i) if inside else ("line", line))
    return out


# --- where a divergence's mechanism is present (a disagreement it may explain) ----------------------


def _dead_stage(df: Dockerfile) -> bool:
    return len(built_stages(df)) < len(df.stages)


def _untagged_stage(df: Dockerfile) -> bool:
    """A stage that cannot run as a container: one only copied from, or one no build can tag."""
    return any(st.index not in tagged_stages(df) for st in df.stages)


def _leaf_not_last(df: Dockerfile) -> bool:
    """A stage no other stage uses that is not the last (a ``--target``, or a stage only the classic builder builds)."""
    return any(st.index != len(df.stages) - 1 for st in leaf_stages(df))


def _stages(df: Dockerfile) -> bool:
    return len(df.stages) > 1


def _duplicate_stage_name(df: Dockerfile) -> bool:
    names = [st.name for st in df.stages if st.name]
    return len(names) != len(set(names))


def _stage_key(df: Dockerfile) -> bool:
    """A stage name that is taken twice, or a ``--from`` that names no stage."""
    names = {st.name for st in df.stages if st.name}
    refs = {v.lower() for ins in df.instructions for v in ins.flag_values("from")}
    return _duplicate_stage_name(df) or any(r not in names and not r.isdigit() for r in refs)


def _stage_arg_in_from(df: Dockerfile) -> bool:
    """An ARG declared inside a stage whose name a later FROM uses (Docker scopes it to that stage)."""
    declared = [(ins.stage_index, a.value.split("=", 1)[0]) for ins in df.instructions
                if ins.keyword == "ARG" and ins.stage_index is not None for a in ins.args]
    return any(re.search(r"\$\{?" + re.escape(n) + r"\b", st.base) for k, n in declared for st in df.stages[k + 1:])


def _text(pattern: str) -> Callable[[Dockerfile], bool]:
    rx = re.compile(pattern, re.MULTILINE)
    return lambda df: bool(rx.search(df.text))


def _either(*checks: Callable[[Dockerfile], bool]) -> Callable[[Dockerfile], bool]:
    return lambda df: any(c(df) for c in checks)


_EXEC_PIPE = r'^\s*(ONBUILD\s+)?RUN\s+\[.*"\|"'
# Shared reasons (rules/_common.py) and each rule's own, keyed by (rule, peer): the check says whether the case's
# Dockerfile holds what the reason is about. A divergence without one explains nothing (test_divergences_are_checkable).
SHARED: dict[str, Callable[[Dockerfile], bool]] = {
    DEAD_STAGE: _dead_stage, KICS_LAST_STAGE: _stages, HADOLINT_FINAL_CHAIN: _leaf_not_last, TRIVY_STAGE_KEY: _stage_key,
}
LOCAL: dict[tuple[str, str], Callable[[Dockerfile], bool]] = {
    ("LI101", "DS-0001"): _stage_arg_in_from, ("LI102", "DS-0001"): _stage_arg_in_from,
    ("LI110", "DS-0012"): _stage_key, ("LI110", "KICS-f2daed12"): _duplicate_stage_name,
    ("LI114", "DS-0006"): _stage_key,
    ("LI206", "DL3025"): _text(r"^\s*SHELL\b"),
    # a backslash with spaces after it mid-line (hadolint's line break), or hadolint's final-chain scope
    ("LI301", "DL3009"): _either(_text(r"\\[ \t]+\S"), _leaf_not_last),
    ("LI305", "KICS-9bae49be"): _text(r"\bupdate\s*$|&&\s*install\b"),
    ("LI306", "DS-0024"): _text(r"\bfull-upgrade\b"),
    ("LI315", "KICS-6e19193a"): _text(r'^\s*RUN\s+\[\s*"[^"]*\s[^"]*"'),
    **{("LI311", p): _text(r"\brm\s[^\n]*/var/cache/apk") for p in ("DL3019", "DS-0025", "KICS-ae9c56a6")},
    ("LI322", "KICS-45e1fca5"): lambda df: any("zypper" in i.args_text for st in df.stages[:-1] for i in st.instructions),
    ("LI333", "KICS-e36d8880"): _text(r"(git\+\w+://|git://|git@)[^\s#]*(\s|$)"),
    ("LI350", "CKV_DOCKER_4"): _text(r"^\s*ADD\b"),
    ("LI351", "KICS-4b410d24"): _text(r"^\s*ADD\s.*--checksum"),
    ("LI364", "KICS-efbf148a"): _text(_EXEC_PIPE + r"|^\s*RUN\s+(pwsh|powershell)\b"),
    ("LI364", "DL4006"): _text(_EXEC_PIPE + r"|^\s*#.*\\\s*$|\byes\s*\|"),
    # name heuristics: any ARG or ENV name is their subject
    ("LI500", "DL3064"): _text(r"^\s*(ARG|ENV)\b"), ("LI500", "SecretsUsedInArgOrEnv"): _text(r"^\s*(ARG|ENV)\b"),
    ("LI501", "DS-0031"): _text(r"^\s*(ARG|ENV)\b"),
    # checked in the final image only, where the peer checks every stage (or the last only)
    ("LI500", "DS-0031"): _stages, ("LI502", "DS-0031"): _stages, ("LI701", "DL3002"): _stages,
    ("LI702", "CKV_DOCKER_3"): _stages, ("LI705", "DL3057"): _stages, ("LI705", "DS-0026"): _stages,
    ("LI705", "CKV_DOCKER_2"): _stages,
    ("LI703", "DL3066"): _untagged_stage, ("LI706", "DS-0004"): _untagged_stage, ("LI706", "CKV_DOCKER_1"): _untagged_stage,
}


def applies(rule: Rule, peer: str, df: Dockerfile) -> bool | None:
    """Whether ``rule``'s divergence from ``peer`` is about something ``df`` holds; ``None``: no divergence, or no check."""
    why = next((w for k, w in rule.divergences.items() if peer_matches(k, peer)), None)
    if why is None:
        return None
    check = SHARED.get(why) or LOCAL.get((rule.id, peer))
    return None if check is None else check(df)


def _crashed_rule(message: str) -> str:
    m = re.match(r"rule (\S+) ", message)  # LI002's message names the rule first
    return m.group(1) if m else ""


def run_case(case: Case, rules: list[Rule], base: dict) -> tuple[bool, int, list[str], Dockerfile]:
    """(agrees, count, crash messages, the parsed Dockerfile) for one case; ``base`` is config every case gets."""
    ours = {r.id for r in mapped(rules, case.peer)}
    off = {r.id for pid in case.ignored for r in mapped(rules, pid)}
    settings = {r: "off" for r in off}
    if case.peer != "ALL":
        settings.update({r: "on" for r in ours})  # the peers' tests call the rule directly, even off-by-default ones
    cfg = dict(base, **case.config, **({"rules": settings} if settings else {}))
    if case.dockerignore is None:
        findings, df = lint_source(engine(cfg), decode("Dockerfile", case.text.encode("utf-8")))
    else:
        with tempfile.TemporaryDirectory(prefix="conformance-") as d:
            (Path(d) / ".dockerignore").write_text(case.dockerignore, encoding="utf-8")
            (Path(d) / "Dockerfile").write_text(case.text, encoding="utf-8")
            findings, df = lint_source(engine(cfg), decode(str(Path(d) / "Dockerfile"), case.text.encode("utf-8")), ContextAttacher())
    crashes = [f.message for f in findings if f.rule_id == "LI002" and _crashed_rule(f.message) in ours]
    got = units([f for f in findings if f.rule_id in ours - off], df)
    n = len(got)
    agrees = n == case.exactly if case.exactly is not None else n >= 1
    if agrees and case.lines:
        agrees = got == line_units(case.lines, df)
    elif agrees and case.count is not None:
        agrees = n == case.count
    return agrees and not crashes, n, crashes, df


@dataclass
class Row:
    peer: str
    rules: list[str]
    cases: int = 0
    agree: int = 0
    misses: list[str] = field(default_factory=list)
    explained: int = 0  # misses a divergence's mechanism is present in
    divergence: dict[str, str] = field(default_factory=dict)
    status: str = ""


def out_of_scope(peer: str, rows) -> bool:
    scopes = [r.scope for r in rows if any(peer_matches(peer, p) for p in r.peers)] if peer not in ("ALL", "shellcheck") else ["DF"]
    return bool(scopes) and not any(s in DOCKERFILE_SCOPES for s in scopes)


def evaluate(cases: list[Case], rules: list[Rule], rows, base: dict | None = None) -> list[Row]:
    table: dict[str, Row] = {}
    for case in cases:
        rs = mapped(rules, case.peer)
        row = table.setdefault(case.peer, Row(case.peer, [r.id for r in rs]))
        row.cases += 1
        if not rs:
            continue
        ok, n, crashes, df = run_case(case, rules, base or {})
        row.agree += ok
        if not ok:
            want = f"exactly {case.exactly}" if case.exactly is not None else "at least 1"
            want += f" at lines {list(case.lines)}" if case.lines else f" ({case.count} warnings)" if case.count is not None else ""
            explained = not crashes and any(applies(r, case.peer, df) for r in rs)
            row.explained += explained
            row.misses.append(f"{case.where} ({case.expect}): want {want}, got {n}" + (f"; CRASH {crashes[0]}" if crashes else "")
                              + (" [divergence]" if explained else ""))
    for row in table.values():
        for r in mapped(rules, row.peer):
            row.divergence.update({r.id: why for k, why in r.divergences.items() if peer_matches(k, row.peer)})  # noqa: B035 - one entry per rule: its reason for this peer
        if not row.rules:
            row.status = "unmapped (out of Dockerfile scope)" if out_of_scope(row.peer, rows) else "UNMAPPED"
        elif row.agree / row.cases >= THRESHOLD:
            row.status = "ok"
        elif (row.agree + row.explained) / row.cases >= THRESHOLD:
            row.status = "diverges (documented)"
        else:
            row.status = "BELOW 98%"
    return sorted(table.values(), key=lambda r: r.peer)


def render(title: str, table: list[Row], defects: list[str]) -> str:
    lines = [f"\n{title}: per-peer-rule agreement", f"{'peer id':<16} {'lintimg':<18} {'agree':>9} {'%':>6}  status"]
    for r in table:
        pct = f"{100 * r.agree / r.cases:.1f}" if r.rules else "-"
        lines.append(f"{r.peer:<16} {','.join(r.rules) or '-':<18} {r.agree:>4}/{r.cases:<4} {pct:>6}  {r.status}")
        lines += [f"{'':<18}disagrees: {m}" for m in r.misses[:5]]
    mapped_rows = [r for r in table if r.rules]
    agree, total = sum(r.agree for r in mapped_rows), sum(r.cases for r in mapped_rows)
    explained = agree + sum(r.explained for r in mapped_rows)
    lines.append(f"mapped: {len(mapped_rows)}/{len(table)} peer ids, {agree}/{total} cases agree ({100 * agree / max(total, 1):.1f}%); "
                 f"agree or a documented divergence present in the case: {explained}/{total} ({100 * explained / max(total, 1):.1f}%)")
    lines += [f"not counted (upstream defect): {d}" for d in defects]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return engine().rules


@pytest.fixture(scope="module")
def rows():
    return doc_rows()[0]


SUITES = ("hadolint-cases.jsonl", "trivy-checks-cases.jsonl", "checkov-cases.jsonl", "kics-cases.jsonl", "buildkit-cases.jsonl")


@pytest.mark.parametrize("source", SUITES)
def test_peer_cases_agree(source: str, rules, rows, capsys):
    cases, defects = load(source)
    assert cases, f"no cases in {source}"
    table = evaluate(cases, rules, rows)
    with capsys.disabled():
        print(render(source, table, defects))
    for r in table:
        for rid, why in r.divergence.items():
            doc = ruledocs.rule_markdown(next(x for x in rules if x.id == rid))
            assert why.strip() and why.strip() in doc, f"{rid}: divergence from {r.peer} needs a reason shown in its docs"
    bad = [f"{r.peer}: {r.status} ({r.agree}/{r.cases})" for r in table if r.status in ("UNMAPPED", "BELOW 98%")]
    if bad:
        pytest.fail(f"{len(bad)} peer rules fail conformance (table above):\n" + "\n".join(bad), pytrace=False)


def test_divergences_are_checkable(rules):
    """Every divergence from a peer of the five suites names a mechanism this test can find in a case, and no check is stale."""
    peers = {c.peer for name in SUITES for c in load(name)[0]}
    missing = [f"{r.id} {k}" for r in rules for k, why in r.divergences.items()
               if any(peer_matches(k, p) for p in peers) and why not in SHARED and (r.id, k) not in LOCAL]
    assert not missing, f"divergences without a check in APPLIES (add one, or the reason explains no case): {missing}"
    stale = [key for key in LOCAL if key[1] not in next((r.divergences for r in rules if r.id == key[0]), {})]
    assert not stale, f"checks for divergences no rule declares: {stale}"


def test_divergence_checks_find_their_mechanism():
    def parse(text: str) -> Dockerfile:
        return lint_source(engine(), decode("Dockerfile", text.encode()))[1]

    dead, builder = parse("FROM a:1\nRUN x\nFROM b:1\n"), parse("FROM a:1 AS b\nRUN x\nFROM c:1\nCOPY --from=b /x /x\n")
    assert _dead_stage(dead) and not _dead_stage(builder) and _untagged_stage(builder) and _untagged_stage(dead)
    assert _dead_stage(parse("FROM a:1 AS x\nFROM x\nFROM c:1\n"))  # x is used only by a stage nothing builds
    assert not _untagged_stage(parse("FROM a:1 AS dev\nFROM c:1\n")) and not _untagged_stage(parse("FROM a:1 AS b\nFROM b\n"))
    assert _leaf_not_last(parse("FROM a:1 AS dev\nFROM c:1\n")) and _leaf_not_last(dead) and not _leaf_not_last(builder)
    assert _stage_key(parse("FROM a:1\nCOPY --from=dep /x /x\n")) and not _stage_key(builder)
    assert _stage_arg_in_from(parse("FROM a:1\nARG IMAGE=x\nFROM $IMAGE\n"))
    assert not _stage_arg_in_from(parse("ARG IMAGE=x\nFROM $IMAGE\nARG IMAGE\n"))


MAINTAINER_RULES = """
from lintimg.findings import Hit, Severity
from lintimg.engine.hookspecs import hookimpl
from lintimg.engine.rule import rule

DOC = "Test rule.\\n\\n## What it does\\nx\\n## Why it matters\\nx\\n## Example\\nx\\n## Fix\\nx"

def _maintainer(t):
    for ins in t.dockerfile.of("MAINTAINER"):
        yield Hit("maintainer", line=ins.line)

def _every_from(t):
    for ins in t.dockerfile.of("FROM"):
        yield Hit("from", line=ins.line)

def _crash(t):
    raise KeyError("boom")

for _f in (_maintainer, _every_from, _crash):
    _f.__doc__ = DOC
right = rule("TST001", "tst-right", Severity.INFO, peers=("DL4000",))(_maintainer)
wrong = rule("TST002", "tst-wrong", Severity.INFO, peers=("DL4000",))(_every_from)
crash = rule("TST003", "tst-crash", Severity.INFO, peers=("DL4000",))(_crash)

@hookimpl
def lintimg_rules():
    return [right, wrong, crash]
"""


def test_harness_tells_right_from_wrong(tmp_path, rows):
    """The harness itself: a faithful rule agrees, a rule that fires everywhere or crashes does not."""
    (tmp_path / "tst_rules.py").write_text(MAINTAINER_RULES)
    base = {"rules-dirs": [str(tmp_path)]}
    loaded = {r.id: r for r in engine(base).rules}
    cases = [c for c in load("hadolint-cases.jsonl")[0] if c.peer == "DL4000"]
    assert {c.expect for c in cases} == {"catch", "pass"}
    rows_by = {rid: evaluate(cases, [loaded[rid]], rows, base)[0] for rid in ("TST001", "TST002", "TST003")}
    assert rows_by["TST001"].status == "ok" and rows_by["TST001"].agree == len(cases)
    assert rows_by["TST002"].status == "BELOW 98%" and rows_by["TST002"].agree < len(cases)
    assert rows_by["TST003"].agree == 0 and "CRASH" in rows_by["TST003"].misses[0]
    assert evaluate(cases, [], rows)[0].status == "UNMAPPED"
