"""The client of the resident server: the first thing the console script runs when ``--daemon`` or
``LINTIMG_DAEMON=1`` asks for the server.

It loads nothing of the engine, and of the standard library only the C
modules under ``socket``, ``struct`` and ``signal`` (their Python wrappers
load ``enum`` and ``selectors``, a fifth of the client's own CPU);
``subprocess`` only to start a server. It hands the server its
command line, working directory, environment, umask and its standard streams
themselves (the descriptors, so the run writes where an in-process run
writes, sees the same terminal and colours the same), then relays signals to
the run and returns the run's exit code.

Anything it cannot get served exactly runs in-process (:func:`served` returns
``None``): no usable socket folder, no server and none could be started, a
server of other code or another interpreter (the socket's name is a digest of
both), a request the server's child declines (stdin ``-``, a command other
than ``check``), any protocol error before the run started. Once the child
has been told to go, the request is never run again here: a run cut off
after that is a one-line error, exit 2.

Wire format (both ways): one tag byte, a 4-byte big-endian length, the body.
The request (tag ``Q``) is NUL-separated fields (see :func:`request`); the
child answers ``R`` (ready: its pid) or ``D`` (declined: why), the client
``G`` (go); once the run's report is out the child sends ``E`` (the exit
code; it writes its caches after, and the client ends at once); the server
ends every connection with ``X`` (how the child ended and its CPU seconds,
its own children included), which a run cut off before its report is told by.
"""
from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C module: no stub, and signal.py builds enums
import _socket
import _struct
import os
import sys

from lintimg import __version__
from lintimg.cachefiles import digest, tree_files

TYPE_CHECKING = False  # typing loads re
if TYPE_CHECKING:
    import subprocess

PROTOCOL = "lintimg-resident 2"
MAX_REQUEST = 1 << 20  # bytes of one request (command line and environment); the server refuses more
MAX_REPLY = 64 * 1024
SPAWN_WAIT = 20.0  # seconds a client waits for the server it started to listen
# Environment variables lintimg reads while its modules load (tests/structure/test_resident_env.py finds them all):
# a server's modules loaded under the starting client's values, so servers are told apart by them too.
IMPORT_TIME_ENV = ("LINTIMG_RUN_TIMEOUT", "LINTIMG_REQUEST_TIMEOUT", "LINTIMG_REGISTRY_TIMEOUT")
_HEAD = _struct.Struct("!cI")
# X: 0 and the exit status or 1 and a signal number, then CPU seconds: the child's (user + system, the processes it
# waited for included) and the server's own for the request (accept, fork, reap)
END = _struct.Struct("!iidd")
# E: the exit code of a run whose report is out, sent by the child before it writes its caches (lintimg.run.afterwards)
EARLY = _struct.Struct("!i")


class Unavailable(Exception):
    """The request cannot be served exactly; it runs in-process. ``say``: tell the user why (a refused folder)."""

    def __init__(self, why: str, say: bool = False) -> None:
        super().__init__(why)
        self.say = say


# The commands other than check (lintimg.cli.COMMANDS; tests/test_resident.py keeps the two in step): they run
# in-process without asking a server (which would only decline them).
OTHER_COMMANDS = ("image", "build", "fleet", "pin", "rules", "baseline", "config", "schema", "daemon")


def wanted(argv: list[str]) -> bool:
    """Does this command line (or ``LINTIMG_DAEMON=1``) ask for the server, for a command it may run?"""
    if argv and argv[0] in OTHER_COMMANDS:
        return False
    return os.environ.get("LINTIMG_DAEMON") == "1" or "--daemon" in (argv[: argv.index("--")] if "--" in argv else argv)


def socket_dir() -> str:
    """The per-user folder of the servers' sockets, made 0700; refused unless it is a directory of
    this user that nobody else can enter (``LINTIMG_DAEMON_DIR``, else ``$XDG_RUNTIME_DIR/lintimg``,
    else ``/tmp/lintimg-UID``)."""
    folder = os.environ.get("LINTIMG_DAEMON_DIR")
    if not folder:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        folder = os.path.join(runtime, "lintimg") if runtime and os.path.isabs(runtime) else f"/tmp/lintimg-{os.geteuid()}"
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise Unavailable(f"{folder}: cannot make the socket folder: {e.strerror or e}", say=True) from None
    st = os.lstat(folder)
    if (st.st_mode & 0o170000) != 0o040000 or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise Unavailable(f"{folder}: not a private folder of this user (mode {st.st_mode & 0o7777:04o}, owner {st.st_uid}): "
                          "the daemon is not used", say=True)
    return folder


