"""``lintimg`` (the console script) and ``python -m lintimg``.

A run that repeats an earlier one is answered from its memo (:mod:`lintimg.replay`)
before the command line code — argparse, the config, the engine, pluggy — is imported.
"""
from __future__ import annotations

import gc
import sys

# The cyclic collector runs every 700 new container objects and walks the young ones; an image of
# 300,000 files allocates a million tuples, lists and dicts, none in a cycle, and collecting that
# often took a quarter of the run (mypy raises its threshold for the same reason).
GC_THRESHOLD = (200_000, 30, 30)


def main() -> int:
    gc.set_threshold(*GC_THRESHOLD)
    from lintimg import replay

    code = replay.replayed(sys.argv[1:])
    if code is not None:
        return code
    from lintimg.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
