"""The rule contract: a plain function plus metadata, documented by its docstring.

A rule is declared with :func:`rule`::

    @rule("LI300", "apt-get-pin-versions", Severity.WARNING, tags=("apt",),
          peers=("DL3008",))
    def apt_get_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
        \"\"\"Pin versions in apt-get install.

        ## What it does
        ...
        ## Why it matters
        ...
        ## Example
        ...
        ## Fix
        ...
        \"\"\"

The first docstring line is the summary; the four sections are required and
are what ``lintimg rules ID``, the docs and SARIF ``help`` show. The function
receives the view of the target its ``subject`` names
(:mod:`lintimg.engine.target`).

A plugin may also hand the engine a rule it has not imported yet
(:func:`declared`): its metadata, and the module that defines it. The engine
imports that module only when the rule runs or its documentation is read.
"""
from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import field
from typing import Any, Literal, overload

from lintimg.engine.target import (
    ContextTarget,
    DockerfileTarget,
    ImageTarget,
    MappedImageTarget,
    RuleTarget,
    Subject,
)
from lintimg.errors import LintimgError
from lintimg.findings import Hit, Safety, Severity
from lintimg.records import record

RuleFunc = Callable[[Any], Iterable[Hit]]

SECTIONS = ("What it does", "Why it matters", "Example", "Fix")
_BUILTIN_RULES = "lintimg.rules."
DOCS_BASE_URL = "https://lintimg.dev/rules/"


@record(frozen=True)
class Rule:
    """A rule's metadata and check (see the module docstring)."""

    id: str
    slug: str
    severity: Severity
    subject: Subject
    # The check; None for a rule declared by metadata, loaded from ``module`` on first use.
    func: RuleFunc | None = field(default=None, compare=False, repr=False)
    tags: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    # GitHub's numeric security-severity (0.1-10); set for security rules only.
    security_severity: float | None = None
    # Off unless configured on (like hadolint's "ignore" level rules).
    enabled_by_default: bool = True
    # The kinds of fix its hits may carry (edits ``--fix`` applies): (), (SAFE,), (UNSAFE,) or both.
    fixable: tuple[Safety, ...] = ()
    # Divergences from peers, by peer id: why our answer differs on purpose.
    own_divergences: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    module: str = field(default="", compare=False)  # the module that defines the rule

    def loaded(self) -> Rule:
        """The rule with its function (this one, or the one its module defines)."""
        return self if self.func is not None else _load(self.module, self.id)

    @property
    def divergences(self) -> dict[str, str]:
        return self.loaded().own_divergences

    @property
    def doc(self) -> str:
        func = self.loaded().func
        return inspect.cleandoc(func.__doc__ or "") if func is not None else ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0].strip() if self.doc else ""

    def section(self, name: str) -> str:
        return parse_sections(self.doc).get(name, "")

    @property
    def help_uri(self) -> str:
        return f"{DOCS_BASE_URL}{self.id}-{self.slug}"

    def check(self, target: RuleTarget) -> Iterator[Hit]:
        func = self.loaded().func
        assert func is not None
        yield from func(target)


_loaded: dict[str, dict[str, Rule]] = {}


def _load(module: str, rule_id: str) -> Rule:
    found = _loaded.get(module)
    if found is None:
        found = _loaded[module] = {r.id: r for r in rules_in(importlib.import_module(module))}
    if rule_id not in found:
        raise LintimgError(f"rule {rule_id} is declared in {module}'s plugin but {module} does not define it")
    return found[rule_id]