def code_roots() -> list[str]:
    """The folders of lintimg's code: the package, and ``lintimg.rules`` where an editable install maps it
    elsewhere (installed, it lies inside the package's folder, whose listing has it)."""
    import lintimg

    roots = list(lintimg.__path__)
    for finder in sys.meta_path:  # lintimg.rules: inside lintimg/ when installed, mapped to rules/ in an editable install
        find = getattr(finder, "find_spec", None)
        spec = find("lintimg.rules", lintimg.__path__) if find is not None else None
        if spec is not None:
            roots += list(spec.submodule_search_locations or ())
            break
    found = sorted({os.path.abspath(r) for r in roots})
    return [r for r in found if not any(r.startswith(o + os.sep) for o in found)]  # a tree inside another is listed with it


def code_listings() -> dict[str, list[tuple[str, int, int]]]:
    """Every file of lintimg's code by root, as ``lintimg.engine.plugins.code_stamp`` lists them."""
    return {root: list(tree_files(root)) for root in code_roots()}


def server_key(listings: dict[str, list[tuple[str, int, int]]] | None = None) -> str:
    """The name of the server that can run this process's requests exactly: this interpreter (path, version,
    flags, search path), this user and groups, the environment read at start-up, lintimg's code (every file's
    path, size and mtime: ``listings``, else listed now) and the installed distributions (their metadata folders'
    names, which carry the versions)."""
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("PYTHON") or k in IMPORT_TIME_ENV)
    dists = []
    for entry in sys.path:
        try:
            dists.append((entry, sorted(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info", ".pth")))))
        except OSError:
            continue
    code = sorted((listings if listings is not None else code_listings()).items())
    parts = (PROTOCOL, __version__, sys.executable, sys.version, sys.path, tuple(sys.flags), sorted(sys._xoptions.items()), sys.getfilesystemencoding(),
             os.geteuid(), os.getegid(), sorted(os.getgroups()), env, dists, code)
    return digest(repr(parts).encode("utf-8", "surrogateescape"))


def socket_path(folder: str, key: str) -> str:
    return os.path.join(folder, f"{key[:32]}.sock")


# -- framing ---------------------------------------------------------------------------

def send(sock: _socket.socket, tag: bytes, body: bytes = b"", fds: list[int] | None = None) -> None:
    data = _HEAD.pack(tag, len(body)) + body
    if fds:
        sent = sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, _struct.pack(f"{len(fds)}i", *fds))])
        data = data[sent:]
    if data:
        sock.sendall(data)


