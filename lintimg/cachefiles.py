"""lintimg's caches on disk: where they live, whether they are on, and writes that concurrent runs survive.

Every cache is an optimisation: an entry that is missing, unreadable or torn
is the same as no entry, and a cache that cannot be written only costs speed.
``LINTIMG_NO_CACHE=1`` turns every disk cache off.

Also here: the *stamps* by which an entry checks the files it depended on
(:func:`probe_value`), shared by the build-context probes
(:mod:`lintimg.context.observe`) and the run memo (:mod:`lintimg.replay`).

A run whose answers all come from caches imports little else, so this module
imports nothing at load time beyond what the interpreter has already loaded
(``os``, ``stat``, ``time``): json and pathlib load where they are used.
"""
from __future__ import annotations

import os
import stat
import time

TYPE_CHECKING = False  # typing itself (and the re module it loads) costs a cached run a fifth of its time
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path
    from typing import Any


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


def cache_dir(kind: str) -> str:
    """``$XDG_CACHE_HOME/lintimg/<kind>`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lintimg", kind)


def cache_root(kind: str) -> Path:
    """:func:`cache_dir` as a :class:`~pathlib.Path`."""
    from pathlib import Path

    return Path(cache_dir(kind))


def read_json(path: Path) -> Any:
    """The JSON at ``path``, or ``None`` when it is absent or not valid JSON (a torn or corrupt entry).

    An entry that is not a regular file (a FIFO, a link to ``/dev/zero``), is bigger than
    :data:`lintimg.limits.MAX_CACHE_FILE` or nested deeper than Python can decode is no entry either.
    """
    import json

    from lintimg import limits

    try:
        return json.loads(limits.read_file(path, limits.MAX_CACHE_FILE, follow=False))
    except (OSError, ValueError, RecursionError):
        return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder renamed into place: a
    reader (or a run killed halfway) sees the old file or the whole new one. Raises ``OSError``.

    The temporary file is made as :func:`tempfile.mkstemp` makes one (a new name, ``O_EXCL``, mode
    0600), without importing tempfile: it loads shutil, bz2 and lzma, a tenth of a replayed run.
    """
    while True:
        tmp = os.path.join(path.parent, f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            break
        except FileExistsError:
            continue
        except FileNotFoundError:  # a new folder: made here, not tried (a failed mkdir and a stat) before every write
            path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically: a concurrent reader sees the old file or the whole new one."""
    import json

    try:
        write_atomic(path, json.dumps(data, separators=(",", ":")).encode())
    except OSError:
        pass  # a read-only or full cache directory only costs speed


# -- stamps: what a cache entry depended on, asked again -------------------------------

RACY_NS = 2_000_000_000  # a stamp taken within this of its mtime could miss a second write in the same clock tick


def racy_before() -> int:
    """Files with an mtime after this (now, less :data:`RACY_NS`) may still change unseen within the same tick."""
    return time.time_ns() - RACY_NS


def stamp(mode: int, size: int, mtime_ns: int, ino: int, link: str | None) -> tuple[Any, ...]:
    """What stands for a file's content and kind: type and permissions, size, mtime, inode, link target."""
    # A directory's own size, times and inode change when its entries do; what a directory
    # holds is a probe of its own (its listing), so only its type and permissions count here.
    if stat.S_ISDIR(mode):
        return (mode,)
    return (mode, size, mtime_ns, ino, link)


def error_value(e: OSError) -> str:
    """The value of a probe whose read failed (by errno, not message: messages are localised)."""
    return f"error:{e.errno}"


def listing_value(rows: Iterable[tuple[Any, ...]]) -> str:
    """A digest of a directory listing: ``(name, stamp…)`` rows in name order."""
    return digest(repr(sorted(rows)).encode("utf-8", "surrogateescape"))


def _link(path: str, mode: int) -> str | None:
    if not stat.S_ISLNK(mode):
        return None
    try:
        return os.readlink(path)
    except OSError:
        return ""


def lstat_value(path: str) -> Any:
    """The ``lstat`` probe: the stamp of ``path`` itself, ``None`` when there is nothing there."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        return error_value(e)
    return stamp(st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino, _link(path, st.st_mode))


def stat_value(path: str) -> Any:
    """The ``stat`` probe: the stamp of what ``path`` leads to, ``None`` when it leads nowhere."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return error_value(e)
    return stamp(st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino, None)


def list_rows(path: str) -> list[tuple[Any, ...]] | str:
    """``(name, stamp…)`` of every entry of the folder ``path``, or the error value of listing it."""
    rows: list[tuple[Any, ...]] = []
    try:
        with os.scandir(path) as it:
            for d in it:
                try:
                    st = d.stat(follow_symlinks=False)
                except OSError as e:
                    rows.append((d.name, error_value(e)))
                    continue
                rows.append((d.name, *stamp(st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino, _link(d.path, st.st_mode))))
    except OSError as e:
        return error_value(e)
    return rows


def list_value(path: str) -> Any:
    """The ``list`` probe: a digest of the folder's entries and their stamps."""
    rows = list_rows(path)
    return rows if isinstance(rows, str) else listing_value(rows)


def names_value(path: str) -> Any:
    """The ``names`` probe: a digest of the names in the folder (what ``os.listdir`` answers), no stamps."""
    try:
        names = sorted(os.listdir(path))
    except OSError as e:
        return error_value(e)
    return digest("\0".join(names).encode("utf-8", "surrogateescape"))


def tree_files(root: str) -> Iterator[tuple[str, int, int]]:
    """``(path, size, mtime_ns)`` of every file under ``root``, or of ``root`` itself when it is a file
    (bytecode caches left out): what stands for a tree of code."""
    try:
        st = os.stat(root)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        yield root, st.st_size, st.st_mtime_ns
        return
    todo = [root]
    while todo:
        folder = todo.pop()
        try:
            with os.scandir(folder) as it:
                for d in it:
                    if d.is_dir():
                        if d.name != "__pycache__":
                            todo.append(d.path)
                    elif not d.name.endswith(".pyc"):
                        try:
                            fst = d.stat()
                        except OSError:
                            continue
                        yield d.path, fst.st_size, fst.st_mtime_ns
        except OSError:
            continue


STAMPS = {"lstat": lstat_value, "stat": stat_value, "list": list_value, "names": names_value}


def plain(value: Any) -> Any:
    """A probe value as it reads back from JSON (tuples are lists there), so comparisons are like with like."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value
