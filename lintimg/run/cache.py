"""Findings of earlier ``lintimg check`` runs, reused while nothing they depend on has changed.

A file's findings are kept under a key made of everything they are a function of:

- the run: this cache's format, lintimg's version, the Python, the user (file
  permissions), the working directory (messages show paths relative to it),
  and :meth:`lintimg.engine.Engine.cache_key` — the code of lintimg and of every
  plugin (each file's size and mtime), installed distributions, the
  configuration, the rules that run and their severities, and what plugins
  declare through ``lintimg_cache_key`` (the ShellCheck binary);
- the file: its path as given and as an absolute path, its decoded text, and
  the build context it is checked with (folder and builder).

An entry holds the findings and the notes plugins left (ShellCheck missing).

Findings may also depend on facts about base images looked up in the local
engine or a registry (:mod:`lintimg.image.basefacts`: a policy on the base
image's user or size). Every lookup a rule read is kept as a probe too (the
mode, the reference, the platform, and a digest of the answer) and asked again
before the entry is reused; a result that read an answer which may differ next
time for no reason of its own (a timeout, an unreachable registry) or that
listed a registry's sibling tags is not kept.

The build context is not hashed up front: an entry also holds the probes of
what the rules read of it (:mod:`lintimg.context.observe`), and is used only
while every probe answers as it did. A result that read something too recent
to trust, that a plugin marked incomplete (ShellCheck failed or timed out) or
in which a rule crashed is not kept.

Entries are JSON (never pickle: a cache directory may be shared or restored in
CI), one file per key under ``$XDG_CACHE_HOME/lintimg/results/``, written
atomically; a missing, torn, foreign or malformed entry is a miss. Findings
keep what reports show, and reports show no secret whole: no file content is
stored. ``LINTIMG_NO_CACHE=1`` or ``--no-cache`` turns it off.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lintimg import __version__, cachefiles, findings
from lintimg.config import LOOKUP_ENV
from lintimg.findings import Finding

if TYPE_CHECKING:
    from lintimg.context import ContextAttacher
    from lintimg.context.observe import Observations
    from lintimg.dockerfile.sources import DockerfileText
    from lintimg.engine import Engine
    from lintimg.image.basefacts import BaseFactsService, Lookup

FORMAT = 2
# The types a finding is made of: every dataclass and enum of lintimg.findings (a field added
# there is stored as soon as its type is one of these; tests/run/test_cache.py checks each field).
_TYPES: dict[str, type] = {
    name: v for name, v in vars(findings).items()
    if isinstance(v, type) and v.__module__ == findings.__name__ and (dataclasses.is_dataclass(v) or issubclass(v, enum.Enum))
}


class Unstorable(ValueError):
    """A value a cache entry cannot hold."""


def encode(value: Any) -> Any:
    """``value`` as JSON data in which every object is a tagged node: the types of :mod:`lintimg.findings`,
    tuples and mappings come back as they were, and anything else is refused when read (:func:`loads`)."""
    if isinstance(value, enum.Enum):
        if _TYPES.get(type(value).__name__) is not type(value):
            raise Unstorable(type(value).__name__)
        return {"$e": type(value).__name__, "v": value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unstorable("a mapping with keys that are not strings")
        return {"$m": [[k, encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if _TYPES.get(type(value).__name__) is not type(value):
            raise Unstorable(type(value).__name__)
        return {"$d": type(value).__name__, "f": [[f.name, encode(getattr(value, f.name))] for f in dataclasses.fields(value)]}
    raise Unstorable(type(value).__name__)


def dumps(value: Any) -> str:
    """``value`` as JSON text (:func:`encode`)."""
    return json.dumps(encode(value), ensure_ascii=False)


def _node(d: dict[str, Any]) -> Any:
    # Called by the JSON parser for every object, innermost first, so the values inside are decoded already.
    if len(d) == 1 and "$t" in d:
        return tuple(d["$t"])
    if len(d) == 1 and "$m" in d:
        return {str(k): v for k, v in d["$m"]}
    if len(d) == 2 and "$e" in d:
        cls = _TYPES[d["$e"]]
        if not issubclass(cls, enum.Enum):
            raise ValueError(d["$e"])
        return cls(d["v"])
    if len(d) == 2 and "$d" in d:
        cls = _TYPES[d["$d"]]
        if not dataclasses.is_dataclass(cls):
            raise ValueError(d["$d"])
        return cls(**{str(k): v for k, v in d["f"]})
    raise ValueError("not an encoded value")


def loads(text: str) -> Any:
    """The value :func:`dumps` made ``text`` from, decoded while it is parsed; raises ``ValueError``,
    ``TypeError`` or ``KeyError`` on anything else."""
    return json.loads(text, object_hook=_node)


def _probes(observed: Observations) -> list[list[Any]]:
    """An entry's probes as it keeps them."""
    return [[kind, path, cachefiles.plain(value)] for (kind, path), value in observed.probes.items()]


