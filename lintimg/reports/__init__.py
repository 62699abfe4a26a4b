"""The built-in output formats, a plugin like any other (entry point ``reports`` of group ``lintimg``).

Each format is ``render(findings, info) -> str`` in a module of its own,
imported on first use, so a text run never loads sarif-om or XML.
"""
from __future__ import annotations

import importlib

from lintimg.engine.hookspecs import Reporter, RunInfo, hookimpl
from lintimg.findings import Finding

__all__ = ["FORMATS", "RunInfo", "lintimg_report_formats"]

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab", "checkstyle", "rdjsonl")


def _lazy(module: str) -> Reporter:
    def render(findings: list[Finding], info: RunInfo) -> str:
        out: str = importlib.import_module(module).render(findings, info)
        return out

    return render


@hookimpl
def lintimg_report_formats() -> dict[str, Reporter]:
    return {name: _lazy(f"{__name__}.{name}") for name in FORMATS}
