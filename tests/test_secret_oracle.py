"""The peers' own secret test cases, run through the real CLI: recall and false alarms per peer rule.

``../shared/oracle/secrets-cases.jsonl`` holds half of trivy's secret-scanner
test cases and gitleaks' per-rule true/false-positive samples (the other half
is kept aside to check that detectors generalise). As its README says, each
text becomes the named file (``case.txt`` when none is given) in its own
build context next to a Dockerfile ``FROM alpine:3.19`` / ``COPY . /app``;
one ``lintimg check`` run lints all of them. A ``secret`` case is found when a
LI540 finding names the file, on one of the peer's lines when it gives them
(a private key may be reported at its BEGIN line); a ``none`` case is a false
alarm when any LI540 finding names the file. The test prints the per-rule
table and needs recall of at least 90% and false alarms of at most 3%.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.clirun import lintimg

ORACLE = Path(__file__).resolve().parents[1].parent / "shared" / "oracle" / "secrets-cases.jsonl"
MIN_RECALL = 0.90
MAX_FALSE_ALARMS = 0.03

pytestmark = pytest.mark.skipif(not ORACLE.is_file(), reason=f"peer oracle not found at {ORACLE} (../shared next to the repository)")


def _cases() -> list[dict]:
    return [json.loads(line) for line in ORACLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pem_blocks(text: str) -> list[tuple[int, int]]:
    blocks, begin = [], None
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        if "-----BEGIN" in line:
            begin = n
        elif "-----END" in line and begin is not None:
            blocks.append((begin, n))
            begin = None
    if begin is not None:
        blocks.append((begin, len(lines)))
    return blocks


def found(case: dict, lines: set[int]) -> bool:
    """Whether reported lines find a ``secret`` case (any line, or one of the peer's)."""
    want = case.get("expected_lines")
    if not lines or not want:
        return bool(lines)
    if lines & set(want):
        return True
    return any(b in lines and any(b <= w <= e for w in want) for b, e in _pem_blocks(case["text"]))


def reported(root: Path, cases: list[dict]) -> dict[int, set[int]]:
    """Lines of the case file each case's LI540 findings name, from one CLI run over every context."""
    dockerfiles = []
    for i, case in enumerate(cases):
        ctx = root / f"c{i:04d}"
        ctx.mkdir()
        (ctx / (case.get("filename") or "case.txt")).write_bytes(case["text"].encode("utf-8"))
        (ctx / "Dockerfile").write_text("FROM alpine:3.19\nCOPY . /app\n")
        dockerfiles.append(str(ctx / "Dockerfile"))
    proc = lintimg("check", "--format", "json", "--select", "LI540", *dockerfiles, cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[int, set[int]] = defaultdict(set)
    for f in json.loads(proc.stdout)["findings"]:
        if f["rule"] == "LI540":
            out[int(Path(f["file"]).parent.name[1:])].add(f["properties"]["file_line"])
    return out


def score(cases: list[dict], lines: dict[int, set[int]]) -> dict[str, list[int]]:
    """Per peer rule: [secrets, found, negatives, false alarms]."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for i, case in enumerate(cases):
        row = table[case["rule"]]
        if case["expect"] == "secret":
            row[0] += 1
            row[1] += found(case, lines.get(i, set()))
        else:
            row[2] += 1
            row[3] += bool(lines.get(i))
    return dict(table)


def render(table: dict[str, list[int]]) -> str:
    tot = [sum(r[k] for r in table.values()) for k in range(4)]
    out = [f"secrets oracle: recall {tot[1]}/{tot[0]} = {tot[1] / tot[0]:.1%}, false alarms {tot[3]}/{tot[2]} = {tot[3] / tot[2]:.1%}",
           f"{'peer rule':48} {'found':>9} {'alarms':>8}"]
    for peer in ("trivy", "gitleaks"):
        rows = {k: v for k, v in table.items() if k.startswith(peer + ":")}
        sub = [sum(r[k] for r in rows.values()) for k in range(4)]
        out.append(f"{peer + ' (all rules)':48} {sub[1]:>4}/{sub[0]:<4} {sub[3]:>3}/{sub[2]:<3}")
    perfect = 0
    for rule, (n, hit, neg, alarm) in sorted(table.items()):
        if hit == n and alarm == 0:
            perfect += 1
            continue
        out.append(f"{rule:48} {hit:>4}/{n:<4} {alarm:>3}/{neg:<3}")
    out.append(f"{perfect} more peer rules: every secret found, no false alarm")
    return "\n".join(out)


def test_secret_cases_recall_and_false_alarms(tmp_path, capsys):
    cases = _cases()
    table = score(cases, reported(tmp_path, cases))
    with capsys.disabled():
        print("\n" + render(table))
    secrets = sum(r[0] for r in table.values())
    negatives = sum(r[2] for r in table.values())
    assert sum(r[1] for r in table.values()) / secrets >= MIN_RECALL
    assert sum(r[3] for r in table.values()) / negatives <= MAX_FALSE_ALARMS


def test_the_scorer_tells_found_from_missed():
    case = {"text": "a\n-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n", "expected_lines": [3]}
    assert found(case, {2}) and not found(case, {1}) and not found(case, set())
    assert found({"text": "x"}, {7}) and not found({"text": "x", "expected_lines": [2]}, {1})
    table = score([{"rule": "t:a", "expect": "secret", "text": ""}, {"rule": "t:a", "expect": "none", "text": ""}], {1: {1}})
    assert table == {"t:a": [1, 0, 1, 1]}
