"""The run memo: a ``lintimg check`` that repeats an earlier run is answered from what that run wrote.

pre-commit starts ``lintimg`` afresh for every commit, mostly over files whose
findings the results cache (:mod:`lintimg.run.cache`) already holds; what is
left is start-up: argparse, the config, pluggy and the plugin manager, the
engine's cache key. A run of ``check`` therefore also keeps a *memo*: the report
it wrote and its exit code, under a key of everything outside the files that
the run is a function of —

- the command line as given, the working directory and the whole environment;
- the interpreter (version, executable, ``sys.path``, flags), the user and lintimg's version;
- standard output: a terminal or not (colour), its encoding;

— and with the *probes* of what the run read (:func:`lintimg.cachefiles.probe_value`),
each asked again before the memo is used:

- every path the run looked at outside the lint proper, recorded while it ran:
  each ``stat``/``lstat`` (the config search, the file arguments, the ShellCheck
  binary), each file opened for reading (configs and what they extend, plugin
  entry points), each folder listed (by name: the installed distributions; with
  its entries' stamps: lintimg's code and the plugins');
- the probes of each file's results-cache entry (what its rules read of its build context).

:func:`replayed` checks the memo with nothing but ``os`` calls and writes the
report the earlier run wrote; the console script asks it before importing the
command line code at all. A memo is not kept for a run that wrote anything but
its report (to stderr, to a file, to stdout outside the report), that read
through a file descriptor, whose results were not all kept, that looked up base
images, or that read a file changed within :data:`lintimg.cachefiles.RACY_NS`.
"""
from __future__ import annotations

import os
import sys

from lintimg import __version__, cachefiles, limits
from lintimg.errors import LintimgError

TYPE_CHECKING = False  # typing loads re: a fifth of a replayed run
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, TextIO

    from lintimg.run.cache import ResultCache

FORMAT = b"lintimg-replay 1"
_SOURCE_SUFFIXES = (".py", ".pyc")  # modules imported on the way: covered by the listings of their folders and distributions
_os_stat, _os_lstat = os.stat, os.lstat
_PROBE_COST = {"stat": 0, "lstat": 0, "names": 2, "list": 3}  # the order memo probes are asked in; others (build contexts') 1
_current: Recording | None = None
_hooked = False


def run_key(argv: list[str]) -> str | None:
    """The memo key of a run with this command line, here and now; ``None`` when caches are off."""
    if not cachefiles.enabled():
        return None
    out = sys.stdout
    try:
        where = (out.isatty(), out.encoding, out.errors) if out is not None else None
        parts = (FORMAT, __version__, sys.version, sys.executable, sys.path, tuple(sys.flags), os.geteuid(), os.getcwd(),
                 list(argv), sorted(os.environ.items()), where)
    except (OSError, ValueError, AttributeError):
        return None
    return cachefiles.digest(repr(parts).encode("utf-8", "surrogateescape"))


def _memo_path(key: str) -> str:
    return os.path.join(cachefiles.cache_dir("runs"), key[:2], key)


def _now(kind: str, path: str) -> str | None:
    """What the probe ``(kind, path)`` answers now, as kept in a memo; ``None`` for a kind it cannot ask."""
    ask = cachefiles.STAMPS.get(kind)
    if ask is None:
        from lintimg.context.observe import KINDS, value_now  # build-context probes other than stamps (access, git)

        if kind not in KINDS:
            return None
        return repr(cachefiles.plain(value_now(kind, path)))
    return repr(cachefiles.plain(ask(path)))


