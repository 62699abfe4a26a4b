"""lintimg's caches on disk: where they live, whether they are on, and writes that concurrent runs survive.

Every cache is an optimisation: an entry that is missing, unreadable or torn
is the same as no entry, and a cache that cannot be written only costs speed.
``LINTIMG_NO_CACHE=1`` turns every disk cache off.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lintimg import limits


def enabled() -> bool:
    return os.environ.get("LINTIMG_NO_CACHE") != "1"


def digest(data: bytes) -> str:
    """A hex digest that names a cache entry: BLAKE2b-256 from CPython's own module, because importing
    :mod:`hashlib` loads OpenSSL's libcrypto, which costs a cached run more than the rest of its hashing."""
    try:
        from _blake2 import blake2b
    except ImportError:  # an interpreter built without it
        from hashlib import blake2b
    return blake2b(data, digest_size=32).hexdigest()


def cache_root(kind: str) -> Path:
    """``$XDG_CACHE_HOME/lintimg/<kind>`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lintimg" / kind


def read_json(path: Path) -> Any:
    """The JSON at ``path``, or ``None`` when it is absent or not valid JSON (a torn or corrupt entry).

    An entry that is not a regular file (a FIFO, a link to ``/dev/zero``), is bigger than
    :data:`lintimg.limits.MAX_CACHE_FILE` or nested deeper than Python can decode is no entry either.
    """
    try:
        return json.loads(limits.read_file(path, limits.MAX_CACHE_FILE, follow=False))
    except (OSError, ValueError, RecursionError):
        return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder renamed into place: a
    reader (or a run killed halfway) sees the old file or the whole new one. Raises ``OSError``."""
    import tempfile  # (a run whose reads all hit writes nothing)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically: a concurrent reader sees the old file or the whole new one."""
    try:
        write_atomic(path, json.dumps(data, separators=(",", ":")).encode())
    except OSError:
        pass  # a read-only or full cache directory only costs speed
