"""The resident server: imports lintimg once, then forks a child per request that runs the ordinary
command line in the client's working directory, environment and standard streams.

The server process itself runs no request. It keeps one *spare*: a child
forked ahead of the next request, which copies now the pages of the server
that a run writes first (after a fork each such write is a page fault that
copies the page: ~1,900 of them, a third of a served run's CPU), then waits on
the listening socket. The spare accepts a connection, checks that the peer
is this user (``SO_PEERCRED``), hands the server a copy of the connection and
serves it; the server forks the next spare, later reaps the child and tells
the client how it ended and the CPU it used (``wait4``: the child and the
processes it waited for, ShellCheck included; the spare's copying too).
Without a spare ready (still copying, could not be forked, or died before a
request) the server accepts and forks per request itself. A second child
forked ahead, the *helper*, waits on a socket of its own for a run that
splits its files: it sets itself up from that run's command line and checks
the second share, where a worker forked by the run would first copy its
pages again (docs/daemon.md). The next spare and helper are forked once no
run is before its report: their copying would take a CPU a run is using.

Everything a request does — reading the request, config discovery, loading a
repository's plugins, every cache — happens in the child, a fresh copy of a
process that has run nothing, which then exits. A child that crashes takes
nothing with it; the client sees how it ended.

The server is single-threaded (``fork`` in a threaded process is unsafe),
exits after :data:`IDLE` seconds without requests (``LINTIMG_DAEMON_IDLE``)
or when asked to stop, and removes its socket on the way out (only its own:
a successor may already listen under the same name).
"""
from __future__ import annotations

import errno
import gc
import mmap
import os
import select
import signal
import socket
import struct
import sys
import time

from lintimg.resident import client as wire

TYPE_CHECKING = False  # names for annotations only
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

IDLE = 600.0  # seconds without a request before the server exits
READ_TIMEOUT = 10.0  # seconds a child waits for its client's request, and for the go
MADV_POPULATE_WRITE = 23  # Linux 5.14+: fault a range in writable now, copying what copy-on-write would copy later
PREFAULT_MAPPING_LIMIT = 64 << 20  # bytes: a larger writable mapping is a reservation, not pages a run will write
SPARE_FAILURES = 3  # spares that end without taking a request before the server stops keeping one
BOARD_PIDS = 64  # the children of this many latest requests are on the board (Server.board)
HELPER_SLOT = 8 + 16 * BOARD_PIDS  # where the board holds the pid of the helper that waits (0: none), then the shares helped
HELPER_TAKE = 0.05  # seconds a run waits for the helper to take its command line (another run may just have taken it)
# What a ``check`` run imports (tests/test_resident.py checks that a served run imports nothing of lintimg that the
# server had not); the rule modules of Dockerfile and build-context rules are added from the rule index.
WARM = ("lintimg.__main__", "lintimg.cli", "lintimg.replay", "lintimg.run.check", "lintimg.run.cache", "lintimg.run.fix",
        "lintimg.engine.pragmas", "lintimg.secrets.hit", "lintimg.secrets.scanner", "lintimg.secrets.engine", "lintimg.secrets.formats",
        "lintimg.secrets.values", "lintimg.context.build", "subprocess", "fcntl", "pickle",
        "lintimg.context", "lintimg.context.observe", "lintimg.context.secretscan", "lintimg.context.gitchurn", "lintimg.shellcheck",
        "lintimg.shellcheck.batch", "lintimg.shellcheck.cache", "lintimg.secrets.spans", "lintimg.secrets.cache", "lintimg.engine.redaction",
        "lintimg.reports.text", "lintimg.reports.json", "lintimg.reports.sarif", "lintimg.reports.github", "lintimg.reports.junit",
        "lintimg.reports.gitlab", "lintimg.reports.checkstyle", "lintimg.reports.rdjsonl", "lintimg.rules", "lintimg.rules._common",
        "lintimg.rules._fixes", "lintimg.rules._versions", "lintimg.rx")


def warm() -> None:
    """Import what a ``check`` run imports. Only imports: nothing here reads a request, the working
    directory or a config, so nothing of one can reach another."""
    import importlib

    for name in WARM:
        importlib.import_module(name)
    # rules/ by name, as the engine loads it: lintimg/ holds no static import of the rule package
    index = importlib.import_module("lintimg.rules._index")
    for module in sorted({row[4] for row in index.RULES if row[3] in ("dockerfile", "context")}):
        importlib.import_module(f"lintimg.rules.{module}")
    _warm_caches()


