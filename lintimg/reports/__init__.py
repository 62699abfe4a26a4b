"""Output formats. Each is ``render(findings, info) -> str``; plugins can add more."""
from __future__ import annotations

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


def builtin_formats() -> dict[str, Render]:
    from lintimg.reports import json as json_report
    from lintimg.reports import text

    formats: dict[str, Render] = {"text": text.render, "json": json_report.render}
    for name, module, attr in (
        ("sarif", "lintimg.reports.sarif", "render"),
        ("github", "lintimg.reports.github", "render"),
        ("junit", "lintimg.reports.junit", "render"),
        ("gitlab", "lintimg.reports.gitlab", "render"),
    ):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError:
            continue
        formats[name] = getattr(mod, attr)
    return formats
