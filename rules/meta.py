"""LI0xx: the file itself — parse errors."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile.comments import is_ignore_pragma
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity

ID_RANGE = "LI000-LI099"


@rule("LI001", "parse-error", Severity.ERROR, tags=("meta", "syntax"), peers=("DL1000",))
def parse_error(t: DockerfileTarget) -> Iterator[Hit]:
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


@rule("LI004", "ignore-pragma-used", Severity.INFO, tags=("meta",), peers=("DL1001",), enabled_by_default=False)
def ignore_pragma_used(t: DockerfileTarget) -> Iterator[Hit]:
    """An inline ignore pragma is used (off by default).

    ## What it does
    Flags every comment that suppresses findings: `# lintimg ignore=`,
    `# hadolint ignore=` (and their `global`/`stage` forms), `# check=skip=`,
    `# trivy:ignore:` and `#checkov:skip=`. Off by default, as in hadolint;
    turn it on for teams that want every exception to go through review of
    the config file instead.

    ## Why it matters
    Inline suppressions are easy to add and easy to forget; a file full of
    them hides exactly the findings the linter exists to show.

    ## Example
    ```dockerfile
    # hadolint ignore=DL3008
    RUN apt-get install -y curl
    ```

    ## Fix
    Fix the finding, or record the exception in `.lintimg.yaml` (`rules:`).
    """
    for c in t.dockerfile.comments:
        if is_ignore_pragma(c.text):
            yield Hit(f"inline ignore pragma: # {c.text}", line=c.line, column=1)
