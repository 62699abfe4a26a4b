"""Errors that end a run with exit code 2 and a one-line message."""

MAX_MESSAGE = 1000  # characters of an error message shown (an untrusted value in it may be huge)


class LintimgError(Exception):
    """Bad input or usage: the CLI prints ``str(err)`` on one line and exits 2."""

    exit_code = 2


def internal_error(e: BaseException) -> str:
    """The one line that stands for an exception nothing expected (a bug): its type, text and where it was raised."""
    try:
        import os
        import traceback

        where = traceback.extract_tb(e.__traceback__)[-1]
        at = f" at {os.path.basename(where.filename)}:{where.lineno}"
        text = str(e)[:MAX_MESSAGE]
    except Exception:  # noqa: BLE001 - an exception whose text cannot be made (a MemoryError, a broken __str__)
        at, text = "", ""
    return f"internal error: {type(e).__name__}: {text}{at} (LINTIMG_DEBUG=1 shows the traceback; please report it)"
