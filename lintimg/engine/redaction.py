"""The redaction layer between findings and every report: what a format receives is already safe to show.

:meth:`lintimg.engine.Engine.report_formats` wraps every format, built-in or
a plugin's, so that it renders the output of :func:`protect`, never the raw
findings. :func:`protect` gathers every text a report can show — messages,
fixes, file paths, image references, in-image paths and history commands,
property values, notes and the source files excerpts are cut from — asks the
span finders (the ``lintimg_secret_spans`` hook: the built-in detectors of
:mod:`lintimg.secrets.spans` and any plugin's) where secrets sit, masks them
(:func:`lintimg.redaction.mask`, lengths kept) — so a source line shows its
secret value masked and the rest as written, and a line with no value on it
(``COPY . /app`` sending a key file) shows as written — masks from the
finding's column on a line a secret rule points at where the finders found
nothing (the rule saw a value they cannot), and makes control characters visible
(:func:`lintimg.redaction.display`). Rules and formats have no redaction duty.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import pluggy

from lintimg.engine.hookspecs import RunInfo
from lintimg.engine.plugins import BUILTIN
from lintimg.engine.target import Subject
from lintimg.findings import Finding
from lintimg.redaction import Redactor, Span, SpanFinder, display, mask

SECRETS_TAG = "secrets"


def plugin_finder(pm: pluggy.PluginManager) -> SpanFinder:
    """A finder that asks every plugin's ``lintimg_secret_spans`` and joins their answers."""

    def find(texts: Sequence[str]) -> list[list[Span]]:
        out: list[list[Span]] = [[] for _ in texts]
        for answer in pm.hook.lintimg_secret_spans(texts=list(texts)):
            for i, spans in enumerate(answer[: len(texts)]):
                out[i] += [(int(a), int(b)) for a, b in spans]
        return out

    return find


def builtin_redactor() -> Redactor:
    """The built-in detectors alone: for error lines written before (or without) an engine."""
    module = importlib.import_module(BUILTIN["secrets"])  # by name, like every built-in plugin: it sits below the engine
    finder: SpanFinder = module.find
    return Redactor([finder])


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _mapped(value: Any, safe: dict[str, str]) -> Any:
    if isinstance(value, str):
        return safe[value]
    if isinstance(value, dict):
        return {k: _mapped(v, safe) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mapped(v, safe) for v in value)
    return value


def _safe_key(key: str | None, masked: dict[str, str]) -> str | None:
    """A finding's key with a secret in it (an ADD URL's password) as a digest: the key only tells
    findings apart (report fingerprints hash it), so a digest of it serves as well and shows nothing."""
    if not key or masked.get(key, key) == key:
        return key
    import hashlib  # only for such a key: a cached run loads no OpenSSL

    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def finding_texts(f: Finding) -> Iterable[str]:
    """Every text of ``f`` a report or a cache entry shows."""
    if f.key:
        yield f.key
    yield f.message
    yield f.location.path
    if f.target:
        yield f.target
    if f.fix:
        yield f.fix
    yield from (e.text for e in f.edits)
    if f.image is not None:
        yield from (s for s in (f.image.image, f.image.path, f.image.created_by) if s)
    yield from _strings(f.properties)


def _safe_finding(f: Finding, safe: dict[str, str], masked: dict[str, str]) -> Finding:
    """``f`` with each of its texts (:func:`finding_texts`) as ``safe`` has it; ``masked`` tells which key holds a secret."""
    image = f.image
    if image is not None:
        image = replace(image, image=safe[image.image] if image.image else image.image,
                        path=safe[image.path] if image.path else image.path,
                        created_by=safe[image.created_by] if image.created_by else image.created_by)
    # An edit that would write a secret is not kept (masked, it would write the mask into the file).
    edits = f.edits if all(masked[e.text] == e.text for e in f.edits) else ()
    return replace(f, message=safe[f.message], fix=safe[f.fix] if f.fix else f.fix, image=image, key=_safe_key(f.key, masked),
                   location=replace(f.location, path=safe[f.location.path]), properties=_mapped(f.properties, safe),
                   target=safe[f.target] if f.target else f.target, edits=edits)


def _secret_columns(findings: list[Finding], info: RunInfo) -> dict[tuple[str, int], int]:
    """(path, line) -> the first column a finding of a secret rule that reads the Dockerfile's own text points at.

    Rules about the build context or the image (a key file a COPY sends, a token in a layer) point at
    the instruction that ships the file: its line names the file and holds no value, so it is left alone.
    """
    secret_rules = {r.id for r in info.rules if SECRETS_TAG in r.tags and r.subject is Subject.DOCKERFILE}
    cols: dict[tuple[str, int], int] = {}
    for f in findings:
        if f.rule_id in secret_rules:
            loc = f.location
            for line in range(loc.line, (loc.end_line or loc.line) + 1):
                col = loc.column if line == loc.line else 1
                key = (loc.path, line)
                cols[key] = min(col, cols.get(key, col))
    return cols


def protect(findings: list[Finding], info: RunInfo, redactor: Redactor) -> tuple[list[Finding], RunInfo]:
    """Findings and run information as a report may show them (see the module docstring)."""
    sources = {path: "\n".join(lines) for path, lines in info.sources.items()}
    texts: dict[str, None] = {}  # insertion-ordered set
    for f in findings:
        texts.update(dict.fromkeys(finding_texts(f)))
    texts.update(dict.fromkeys([*info.files, *info.notes, *sources, *sources.values(), *([info.image] if info.image else [])]))
    order = list(texts)
    masked = dict(zip(order, redactor.masked(order)))
    safe = {t: display(m) for t, m in masked.items()}
    columns = _secret_columns(findings, info)
    safe_sources: dict[str, list[str]] = {}
    for path, text in sources.items():
        lines = masked[text].split("\n") if text else []
        for n, line in enumerate(lines, 1):
            col = columns.get((path, n))
            # A line where a finder found the value shows it masked in place, the rest as written; where
            # none did, the rule saw a value the finders cannot: the line is masked from its column on.
            if col is not None and line == info.sources[path][n - 1]:
                lines[n - 1] = mask(line, [(col - 1, len(line.rstrip()))])
        safe_sources[safe[path]] = [display(line) for line in lines]
    out = [_safe_finding(f, safe, masked) for f in findings]
    shown = replace(info, files=[safe[p] for p in info.files], notes=[safe[n] for n in info.notes], sources=safe_sources,
                    image=safe[info.image] if info.image else info.image)
    return out, shown


def stored(findings: list[Finding], notes: list[str], redactor: Redactor) -> tuple[list[Finding], list[str]]:
    """Findings and notes as a cache may keep them on disk: secrets masked (a report masks them again).

    A cache file is an output too: the results cache (:mod:`lintimg.run.cache`) stores what this returns.
    """
    texts: dict[str, None] = {}
    for f in findings:
        texts.update(dict.fromkeys(finding_texts(f)))
    texts.update(dict.fromkeys(notes))
    order = list(texts)
    safe = dict(zip(order, redactor.masked(order)))
    out = [_safe_finding(f, safe, safe) for f in findings]
    return out, [safe[n] for n in notes]
