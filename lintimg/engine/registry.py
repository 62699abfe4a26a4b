"""The rules of a run: every plugin's rules looked up by id, slug or peer id, and which of them run.

Configuration (``rules:`` in ``.lintimg.yaml``) turns rules on or off and sets
their severity; :meth:`Registry.select` and :meth:`Registry.ignore` narrow that
for one run (the CLI's ``--select``/``--ignore``). Unknown ids are usage
errors that suggest the nearest known one.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lintimg.config import Config, suggest
from lintimg.engine.rule import Rule
from lintimg.engine.target import Subject
from lintimg.errors import LintimgError
from lintimg.findings import Severity

# Parse errors and rule crashes must not pass for a clean run when a user narrows the rule set.
ALWAYS_SELECTED = frozenset({"LI001", "LI002"})
_NOT_STATE = ("rules", "config", "_by_key", "_by_peer")


def normalize_peer(pid: str) -> str:
    """Canonical form of a peer id: ``DS025``/``AVD-DS-0025`` -> ``DS-0025``."""
    m = re.match(r"^(?:AVD-)?DS-?0*(\d+)$", pid, re.I)
    if m:
        return f"DS-{int(m.group(1)):04d}"
    return pid.upper() if re.match(r"^(DL|SC)\d+$", pid, re.I) else pid


class Registry:
    """Every rule of the run, in id order, with the on/off state and severity each runs with."""

    def __init__(self, rules: Iterable[Rule], config: Config):
        self.rules = sorted(rules, key=lambda r: r.id)
        self.config = config
        self._by_key: dict[str, Rule] = {}
        self._by_peer: dict[str, list[Rule]] | None = None  # made on first use: most runs never ask
        for r in self.rules:
            for key in (r.id, r.slug):
                if key in self._by_key:
                    raise LintimgError(f"rule {key!r} is defined twice (by {self._by_key[key].module} and {r.module})")
                self._by_key[key] = r
        self._enabled = {r.id: r.enabled_by_default for r in self.rules}
        self._severity = {r.id: r.severity for r in self.rules}
        for key, setting in config.rules.items():
            found = self.get(key)
            if found is None:
                keys = [k for r2 in self.rules for k in (r2.id, r2.slug)]
                raise LintimgError(f"{config.path}: unknown rule {key!r} in 'rules'{suggest(key, keys)}")
            if setting.enabled is not None:
                self._enabled[found.id] = setting.enabled
            if setting.severity is not None:
                self._severity[found.id] = setting.severity

    # -- lookup ---------------------------------------------------------------

    def get(self, key: str) -> Rule | None:
        """The rule with this id or slug (ids in any case)."""
        return self._by_key.get(key.strip()) or self._by_key.get(key.strip().upper())

    def peers(self, pid: str) -> list[Rule]:
        """The rules that claim a peer id (``DL3008``, ``DS-0002``, a BuildKit check name)."""
        if self._by_peer is None:
            self._by_peer = {}
            for r in self.rules:
                for p in r.peers:
                    self._by_peer.setdefault(normalize_peer(p), []).append(r)
        return self._by_peer.get(normalize_peer(pid.strip()), [])

    def buildkit_rules(self) -> set[str]:
        """Ids of the rules that map to a BuildKit check (for ``# check=skip=all``)."""
        return {r.id for r in self.rules if any(p[:1].isupper() and p.isalpha() for p in r.peers)}

    def unknown(self, key: str, where: str = "") -> LintimgError:
        """The usage error for an unknown rule key, suggesting the nearest id or slug."""
        keys = [k for r in self.rules for k in (r.id, r.slug)]
        return LintimgError(f"unknown rule {key!r}{where}{suggest(key, keys)}")

    def resolve(self, values: Iterable[str], where: str = "") -> set[str]:
        """Rule ids for comma-separated ids or slugs; an unknown one is a usage error."""
        ids = set()
        for key in (k.strip() for v in values for k in v.split(",")):
            if not key:
                continue
            r = self.get(key)
            if r is None:
                raise self.unknown(key, where)
            ids.add(r.id)
        return ids

    # -- what runs --------------------------------------------------------------

    def select(self, ids: set[str]) -> None:
        """Run only ``ids`` (parse errors and rule crashes stay as configured)."""
        if ids:
            for rid in self._enabled:
                self._enabled[rid] = rid in ids or (rid in ALWAYS_SELECTED and self._enabled[rid])

    def ignore(self, ids: set[str]) -> None:
        """Turn ``ids`` off for this run."""
        for rid in ids:
            self._enabled[rid] = False

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

    def running(self, subjects: set[Subject]) -> list[Rule]:
        """The enabled rules whose subject is among ``subjects``, in id order."""
        return [r for r in self.rules if self._enabled[r.id] and r.subject in subjects]


def _plain(v: object) -> object:
    """``v`` in a form whose repr does not depend on hash order (sets sorted, mappings as sorted pairs)."""
    if isinstance(v, dict):
        return sorted(((repr(k), _plain(x)) for k, x in v.items()), key=repr)
    if isinstance(v, (set, frozenset)):
        return sorted((_plain(x) for x in v), key=repr)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return repr(v)