_ID_RE = re.compile(r"^[A-Z]{2,}[0-9]{3,4}$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SECTION_RE = re.compile(r"^##\s+(.+?)\s*$")


def parse_sections(doc: str) -> dict[str, str]:
    """Split a rule docstring into ``{section title: body}``; ``""`` is the summary."""
    out: dict[str, str] = {}
    current = ""
    lines: list[str] = []
    for line in doc.splitlines():
        # Every rule's docstring is split when its module loads (:func:`rule` checks the sections): only lines
        # that start a heading go to the regular expression.
        m = _SECTION_RE.match(line) if line.startswith("##") else None
        if m:
            out[current] = "\n".join(lines).strip()
            current, lines = m.group(1), []
        else:
            lines.append(line)
    out[current] = "\n".join(lines).strip()
    return out


def _validate(id: str, slug: str, security_severity: float | None) -> None:
    if not _ID_RE.match(id):
        raise ValueError(f"rule id {id!r} must look like LI123")
    if not _SLUG_RE.match(slug):
        raise ValueError(f"rule slug {slug!r} must be kebab-case")
    if security_severity is not None and not 0 < security_severity <= 10:
        raise ValueError(f"{id}: security_severity must be in (0, 10]")


# One signature per subject, so that mypy checks the view a rule's function takes.
@overload
def rule(id: str, slug: str, severity: Severity, *, subject: Literal[Subject.DOCKERFILE] = ..., tags: Iterable[str] = ...,
         peers: Iterable[str] = ..., security_severity: float | None = ..., enabled_by_default: bool = ...,
         divergences: dict[str, str] | None = ..., fixable: Iterable[Safety] = ...) -> Callable[[Callable[[DockerfileTarget], Iterable[Hit]]], Rule]: ...
@overload
def rule(id: str, slug: str, severity: Severity, *, subject: Literal[Subject.CONTEXT], tags: Iterable[str] = ...,
         peers: Iterable[str] = ..., security_severity: float | None = ..., enabled_by_default: bool = ...,
         divergences: dict[str, str] | None = ..., fixable: Iterable[Safety] = ...) -> Callable[[Callable[[ContextTarget], Iterable[Hit]]], Rule]: ...
@overload
def rule(id: str, slug: str, severity: Severity, *, subject: Literal[Subject.IMAGE], tags: Iterable[str] = ...,
         peers: Iterable[str] = ..., security_severity: float | None = ..., enabled_by_default: bool = ...,
         divergences: dict[str, str] | None = ..., fixable: Iterable[Safety] = ...) -> Callable[[Callable[[ImageTarget], Iterable[Hit]]], Rule]: ...
@overload
def rule(id: str, slug: str, severity: Severity, *, subject: Literal[Subject.IMAGE_DOCKERFILE], tags: Iterable[str] = ...,
         peers: Iterable[str] = ..., security_severity: float | None = ..., enabled_by_default: bool = ...,
         divergences: dict[str, str] | None = ..., fixable: Iterable[Safety] = ...) -> Callable[[Callable[[MappedImageTarget], Iterable[Hit]]], Rule]: ...
def rule(
    id: str,
    slug: str,
    severity: Severity,
    *,
    subject: Subject = Subject.DOCKERFILE,
    tags: Iterable[str] = (),
    peers: Iterable[str] = (),
    security_severity: float | None = None,
    enabled_by_default: bool = True,
    divergences: dict[str, str] | None = None,
    fixable: Iterable[Safety] = (),
) -> Callable[[Any], Rule]:
    """Turn a check function into a :class:`Rule`, validating its metadata and docs."""
    _validate(id, slug, security_severity)

    def wrap(func: RuleFunc) -> Rule:
        # A plugin's rule is held to its docs here, as it is defined. lintimg's own rules are held to them by
        # tests/test_docs.py (every rule, every section): checking ~150 docstrings as their modules load cost each
        # run ~6 ms.
        if not func.__module__.startswith(_BUILTIN_RULES):
            sections = parse_sections(inspect.cleandoc(func.__doc__ or ""))
            missing = [s for s in SECTIONS if not sections.get(s)]
            if missing or not sections.get(""):
                raise ValueError(f"{id} {slug}: docstring lacks a summary or sections {missing}")
        return Rule(
            id=id,
            slug=slug,
            severity=severity,
            subject=subject,
            func=func,
            tags=tuple(tags),
            peers=tuple(peers),
            security_severity=security_severity,
            enabled_by_default=enabled_by_default,
            fixable=_fix_kinds(fixable),
            own_divergences=dict(divergences or {}),
            module=func.__module__,
        )

    return wrap


def declared(id: str, slug: str, severity: Severity, subject: Subject, module: str, *, tags: Iterable[str] = (),
             peers: Iterable[str] = (), security_severity: float | None = None, enabled_by_default: bool = True,
             fixable: Iterable[Safety] = ()) -> Rule:
    """A rule known by its metadata, whose function ``module`` defines; imported when first needed."""
    _validate(id, slug, security_severity)
    return Rule(id=id, slug=slug, severity=severity, subject=subject, tags=tuple(tags), peers=tuple(peers),
                security_severity=security_severity, enabled_by_default=enabled_by_default, fixable=_fix_kinds(fixable),
                module=module)


def _fix_kinds(kinds: Iterable[Safety]) -> tuple[Safety, ...]:
    """The fix kinds in a fixed order (safe first), each once."""
    given = set(kinds)
    return tuple(k for k in Safety if k in given)


def fix_summary(r: Rule) -> str:
    """How the docs describe a rule's fix: ``safe``, ``unsafe``, ``safe or unsafe`` or ``none``."""
    return " or ".join(str(k) for k in r.fixable) or "none"


def rules_in(*modules: Any) -> list[Rule]:
    """Every :class:`Rule` defined at module level in ``modules``, in id order."""
    found = [v for m in modules for v in vars(m).values() if isinstance(v, Rule)]
    return sorted(found, key=lambda r: r.id)
