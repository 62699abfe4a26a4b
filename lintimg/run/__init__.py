"""Runs: ``lintimg check`` over files (:mod:`.check`), ``lintimg image`` over an image (:mod:`.image`),
``lintimg build`` (:mod:`.build`, then :mod:`.image`). Each ends in one :class:`RunResult`."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import field, replace
from typing import TYPE_CHECKING

from lintimg import __version__
from lintimg.engine.hookspecs import NOTES, RunInfo
from lintimg.engine.target import Target
from lintimg.findings import Finding
from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.engine import Engine
    from lintimg.image.model import Image


@record
class RunResult:
    """What a run found and what its report needs: files checked (clean ones too), their lines, notes."""

    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # path -> lines, for excerpts
    notes: list[str] = field(default_factory=list)  # one-line remarks plugins left in target.cache["notes"]
    image: Image | None = None  # the image of an image run

    def add_file(self, path: str, lines: list[str] | None = None) -> None:
        if path not in self.files:
            self.files.append(path)
        if lines is not None:
            self.sources[path] = lines

    def add_notes(self, notes: Iterable[str]) -> None:
        """Add ``notes``, each once, in order."""
        self.notes += [n for n in notes if n not in self.notes]

    def rename(self, path: str) -> None:
        """Report the one file checked under ``path`` (hadolint's ``--file-path-in-report``)."""
        if len(self.files) != 1:
            return
        old = self.files[0]
        for f in self.findings:
            if f.location.path == old:
                f.location = replace(f.location, path=path)
            if f.target == old:
                f.target = path
        self.files = [path]
        if old in self.sources:
            self.sources[path] = self.sources.pop(old)

    def collect_notes(self, targets: list[Target]) -> None:
        """The notes every target's plugins left, each once, in order."""
        for t in targets:
            self.add_notes(t.cache.get(NOTES, ()))

    def run_info(self, engine: Engine, kind: str = "dockerfile", image: str | None = None, *, color: bool = False) -> RunInfo:
        """What a report format receives with these findings (``lintimg image`` and a fleet scan render an image alike)."""
        return RunInfo(rules=engine.rules, files=self.files, sources=self.sources, color=color, kind=kind, image=image,
                       tool_version=__version__, notes=self.notes)
