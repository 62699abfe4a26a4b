"""A secret found in some text: where, what kind, a redaction and a fingerprint — never the value.

Plain data with no detector behind it, so caches and reports read hits
without loading the engine.
"""
from __future__ import annotations

from lintimg.records import record


@record(frozen=True)
class SecretHit:
    detector: str  # detector id (lintimg.secrets.formats), e.g. "github-token"
    title: str  # what it is, e.g. "GitHub token"
    line: int  # 1-based line in the scanned text (a private key: its BEGIN line)
    column: int  # 1-based character column of the value in that line
    redacted: str  # lintimg.secrets.redact.redact() of the value
    fingerprint: str  # sha256 hex of the value: what allowlists and finding keys use

    def row(self) -> list[str | int]:
        """As a JSON row (caches); :meth:`from_row` reads it back."""
        return [self.detector, self.title, self.line, self.column, self.redacted, self.fingerprint]

    @classmethod
    def from_row(cls, row: list[str | int] | tuple[str | int, ...]) -> SecretHit:
        detector, title, line, column, redacted, fp = row
        return cls(str(detector), str(title), int(line), int(column), str(redacted), str(fp))
