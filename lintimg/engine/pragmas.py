"""Inline suppression comments, ours and the peers' we honour.

- ``# lintimg ignore=ID[,ID] [reason]`` — the next instruction;
- ``# lintimg stage ignore=…`` — the stage of the next instruction (put it above FROM);
- ``# lintimg global ignore=…`` — the whole file;
- ``# hadolint ignore=DL…`` with the same ``global``/``stage`` forms, for the rules
  whose peer ids include that DL code; as in hadolint, a list holding a malformed id
  (``dl3008``, ``DL3008x``, a word, a space-separated list) is void as a whole, and the
  malformed ids are reported like unknown ones;
- ``# check=skip=Name[,Name]`` (BuildKit) as the file directive, or above a FROM
  (its stage) or an instruction; ``skip=all`` skips every BuildKit-mapped rule;
- ``# trivy:ignore:DS-0001`` (next instruction) and ``#checkov:skip=CKV_DOCKER_1`` (file).

IDs may be our ids or slugs; an unknown one in a ``lintimg`` pragma is reported.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import field

from lintimg.dockerfile import Dockerfile
from lintimg.dockerfile.comments import (
    CHECK,
    CHECKOV,
    HADOLINT_SHELL,
    OURS,
    TRIVY,
    hadolint_ignored,
)
from lintimg.engine.registry import Registry
from lintimg.records import record


@record
class Suppressions:
    file: set[str] = field(default_factory=set)
    stage: dict[int, set[str]] = field(default_factory=dict)
    instruction: dict[int, set[str]] = field(default_factory=dict)  # instruction index -> rule ids
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, id as written)
    used_lines: list[int] = field(default_factory=list)  # lines of ignore pragmas (for LI004)
    shell: str | None = None  # "# hadolint shell=..." override

    def suppressed(self, rule_id: str, ins_index: int | None, stage_index: int | None) -> bool:
        if rule_id in self.file:
            return True
        if stage_index is not None and rule_id in self.stage.get(stage_index, ()):
            return True
        return ins_index is not None and rule_id in self.instruction.get(ins_index, ())


def read_suppressions(df: Dockerfile, index: Registry) -> Suppressions:
    sup = Suppressions()
    starts = [ins.pos.line for ins in df.instructions]

    def next_ins(line: int) -> int | None:
        i = bisect_right(starts, line)
        return i if i < len(starts) else None

    def stage_of(idx: int | None) -> int | None:
        return None if idx is None else df.instructions[idx].stage_index

    def add(scope: str | None, line: int, ids: set[str]) -> None:
        if not ids:
            return
        idx = next_ins(line)
        if scope == "global":
            sup.file |= ids
        elif scope == "stage":
            st = stage_of(idx)
            if st is not None:
                sup.stage.setdefault(st, set()).update(ids)
        elif idx is not None:
            sup.instruction.setdefault(idx, set()).update(ids)

    def check_skip(value: str) -> set[str]:
        ids: set[str] = set()
        for part in value.split(";"):
            key, _, names = part.partition("=")
            if key.strip().lower() != "skip":
                continue
            for name in names.split(","):
                name = name.strip()
                if name.lower() == "all":
                    ids |= index.buildkit_rules()
                else:
                    ids |= {r.id for r in index.peers(name)}
        return ids

    if "check" in df.directives:
        sup.file |= check_skip(df.directives["check"][0])
    directive_lines = {line for _, line in df.directives.values()}

    for c in df.comments:
        text = c.text
        m = OURS.match(text)
        if m:
            ids = set()
            for raw in m.group(2).split(","):
                raw = raw.strip()
                if not raw:
                    continue
                r = index.get(raw)
                if r is None:
                    sup.unknown.append((c.line, raw))
                else:
                    ids.add(r.id)
            sup.used_lines.append(c.line)
            add(m.group(1) and m.group(1).lower(), c.line, ids)
            continue
        found = hadolint_ignored(text)
        if found is not None:
            scope, peer_ids, malformed = found
            sup.unknown.extend((c.line, raw) for raw in malformed)  # the whole pragma is void, as in hadolint
            sup.used_lines.append(c.line)
            add(scope, c.line, {r.id for raw in peer_ids for r in index.peers(raw)})
            continue
        m = HADOLINT_SHELL.match(text)
        if m:
            sup.shell = m.group(1)
            continue
        m = CHECK.match(text)
        if m and c.line not in directive_lines:
            idx = next_ins(c.line)
            scope = "stage" if idx is not None and df.instructions[idx].keyword == "FROM" else None
            add(scope, c.line, check_skip(m.group(1)))
            continue
        m = TRIVY.match(text)
        if m:
            add(None, c.line, {r.id for r in index.peers(m.group(1))})
            continue
        m = CHECKOV.match(text)
        if m:
            sup.file |= {r.id for r in index.peers(m.group(1))}
    return sup
