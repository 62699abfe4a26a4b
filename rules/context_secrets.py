"""LI540–LI549: secrets inside the context files that COPY/ADD puts in the image."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile.queries import hit
from lintimg.engine.rule import rule
from lintimg.engine.target import ContextTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.rules._common import capped

ID_RANGE = "LI540-LI549"


@rule(
    "LI540",
    "secret-in-copied-file",
    Severity.ERROR,
    subject=Subject.CONTEXT,
    tags=("context", "security", "secrets"),
    security_severity=9.0,
)
def secret_in_copied_file(t: ContextTarget) -> Iterator[Hit]:
    """A file that COPY/ADD puts in the image contains a secret.

    ## What it does
    Scans the context files each COPY/ADD sends (after `.dockerignore`) with
    the secret detector — private keys, cloud and service tokens, passwords
    in assignments, high-entropy strings — and reports the file, the line in
    it, the detector and a redacted value, at the COPY line. Only copied
    files are read; binaries, files over `secrets.max-file-size` and
    `secrets.exclude-paths` are skipped, and results are cached per file so
    that unchanged files are not read again.

    ## Why it matters
    Whatever a COPY sends ends up in a layer that anyone with the image can
    extract, even if a later step deletes the file.

    ## Example
    ```dockerfile
    FROM node:20
    COPY . .           # config/settings.js holds a live Stripe key
    ```

    ## Fix
    Take the secret out of the file (read it from the environment or a
    mounted secret at run time), exclude the file in `.dockerignore`, and
    rotate the secret: it has been exposed. Accepted values go in
    `secrets.allowlist` by fingerprint.
    """
    scanner = t.context.secrets(t.setting("secrets"))
    for copy in t.context.copies(t.dockerfile):
        found = [(src, scanner.scan_part(tree, entries)) for src, tree, entries in copy.parts]
        yield from capped(copy, found, "secrets", lambda item, src: hit(
            copy.ins,
            f"{copy.ins.keyword} puts {item[0]} in the image, and line {item[1].line} of it holds a secret ({item[1].title}: {item[1].redacted})",
            token=src.token,
            fix=f"remove the secret from {item[0]} or exclude the file in .dockerignore, and rotate it",
            key=item[1].fingerprint,
            file=item[0],
            file_line=item[1].line,
            detector=item[1].detector,
        ))
