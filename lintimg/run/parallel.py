"""A check over many files in several processes: the files to lint dealt out to forked workers.

pre-commit hands every staged Dockerfile to one ``lintimg`` process (the hooks
are ``require_serial``: rules look across files), so using more than one CPU
is lintimg's own business. When a check has enough files to lint
(:data:`MIN_FILES` per process) and this process may use more than one CPU,
the engine — plugins, rules, configuration, set up once — is shared through
``fork`` (copy-on-write), the files are dealt out in *shares*, and each share
is prepared (``lintimg_prepare``: the ShellCheck batch) and linted in a
process of its own, the first share in this one. Files of one build context
stay in one share (they share its walk). Each worker hands back its files'
findings and notes, what it learnt of the results-cache entries it wrote, and
what the caller asks to carry (the run memo's recording); they are merged in
the files' order, so the report, the results cache and the run memo are those
of a run in one process.

A run stays in one process when ``--jobs 1`` or ``LINTIMG_JOBS=1`` asks so;
when the platform lacks ``fork`` or ``sched_getaffinity`` (not Linux); when a
thread runs (a forked copy could inherit a lock held by it); when a plugin's
batch work must see all targets together (``lintimg_prepare_splits``: the
built-in one says so while base-image lookups are on); and when there are
fewer than :data:`MIN_FILES` files to lint per process.

A worker that dies (a signal, a crash outside the rules) makes the run end
with one line naming its files and exit 2; an exception in a worker is the
run's, with the same message. SIGTERM or SIGINT while workers run stops them
(and reaps them) before the run ends.
"""
from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any, Generic, NoReturn, TypeVar

from lintimg import limits
from lintimg.errors import LintimgError, internal_error
from lintimg.run import afterwards

T = TypeVar("T")
ENV = "LINTIMG_JOBS"
# Files a process must have to lint for another one to pay: forking, copying on write and handing back cost a few
# ms per worker; an edited file's lint ~8 ms (docs/architecture.md, Several CPUs).
MIN_FILES = 4
# How much longer a share takes in the process that forked the workers than in a worker (measured: 1.1-1.2): it
# writes again to the pages it had before the fork, now shared with them (copy on write), and it reads their results.
HERE = 1.15
GRACE = 2.0  # seconds a worker told to stop (SIGTERM) has to clean up (ShellCheck's files) before SIGKILL
_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # the run's stop signals (lintimg.cli): blocked across fork


def requested(jobs: int | None) -> int | None:
    """The most processes a check was asked to use: ``jobs`` (``--jobs``), else ``LINTIMG_JOBS``; ``None``: not asked."""
    if jobs is None:
        given = os.environ.get(ENV, "").strip()
        if given:
            if not given.isdigit() or int(given) < 1:
                raise LintimgError(f"{ENV}={given[:40]!r}: expected a whole number of processes, 1 or more")
            jobs = int(given)
    return jobs


def processes(asked: int | None) -> int:
    """How many processes a check may use: those it was ``asked`` for (:func:`requested`), else this one and one more
    per CPU the machine has at least half idle by its 1-minute load average (on a busy machine another process costs
    CPU and saves no time; the run's own CPU is not asked for: the load may be its caller's, a pre-commit run's earlier
    hooks); never more than the CPUs this process may use."""
    cpus = limits.usable_cpus()
    if asked is not None:
        return min(asked, cpus)
    try:
        idle = (os.cpu_count() or cpus) - os.getloadavg()[0]
    except (AttributeError, OSError):
        return cpus
    return max(1, min(cpus, 1 + math.floor(idle + 0.5)))


def can_fork(settle: float = 0.0) -> bool:
    """Whether this process may fork workers: a POSIX platform that tells its CPUs, and no other thread running
    (after waiting up to ``settle`` seconds for threads that are ending: the ShellCheck batch of a file just checked
    removes its files once its last chunk is in)."""
    if not hasattr(os, "fork") or not hasattr(os, "sched_getaffinity"):
        return False
    threading = sys.modules.get("threading")  # not imported: no thread was started through it
    if threading is None:
        return True
    if settle > 0:
        _join_threads(settle)
    return bool(threading.active_count() == 1)


