"""Errors that end a run with exit code 2 and a one-line message."""


class LintimgError(Exception):
    """Bad input or usage: the CLI prints ``str(err)`` on one line and exits 2."""

    exit_code = 2
