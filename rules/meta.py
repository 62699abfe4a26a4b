"""LI0xx: the file itself — parse errors."""
from __future__ import annotations

from typing import Iterator

from lintimg.findings import Hit, Severity
from lintimg.rule import rule
from lintimg.target import Target


@rule("LI001", "parse-error", Severity.ERROR, tags=("meta", "syntax"), peers=("DL1000",))
def parse_error(t: Target) -> Iterator[Hit]:
    """The Dockerfile cannot be parsed as written.

    ## What it does
    Reports each syntax problem the parser finds (an unknown instruction, an
    instruction missing its arguments, a heredoc that is never closed, a
    file that is not text) at the line where it happens.

    ## Why it matters
    The builder stops at the first such line, and every other rule sees a
    file that is not what the builder sees.

    ## Example
    ```dockerfile
    FROM debian:12
    RUNN apt-get update
    ```

    ## Fix
    Correct the instruction at the reported line.
    """
    for err in t.dockerfile.errors:
        yield Hit(str(err), line=err.line, column=err.column)
