"""``lintimg`` (the console script) and ``python -m lintimg``.

A run that repeats an earlier one is answered from its memo (:mod:`lintimg.replay`)
before the command line code — argparse, the config, the engine, pluggy — is imported.
"""
from __future__ import annotations

import sys


def main() -> int:
    from lintimg import replay

    code = replay.replayed(sys.argv[1:])
    if code is not None:
        return code
    from lintimg.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
