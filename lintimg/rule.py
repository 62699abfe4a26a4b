"""The rule contract: a plain function plus metadata, documented by its docstring.

A rule is declared with :func:`rule`::

    @rule("LI301", "apt-get-pin-versions", Severity.WARNING, tags=("apt",),
          peers=("DL3008",))
    def apt_get_pin_versions(t: Target) -> Iterator[Hit]:
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
are what ``lintimg rules ID``, the docs and SARIF ``help`` show.
"""
from __future__ import annotations

import enum
import inspect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from lintimg.findings import Hit, Severity

if TYPE_CHECKING:
    from lintimg.target import Target

RuleFunc = Callable[["Target"], Iterable[Hit]]

SECTIONS = ("What it does", "Why it matters", "Example", "Fix")
DOCS_BASE_URL = "https://lintimg.dev/rules/"


class Subject(enum.Enum):
    """What a rule needs to see. The engine runs a rule only when it is present."""

    DOCKERFILE = "dockerfile"
    CONTEXT = "context"  # the Dockerfile plus its build context
    IMAGE = "image"  # image config, history and layers
    IMAGE_DOCKERFILE = "image+dockerfile"  # an image mapped back to its Dockerfile


@dataclass(frozen=True)
class Rule:
    id: str
    slug: str
    severity: Severity
    subject: Subject
    func: RuleFunc = field(compare=False, repr=False)
    tags: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    # GitHub's numeric security-severity (0.1-10); set for security rules only.
    security_severity: float | None = None
    # Off unless configured on (like hadolint's "ignore" level rules).
    enabled_by_default: bool = True
    # Divergences from peers, by peer id: why our answer differs on purpose.
    divergences: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0].strip() if self.doc else ""

    def section(self, name: str) -> str:
        return parse_sections(self.doc).get(name, "")

    @property
    def help_uri(self) -> str:
        return f"{DOCS_BASE_URL}{self.id}-{self.slug}"

    def check(self, target: "Target") -> Iterator[Hit]:
        yield from self.func(target)


_ID_RE = re.compile(r"^[A-Z]{2,}[0-9]{3,4}$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def parse_sections(doc: str) -> dict[str, str]:
    """Split a rule docstring into ``{section title: body}``; ``""`` is the summary."""
    out: dict[str, str] = {}
    current = ""
    lines: list[str] = []
    for line in doc.splitlines():
        m = re.match(r"^##\s+(.+?)\s*$", line)
        if m:
            out[current] = "\n".join(lines).strip()
            current, lines = m.group(1), []
        else:
            lines.append(line)
    out[current] = "\n".join(lines).strip()
    return out


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
) -> Callable[[RuleFunc], Rule]:
    """Turn a check function into a :class:`Rule`, validating its metadata and docs."""
    if not _ID_RE.match(id):
        raise ValueError(f"rule id {id!r} must look like LI123")
    if not _SLUG_RE.match(slug):
        raise ValueError(f"rule slug {slug!r} must be kebab-case")
    if security_severity is not None and not 0 < security_severity <= 10:
        raise ValueError(f"{id}: security_severity must be in (0, 10]")

    def wrap(func: RuleFunc) -> Rule:
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
            divergences=dict(divergences or {}),
        )

    return wrap


def rules_in(*modules: Any) -> list[Rule]:
    """Every :class:`Rule` defined at module level in ``modules``, in id order."""
    found = [v for m in modules for v in vars(m).values() if isinstance(v, Rule)]
    return sorted(found, key=lambda r: r.id)