def _warm_caches() -> None:
    """Fill what a run builds on first use from lintimg's own code and data alone (the server key covers both),
    never from a request, a working directory, the environment or a user's file: the check parser, the
    built-in rules' records and peer ids, the built-in SDK families' patterns, the secret triggers' pattern, the base plugin manager."""
    import importlib

    from lintimg import cli
    from lintimg.engine import core
    from lintimg.engine.registry import normalize_peer
    from lintimg.errors import LintimgError
    from lintimg.secrets import triggers

    cli.prebuild("check")
    for r in importlib.import_module("lintimg.rules").lintimg_rules():
        for peer in r.peers:
            normalize_peer(peer)
    importlib.import_module("lintimg.rules.size").compile_builtin_globs()
    triggers.may_match(b"")
    _compile_learnt_patterns()
    try:
        core.ready_plugins()
    except LintimgError:
        pass  # a broken plugin: each child meets the error and says it, as an in-process run would


# A Dockerfile that takes a check down its common paths (stages, apt, pip, COPY, USER, HEALTHCHECK, a script).
SAMPLE = """\
FROM python:3.12-slim AS build
ARG VERSION=1.0
RUN apt-get update && apt-get install -y --no-install-recommends gcc curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt && if [ -f setup.py ]; then python setup.py build; fi
FROM python:3.12-slim
LABEL org.opencontainers.image.version="$VERSION"
COPY --from=build /app /app
ENV PORT=8080
EXPOSE 8080
USER 1000
HEALTHCHECK CMD curl -f http://localhost:8080/ || exit 1
CMD ["python", "/app/main.py"]
"""


def _compile_learnt_patterns() -> None:
    """Compile the regular expressions a check compiles on first use (``re.match(pattern, …)`` at a call site),
    learnt from a check of :data:`SAMPLE` in a throwaway child (:func:`_learn`). Only ``re``'s own cache of compiled
    patterns (a pure function of the pattern) is filled here; nothing else of that run reaches the server.
    ``re._cache`` is CPython's: without it, nothing is learnt and runs compile as they would."""
    import re

    if not isinstance(getattr(re, "_cache", None), dict):
        return
    learnt = _learn(_new_patterns, caches=False)
    for pattern, flags in learnt if isinstance(learnt, list) else []:
        try:
            re.compile(pattern, flags)
        except (re.error, TypeError, ValueError):
            continue


def _learn(what: Callable[[Callable[[], None]], Any], caches: bool) -> object:
    """``what(check)`` in a throwaway child, where ``check()`` checks :data:`SAMPLE` (an empty folder, no config,
    an environment of ``PATH`` and ``HOME`` only, ``caches`` in that folder or off): what it returns, through
    ``marshal`` (plain data only), or ``None``."""
    import marshal

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            left = memoryview(marshal.dumps(what(lambda: _check_sample(caches))))
            while left:
                left = left[os.write(write, left):]
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    try:
        return marshal.loads(data) if data else None
    except (ValueError, EOFError, TypeError):
        return None


def _check_sample(caches: bool) -> None:
    import tempfile

    from lintimg.__main__ import in_process

    with tempfile.TemporaryDirectory(prefix="lintimg-warm-") as folder:
        os.chdir(folder)
        with open("Dockerfile", "w", encoding="utf-8") as fh:
            fh.write(SAMPLE)
        path = os.environ.get("PATH", os.defpath)
        os.environ.clear()
        os.environ.update({"PATH": path, "HOME": folder, **({} if caches else {"LINTIMG_NO_CACHE": "1"})})
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        sys.argv = ["lintimg", "Dockerfile"]
        try:
            in_process()
        except BaseException:  # noqa: BLE001 - whatever the sample run did, what it touched is still worth knowing
            pass


def _new_patterns(check: Callable[[], None]) -> list[tuple[str | bytes, int]]:
    """The patterns ``check()`` compiled, with their flags."""
    import re

    before = set(re._cache)  # type: ignore[attr-defined]
    check()
    return [(key[1], int(key[2])) for key in set(re._cache) - before  # type: ignore[attr-defined]
            if isinstance(key, tuple) and len(key) == 3 and isinstance(key[1], (str, bytes))]