def replayed(argv: list[str]) -> int | None:
    """Write the report of the remembered run with this command line and return its exit code, when
    every probe of it answers as it did; ``None`` (nothing written) otherwise."""
    key = run_key(argv)
    if key is None:
        return None
    try:
        data = limits.read_file(_memo_path(key), limits.MAX_CACHE_FILE, follow=False)  # as every cache entry is read
        check, _, body = data.partition(b"\0")
        if check.decode() != cachefiles.digest(body):
            return None
        head, sep, output = body.partition(b"\0\0")
        fields = head.decode("utf-8", "surrogateescape").split("\0")
        if not sep or fields[0] != FORMAT.decode() or fields[1] != key or len(fields) % 3 != 0:
            return None
        code = int(fields[2])
        for i in range(3, len(fields), 3):
            if _now(fields[i], fields[i + 1]) != fields[i + 2]:
                return None
        text = output.decode("utf-8", "surrogatepass")
    except (OSError, ValueError):
        return None  # no memo, or a torn or foreign one: the run goes the long way
    try:
        emit(text, None)
    except LintimgError as e:
        print(f"lintimg: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        return 0
    return code


def emit(text: str, output: str | None, what: str = "report") -> None:
    """Write a report (or what else a command prints: ``what``) to ``output`` (a file) or standard output:
    the one writer of reports, so that a recorded run knows what it wrote."""
    rec = _current
    if rec is not None:
        rec.wrote(text, output)
    if output:
        from pathlib import Path

        try:
            Path(output).write_text(text, encoding="utf-8", errors="replace")
        except OSError as e:
            raise LintimgError(f"{output}: cannot write {what}: {e.strerror or e}") from None
        return
    stream = rec.stdout.stream if rec is not None else sys.stdout
    if stream is None:
        raise LintimgError(f"cannot write the {what}: standard output is closed")
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a file (captured): write to the object
        stream.write(text)
        stream.flush()
        return
    # Straight to the descriptor: a report that cannot be written (a full disk, /dev/full) fails here,
    # once, instead of again in the interpreter's final flush of a buffer it could not empty.
    stream.flush()
    data = memoryview(text.encode(stream.encoding or "utf-8", "replace"))
    try:
        while data:
            data = data[os.write(fd, data):]
    except BrokenPipeError:
        raise
    except OSError as e:
        raise LintimgError(f"cannot write the {what} to standard output: {e.strerror or e}") from None


class _Watched:
    """A standard stream that tells the recording when anything but the report is written to it."""

    def __init__(self, stream: TextIO, rec: Recording, name: str) -> None:
        self.stream, self._rec, self._name = stream, rec, name

    def write(self, s: str) -> int:
        self._rec.spoil(f"wrote to {self._name}")
        return self.stream.write(s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class Recording:
    """What one ``check`` run reads outside its lint, and what it wrote (see the module's docstring).

    Used as ``with recording(argv) as rec: ... rec.finish(code)``; reads between :meth:`pause` and
    :meth:`resume` (the lint, whose reads its results-cache entries hold) are not recorded.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.probes: dict[tuple[str, str], str] = {}
        self.output: str | None = None
        self.entries: list[tuple[str, str, Any]] | None = None
        self.spoiled: str | None = None
        self._paused = 0
        self._racy_before = cachefiles.racy_before()
        # lintimg's own caches hold what recomputing gives (the reports' secret spans, say): not inputs of
        # the run; the results cache's entries are probed through results()
        self._caches = os.path.join(os.path.abspath(cachefiles.cache_dir("")), "")
        self.stdout = _Watched(sys.stdout, self, "stdout")
        self._stderr = _Watched(sys.stderr, self, "stderr")
        self._saved: tuple[Any, ...] = ()

    def spoil(self, why: str) -> None:
        """This run is not kept (the first reason is remembered, for tests)."""
        self.spoiled = self.spoiled or why

    def wrote(self, text: str, output: str | None) -> None:
        if output is not None or self.output is not None:
            self.spoil("wrote a report to a file, or twice")
        self.output = text

    def pause(self) -> None:
        self._paused += 1

    def resume(self) -> None:
        self._paused -= 1

    def results(self, cache: ResultCache | None) -> None:
        """The results cache of the run: each file's entry, whose probes the memo takes over."""
        self._paused += 1  # the entries' own stamps are taken here, not read by the run
        try:
            self.entries = cache.probes_of_run() if cache is not None else None
        finally:
            self._paused -= 1
        if self.entries is None:
            self.spoil("results not all kept")

    def note(self, kind: str, path: Any) -> None:
        """Record what ``kind`` (a key of :data:`lintimg.cachefiles.STAMPS`) says of ``path`` now."""
        if self._paused:
            return
        if isinstance(path, int):
            self.spoil(f"{kind} of a file descriptor")
            return
        where = os.path.abspath(os.fsdecode(path if path is not None else "."))
        if where.startswith(self._caches):
            return
        self._paused += 1  # the stamp's own stat and listing are not reads of the run
        try:
            value = cachefiles.STAMPS[kind](where)
            if kind == "list":
                rows = cachefiles.list_rows(where)
                recent = isinstance(rows, list) and any(len(r) > 3 and r[3] > self._racy_before for r in rows)
            else:
                recent = isinstance(value, tuple) and len(value) > 2 and value[2] > self._racy_before
        finally:
            self._paused -= 1
        if recent:
            self.spoil(f"{where} changed within the last seconds")
        self.probes[(kind, where)] = repr(cachefiles.plain(value))

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int) or isinstance(path, str) and path.endswith(_SOURCE_SUFFIXES):
                return  # a descriptor: its file was opened by name before (os.open), and recorded then
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & (os.O_WRONLY | os.O_RDWR))
            if writes and not self._paused and not self._ours(path):
                self.spoil(f"wrote {os.fsdecode(path)}")
            self.note("stat", path)
        elif event == "os.listdir":  # names only
            self.note("names", args[0])
        elif event == "os.scandir":  # names and, through the entries, their stamps
            self.note("list", args[0])

    def _ours(self, path: str | bytes) -> bool:
        return os.path.abspath(os.fsdecode(path)).startswith(self._caches)

    def _stat(self, path: Any, *args: Any, dir_fd: Any = None, follow_symlinks: bool = True) -> os.stat_result:
        try:
            return _os_stat(path, *args, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        finally:
            self._noted_stat(path, dir_fd, "stat" if follow_symlinks else "lstat")

    def _lstat(self, path: Any, *args: Any, dir_fd: Any = None) -> os.stat_result:
        try:
            return _os_lstat(path, *args, dir_fd=dir_fd)
        finally:
            self._noted_stat(path, dir_fd, "lstat")

    def _noted_stat(self, path: Any, dir_fd: Any, kind: str) -> None:
        if dir_fd is not None and not self._paused:
            self.spoil("stat relative to a folder descriptor")
            return
        try:
            self.note(kind, path)
        except Exception:  # noqa: BLE001 - recording must never change what os.stat does for its caller
            self.spoil(f"could not record a {kind}")

    def __enter__(self) -> Recording:
        global _current, _hooked
        if not _hooked:  # an audit hook cannot be removed: one for the process, silent between recordings
            sys.addaudithook(_audit)
            _hooked = True
        self._saved = (sys.stdout, sys.stderr)
        if sys.stdout is not None:  # a closed stream stays None: the CLI tells that case itself
            sys.stdout = self.stdout
        if sys.stderr is not None:
            sys.stderr = self._stderr
        os.stat, os.lstat = self._stat, self._lstat  # stat has no audit event
        _current = self
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        global _current
        _current = None
        os.stat, os.lstat = _os_stat, _os_lstat
        sys.stdout, sys.stderr = self._saved

    def finish(self, code: int) -> None:
        """Keep the memo of this run, which ends with exit code ``code``, when it can be replayed."""
        if code not in (0, 1) or self.output is None or self.entries is None or self.spoiled:
            return
        probes = [*(((k, p), repr(v)) for k, p, v in self.entries), *self.probes.items()]
        # :func:`replayed` stops at the first probe that differs: the linted files' own first (an edit changes them),
        # then by cost, a stat before a folder's names before a listing with stamps (lintimg's code, ~200 files)
        probes.sort(key=lambda probe: _PROBE_COST.get(probe[0][0], 1))
        head = "\0".join([FORMAT.decode(), self.key, str(code), *(f"{k}\0{p}\0{v}" for (k, p), v in probes)])
        if "\0\0" in head or head.endswith("\0"):
            return  # an empty field (an empty path) would end the header early
        from pathlib import Path

        body = head.encode("utf-8", "surrogateescape") + b"\0\0" + self.output.encode("utf-8", "surrogatepass")
        try:  # the digest first: a memo damaged in any way is no memo
            cachefiles.write_atomic(Path(_memo_path(self.key)), cachefiles.digest(body).encode() + b"\0" + body)
        except OSError:
            pass  # a read-only or full cache only costs speed


def _audit(event: str, args: tuple[Any, ...]) -> None:
    rec = _current
    if rec is not None and event in ("open", "os.listdir", "os.scandir"):
        try:
            rec._audit(event, args)
        except Exception:  # noqa: BLE001 - an audit hook that raises fails the audited call: never that
            rec.spoil(f"could not record {event}")


def recording(argv: list[str]) -> Recording | None:
    """A recording for a ``check`` run with this command line (``None`` when caches are off)."""
    key = run_key(argv)
    return Recording(key) if key is not None else None


def pause() -> None:
    """Stop recording reads (the lint: its reads are in its results-cache entries) until :func:`resume`."""
    if _current is not None:
        _current.pause()


def resume() -> None:
    if _current is not None:
        _current.resume()


def carried() -> tuple[dict[tuple[str, str], str], str | None] | None:
    """What the recording learnt in this process (a worker of a split check, :mod:`lintimg.run.parallel`)."""
    rec = _current
    return (rec.probes, rec.spoiled) if rec is not None else None


def absorb(learnt: tuple[dict[tuple[str, str], str], str | None] | None) -> None:
    """Take over what a worker's recording learnt (:func:`carried`): its probes, and why the memo is not kept."""
    rec = _current
    if rec is not None and learnt is not None:
        probes, spoiled = learnt
        for probe, value in probes.items():
            rec.probes.setdefault(probe, value)
        if spoiled:
            rec.spoil(spoiled)


def results(cache: ResultCache | None) -> None:
    """Hand the run's results cache to the recording, if any."""
    if _current is not None:
        _current.results(cache)