def shares(groups: Iterable[tuple[list[int], int]], processes: int, here: float | None = None) -> list[list[int]]:
    """``groups`` (indices that go together, and their weight) dealt out to at most ``processes`` shares, the
    heaviest first, each to the share it would end first: the first share is this process's, where the same work
    takes ``here`` times as long (by default :data:`HERE`, or 1 when the one other share goes to a helper: nothing
    is forked). Each share's indices in order; no empty share."""
    if here is None:
        here = 1.0 if _helper is not None and processes == 2 else HERE
    pace = [here] + [1.0] * (processes - 1)
    loads = [0] * processes
    members: list[list[int]] = [[] for _ in range(processes)]
    for group, weight in sorted(groups, key=lambda g: -g[1]):
        k = min(range(processes), key=lambda j: (loads[j] + weight) * pace[j])
        loads[k] += weight
        members[k] += group
    return [sorted(m) for m in members if m]


class _Worker:
    """A forked process checking one share, and the pipe it hands its results back through."""

    def __init__(self, pid: int, fd: int, names: list[str]) -> None:
        self.pid, self.fd, self.names = pid, fd, names
        self.status: int | None = None

    def what(self) -> str:
        first = self.names[0] if self.names else "?"
        return f"{len(self.names)} files ({first}, …)" if len(self.names) > 1 else first

    def result(self) -> tuple[bool, Any, Any]:
        """``(ok, value, carried)`` as the worker sent them; raises :class:`LintimgError` when it sent nothing whole.

        The worker closes the pipe before it ends: what it sent is read (and used) while the kernel tears its
        memory down; it is reaped later (:func:`_reap`), so that its CPU time is counted as this process's children's.
        """
        chunks = []
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(self.fd)
        self.fd = -1
        import pickle

        try:
            got = pickle.loads(b"".join(chunks))  # noqa: S301 - from our own fork, through a pipe only it holds
        except Exception:  # noqa: BLE001 - a torn message: told below, with how the worker ended
            got = None
        if isinstance(got, tuple) and len(got) == 3:
            self.status = 0
            _unreaped.append(self.pid)
            return got[0], got[1], got[2]
        _, self.status = os.waitpid(self.pid, 0)
        code = os.waitstatus_to_exitcode(self.status)
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        raise LintimgError(f"the worker process checking {self.what()} {how} before handing back its findings")

    def end(self) -> None:
        """Stop the worker if it still runs (SIGTERM, then SIGKILL after :data:`GRACE` seconds) and reap it."""
        if self.fd >= 0:
            os.close(self.fd)  # a worker blocked on a full pipe sees it closed
            self.fd = -1
        if self.status is not None:
            return
        import time

        try:
            os.kill(self.pid, signal.SIGTERM)
            until = time.monotonic() + GRACE
            while time.monotonic() < until:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = status
                    return
                time.sleep(0.01)
            os.kill(self.pid, signal.SIGKILL)
            _, self.status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            self.status = 0


def run(shares: list[list[int]], work: Callable[[list[int]], T], names: Callable[[list[int]], list[str]],
        carry: Carrier[Any] | None = None, away: Callable[[list[int]], Any] | None = None) -> list[T]:
    """``work(share)`` for each share — the first here, each other in a forked worker — and the results in the
    order of ``shares``; ``names(share)`` names a share's files for an error; ``carry`` brings the caller's state
    from each worker back here. With ``away`` and a helper offered (:func:`helper_from`), the second share goes to
    the helper instead, described by ``away(share)`` (``None``: it cannot be). The caller checked :func:`can_fork`."""
    global _reaping
    if not _reaping:  # the first split of this process: the workers it leaves ending are reaped at its exit
        import atexit

        atexit.register(_reap, True)
        _reaping = True
    _reap(False)
    __import__("pickle")  # here, once: the workers inherit it
    limits.share_cpus(len(shares))
    for stream in (sys.stdout, sys.stderr):  # a worker must not write what this process buffered so far
        if stream is not None:
            stream.flush()
    workers: list[_Worker] = []
    helpers: list[_Away] = []
    pending: list[_Worker | _Away | list[int]] = []
    try:
        for k, share in enumerate(shares[1:]):
            handed = _hand_over(share, away, len(shares)) if k == 0 and away is not None else None
            if handed is not None:
                pending.append(handed)
                helpers.append(handed)
                continue
            # Blocked across fork: a stop signal must not run this process's handler in a child not yet a worker,
            # nor here before the worker is known (and so stopped at the end).
            signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
            try:
                worker = _fork(share, work, carry, [w.fd for w in workers], names(share))
                workers.append(worker)
                pending.append(worker)
            except OSError:  # no process to spare (EAGAIN, ENOMEM): this share is checked here
                pending.append(share)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        results = [work(shares[0])]
        for w in pending:
            if isinstance(w, list):
                results.append(work(w))
                continue
            # A stop that came while this process checked its share and was caught there (a rule's or a plugin's
            # error handling) ends the run now, not once the other process has finished its share.
            limits.check_clock()
            got = w.result()
            if got is None:  # the helper did not check it (it ended, or sees other files or another configuration)
                assert isinstance(w, _Away)
                results.append(work(w.share))
                continue
            ok, value, carried = got
            if carry is not None:
                carry.absorb(carried)
            if not ok:
                raise _raised(value)
            results.append(value)
        return results
    finally:
        for w in workers:
            w.end()
        for h in helpers:
            h.end()
        limits.share_cpus(1)