def _written_pages(check: Callable[[], None]) -> list[tuple[int, int]] | None:
    """The pages of the (forked) process's writable mappings that ``check()`` wrote, as ``(address, bytes)`` runs:
    those it holds alone afterwards (``/proc/self/pagemap``: present, bit 63, and exclusively mapped, bit 56 — the
    copies its writes made); ``None`` where the platform does not tell."""
    from array import array

    try:
        regions = _writable_regions()
        fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    except OSError:
        return None
    check()
    size = os.sysconf("SC_PAGE_SIZE")
    runs: list[tuple[int, int]] = []
    try:
        for low, high in regions:
            entries = array("Q")
            entries.frombytes(os.pread(fd, (high - low) // size * 8, low // size * 8))
            for i, entry in enumerate(entries):
                if entry >> 63 and entry >> 56 & 1:
                    address = low + i * size
                    if i and runs and runs[-1][0] + runs[-1][1] == address:  # a run within one mapping
                        runs[-1] = (runs[-1][0], runs[-1][1] + size)
                    else:
                        runs.append((address, size))
    except OSError:
        return None
    finally:
        os.close(fd)
    return runs


def idle_seconds() -> float:
    try:
        return float(os.environ.get("LINTIMG_DAEMON_IDLE") or IDLE)
    except ValueError:
        return IDLE


def main(folder: str, key: str, flags: str) -> None:
    """The server's start (``client.BOOT``): check that this process is the one the client asked for, listen, warm up, serve."""
    if repr(tuple(sys.flags)) != flags:  # (the key covers the flags too; this says why in the log)
        sys.exit("lintimg daemon: this interpreter's flags differ from the client's; not started")
    from lintimg import distributions
    from lintimg.engine.plugins import remember_files

    # What every request's key proves unchanged (lintimg's files, the distributions' folders), listed once here for
    # every child, and listed again after the key was checked: a change while the server started ends it.
    distributions.remember()
    listings = wire.code_listings()
    if wire.server_key(listings) != key or wire.socket_dir() != folder:
        sys.exit("lintimg daemon: lintimg's code or the interpreter changed while the server started; not started")
    if list(distributions.distributions(sys.path)) != list(distributions.distributions()) or wire.code_listings() != listings:
        sys.exit("lintimg daemon: the installed distributions or lintimg's code changed while the server started; not started")
    remember_files(listings)
    Server(folder, key, idle_seconds()).serve()


class Server:
    def __init__(self, folder: str, key: str, idle: float) -> None:
        self.folder, self.key, self.idle = folder, key, idle
        self.path = wire.socket_path(folder, key)
        self.children: dict[int, tuple[socket.socket, float]] = {}  # pid: (connection, the server's CPU seconds for it so far)
        self.served = 0
        # Shared with every child (the server alone writes it): the count of requests, then the children of the last
        # BOARD_PIDS with the number of each one's request, for `lintimg daemon status` in a spare forked before
        # requests it did not see
        self.board = mmap.mmap(-1, HELPER_SLOT + 16)
        self.started = time.time()
        self.stopping = False
        self.pid = os.getpid()
        self.spare: int | None = None  # the pid of the child waiting for the next request
        self.spare_ready = False  # whether it has copied its pages and waits on the socket
        self.taken = 0  # the pid of the request that took the last spare
        self.spare_failures = 0
        self.pages: list[tuple[int, int]] | None = None  # what a spare copies ahead (None: every writable mapping)
        # The helper: a child that copies its pages as a spare does, then waits for a split run to hand it a share.
        self.help_path = self.path[: -len(".sock")] + ".help"
        self.helper: int | None = None
        self.helper_failures = 0
        self.helping: dict[int, int] = {}  # a helper that took a share: its pid -> the pid of the run's child
        self.helped = 0
        # How a run's child ended, kept until its helper has ended too (X counts both), and a helper's CPU seconds
        # when it ended first
        self.ended: dict[int, tuple[socket.socket, tuple[int, int], float, float]] = {}
        self.helper_cpu: dict[int, float] = {}
        # Request children whose report is not out yet: no spare or helper is forked meanwhile (its copying would take
        # a CPU the run is using)
        self.reporting: set[int] = set()
        self.usage: dict[int, str] = {}  # a released run's LINTIMG_DAEMON_USAGE file (benchmarks/latency.py)

    def serve(self) -> None:
        # Non-blocking: the spare accepts from it too, whoever comes second finds nothing. Clients may connect now:
        # their requests wait for the warm-up.
        listener, ino = _listen(self.path, 64)
        help_listener, help_ino = _listen(self.help_path, 8)
        warm()
        os.chdir("/")
        gc.collect()
        gc.freeze()  # the imported modules stay shared with every child (no copy-on-write from the collector)
        # Which of these pages a check writes, so that each spare copies those only: learnt last (the layout is
        # final), before the server's own descriptors and signal handlers (the throwaway child needs none of them).
        learnt = _learn(_written_pages, caches=True)
        self.pages = learnt if isinstance(learnt, list) else None
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # The spares tell the server which connection each took; a spare sees the server gone when this closes.
        control, spare_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.setblocking(False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, _nothing)  # the wakeup descriptor is written only for signals with a Python handler
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        last = time.monotonic()
        private = (wake_r, wake_w, control.fileno(), help_listener.fileno())  # what a child closes first (a helper keeps the last)
        try:
            while True:
                self._take(control)  # before reaping: a child that already ended may have taken a connection
                self._reap(control)
                if self.children or self.helping:
                    last = time.monotonic()
                elif self.stopping or time.monotonic() - last >= self.idle:
                    break
                if self.spare is None and not self.reporting and not self.stopping and self.spare_failures < SPARE_FAILURES:
                    began = time.process_time()
                    self.spare, self.spare_ready = self._fork_ahead(lambda: self._be_spare(listener, spare_end, private)), False
                    self.spare_failures += self.spare is None
                    self._charge(began)
                if self.helper is None and not self.reporting and not self.stopping and self.helper_failures < SPARE_FAILURES:
                    began = time.process_time()
                    self.helper = self._fork_ahead(lambda: self._be_helper(listener, help_listener, spare_end, private))
                    self.helper_failures += self.helper is None
                    self._charge(began)
                wait = None if self.children else max(0.0, self.idle - (time.monotonic() - last))
                # A connection while the spare still copies is accepted here, as it was before spares (a burst
                # of clients: the second one would wait for the next spare's copying)
                accepting = not self.stopping and not (self.spare is not None and self.spare_ready)
                watch = [wake_r, control.fileno()]
                if accepting:
                    watch.append(listener.fileno())
                try:
                    ready, _, _ = select.select(watch, [], [], wait)
                except InterruptedError:
                    continue
                if wake_r in ready:
                    try:
                        while os.read(wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                if accepting and listener.fileno() in ready:
                    # A spare's ``took`` waiting too was sent before this client connected (a stalled server finds
                    # both): counted first, so that requests are counted in the order they came
                    self._take(control)
                    self._accept(listener, spare_end, private)
                    last = time.monotonic()
        finally:
            for waiting in (self.spare, self.helper):  # waiting for a request that will not come now
                if waiting is not None:
                    try:
                        os.kill(waiting, signal.SIGKILL)
                        os.waitpid(waiting, 0)
                    except OSError:
                        pass
            for sock, path, inode in ((listener, self.path, ino), (help_listener, self.help_path, help_ino)):
                try:  # unlinked before closing: a client that finds no socket starts a successor, which this must not unlink
                    if os.lstat(path).st_ino == inode:
                        os.unlink(path)
                except OSError:
                    pass
                sock.close()

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _charge(self, began: float) -> None:
        """The CPU since ``began`` (forking the next spare or helper) to the request that took the last spare: it is
        why that one is forked."""
        if self.taken in self.children:
            conn, spent = self.children[self.taken]
            self.children[self.taken] = (conn, spent + time.process_time() - began)

    def _accept(self, listener: socket.socket, spare_end: socket.socket, private: tuple[int, ...]) -> None:
        """Accept and fork for this one request (no spare waits)."""
        began = time.process_time()
        try:
            conn, _ = listener.accept()
        except OSError:  # BlockingIOError: the spare took it
            return
        conn.setblocking(True)
        if not _same_user(conn):
            conn.close()  # another user: not a word
            return
        try:
            pid = os.fork()
        except OSError:
            conn.close()  # the client sees the connection end before R: it runs in-process
            return
        if pid == 0:
            def serve() -> int:
                _become_child(listener, private)
                return Child(conn, self, spare_end).run()

            _child_exit(serve)
        self._count(pid)
        self.children[pid] = (conn, time.process_time() - began)
        self.reporting.add(pid)

    def _fork_ahead(self, body: Callable[[], int]) -> int | None:
        """A child forked ahead of the request it will take (a spare, the helper), running ``body``; ``None``: no
        process to spare."""
        try:
            pid = os.fork()
        except OSError:
            return None
        if pid == 0:
            _child_exit(body)
        return pid

    def _ahead(self, sock: socket.socket, spare_end: socket.socket, ready: bytes,
               take: Callable[[socket.socket], object]) -> tuple[socket.socket, object] | None:
        """In a child forked ahead: copy the pages a run writes, say ``ready``, then wait for a connection on ``sock``
        that ``take(conn)`` takes (anything but ``None``): the connection and what ``take`` said; ``None`` when the
        server is gone."""
        _prefault(self.pages)
        spare_end.send(ready)
        while True:
            readable, _, _ = select.select([sock, spare_end], [], [])
            if spare_end in readable:
                return None  # the server is gone (or wrote to a spare, which it never does)
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            taken = take(conn)
            if taken is not None:
                sock.close()
                return conn, taken
            conn.close()  # not this user's, or (the helper) not a request, or the run gave up waiting

    def _be_spare(self, listener: socket.socket, spare_end: socket.socket, private: tuple[int, ...]) -> int:
        _become_child(None, private)
        got = self._ahead(listener, spare_end, b"ready %d" % os.getpid(), lambda conn: True if _same_user(conn) else None)
        if got is None:
            return 0
        conn = got[0]
        # The server keeps a copy of the connection: it tells the client how this child ended.
        conn.setblocking(True)
        spare_end.sendmsg([b"took %d" % os.getpid()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", conn.fileno()))])
        return Child(conn, self, spare_end).run()

    def _be_helper(self, listener: socket.socket, help_listener: socket.socket, spare_end: socket.socket,
                   private: tuple[int, ...]) -> int:
        _become_child(listener, private[:-1])
        got = self._ahead(help_listener, spare_end, b"hready %d" % os.getpid(), lambda conn: _helped_request(conn, self.key))
        if got is None:
            return 0
        conn, fields = got
        assert isinstance(fields, list)
        spare_end.send(b"htook %d %d" % (os.getpid(), _peer(conn)[0]))
        spare_end.close()
        from lintimg import cli
        from lintimg.run import afterwards

        argv, _ = _take_on(fields)
        afterwards.quiet_streams()  # a helper says nothing: the run reports what its share found
        return cli.helper(argv[1:], conn)

    def _take(self, control: socket.socket) -> None:
        """What the spares said: ``ready PID`` (copied, waiting), ``took PID`` with the server's copy of the
        connection; and the helpers: ``hready PID``, ``htook PID RUN`` (the pid of the run's child it helps)."""
        began = time.process_time()
        while True:
            try:
                data, ancillary, _, _ = control.recvmsg(8192, socket.CMSG_SPACE(struct.calcsize("i")))
            except (BlockingIOError, InterruptedError):
                return
            fds = _passed_fds(ancillary)
            said, *numbers = data.split(b" ", 2)
            pid = int(numbers[0]) if numbers and numbers[0].isdigit() else 0
            if said == b"ready" and pid == self.spare and not fds:
                self.spare_ready = True
                continue
            if said == b"released" and not fds:
                self.reporting.discard(pid)
                if len(numbers) == 2 and pid in self.children:
                    self.usage[pid] = os.fsdecode(numbers[1])
                continue
            if said == b"hready" and pid == self.helper and not fds:
                struct.pack_into("q", self.board, HELPER_SLOT, pid)
                continue
            if said == b"htook" and pid == self.helper and len(numbers) == 2 and numbers[1].isdigit() and not fds:
                self.helper = None
                self.helper_failures = 0
                self.helped += 1
                struct.pack_into("qq", self.board, HELPER_SLOT, 0, self.helped)
                self.helping[pid] = int(numbers[1])
                continue
            if said != b"took" or pid <= 0 or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                continue
            self._count(pid)
            if pid == self.spare:
                self.spare = None
                self.spare_failures = 0
            self.taken = pid
            self.reporting.add(pid)
            # the server's share of this request: taking it, and (charged in the loop) forking the next spare
            self.children[pid] = (socket.socket(fileno=fds[0]), time.process_time() - began)

    def _reap(self, control: socket.socket) -> None:
        while self.children or self.spare is not None or self.helper is not None or self.helping:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            began = time.process_time()
            if pid not in self.children and pid not in self.helping:
                self._take(control)  # a spare or helper that took a connection and ended since the last look
            cpu = usage.ru_utime + usage.ru_stime
            if pid in self.helping:
                self._helper_ended(pid, cpu)
                continue
            entry = self.children.pop(pid, None)
            if entry is None:
                if pid == self.spare:  # ended without a request: killed, or it could not run
                    self.spare = None
                    self.spare_failures += 1
                elif pid == self.helper:
                    self.helper = None
                    self.helper_failures += 1
                    struct.pack_into("q", self.board, HELPER_SLOT, 0)
                continue
            self.reporting.discard(pid)
            conn, spent = entry
            ended = (0, os.WEXITSTATUS(status)) if os.WIFEXITED(status) else (1, os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0)
            spent += time.process_time() - began  # accepting, forking, reaping: the server's own share of the request
            if pid in self.helping.values():  # its helper still writes: told once both have ended
                self.ended[pid] = (conn, ended, cpu, spent)
            else:
                self._tell(pid, conn, ended, cpu + self.helper_cpu.pop(pid, 0.0), spent)

    def _tell(self, pid: int, conn: socket.socket, ended: tuple[int, int], cpu: float, spent: float) -> None:
        """Tell a client how its run (child ``pid``) ended (``X``), with the CPU seconds of the run's processes and the
        server's share; for a run that let its client go early with ``LINTIMG_DAEMON_USAGE`` set, append them to
        that file (the client logs them itself when it waits for X)."""
        try:
            conn.setblocking(False)
            wire.send(conn, b"X", wire.END.pack(*ended, cpu, spent))
        except OSError:
            pass  # the client went away
        conn.close()
        log = self.usage.pop(pid, None)
        if log is not None:
            try:  # non-blocking: a FIFO nobody reads is not waited for
                fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
                try:
                    os.write(fd, f"{cpu:.6f} {spent:.6f}\n".encode())
                finally:
                    os.close(fd)
            except OSError:
                pass

    def _helper_ended(self, pid: int, cpu: float) -> None:
        run = self.helping.pop(pid)
        if run in self.ended:
            conn, ended, run_cpu, spent = self.ended.pop(run)
            self._tell(run, conn, ended, run_cpu + cpu, spent)
        elif run in self.children:
            self.helper_cpu[run] = cpu

    def _count(self, pid: int) -> None:
        """Count a request, served by the child ``pid``, where the children read it (:meth:`status`)."""
        self.served += 1
        slot = 8 + 16 * (self.served % BOARD_PIDS)
        struct.pack_into("q", self.board, slot + 8, self.served)  # before the pid: a child that finds its pid reads its number
        struct.pack_into("q", self.board, slot, pid)
        struct.pack_into("q", self.board, 0, self.served)

    def counted(self) -> int:
        """In a child: the requests the server had counted when it counted this child's (it counts a spare's when
        told the spare took it), not those that came after; after :data:`READ_TIMEOUT`, those counted so far."""
        me = os.getpid()
        deadline = time.monotonic() + READ_TIMEOUT
        while True:
            slots = struct.unpack_from(f"{2 * BOARD_PIDS}q", self.board, 8)
            for pid, number in zip(slots[::2], slots[1::2]):
                if pid == me:
                    return int(number)
            if time.monotonic() > deadline:
                return int(struct.unpack_from("q", self.board)[0])
            time.sleep(0.001)

    def status(self) -> str:
        helped: int = struct.unpack_from("q", self.board, HELPER_SLOT + 8)[0]
        return (f"running: pid {self.pid}, serving lintimg {self.key[:12]} on {sys.executable}, socket {self.path}, "
                f"{self.counted()} requests (this one included) since {time.strftime('%H:%M:%S', time.localtime(self.started))}, "
                f"{helped} split with a helper ({'one' if self.helper_waits() else 'none'} waiting), exits after {self.idle:g} s idle")

    def helper_waits(self) -> bool:
        """In a child: whether a helper has copied its pages and waits (another run may still take it first)."""
        waiting: int = struct.unpack_from("q", self.board, HELPER_SLOT)[0]
        return waiting != 0


def _listen(path: str, backlog: int) -> tuple[socket.socket, int]:
    """A non-blocking listening socket at ``path`` (only this user may connect), and its inode."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:  # a dead server's socket: the client that started this one holds the lock and found nobody listening
        os.unlink(path)
    except FileNotFoundError:
        pass
    mask = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(mask)
    sock.setblocking(False)
    sock.listen(backlog)
    return sock, os.lstat(path).st_ino


def _peer(conn: socket.socket) -> tuple[int, int]:
    """The pid and user id of the peer of ``conn`` (``SO_PEERCRED``); ``(0, -1)`` when it cannot be told."""
    try:
        pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    except OSError:
        return 0, -1
    return int(pid), int(uid)


def _helped_request(conn: socket.socket, key: str) -> list[str] | None:
    """In a helper: the request a run forwards (its client's, for this server), acknowledged (``H``); ``None`` when the
    peer is another user, sends anything else, or has gone (it gave up waiting: it checks its share itself)."""
    if not _same_user(conn):
        return None
    try:
        conn.setblocking(True)
        conn.settimeout(READ_TIMEOUT)
        tag, body = wire.receive(conn, wire.MAX_REQUEST)
        fields = [os.fsdecode(f) for f in body.split(b"\0")]
        if tag != b"Q" or len(fields) < 12 or fields[0] != wire.PROTOCOL or fields[1] != key or fields[2] != "run":
            return None
        wire.send(conn, b"H", str(os.getpid()).encode())
    except (OSError, EOFError, ValueError, UnicodeError):
        return None
    conn.settimeout(None)
    return fields


def _nothing(signum: int, frame: object) -> None:
    pass


def _passed_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    """The file descriptors a message brought (``SCM_RIGHTS``), now this process's."""
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds += struct.unpack(f"{len(data) // 4}i", data[: len(data) - len(data) % 4])
    return fds


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer of ``conn`` runs as this user."""
    return _peer(conn)[1] == os.geteuid()


def _become_child(listener: socket.socket | None, private: tuple[int, ...]) -> None:
    """In a child just forked: drop the server's signal handlers (SIGTERM ends a waiting spare) and descriptors."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if listener is not None:
        listener.close()
    for fd in private:
        os.close(fd)


def _child_exit(body: Callable[[], int]) -> NoReturn:
    """Run a forked child's ``body`` and end the process with its code: a child never returns into the server's loop."""
    code = 70
    try:
        code = body()
    except BaseException:  # noqa: BLE001 - whatever happened, the server's loop must not go on in this process
        pass
    finally:
        os._exit(code)


def _writable_regions() -> list[tuple[int, int]]:
    """This process's private writable mappings a run may write, as ``(low, high)`` addresses: not the kernel's
    own, none larger than :data:`PREFAULT_MAPPING_LIMIT` (a reservation, not pages in use)."""
    with open("/proc/self/maps", "rb") as fh:
        maps = fh.read().splitlines()
    out = []
    for line in maps:
        fields = line.split()
        if len(fields) < 5 or fields[1][:2] != b"rw" or fields[1][3:4] != b"p":
            continue
        if len(fields) > 5 and fields[5].startswith(b"[") and fields[5] not in (b"[heap]", b"[stack]"):
            continue
        low, high = (int(x, 16) for x in fields[0].split(b"-"))
        if high - low <= PREFAULT_MAPPING_LIMIT:
            out.append((low, high))
    return out


def _prefault(pages: list[tuple[int, int]] | None) -> None:
    """Copy now the server's pages that a run would copy on its first write to each: ``pages`` (``(address,
    bytes)``, learnt by :func:`_written_pages`), else every writable mapping. After a fork every page is shared
    until written; a run writes ~1,900 of them (reference counts, allocations), each a page fault that copies it:
    a third of a served run's CPU, paid here while no request waits. Nothing when the platform lacks
    ``/proc/self/maps`` or ``MADV_POPULATE_WRITE``: the run copies them itself."""
    try:
        import ctypes

        madvise = ctypes.CDLL(None, use_errno=True).madvise
        ranges = pages if pages is not None else [(low, high - low) for low, high in _writable_regions()]
    except (ImportError, OSError, AttributeError):
        return
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for address, length in ranges:
        # a page the server unmapped since it was learnt fails (ENOMEM) and is skipped
        if madvise(address, length, MADV_POPULATE_WRITE) != 0 and ctypes.get_errno() == errno.EINVAL:
            return  # a kernel before 5.14


class Child:
    """One request, in a forked child of the server."""

    def __init__(self, conn: socket.socket, server: Server, control: socket.socket) -> None:
        self.conn, self.server, self.control = conn, server, control  # control: to tell the server the report is out

    def run(self) -> int:
        self.conn.settimeout(READ_TIMEOUT)
        try:
            fields, fds = self._request()
        except (OSError, EOFError, ValueError, UnicodeError) as e:
            self._decline(f"bad request: {e}")
            return 2
        try:
            verb = fields[2]
            if verb == "status":
                wire.send(self.conn, b"T", self.server.status().encode())
                return 0
            if verb == "stop":
                os.kill(os.getppid(), signal.SIGTERM)
                wire.send(self.conn, b"T", f"stopping: pid {os.getppid()}".encode())
                return 0
            if verb != "run" or len(fds) != 3 or fields[1] != self.server.key:  # status and stop: any client of this user
                self._decline(f"bad request: {verb!r} with {len(fds)} descriptors")
                return 2
            argv = self._apply(fields, fds)
            why = unserved(argv[1:])
            if why:
                self._decline(why)
                return 0
            wire.send(self.conn, b"R", str(os.getpid()).encode())
            tag, _ = wire.receive(self.conn)
            if tag != b"G":
                return 0
        except (OSError, EOFError, ValueError, UnicodeError) as e:
            self._decline(str(e))
            return 0
        finally:
            for fd in fds:
                os.close(fd)
        from lintimg.run import afterwards, parallel

        afterwards.when_released(self._released)
        # A helper is asked now, when the run may split, so that it sets itself up while this process does
        helper = self._helper(fields) if _may_split(argv) else None
        parallel.helper_from((lambda: helper) if helper is not None else None)
        return run_main(argv)

    def _helper(self, fields: list[str]) -> tuple[socket.socket, int] | None:
        """A connection to the server's helper, which has taken this request, and its pid (``None``: none waits, or
        another run took it first)."""
        if not self.server.helper_waits():
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(HELPER_TAKE)
            sock.connect(self.server.help_path)
            wire.send(sock, b"Q", b"\0".join(os.fsencode(f) for f in fields))
            tag, body = wire.receive(sock)
            if tag != b"H" or not body.isdigit():
                raise ValueError(tag)
        except (OSError, EOFError, ValueError):
            sock.close()
            return None
        return sock, int(body)

    def _released(self, code: int) -> int:
        """The report is out: tell the client its exit code (``E``) with its standard streams let go, so that it ends
        now; what the run still writes (:mod:`lintimg.run.afterwards`) is written after. The code the run ends with."""
        from lintimg.run import afterwards

        code = _flushed(code)
        afterwards.in_background()
        try:
            wire.send(self.conn, b"E", wire.EARLY.pack(code))
        except OSError:
            pass  # the client went away
        self.conn.close()  # the server still tells the client how the child ended (X), for a client that waits for it
        usage = os.environ.get("LINTIMG_DAEMON_USAGE")  # the client is gone: the server logs the run's CPU for it
        try:  # the server may fork the next spare and helper now
            self.control.send(b"released %d" % os.getpid() + (b" " + os.fsencode(usage) if usage else b""))
        except OSError:
            pass
        self.control.close()
        return code

    def _request(self) -> tuple[list[str], list[int]]:
        head, ancillary, _, _ = self.conn.recvmsg(wire._HEAD.size, socket.CMSG_SPACE(3 * struct.calcsize("i")))
        fds = _passed_fds(ancillary)
        if len(head) < wire._HEAD.size:
            head += wire._exactly(self.conn, wire._HEAD.size - len(head))
        tag, size = wire._HEAD.unpack(head)
        if tag != b"Q" or size > wire.MAX_REQUEST:
            raise ValueError(f"a {tag!r} message of {size} bytes")
        fields = [os.fsdecode(f) for f in wire._exactly(self.conn, size).split(b"\0")]
        if len(fields) < 12 or fields[0] != wire.PROTOCOL:
            raise ValueError("another protocol")
        return fields, fds

    def _apply(self, fields: list[str], fds: list[int]) -> list[str]:
        """Take on the client's working directory, umask, environment, locale and standard streams; return its ``sys.argv``."""
        import io

        argv, encodings = _take_on(fields)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        streams = []
        for fd, (encoding, errors) in enumerate(zip(encodings[0::2], encodings[1::2])):
            tty = os.isatty(fd)
            raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
            buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
            # as the interpreter makes them: stdout line-buffered on a terminal, stderr always
            streams.append(io.TextIOWrapper(buffered, encoding, errors, line_buffering=tty or fd == 2))
        sys.stdin, sys.stdout, sys.stderr = streams
        for name, stream in zip(("__stdin__", "__stdout__", "__stderr__"), streams):
            setattr(sys, name, stream)  # the originals too (the terminal width is asked of sys.__stdout__)
        sys.argv = argv
        return argv

    def _decline(self, why: str) -> None:
        try:
            wire.send(self.conn, b"D", why.encode("utf-8", "replace")[:1000])
        except OSError:
            pass


def _may_split(argv: list[str]) -> bool:
    """Whether a check with this command line (and this process's environment, the request's) may hand a share of
    its files to the helper: it names at least twice :data:`lintimg.run.parallel.MIN_FILES` paths, or a folder; and
    neither keeps it in one process (``--jobs 1``, ``LINTIMG_JOBS=1``) nor turns the results cache off (the helper
    proves by the files' keys that it sees what the run sees)."""
    from lintimg import cachefiles
    from lintimg.run.parallel import ENV, MIN_FILES

    words = argv[1:]
    one = any(words[i : i + 2] in (["-j", "1"], ["--jobs", "1"]) for i in range(len(words))) or {"-j1", "--jobs=1"} & set(words)
    if one or os.environ.get(ENV, "").strip() == "1" or "--no-cache" in words or not cachefiles.enabled():
        return False
    paths = [a for a in words if not a.startswith("-")]
    return len(paths) >= 2 * MIN_FILES or any(os.path.isdir(p) for p in paths)


def _take_on(fields: list[str]) -> tuple[list[str], list[str]]:
    """Take on the working directory, umask, environment and locale of a request; its ``sys.argv``, and the encodings
    and errors of its standard streams."""
    import locale

    cwd, mask, encodings, count = fields[3], int(fields[4]), fields[5:11], int(fields[11])
    argv, env = fields[12 : 12 + count], fields[12 + count :]
    if len(argv) != count or any("=" not in e for e in env):
        raise ValueError("a malformed command line or environment")
    os.chdir(cwd)
    os.umask(mask)
    os.environ.clear()
    os.environ.update(e.split("=", 1) for e in env)  # type: ignore[misc]
    try:
        locale.setlocale(locale.LC_CTYPE, "")  # what the interpreter does at start-up, now with the client's variables
    except locale.Error:
        pass
    return argv, encodings


def unserved(argv: list[str]) -> str | None:
    """Why this command line runs in-process rather than here (``None``: it runs here). Only ``check`` runs
    here, and not on stdin; a usage error runs here, where it reads as it would in-process."""
    from lintimg.cli import COMMANDS

    command = argv[0] if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "-v", "--version")) else "check"
    if command != "check":
        return f"{command} runs in-process"
    if "-" in argv:
        return "stdin (-) is read in-process"
    return None


def run_main(argv: list[str]) -> int:
    """Run the console script's entry point with this ``sys.argv``, and end as the interpreter would."""
    import atexit

    from lintimg import __main__ as entry

    try:
        code: object = entry.in_process(memo=False)  # the client asked the memo just before it asked here
    except SystemExit as e:  # argparse's --help and --version
        code = e.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    # What the interpreter does at exit, which os._exit skips: wait for threads that are not daemons (the ShellCheck
    # batch removes its temp files and stores its results), run the atexit functions, flush the standard streams.
    threading = sys.modules.get("threading")
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    return _flushed(code)


def _flushed(code: int) -> int:
    """``code``, or the interpreter's 120 when it cannot flush a standard stream at exit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120
    return code
