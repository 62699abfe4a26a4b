"""What a rule reports, where, and how bad it is."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """Ordered so that a higher value is more severe."""

    STYLE = 1
    INFO = 2
    WARNING = 3
    ERROR = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning, info or style)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based lines and columns, ``end_column`` exclusive.

    For image findings ``path`` is still a file the user has (the Dockerfile,
    when known); the in-image details live in :class:`ImageLocation`.
    """

    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None


class Safety(enum.Enum):
    """Whether applying a fix keeps what the build and the container do (ruff's applicability).

    ``SAFE`` fixes run with ``--fix``; ``UNSAFE`` ones change behaviour (a
    pinned digest, a moved COPY) and need ``--unsafe-fixes`` as well.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Edit:
    """Replace the text from ``line:column`` up to ``end_line:end_column`` (exclusive) with ``text``.

    Lines and columns are 1-based and count Unicode code points of the file as
    the model reads it (a CRLF line ends before its ``\r``); an empty range is
    an insertion. ``text`` uses ``\n`` for line breaks: whoever writes the file
    puts back the file's own line ending.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    text: str

    @property
    def start(self) -> tuple[int, int]:
        return self.line, self.column

    @property
    def end(self) -> tuple[int, int]:
        return self.end_line, self.end_column


@dataclass(frozen=True)
class ImageLocation:
    """Where inside an image a finding lives."""

    image: str
    layer_index: int | None = None
    layer_digest: str | None = None
    path: str | None = None
    created_by: str | None = None


@dataclass
class Hit:
    """What a rule function yields: a message and a place.

    The engine turns a hit into a :class:`Finding` by adding the rule's id,
    the configured severity and the file path. ``line``/``column`` refer to
    the Dockerfile unless ``path`` names another file (a context file).
    """

    message: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    path: str | None = None
    fix: str | None = None
    image: ImageLocation | None = None
    # A stable value that tells two hits of one rule apart across edits
    # (a package name, a path in the image, a hash of a secret). Feeds the
    # SARIF fingerprint; never a secret itself.
    key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # This hit's own weight, for rules whose findings differ (ShellCheck's level for each code; a finding
    # softened because a fact it needs, such as the base image's user, could not be had). A severity the
    # user configured for the rule wins over it.
    severity: Severity | None = None
    # The exact change that fixes the hit (all or nothing), and whether it keeps behaviour.
    edits: tuple[Edit, ...] = ()
    safety: Safety = Safety.SAFE


@dataclass
class Finding:
    """A hit as reported: the rule, the configured severity, the message and where."""

    rule_id: str
    slug: str
    severity: Severity
    message: str
    location: Location
    fix: str | None = None
    image: ImageLocation | None = None
    key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # The Dockerfile (or image) checked when this was found: a context file's finding names its Dockerfile.
    target: str | None = None
    # The stage and a digest of the whitespace-normalised text of the instruction the finding sits on (None off
    # any instruction; never the text, which may hold a secret): fingerprints hash it instead of line numbers,
    # so edits elsewhere keep them.
    anchor: str | None = None
    edits: tuple[Edit, ...] = ()
    safety: Safety = Safety.SAFE

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule_id, self.message)