def _digest(*parts: Any) -> str:
    return cachefiles.digest(json.dumps(parts, default=repr, ensure_ascii=False).encode("utf-8", "surrogatepass"))


class ResultCache:
    """Findings per file for one engine (its rules, configuration and plugins)."""

    def __init__(self, engine: Engine, root: Path | None = None, *, deferred: bool = False):
        """``deferred``: entries are written after the run's report (:mod:`lintimg.run.afterwards`), not as each
        batch is checked; what the run knows of them (:meth:`kept`) is the same at once."""
        self.root = root or cachefiles.cache_root("results")
        self.deferred = deferred
        self.salt = _digest(FORMAT, __version__, sys.version, sys.platform, os.geteuid() if hasattr(os, "geteuid") else None,
                            os.getcwd(), os.environ.get(LOOKUP_ENV), engine.cache_key())
        self.redactor = engine.redactor  # an entry is an output: kept with secrets masked
        self.hits = 0  # entries reused in this run
        self._answers: dict[str, str | None] = {}  # base-image probes asked again in this run
        self._used: dict[str, list[list[Any]] | None] = {}  # key -> the probes of its entry, None while it has none

    def key(self, src: DockerfileText, context: ContextAttacher | None) -> str:
        """The key of ``src``'s findings when checked with ``context`` (``None``: no build context)."""
        root, builder = None, None
        if context is not None:
            root, _ = context.root_of(src.path)
            builder = context.builder if root is not None else None
        return _digest(self.salt, src.path, os.path.abspath(src.path), src.text, src.problem, src.size, root, builder)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> tuple[list[Finding], list[str]] | None:
        """The findings and notes stored under ``key``, when every probe of the context still answers the same."""
        from lintimg.context.observe import unchanged

        self._used.setdefault(key, None)
        entry = cachefiles.read_json(self._path(key))
        try:
            if not isinstance(entry, dict) or entry.get("key") != key:
                return None
            probes = [(str(kind), str(path), value) for kind, path, value in entry["probes"]]
            if not unchanged(p for p in probes if p[0] != BASE) or not all(self._same_answer(p, v) for k, p, v in probes if k == BASE):
                return None
            found = loads(entry["findings"])
            notes = [str(n) for n in entry["notes"]]
        except (KeyError, TypeError, ValueError):
            return None  # torn, foreign or from another format: a miss
        if not isinstance(found, list) or not all(isinstance(f, Finding) for f in found):
            return None
        self.hits += 1
        self._used[key] = [list(p) for p in probes]
        return found, notes

    def _same_answer(self, probe: str, value: Any) -> bool:
        """Whether the base-image lookup ``probe`` (see :func:`base_probes`) still gives the answer digested as ``value``."""
        if probe not in self._answers:
            try:
                mode, ref, platform = json.loads(probe)
                self._answers[probe] = _answer_digest(_service(mode).lookup(ref, platform))
            except Exception:  # noqa: BLE001 - a probe that cannot be asked again is a miss, never a crash
                self._answers[probe] = None
        return self._answers[probe] is not None and self._answers[probe] == value

    def put_all(self, results: list[tuple[str, list[Finding], list[str], Observations]]) -> None:
        """:meth:`put` each ``(key, findings, notes, observations)``, the secret spans of all their texts found in
        one batch first: each entry is masked on its own, and a batch of every text costs one pass of the span
        finders (and one disk entry of theirs) where an entry each cost one per file. When the batch holds no
        secret at all (most runs), no entry has one to mask: they are kept as they are."""
        if not results:
            return
        entries = [(key, found, notes, _probes(observed)) for key, found, notes, observed in results]
        if self.deferred:
            import copy

            from lintimg.run import afterwards

            for key, _, _, probes in entries:
                self._used[key] = probes
            # copies: the report may still change the findings it shows (--file-path-in-report renames their file)
            held = [(key, [copy.copy(f) for f in found], list(notes), probes) for key, found, notes, probes in entries]
            afterwards.later(lambda: self._write_all(held))
        else:
            self._write_all(entries)

    def _write_all(self, results: list[tuple[str, list[Finding], list[str], list[list[Any]]]]) -> None:
        from lintimg.engine.redaction import finding_texts

        texts: dict[str, None] = {}
        for _, found, notes, _ in results:
            for f in found:
                texts.update(dict.fromkeys(finding_texts(f)))
            texts.update(dict.fromkeys(notes))
        secrets = any(self.redactor.spans(list(texts)))
        for key, found, notes, probes in results:
            self.put(key, found, notes, probes, mask=secrets)

    def put(self, key: str, found: list[Finding], notes: list[str], probes: list[list[Any]], *, mask: bool = True) -> None:
        """Keep ``found`` and ``notes`` under ``key``, with the context ``probes`` they depend on (:func:`_probes`; their
        secrets masked, unless ``mask`` is false: the caller found no secret in any of their texts)."""
        from lintimg.engine.redaction import stored

        if mask:
            found, notes = stored(found, notes, self.redactor)
        try:
            data = dumps(found)  # text inside the entry: read back in one pass (loads)
        except Unstorable:
            return  # a plugin's finding with a value JSON cannot carry: checked again next time
        cachefiles.write_json(self._path(key), {"key": key, "findings": data, "notes": notes, "probes": probes})
        self._used[key] = probes

    def kept(self, keys: list[str | None]) -> dict[str, list[list[Any]] | None]:
        """What this run knows of the entries under ``keys`` (the probes of each, ``None`` while it has none): what a
        process that checked part of a run's files hands back (:meth:`adopt`) for :meth:`probes_of_run`."""
        return {k: self._used.get(k) for k in keys if k is not None}

    def adopt(self, kept: dict[str, list[list[Any]] | None]) -> None:
        """Take over what another process of this run learnt of entries (:meth:`kept`)."""
        self._used.update(kept)

    def probes_of_run(self) -> list[tuple[str, str, Any]] | None:
        """What this run's results depend on, when each file's findings came from an entry or went into one and
        none depends on a base-image lookup; else ``None`` (for :mod:`lintimg.replay`): the probes of every entry
        read or written, and the entry file itself (entries are replaced whole, with a new inode: its stamp
        changes when it does, so a removed or rewritten entry is seen)."""
        out: list[tuple[str, str, Any]] = []
        for key, probes in self._used.items():
            if probes is None or any(kind == BASE for kind, _, _ in probes):
                return None
            path = str(self._path(key))
            out += [("stat", path, cachefiles.plain(cachefiles.stat_value(path)))]
            out += [(str(kind), str(where), value) for kind, where, value in probes]
        return out



