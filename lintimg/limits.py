"""Bounds on what lintimg reads and how long it runs (docs/limits.md lists every one, with its reason).

Every path lintimg reads goes through :func:`read_file`, which refuses what is
not a regular file *before* reading it (a FIFO, a device, a socket; with
``follow=False`` a symlink too) and never reads more than its limit. The run
clock (:func:`check_clock`) ends work that outlives the run's deadline or a
SIGTERM/SIGINT, from any thread.
"""
from __future__ import annotations

import _thread
import errno
import os
import stat
import time

from lintimg.errors import LintimgError

MiB = 1 << 20

# --- inputs -----------------------------------------------------------------------------
MAX_DOCKERFILE = 2 * MiB  # a Dockerfile, from a path or stdin; bigger is one LI001 finding
MAX_SCRIPT = 256 * 1024  # characters of one RUN script parsed or given to ShellCheck
MAX_CONFIG = 1 * MiB  # .lintimg.yaml and the user config
MAX_CONFIG_NODES = 100_000  # YAML nodes in a config (aliases are refused outright)
MAX_RULE_MODULE = 4 * MiB  # one *.py file of a rules folder
MAX_JSON = 16 * MiB  # a manifest, index, image config or Docker config.json
MAX_CACHE_FILE = 256 * MiB  # one cache entry
# --- image archives and layers ----------------------------------------------------------
MAX_LAYERS = 1000  # layers of one image (Docker's overlay2 stops at 128)
MAX_PATH = 4096  # characters of one path in a layer (Linux PATH_MAX)
MAX_PATH_DEPTH = 256  # components of one path in a layer
MAX_TAR_HEADER = 1 * MiB  # a PAX extended header or a GNU long name/link record
MAX_TEMP = 32 << 30  # bytes a compressed archive may unpack to in the temp folder
ARCHIVE_RATIO = 50.0  # a compressed archive may expand this many times ...
ARCHIVE_RATIO_FLOOR = 128 * MiB  # ... once it has unpacked this much
# --- time -------------------------------------------------------------------------------
RUN_DEADLINE = float(os.environ.get("LINTIMG_RUN_TIMEOUT") or 3600)  # seconds for one run
REQUEST_DEADLINE = float(os.environ.get("LINTIMG_REQUEST_TIMEOUT") or 30)  # one registry request for a small document
BLOB_RATE = 64 * 1024  # bytes/s a blob download must average (its deadline grows with its declared size)
SHELLCHECK_TIMEOUT = 20.0  # seconds for one ShellCheck process, plus half a second per script it checks
# CPU seconds one ShellCheck process may use, plus a quarter second per script it checks: its time grows with the
# square of a script's warnings (2,000 literal braces in a 2 KB script: 5 s; 4,000 unquoted $a: 10 s). The
# largest real Dockerfiles of the corpus need under 2 s for lintimg and ShellCheck together.
SHELLCHECK_CPU = 2
# Bytes of data one ShellCheck process may map (RLIMIT_DATA; its heap is mapped memory): a 36 KB chain of `cd .. &&`
# took it to 2.7 GB; the corpus's 36,043 files give the same findings under the cap. Past it ShellCheck exits with
# no report.
SHELLCHECK_MEMORY = 400 << 20


class NotRegularFile(OSError):
    """A path that is a FIFO, a device, a socket, a directory (or, not following links, a link)."""


class TooLarge(OSError):
    """A file larger than the limit its reader allows."""


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory", stat.S_IFLNK: "a symbolic link"}


def kind_of(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_file(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Opened without blocking (a FIFO would wait for a writer) and checked with
    ``fstat`` on the open descriptor, so a file swapped for a FIFO or a device
    between a check and the read is refused too. ``follow=False`` also refuses
    a symbolic link (cache files: a link to ``/dev/zero`` is not an entry).
    Raises :class:`NotRegularFile`, :class:`TooLarge` or another ``OSError``.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP and not follow:
            raise NotRegularFile(errno.ELOOP, "a symbolic link", str(path)) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, kind_of(st.st_mode), str(path))
        if st.st_size > limit:
            raise TooLarge(errno.EFBIG, f"larger than {limit} bytes", str(path))
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:  # it grew while we read
            raise TooLarge(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return data
    finally:
        os.close(fd)


def why(e: OSError) -> str:
    """A short reason for a failed read, for one-line messages."""
    return e.strerror or str(e)


# --- the run clock ----------------------------------------------------------------------

class Stopped(LintimgError):
    """The run is over: its deadline passed (exit 2), or a signal told it to stop (exit 128 + the signal)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


_deadline = time.monotonic() + RUN_DEADLINE
_stop = False  # set by a signal handler, read by any thread (a plain flag: threading costs a replayed run 10%)
_stop_reason = ""
_stop_code = 2


def start_run(seconds: float = RUN_DEADLINE) -> None:
    """Start the run's clock (the CLI does, once per command)."""
    global _deadline, _stop, _stop_reason
    _deadline = time.monotonic() + seconds
    _stop = False
    _stop_reason = ""


def request_stop(reason: str, exit_code: int) -> None:
    """Make every :func:`check_clock` from now on raise :class:`Stopped` (a signal handler calls it)."""
    global _stop, _stop_reason, _stop_code
    _stop_reason, _stop_code = reason, exit_code
    _stop = True


def stopping() -> bool:
    """Whether a signal asked the run to stop (for loops that cannot raise, such as a helper thread's)."""
    return _stop


_MAIN_THREAD = _thread.get_ident()  # where Python runs signal handlers (this module loads there; a fork keeps it)
_held = 0  # nested StopsHeld in the main thread


class StopsHeld:
    """While the main thread is inside native code that may run Python code of its own, a stop signal only marks
    the run stopped (:func:`holding`); the stop is raised when the outermost hold ends.

    RE2's binding (pybind11) ends the process with ``std::terminate`` when an exception comes out of Python code it
    called: a handler that raised there skipped every cleanup (a served run left its helper running). Elsewhere
    than the main thread it does nothing: no handler runs there.
    """

    __slots__ = ("main",)

    def __enter__(self) -> None:
        global _held
        self.main = _thread.get_ident() == _MAIN_THREAD
        if self.main:
            _held += 1

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        global _held
        if self.main:
            _held -= 1
            if not _held and _stop and kind is None:
                raise Stopped(_stop_reason, _stop_code)


def holding() -> bool:
    """Whether a stop signal must not raise now (a :class:`StopsHeld` is open in the main thread)."""
    return _held > 0


def check_clock() -> None:
    """Raise :class:`Stopped` once the run should end; long loops call it (layer reads, downloads)."""
    if _stop:
        raise Stopped(_stop_reason, _stop_code)
    if time.monotonic() > _deadline:
        raise Stopped(f"the run took longer than its {RUN_DEADLINE:g} s limit (LINTIMG_RUN_TIMEOUT)")


def time_left() -> float:
    return _deadline - time.monotonic()


# --- CPUs -------------------------------------------------------------------------------

_sharing = 1  # processes of this run that start helper processes side by side (lintimg.run.parallel)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def helper_processes() -> int:
    """How many helper processes (ShellCheck) this process may run at once: its share of the usable CPUs."""
    return max(1, usable_cpus() // _sharing)


def share_cpus(processes: int) -> None:
    """Tell :func:`helper_processes` that ``processes`` processes of this run now split the CPUs between them."""
    global _sharing
    _sharing = max(1, processes)