class Carrier(Generic[T]):
    """State of the caller a worker changes, brought back: ``take()`` in the worker after its share, ``absorb()`` here."""

    def __init__(self, take: Callable[[], T], absorb: Callable[[T], None]) -> None:
        self.take, self.absorb = take, absorb


def _fork(share: list[int], work: Callable[[list[int]], Any], carry: Carrier[Any] | None, others: list[int], names: list[str]) -> _Worker:
    """A worker for ``share`` (the stop signals are blocked: the caller unblocks them)."""
    read, write = os.pipe()
    try:
        pid = os.fork()
    except BaseException:
        os.close(read)
        os.close(write)
        raise
    if pid == 0:  # the worker: it never returns from here
        try:
            afterwards.discard()  # the parent's, which the parent does
            os.close(read)
            for fd in others:  # the other workers' pipes: each must see its own reader go
                os.close(fd)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            _work(write, share, work, carry)
        finally:
            os._exit(70)
    os.close(write)
    return _Worker(pid, read, names)


def _work(fd: int, share: list[int], work: Callable[[list[int]], Any], carry: Carrier[Any] | None) -> NoReturn:
    """In the worker: check ``share``, wait for its threads (ShellCheck's, which removes its files), send the
    results, and end without the interpreter's exit (its atexit work and buffers are the parent's)."""
    code = 0
    try:
        try:
            message: tuple[bool, Any, Any] = (True, work(share), None)
        except BaseException as e:  # noqa: BLE001 - the run's error, handed to the parent, which ends the run with it
            if os.environ.get("LINTIMG_DEBUG") and not isinstance(e, LintimgError):
                import traceback

                traceback.print_exc()
            message = (False, _portable(e), None)
        _join_threads()
        if carry is not None:
            message = (message[0], message[1], carry.take())
        import pickle

        try:
            data = memoryview(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
        except Exception as e:  # noqa: BLE001 - a plugin's finding that cannot travel: the run says so, as for a bug
            data = memoryview(pickle.dumps((False, _portable(e), None), pickle.HIGHEST_PROTOCOL))
        while data:
            data = data[os.write(fd, data):]
        os.close(fd)  # the parent goes on now, not once the kernel has torn this process down
        _queued_work()
    except BaseException:  # noqa: BLE001 - stopped, or the parent went away: it sees how this process ended
        code = 3
    os._exit(code)


def _queued_work() -> None:
    """After the share is handed back: this worker's (or helper's) queued writes (:mod:`lintimg.run.afterwards`),
    holding none of the run's standard streams (a served run's client may be gone, and a reader of the run's output
    waits for every copy of it to close)."""
    if afterwards.pending():
        afterwards.in_background()
        afterwards.run_queued()


def reap() -> None:
    """Wait for the workers (and the helper) that handed back their results to end: their queued writes are done."""
    _reap(True)
    while _helped:
        _helped.pop().wait()


# -- a helper: a share checked by another process that set itself up from the same command line -------------------

_helper: Callable[[], tuple[Any, int] | None] | None = None  # a connection to a helper that took this run, and its pid
_helped: list[_Away] = []  # helpers that handed back their share and are writing its results-cache entries
HELPER_WAIT = 10.0  # seconds a run waits for its helper to take the share, and then for its writes


def helper_from(connect: Callable[[], tuple[Any, int] | None] | None) -> None:
    """Offer this run one helper (the resident server's, docs/daemon.md): ``connect()`` returns a connected socket
    to a process that has taken this run's command line, working directory and environment, and its pid; or
    ``None``."""
    global _helper
    _helper = connect


def _hand_over(share: list[int], away: Callable[[list[int]], Any], processes: int) -> _Away | None:
    """``share`` sent to the helper offered, if one is (each run's is used once), described by ``away(share)``."""
    global _helper
    connect, _helper = _helper, None
    if connect is None:
        return None
    description = away(share)
    if description is None:
        return None
    helper = connect()
    if helper is None:
        return None
    sock, pid = helper
    try:
        sock.settimeout(HELPER_WAIT)
        _send_message(sock, (processes, description))
    except OSError:
        sock.close()
        return None
    return _Away(sock, pid, share)


class _Away:
    """A share handed to a helper process, which checks it with an engine of its own set up from the same command
    line, and hands back what a worker hands back."""

    def __init__(self, sock: Any, pid: int, share: list[int]) -> None:
        self.sock, self.pid, self.share = sock, pid, share
        self.answered = False

    def result(self) -> tuple[bool, Any, Any] | None:
        """What the helper sent, as a worker sends it; ``None`` when it did not check the share: it ended, or the
        files or configuration it read differ from this run's (a change between the two reads)."""
        import pickle

        # No time limit, as for a worker: a helper that ends is seen (the connection closes), and one given up on
        # would have its share checked twice while it went on, unstopped.
        self.sock.settimeout(None)
        try:
            got = _receive_message(self.sock)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):  # a torn answer (the helper ended): checked here
            got = None  # (a stop signal's exception goes on up: the run ends, and end() stops the helper)
        self.answered = True
        if not (isinstance(got, tuple) and len(got) == 3):
            self.sock.close()
            return None
        _helped.append(self)
        return got[0], got[1], got[2]

    def end(self) -> None:
        """Stop the helper if the run ends before its answer (a stop signal, an error here): it is not this process's
        child, and nothing it does then counts. One that answered writes its entries on."""
        if self.answered:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.sock.close()

    def wait(self) -> None:
        """Until the helper closes the connection: it has written the results-cache entries of its share."""
        self.sock.settimeout(HELPER_WAIT)
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass
        self.sock.close()


