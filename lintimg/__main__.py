"""``lintimg`` (the console script) and ``python -m lintimg``.

A run that repeats an earlier one is answered from its memo (:mod:`lintimg.replay`)
before the command line code — argparse, the config, the engine, pluggy — is imported.
With ``--daemon`` or ``LINTIMG_DAEMON=1`` the run goes to the resident server
(:mod:`lintimg.resident`) before even that, and runs here only when the server
cannot run it exactly.
"""
from __future__ import annotations

import gc
import os
import sys


def main() -> int:
    argv = sys.argv[1:]
    serve = False
    if "--daemon" in argv or os.environ.get("LINTIMG_DAEMON") == "1":
        from lintimg.resident import client

        serve = client.wanted(argv)
    return in_process(serve)


def in_process(serve: bool = False, memo: bool = True) -> int:
    """The run: answered from its memo (unless ``memo`` is false: the caller has just asked it), else
    (``serve``) by the resident server, else here. The server's children run this too, without either."""
    # A run builds a few hundred thousand objects that live to its end (modules, rules, models): at the default
    # threshold (700) the collector walks them ~50 times, 5% of a pre-commit run over 20 edited files, and finds
    # next to nothing. Long runs (a corpus batch) still collect, less often.
    gc.set_threshold(50_000, 10, 10)
    try:
        return _run(serve, memo)
    finally:
        # The interpreter's exit collects once more over everything before tearing it down: ~15% of that run's
        # CPU. Frozen, the objects are only torn down (refcounts, as always); nothing of lintimg's waits for the
        # cycle collector at exit (files are closed where they are written).
        gc.freeze()


def _run(serve: bool, memo: bool) -> int:
    if memo:
        from lintimg import replay

        code = replay.replayed(sys.argv[1:])  # first, served or not: a repeated run costs less than asking a server
        if code is not None:
            return code
    if serve:
        from lintimg.resident import client

        code = client.served(sys.argv[1:])
        if code is not None:
            return code
    from lintimg.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
