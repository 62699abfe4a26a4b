"""LI390: ShellCheck over every shell-form RUN script, each ShellCheck code reported under one rule.

The scripts of a run are checked in one background batch (and remembered on
disk) by :mod:`lintimg.shellcheck`, started from the plugin's
``lintimg_prepare`` hook; this rule waits for its share and places the results.
"""
from __future__ import annotations

from collections.abc import Iterator

from lintimg import shellcheck
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity

ID_RANGE = "LI390-LI399"


@rule("LI390", "shellcheck", Severity.WARNING, tags=("shell", "shellcheck"), peers=("SC*",))
def shellcheck_findings(t: DockerfileTarget) -> Iterator[Hit]:
    """ShellCheck's findings on RUN scripts.

    ## What it does
    Runs ShellCheck (when a `shellcheck` binary is on PATH; install
    `lintimg[shellcheck]`) as POSIX sh over every shell-form RUN, heredoc
    scripts included, and reports each of its findings at the Dockerfile
    line it belongs to. This one rule stands for all ShellCheck codes: the
    code is in the message (`SC2086: …`) and in the finding's
    `shellcheck_code` property. ARG and ENV names of the Dockerfile are
    declared to ShellCheck, so using them is not "unassigned". RUNs under
    a non-POSIX SHELL (or `# hadolint shell=powershell`) are skipped;
    `# hadolint ignore=SC2086` (also the `global`/`stage` forms) suppresses
    one code, `# lintimg ignore=LI390` all of them; a code can be named
    wherever a rule id goes (`--ignore SC2086`, `rules: {SC2086: off}`,
    `--error SC2086`). A finding's severity is ShellCheck's own level
    (error, warning, info or style, as hadolint reports them; also in the
    `shellcheck_level` property) unless a severity is configured for LI390
    or for the code.

    ## Why it matters
    Quoting mistakes, unset variables and bashisms in `/bin/sh` break
    builds in ways that are hard to see in a Dockerfile.

    ## Example
    ```dockerfile
    RUN for f in $(ls *.txt); do cat $f; done
    ```

    ## Fix
    Follow the ShellCheck wiki page for the code
    (https://www.shellcheck.net/wiki/SC2086).
    """
    yield from shellcheck.hits(t)
