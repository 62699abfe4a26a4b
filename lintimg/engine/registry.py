"""The rules of a run: every plugin's rules looked up by id, slug or peer id, and which of them run.

Configuration (``rules:`` in ``.lintimg.yaml``) turns rules on or off and sets
their severity; :meth:`Registry.select` and :meth:`Registry.ignore` narrow that
for one run (the CLI's ``--select``/``--ignore``). Wherever a rule id is
accepted, a peer's id is too: hadolint ``DL3008``, BuildKit ``UndefinedVar``,
trivy ``DS-0002``, checkov ``CKV_DOCKER_3``, KICS ``KICS-…``, dockle codes; each
names the rules that claim it in their ``peers``. A code of a peer family a
rule claims whole (``SC2086`` under LI390's ``SC*``) names that code alone:
ignoring it drops only those findings, a severity for it applies only to them.
Unknown ids are usage errors that suggest the nearest known one, drawn from
the peer ids when the key is written like one.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import field
from typing import Any

from lintimg.config import Config, nearest
from lintimg.engine.rule import Rule
from lintimg.engine.target import Subject
from lintimg.errors import LintimgError
from lintimg.findings import Hit, Severity
from lintimg.records import record

# Parse errors and rule crashes must not pass for a clean run when a user narrows the rule set.
ALWAYS_SELECTED = frozenset({"LI001", "LI002"})
_NOT_STATE = ("rules", "config", "_by_key", "_by_peer", "_families")


@functools.lru_cache(maxsize=4096)  # each registry asks it of every peer id of every rule (~450)
def normalize_peer(pid: str) -> str:
    """Canonical form of a peer id: ``DS025``/``AVD-DS-0025`` -> ``DS-0025``."""
    m = re.match(r"^(?:AVD-)?DS-?0*(\d+)$", pid, re.I)
    if m:
        return f"DS-{int(m.group(1)):04d}"
    return pid.upper() if re.match(r"^(DL|SC)\d+$", pid, re.I) else pid


# A key written like a peer's id rather than ours (``DL3008``, ``SC2086``, ``DS-0002``, ``CKV_DOCKER_3``,
# ``KICS-0a1b2c3d``, ``CIS-DI-0001``, ``UndefinedVar``): its "did you mean" comes from the peer ids.
_PEER_SHAPE = r"^(?![Ll][Ii]\d)(?:[A-Za-z]{2,}[-_]?[A-Za-z_-]*\d+|KICS-[0-9a-fA-F]+|[A-Z][a-z]+(?:[A-Z][a-z]*)+)$"  # compiled on first use: an unknown key
# The hit property that carries a family code (LI390 reports every ShellCheck code under one rule).
CODE_PROPERTY = "shellcheck_code"


@record
class Selection:
    """Rules named on a command line or in config: whole rules, and single codes of a family rule."""

    ids: set[str] = field(default_factory=set)
    codes: dict[str, set[str]] = field(default_factory=dict)  # rule id -> family codes named (``SC2086``)

    def __bool__(self) -> bool:
        return bool(self.ids or self.codes)


class Registry:
    """Every rule of the run, in id order, with the on/off state and severity each runs with."""

    def __init__(self, rules: Iterable[Rule], config: Config):
        self.rules = sorted(rules, key=lambda r: r.id)
        self.config = config
        self._by_key: dict[str, Rule] = {}
        self._by_peer: dict[str, list[Rule]] = {}
        self._families: dict[str, list[Rule]] = {}  # "SC" -> rules that claim "SC*"
        for r in self.rules:
            for key in (r.id, r.slug):
                if key in self._by_key:
                    raise LintimgError(f"rule {key!r} is defined twice (by {self._by_key[key].module} and {r.module})")
                self._by_key[key] = r
            for p in r.peers:
                if p.endswith("*"):
                    self._families.setdefault(p[:-1].upper(), []).append(r)
                else:
                    self._by_peer.setdefault(normalize_peer(p), []).append(r)
        self._enabled = {r.id: r.enabled_by_default for r in self.rules}
        self._severity = {r.id: r.severity for r in self.rules}
        self._severity_set: set[str] = set()  # rules whose severity config or a flag set
        self._codes_only: dict[str, set[str]] = {}  # --select of single codes: only these codes run
        self._codes_off: dict[str, set[str]] = {}
        self._code_severity: dict[tuple[str, str], Severity] = {}
        for key, setting in config.rules.items():
            found, code = self.match(key)
            if not found and setting.lenient:  # a hadolint config may name codes hadolint has and lintimg lacks
                config.notes.append(f"{config.path}: {key} has no lintimg rule; left out")
                continue
            if not found:
                raise self.unknown(key, " in 'rules'", prefix=f"{config.path}: ")
            for r in found:
                if code is not None:
                    if setting.enabled is False:
                        self._codes_off.setdefault(r.id, set()).add(code)
                    elif setting.enabled:
                        self._codes_off.get(r.id, set()).discard(code)
                    if setting.severity is not None:
                        self._code_severity[r.id, code] = setting.severity
                    continue
                if setting.enabled is not None:
                    self._enabled[r.id] = setting.enabled
                if setting.severity is not None:
                    self._severity[r.id] = setting.severity
                    self._severity_set.add(r.id)

    # -- lookup ---------------------------------------------------------------

    def get(self, key: str) -> Rule | None:
        """The rule with this id or slug (ids in any case)."""
        return self._by_key.get(key.strip()) or self._by_key.get(key.strip().upper())

    def peers(self, pid: str) -> list[Rule]:
        """The rules that claim a peer id (``DL3008``, ``DS-0002``, a BuildKit check name)."""
        return self._by_peer.get(normalize_peer(pid.strip()), [])

    def match(self, key: str) -> tuple[list[Rule], str | None]:
        """The rules a key names (our id or slug, or a peer id), and the family code when it names one (``SC2086``)."""
        own = self.get(key)
        if own is not None:
            return [own], None
        found = self.peers(key)
        if found:
            return found, None
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", key.strip())
        if m and m.group(1).upper() in self._families:
            return self._families[m.group(1).upper()], key.strip().upper()
        return [], None

    def buildkit_rules(self) -> set[str]:
        """Ids of the rules that map to a BuildKit check (for ``# check=skip=all``)."""
        return {r.id for r in self.rules if any(p[:1].isupper() and p.isalpha() for p in r.peers)}

    def unknown(self, key: str, where: str = "", prefix: str = "") -> LintimgError:
        """The usage error for an unknown rule key, suggesting the nearest id or slug (or peer id)."""
        return LintimgError(f"{prefix}unknown rule {key!r}{where}{self.suggestion(key)}")

    def suggestion(self, key: str) -> str:
        """`` (did you mean …?)`` for an unknown key: the nearest of our ids, slugs and the peer ids rules claim."""
        key = key.strip()
        near = nearest(normalize_peer(key), {*self._by_key, *self._by_peer})
        if near in self._by_key:
            return f" (did you mean {near!r}?)"
        if near is not None:
            names = ", ".join(f"{r.id} {r.slug}" for r in self._by_peer[near])
            return f" (did you mean {near!r}, which is {names}?)"
        if re.match(_PEER_SHAPE, key):
            return f" (no lintimg rule claims the peer id {key!r}; `lintimg rules --format json` lists each rule's peers)"
        return ""

    def resolve(self, values: Iterable[str], where: str = "") -> Selection:
        """The rules comma-separated keys name; an unknown key is a usage error."""
        sel = Selection()
        for key in (k.strip() for v in values for k in v.split(",")):
            if not key:
                continue
            found, code = self.match(key)
            if not found:
                raise self.unknown(key, where)
            for r in found:
                if code is None:
                    sel.ids.add(r.id)
                else:
                    sel.codes.setdefault(r.id, set()).add(code)
        return sel

    # -- what runs --------------------------------------------------------------

    def select(self, sel: Selection) -> None:
        """Run only the selected rules (parse errors and rule crashes stay as configured)."""
        if not sel:
            return
        for rid in self._enabled:
            self._enabled[rid] = rid in sel.ids or rid in sel.codes or (rid in ALWAYS_SELECTED and self._enabled[rid])
        for rid, codes in sel.codes.items():
            if rid not in sel.ids:
                self._codes_only[rid] = set(codes)

    def ignore(self, sel: Selection) -> None:
        """Turn the selected rules (or single codes of them) off for this run."""
        for rid in sel.ids:
            self._enabled[rid] = False
        for rid, codes in sel.codes.items():
            self._codes_off.setdefault(rid, set()).update(codes)

    def set_severity(self, sel: Selection, severity: Severity) -> None:
        """Give the selected rules (or single codes) this severity, and turn them on (hadolint's ``--error RULE``)."""
        for rid in sel.ids:
            self._severity[rid] = severity
            self._severity_set.add(rid)
            self._enabled[rid] = True
        for rid, codes in sel.codes.items():
            for code in codes:
                self._code_severity[rid, code] = severity

    def enabled(self, rule_id: str) -> bool:
        return self._enabled.get(rule_id, False)

    @property
    def enabled_ids(self) -> frozenset[str]:
        return frozenset(rid for rid, on in self._enabled.items() if on)

    def severity(self, rule_id: str) -> Severity:
        return self._severity[rule_id]

    def state(self) -> list[object]:
        """Which rules run and how, as plain data (a kept result must have been made with the same):
        the rules by id and module, and every other attribute but the lookup indexes and the config."""
        return [[(r.id, r.module) for r in self.rules], [(k, _plain(v)) for k, v in sorted(vars(self).items()) if k not in _NOT_STATE]]

    def run_state(self) -> dict[str, Any]:
        """Which rules run and at which severity, as plain data: every attribute but the rules, the
        config and the lookup indexes. Another process that loaded the same plugins and config
        restores it (:meth:`restore`) to run the same rules (a fleet worker rebuilding the driver's engine)."""
        return {k: v for k, v in vars(self).items() if k not in _NOT_STATE}

    def restore(self, state: dict[str, Any]) -> None:
        unknown = set(state) - set(vars(self))
        if unknown:
            raise LintimgError(f"rule registry state from another lintimg version (unknown {', '.join(sorted(unknown))})")
        vars(self).update(state)

    def hit_severity(self, rule_id: str, hit: Hit) -> Severity | None:
        """The severity a hit is reported with, or None when its family code is turned off.

        A severity configured for the hit's code wins, then one configured for the
        rule, then the hit's own (:attr:`Hit.severity`), then the rule's default.
        """
        code = hit.properties.get(CODE_PROPERTY)
        if code is not None:
            only = self._codes_only.get(rule_id)
            if (only is not None and code not in only) or code in self._codes_off.get(rule_id, ()):
                return None
            if (rule_id, code) in self._code_severity:
                return self._code_severity[rule_id, code]
        if hit.severity is not None and rule_id not in self._severity_set:
            return hit.severity
        return self._severity[rule_id]

    def running(self, subjects: set[Subject]) -> list[Rule]:
        """The enabled rules whose subject is among ``subjects``, in id order."""
        have = tuple(subjects)  # compared by identity: a set would hash each rule's subject (Enum hashes in Python)
        return [r for r in self.rules if self._enabled[r.id] and r.subject in have]


def _first(pair: tuple[str, object]) -> str:
    return pair[0]


def _plain(v: object) -> object:
    """``v`` in a form whose repr does not depend on hash order (sets sorted, mappings as sorted pairs)."""
    if isinstance(v, dict):  # by the keys' reprs alone (a tie keeps the dict's order); a repr of each pair cost ~1 ms a run
        return sorted(((repr(k), _plain(x)) for k, x in v.items()), key=_first)
    if isinstance(v, (set, frozenset)):
        return sorted((_plain(x) for x in v), key=repr)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return repr(v)