# -- base-image facts ----------------------------------------------------------------

BASE = "base"  # probe kind: a base-image lookup, asked again through lintimg.image.basefacts
# Answers that say more about this moment than about the image: a result that read one is not kept.
TRANSIENT = frozenset({"timeout", "unreachable", "error"})


def _service(mode: str) -> BaseFactsService:
    from lintimg.image.basefacts import BaseFactsService  # only for entries that read base-image facts

    return BaseFactsService(mode)


def _answer_digest(found: Lookup) -> str:
    """A digest of what a lookup answered: every field that compares (not when it was measured)."""
    return _digest(type(found).__name__, [getattr(found, f.name) for f in dataclasses.fields(found) if f.compare])


def base_probes(looked_up: dict[str, Any] | None) -> dict[tuple[str, str], str] | None:
    """The probes of the base-image lookups a target's rules read (``target.cache["basefacts"]``, see
    :mod:`lintimg.engine.hookspecs`); None when its result must not be kept."""
    if not looked_up or not looked_up["read"]:
        return {}
    from lintimg.image.basefacts import Unavailable

    probes: dict[tuple[str, str], str] = {}
    for read in looked_up["read"]:
        if read is None:
            return None  # sibling tags were listed and measured: too much to ask again
        found = looked_up["facts"][read]
        if isinstance(found, Unavailable) and found.kind in TRANSIENT:
            return None
        ref, platform = read
        probes[(BASE, json.dumps([looked_up["mode"], ref, platform]))] = _answer_digest(found)
    return probes