def _exactly(sock: _socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def receive(sock: _socket.socket, limit: int = MAX_REPLY) -> tuple[bytes, bytes]:
    """One message: (tag, body). ``EOFError`` when the peer closed; ``ValueError`` when it is too big."""
    tag, size = _HEAD.unpack(_exactly(sock, _HEAD.size))
    if size > limit:
        raise ValueError(f"a message of {size} bytes")
    return tag, _exactly(sock, size)


def request(verb: str, key: str) -> bytes:
    """The request body: protocol, key, verb, working directory, umask, the encoding and errors of
    stdin/stdout/stderr, then the command line (``sys.argv``, counted) and the environment."""
    streams = []
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if stream is None or not hasattr(stream, "encoding"):
            raise Unavailable("a standard stream is closed")
        streams += [stream.encoding, stream.errors or "strict"]
    mask = os.umask(0o22)
    os.umask(mask)
    fields = [PROTOCOL, key, verb, os.getcwd(), str(mask), *streams, str(len(sys.argv)), *sys.argv,
              *(f"{k}={v}" for k, v in os.environ.items())]
    body = b"\0".join(os.fsencode(f) for f in fields)
    if len(body) > MAX_REQUEST:
        raise Unavailable("the request is larger than the server takes")
    return body


# -- the client ------------------------------------------------------------------------

def _connect(path: str) -> _socket.socket | None:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError as e:
        sock.close()
        raise Unavailable(f"{path}: {e.strerror or e}") from None
    return sock


def connect(folder: str, key: str, start: bool = True) -> _socket.socket | None:
    """A connection to the server of ``key``; with ``start``, one is started when none listens (one
    client at a time, under a lock in the socket folder). ``None`` when there is none."""
    path = socket_path(folder, key)
    sock = _connect(path)
    if sock is not None or not start:
        return sock
    import fcntl
    import time

    with open(os.path.join(folder, f"{key[:32]}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another client starting this server: wait for it, then use its server
        sock = _connect(path)
        if sock is not None:
            return sock
        proc = spawn(folder, key)
        deadline = time.monotonic() + SPAWN_WAIT
        while time.monotonic() < deadline:
            sock = _connect(path)
            if sock is not None:
                return sock
            if proc.poll() is not None:
                raise Unavailable(f"the server exited at start (code {proc.returncode}; {os.path.join(folder, key[:32])}.log says why)")
            time.sleep(0.005)
        raise Unavailable("the server did not start in time")


BOOT = "import sys; sys.path[:] = sys.argv[4:]; from lintimg.resident.server import main; main(*sys.argv[1:4])"


def spawn(folder: str, key: str) -> subprocess.Popen[bytes]:
    """Start a server for ``key`` in its own session, on this interpreter with its flags and search path;
    its errors go to a log beside the socket."""
    import subprocess

    if not all(os.path.isabs(p) for p in sys.path):
        raise Unavailable("a relative entry on sys.path")  # the server runs elsewhere (in /)
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]  # what multiprocessing passes on too
    with open(os.path.join(folder, f"{key[:32]}.log"), "ab") as log:
        return subprocess.Popen([sys.executable, *flags, "-c", BOOT, folder, key, repr(tuple(sys.flags)), *sys.path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, cwd="/", start_new_session=True)


def _check_fds() -> None:
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            raise Unavailable(f"descriptor {fd} is closed") from None


def served(argv: list[str]) -> int | None:
    """Run this command line through the server: its exit code, or ``None`` when it runs in-process."""
    try:
        _check_fds()
        folder = socket_dir()
        key = server_key()
        sock = connect(folder, key)
        if sock is None:
            return None
    except Unavailable as e:
        if e.say:
            _say(str(e))
        return None
    except OSError:
        return None
    try:
        return _run(sock, key)
    finally:
        sock.close()


def _run(sock: _socket.socket, key: str) -> int | None:
    try:
        send(sock, b"Q", request("run", key), [0, 1, 2])
        tag, body = receive(sock)
        if tag != b"R":
            return None  # declined (D), or the child ended at once (X): nothing ran
        pid = int(body)
        send(sock, b"G")
    except (Unavailable, OSError, EOFError, ValueError):
        return None  # nothing ran: the child runs a request only after G
    return wait(sock, pid)


def wait(sock: _socket.socket, pid: int) -> int:
    """Relay SIGINT/SIGTERM/SIGHUP to the run (child ``pid``) and return its exit code once its report is out (the
    child's ``E``; its caches are written after) or it ended (the server's ``X``)."""
    def relay(signum: int, frame: object) -> None:
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    for sig in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP):
        _signal.signal(sig, relay)
    while True:
        try:
            tag, body = receive(sock)
        except InterruptedError:
            continue
        except (OSError, EOFError, ValueError):
            _say("daemon: the connection to the server broke during the run (it is not run again)")
            return 2
        if tag == b"E" and len(body) == EARLY.size:
            return int(EARLY.unpack(body)[0])
        if tag == b"X" and len(body) == END.size:
            kind, value, child, server = END.unpack(body)
            _log_usage(child, server)
            if kind == 0:
                return int(value)
            _say(f"daemon: the run was ended by signal {value}")
            return 128 + int(value)


def _log_usage(child: float, server: float) -> None:
    """With ``LINTIMG_DAEMON_USAGE=FILE`` (benchmarks/latency.py), append the CPU seconds of the served run, which
    are not this process's: the child's and the server's share (the server logs them for a run that let its client
    go early, once the run has ended)."""
    log = os.environ.get("LINTIMG_DAEMON_USAGE")
    if log:
        try:
            with open(log, "a") as fh:
                fh.write(f"{child:.6f} {server:.6f}\n")
        except OSError:
            pass


def _say(message: str) -> None:
    try:
        print(f"lintimg: {message}", file=sys.stderr)
    except (OSError, ValueError, AttributeError):
        pass


def control(verb: str) -> tuple[int, str]:
    """``lintimg daemon start|stop|status`` for this install's server: (exit code, the line to print)."""
    folder = socket_dir()
    key = server_key()
    sock = connect(folder, key, start=verb == "start")
    if sock is None:
        return (1 if verb == "status" else 0), f"not running (socket {socket_path(folder, key)})"
    try:
        send(sock, b"Q", request("stop" if verb == "stop" else "status", key))
        tag, body = receive(sock)
    except (OSError, EOFError, ValueError) as e:
        raise Unavailable(f"the server did not answer: {e}") from None
    finally:
        sock.close()
    if tag != b"T":
        raise Unavailable(f"the server declined: {body.decode('utf-8', 'replace')}")
    if verb == "stop":  # gone once its runs have ended and its socket is removed
        import time

        deadline = time.monotonic() + SPAWN_WAIT
        while os.path.exists(socket_path(folder, key)) and time.monotonic() < deadline:
            time.sleep(0.01)
    return 0, body.decode("utf-8", "replace")
