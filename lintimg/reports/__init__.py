"""Output formats. Each is ``render(findings, info) -> str``; plugins can add more."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from lintimg.findings import Finding
from lintimg.rule import Rule


@dataclass
class RunInfo:
    """What a report needs besides the findings."""

    rules: list[Rule]  # every loaded rule (SARIF lists them)
    files: list[str]  # every file checked, clean ones too
    sources: dict[str, list[str]] = field(default_factory=dict)  # path -> lines, for excerpts
    color: bool = False
    kind: str = "dockerfile"  # "dockerfile" or "image": SARIF category and JSON "kind"
    image: str | None = None  # the image reference for image runs
    tool_version: str = ""
    notes: list[str] = field(default_factory=list)  # one-line remarks (e.g. shellcheck missing)


Render = Callable[[list[Finding], RunInfo], str]


def _lazy(module: str) -> Render:
    """A renderer that imports its module on first use, so a text run never loads sarif-om or XML."""

    def render(findings: list[Finding], info: RunInfo) -> str:
        return importlib.import_module(module).render(findings, info)

    return render


def builtin_formats() -> dict[str, Render]:
    names = ("text", "json", "sarif", "github", "junit", "gitlab")
    return {name: _lazy(f"lintimg.reports.{name}") for name in names}