def serve_share(channel: Any, work: Callable[[Any], tuple[bool, Any, Any] | None]) -> None:
    """In a helper: take the share a run hands over, answer with ``work(description)`` (what a worker sends;
    ``None``: not checked here, the run checks it itself), then do the writes that queued (the run waits for the
    connection to close before it keeps its memo)."""
    try:
        processes, description = _receive_message(channel)
    except (OSError, EOFError, ValueError):
        return  # the run did not split after all, or ended
    limits.share_cpus(int(processes))
    try:
        message = work(description)
    except BaseException as e:  # noqa: BLE001 - the run's error, handed to the run, which ends with it
        message = (False, _portable(e), None)
    _join_threads()
    _send_message(channel, message)
    _queued_work()


_LENGTH = 8  # bytes of a message's length, before its pickle


def _send_message(sock: Any, value: Any) -> None:
    import pickle

    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    sock.sendall(len(data).to_bytes(_LENGTH, "big") + data)


def _receive_message(sock: Any) -> Any:
    """A message :func:`_send_message` sent: from a process of this user started by the resident server (its socket
    lies in a folder only this user can enter, and the server checks the peer's user)."""
    import pickle

    head = _exactly(sock, _LENGTH)
    return pickle.loads(_exactly(sock, int.from_bytes(head, "big")))  # noqa: S301 - see above


def _exactly(sock: Any, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(min(n - len(out), 1 << 20))
        if not chunk:
            raise EOFError
        out += chunk
    return bytes(out)


_unreaped: list[int] = []  # workers that handed back their results and are ending
_reaping = False  # whether this process reaps them at exit


def _reap(block: bool) -> None:
    """Reap the workers that handed back their results (``block``: wait for each, as at exit)."""
    for pid in list(_unreaped):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _unreaped.remove(pid)


def _join_threads(within: float | None = None) -> None:
    """Wait for the threads that are not daemons (all of them, or for ``within`` seconds at most)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    import time

    until = None if within is None else time.monotonic() + within
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(None if until is None else max(0.0, until - time.monotonic()))


def _portable(e: BaseException) -> tuple[str, int, str]:
    """An exception of a worker as the parent raises it again: a :class:`LintimgError`'s message and exit code (a
    stop's too), anything else as the one line the CLI shows for a bug."""
    if isinstance(e, limits.Stopped):
        return "stopped", e.exit_code, str(e)
    if isinstance(e, LintimgError):
        return "error", e.exit_code, str(e)
    if isinstance(e, KeyboardInterrupt):
        return "stopped", 130, "interrupted"
    return "error", 2, internal_error(e)


def _raised(value: tuple[str, int, str]) -> LintimgError:
    kind, code, message = value
    if kind == "stopped":
        return limits.Stopped(message, code)
    error = LintimgError(message)
    error.exit_code = code
    return error
