"""The resident server (``--daemon`` / ``LINTIMG_DAEMON=1``): real server processes on real sockets.

A served run must write exactly what the same run writes in-process (stdout,
stderr, exit code), for each repository its own config; the server must not be
used from a folder others can enter, must be replaced when it died, must let
the client run in-process when it cannot start, must never run a request twice,
and must exit when idle. Every server a test starts is stopped by its fixture.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clirun import EXAMPLES, REPO

SCRIPT = Path(sys.executable).with_name("lintimg")  # the console script: its search path is the same in every folder

WEBAPP = (EXAMPLES / "webapp" / "Dockerfile").read_text()
PRAGMAS = """\
# lintimg global ignore=LI205 the maintainer line stays for now
FROM python:latest
MAINTAINER someone
# lintimg ignore=LI301 the list is pinned upstream
RUN apt-get update && apt-get install -y curl
COPY . /app
"""
CONFIG = "ignore: [LI102]\nfailure-threshold: error\n"


@dataclass
class Served:
    folder: str
    env: dict[str, str]

    def run(self, *args: str, cwd: Path, daemon: bool, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**self.env, **(extra or {})}
        if daemon:
            env["LINTIMG_DAEMON"] = "1"
        return subprocess.run([str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, timeout=120)

    def status(self) -> tuple[int | None, int]:
        """(server pid, requests served: runs and status requests, this one included) of this folder's server, or (None, 0)."""
        out = subprocess.run([str(SCRIPT), "daemon", "status"], env=self.env, cwd="/", capture_output=True, text=True, timeout=60).stdout
        if not out.startswith("running: pid "):
            return None, 0
        words = out.split()
        return int(words[2].rstrip(",")), int(words[words.index("requests") - 1])

    def stop(self) -> None:
        pid, _ = self.status()
        subprocess.run([str(SCRIPT), "daemon", "stop"], env=self.env, cwd="/", capture_output=True, timeout=60)
        if pid is not None and not _gone(pid, 10):
            os.kill(pid, signal.SIGKILL)


def _result(proc: subprocess.CompletedProcess) -> tuple[int, bytes, bytes]:
    return proc.returncode, proc.stdout, proc.stderr


def _started(s: Served, here: subprocess.CompletedProcess, root: Path) -> tuple[int, int]:
    """A first run served by ``s`` (which starts its server) writes what ``here`` wrote: the server's pid and count."""
    first = s.run("--no-context", "Dockerfile", cwd=root, daemon=True)
    pid, count = s.status()
    assert pid is not None and _result(first) == _result(here)
    return pid, count


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _children(pid: int) -> set[int]:
    """The live (not yet ended) child processes of ``pid``."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                out.add(int(entry))
    return out


def _waiting(pid: int, suffix: str) -> set[int]:
    """The live children of server ``pid`` that hold its listening socket whose path ends with ``suffix``: ``.sock``
    (the spare, which accepts the next request) or ``.help`` (the helper, which takes a split run's share)."""
    inodes = {f"socket:[{row.split()[6]}]" for row in Path("/proc/net/unix").read_text().splitlines()[1:]
              if len(row.split()) > 7 and row.split()[7].endswith(suffix)}
    out = set()
    for child in _children(pid):
        try:
            if any(os.readlink(f"/proc/{child}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{child}/fd")):
                out.add(child)
        except OSError:
            continue
    return out


def _spare(pid: int, seconds: float = 20, suffix: str = ".sock") -> int | None:
    """The spare of server ``pid`` once it has one (its helper with ``suffix=".help"``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = _waiting(pid, suffix)
        if len(waiting) == 1:
            return waiting.pop()
        time.sleep(0.05)
    return None


def _spareless(pid: int, seconds: float, suffix: str = ".sock") -> bool:
    """Whether server ``pid`` has no spare (helper, with ``suffix=".help"``) within ``seconds``, and still none half
    a second later."""
    deadline = time.monotonic() + seconds
    while _waiting(pid, suffix) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    return not _waiting(pid, suffix)


def _copied(pid: int, seconds: float) -> bool:
    """Whether within ``seconds`` a quarter or more of the resident memory of ``pid`` is its own, shared with no other
    process (a forked child that waits without writing holds ~6% of its own; a spare, the ~2,600 pages a run writes,
    ~45%)."""
    deadline = time.monotonic() + seconds
    while True:
        rows = {r.split(":")[0]: int(r.split()[1]) for r in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]}
        if rows["Private_Dirty"] + rows["Private_Clean"] > rows["Rss"] // 4:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _served(tmp: Path, folder: str, **extra: str) -> Served:
    if not SCRIPT.is_file():
        pytest.fail(f"{SCRIPT}: no console script next to this interpreter (pip install -e .)")
    base = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "NO_COLOR", "LINTIMG_DAEMON", "LINTIMG_NO_CACHE")}
    env = {**base, "LINTIMG_DAEMON_DIR": folder, "XDG_CACHE_HOME": str(tmp / "cache"), "LINTIMG_DAEMON_IDLE": "120", **extra}
    return Served(folder, env)


@pytest.fixture
def short_dir() -> Iterator[str]:
    """A private folder with a short path (a unix socket's path is at most 107 bytes)."""
    folder = tempfile.mkdtemp(prefix="lid-", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two repositories with the same Dockerfiles: ``a`` has a config, ``b`` none."""
    out = {}
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(f"repo-{name}")
        (root / ".git").mkdir()  # the config search stops at a repository's root
        (root / "Dockerfile").write_text(WEBAPP)
        (root / "app.py").write_text("print('hi')\n")
        (root / "pragmas").mkdir()
        (root / "pragmas" / "Dockerfile").write_text(PRAGMAS)
        if name == "a":
            (root / ".lintimg.yaml").write_text(CONFIG)
        out[name] = root
    return out


@pytest.fixture(scope="module")
def in_process(server: Served) -> dict[tuple[Path, tuple[str, ...]], subprocess.CompletedProcess]:
    """In-process results (caches off), by folder and arguments, each run once for the module."""
    return {}


def expected(server: Served, memo: dict, root: Path, *args: str) -> subprocess.CompletedProcess:
    if (root, args) not in memo:
        memo[root, args] = server.run(*args, cwd=root, daemon=False)
    return memo[root, args]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the tests that share it; stopped at the end."""
    folder = tempfile.mkdtemp(prefix="lid-", dir="/tmp")
    served = _served(tmp_path_factory.mktemp("served"), folder, LINTIMG_NO_CACHE="1")
    yield served
    served.stop()
    shutil.rmtree(folder, ignore_errors=True)


RUNS = [("--no-color", "Dockerfile"), ("--no-context", "pragmas/Dockerfile"),
        ("-f", "sarif", "--no-context", "Dockerfile", "pragmas/Dockerfile"), ("--no-such-flag",)]


def test_served_runs_write_what_in_process_runs_write_for_each_repository(server: Served, repos: dict[str, Path], in_process: dict) -> None:
    server.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)  # a server is running
    _, before = server.status()
    outputs = {}
    for name, root in repos.items():
        for args in RUNS:
            here = expected(server, in_process, root, *args)
            served = server.run(*args, cwd=root, daemon=True)
            assert _result(served) == _result(here), (name, args)
            outputs[name, args] = here.stdout
    pid, after = server.status()
    assert pid is not None and after - before == 2 * len(RUNS) + 1  # one server ran every one of them
    # the config of a (LI102 off, threshold error) reached a's runs only
    assert b"LI102" in outputs["b", RUNS[0]] and b"LI102" not in outputs["a", RUNS[0]]
    assert b"LI205" not in outputs["a", RUNS[2]]  # the pragmas held


def test_concurrent_clients_each_get_their_own_result(server: Served, repos: dict[str, Path], in_process: dict) -> None:
    want = {name: expected(server, in_process, root, "-f", "sarif", "--no-context", "Dockerfile", "pragmas/Dockerfile")
            for name, root in repos.items()}
    env = {**server.env, "LINTIMG_DAEMON": "1"}
    procs = [(name, subprocess.Popen([str(SCRIPT), "-f", "sarif", "--no-context", "Dockerfile", "pragmas/Dockerfile"], cwd=repos[name], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)) for name in ("a", "b", "a", "b", "a", "b")]
    for name, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert (proc.returncode, out, err) == (want[name].returncode, want[name].stdout, want[name].stderr)


def test_garbage_on_the_socket_leaves_the_server_serving(server: Served, repos: dict[str, Path], in_process: dict) -> None:
    server.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)  # a server is running
    pid, _ = server.status()
    path = next(Path(server.folder).glob("*.sock"))
    for junk in (b"", b"\x00" * 3, b"Q\xff\xff\xff\xffxx", b"Q\x00\x00\x00\x05a\x00b\x00c", b"Z" * 100_000):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            try:
                s.sendall(junk)
            except OSError:
                pass
    assert server.status()[0] == pid
    here = expected(server, in_process, repos["b"], "--no-context", "Dockerfile")
    again = server.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)
    assert (again.returncode, again.stdout) == (here.returncode, here.stdout) and server.status()[0] == pid


def test_a_socket_folder_others_can_enter_is_refused(tmp_path: Path, short_dir: str, repos: dict[str, Path], server: Served,
                                                     in_process: dict) -> None:
    os.chmod(short_dir, 0o755)
    s = _served(tmp_path, short_dir, LINTIMG_NO_CACHE="1")
    here = expected(server, in_process, repos["b"], "--no-context", "Dockerfile")
    served = s.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)
    assert (served.returncode, served.stdout) == (here.returncode, here.stdout)
    lines = served.stderr.decode().splitlines()
    assert len(lines) == 1 and "not a private folder" in lines[0] and "0755" in lines[0], lines
    assert os.listdir(short_dir) == []  # no socket, lock or log was made there


def test_a_killed_server_is_replaced_and_a_server_that_cannot_start_leaves_the_run_in_process(
        tmp_path: Path, short_dir: str, repos: dict[str, Path], server: Served, in_process: dict) -> None:
    s = _served(tmp_path, short_dir, LINTIMG_NO_CACHE="1")
    here = expected(server, in_process, repos["a"], "--no-context", "Dockerfile")
    try:
        pid, _ = _started(s, here, repos["a"])
        os.kill(pid, signal.SIGKILL)
        assert _gone(pid, 10) and list(Path(short_dir).glob("*.sock"))  # its socket is left behind, nobody listening
        second = s.run("--no-context", "Dockerfile", cwd=repos["a"], daemon=True)
        assert _result(second) == _result(here)
        assert s.status()[0] not in (None, pid)
    finally:
        s.stop()
    # a socket path longer than unix sockets allow: the server cannot listen, the run is the in-process one
    deep = os.path.join(short_dir, "d" * 90)
    os.mkdir(deep, 0o700)
    s = _served(tmp_path, deep, LINTIMG_NO_CACHE="1")
    served = s.run("--no-context", "Dockerfile", cwd=repos["a"], daemon=True)
    assert _result(served) == _result(here)
    assert not list(Path(deep).glob("*.sock"))


def test_a_spare_child_waits_with_its_pages_copied_and_a_lost_spare_is_replaced(
        tmp_path: Path, short_dir: str, repos: dict[str, Path], server: Served, in_process: dict) -> None:
    """The server keeps one child forked ahead of the next request, its copy-on-write pages already copied; a spare
    killed is replaced, one that keeps dying is given up (the server then forks per request), and every request
    is still served; the spare ends with its server, and so does the helper."""
    s = _served(tmp_path, short_dir, LINTIMG_NO_CACHE="1")
    here = expected(server, in_process, repos["a"], "--no-context", "Dockerfile")
    try:
        pid, count = _started(s, here, repos["a"])
        spare = _spare(pid)
        assert spare is not None
        # copied ahead: what a run writes of the server's memory is the spare's own already
        assert _copied(spare, 20)
        os.kill(spare, signal.SIGKILL)  # lost: replaced, and the replacement serves
        assert _gone(spare, 10)
        served = s.run("--no-context", "Dockerfile", cwd=repos["a"], daemon=True)
        assert _result(served) == _result(here)
        assert s.status() == (pid, count + 2)  # the same server served the run, and this status request
        lost = [spare]
        for _ in range(3):  # server.SPARE_FAILURES spares in a row that end without a request: given up
            spare = _spare(pid)
            assert spare is not None and spare not in lost
            os.kill(spare, signal.SIGKILL)
            assert _gone(spare, 10)
            lost.append(spare)
        assert _spareless(pid, 10)
        served = s.run("--no-context", "Dockerfile", cwd=repos["a"], daemon=True)  # forked for this request alone
        assert _result(served) == _result(here)
        assert s.status() == (pid, count + 4) and _spareless(pid, 10)  # and no spare forked after it
    finally:
        s.stop()
    assert _gone(pid, 10)
    # a server that stops takes its spare with it
    s = _served(tmp_path, short_dir, LINTIMG_NO_CACHE="1")
    s.run("--no-context", "Dockerfile", cwd=repos["a"], daemon=True)
    pid, _ = s.status()
    assert pid is not None
    spare, helper = _spare(pid), _spare(pid, suffix=".help")
    s.stop()
    assert spare is not None and helper is not None and _gone(pid, 10) and _gone(spare, 10) and _gone(helper, 10)


def test_a_request_a_spare_took_is_counted_before_one_that_came_after_it_while_the_server_was_stalled(
        tmp_path: Path, short_dir: str, repos: dict[str, Path]) -> None:
    """The server stalls (stopped here; on a loaded machine, not scheduled) after forking a spare, before it hears
    the spare is ready. The spare takes a run, the run ends, a status request connects: the server then finds both
    waiting at once, and counts the run first, as they came."""
    s = _served(tmp_path, short_dir, LINTIMG_NO_CACHE="1")
    s.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)
    pid, count = s.status()
    assert pid is not None
    stopped: list[int] = []
    try:
        spare = _spare(pid)
        assert spare is not None and _copied(spare, 20)
        listed = Path(f"/proc/{pid}/task/{pid}/children")
        before = set(listed.read_text().split())
        env = {**s.env, "LINTIMG_DAEMON": "1"}
        first = subprocess.Popen([str(SCRIPT), "--no-context", "Dockerfile"], cwd=repos["b"], env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20  # that spare takes the run; once it is out, the server forks the next spare
        while not (new := set(listed.read_text().split()) - before) and time.monotonic() < deadline:
            time.sleep(0.0002)
        assert len(new) == 1, new
        following = int(new.pop())
        os.kill(following, signal.SIGSTOP)  # caught while it copies its pages (milliseconds), before it says it is ready
        stopped.append(following)
        assert first.wait(60) in (0, 1)
        time.sleep(0.2)  # the server waits on its sockets, the socket to clients among them: no spare is ready
        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)
        os.kill(following, signal.SIGCONT)
        served = s.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)  # that spare serves it alone
        asking = subprocess.Popen([str(SCRIPT), "daemon", "status"], env=s.env, cwd="/", stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)  # connected, and waits for the server
        os.kill(pid, signal.SIGCONT)
        out, _ = asking.communicate(timeout=60)
        assert served.returncode in (0, 1) and out.startswith(f"running: pid {pid},"), out
        assert int(out.split()[out.split().index("requests") - 1]) == count + 3, out
    finally:
        for p in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGCONT)
        s.stop()


DIES = '''
import os
import signal
import sys

from lintimg.engine import hookimpl, rule, rules_in
from lintimg.findings import Severity


@rule("EX900", "dies", Severity.INFO)
def dies(t):
    """Counts the runs that reached it, then ends the process.

    ## What it does
    Appends a line to $MARKER and kills its own process.

    ## Why it matters
    A test of what a run that dies looks like.

    ## Example
    Any Dockerfile.

    ## Fix
    None.
    """
    with open(os.environ["MARKER"], "a") as fh:
        fh.write("ran\\n")
    os.kill(os.getpid(), signal.SIGKILL)
    return iter(())


@hookimpl
def lintimg_rules():
    return rules_in(sys.modules[__name__])
'''


def test_a_run_that_dies_in_the_server_is_reported_once_and_not_run_again(server: Served, repos: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "dies.py").write_text(DIES)
    marker = tmp_path / "marker"
    _, before = server.status()
    proc = server.run("--rules-dir", str(tmp_path / "rules"), "--no-context", "Dockerfile", cwd=repos["b"], daemon=True,
                      extra={"MARKER": str(marker)})
    assert marker.read_text() == "ran\n"  # once: the client did not run it again in-process
    assert proc.returncode == 128 + signal.SIGKILL and proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [f"lintimg: daemon: the run was ended by signal {int(signal.SIGKILL)}"]
    assert server.status()[1] == before + 2  # the server lives on


# A client that speaks the wire itself (lintimg.resident.client's framing) and writes down what it is told; its search
# path is the console script's, so that it asks the same server.
RAW_CLIENT = f"""
import sys
sys.path[0] = {str(SCRIPT.parent)!r}
from lintimg.resident import client as c
told = sys.argv[1]
sys.argv = ["lintimg", "--no-color", "--no-context", "Dockerfile"]
key = c.server_key()
sock = c.connect(c.socket_dir(), key)
c.send(sock, b"Q", c.request("run", key), [0, 1, 2])
assert c.receive(sock)[0] == b"R"
c.send(sock, b"G")
said = []
while not said or said[-1][0] != b"X":
    said.append(c.receive(sock))
with open(told, "w") as fh:
    for tag, body in said:
        fh.write(f"{{tag.decode()}} {{c.EARLY.unpack(body)[0] if tag == b'E' else c.END.unpack(body)[1]}}\\n")
"""


def test_a_served_client_is_told_its_exit_code_with_the_report_out_before_the_child_ends(server: Served, repos: dict[str, Path],
                                                                                         in_process: dict, tmp_path: Path) -> None:
    here = expected(server, in_process, repos["b"], "--no-color", "--no-context", "Dockerfile")
    server.run("--no-context", "Dockerfile", cwd=repos["b"], daemon=True)  # a server is running
    told = tmp_path / "told"
    proc = subprocess.run([sys.executable, "-c", RAW_CLIENT, str(told)], cwd=repos["b"], env=server.env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # E (the code, the report out: the caches are written after) first; the server's X once the child has ended
    assert told.read_text().splitlines() == [f"E {here.returncode}", f"X {here.returncode}"]
    assert proc.stdout == here.stdout and here.returncode == 1


SAYS = '''
import sys

from lintimg.engine import hookimpl, rule, rules_in
from lintimg.findings import Hit, Severity


@rule("EX901", "says", Severity.INFO)
def says(t):
    """Says one word on line 1.

    ## What it does
    Reports its word.

    ## Why it matters
    A test of where a served run's rules come from.

    ## Example
    Any Dockerfile.

    ## Fix
    None.
    """
    yield Hit("WORD", line=1)


@hookimpl
def lintimg_rules():
    return rules_in(sys.modules[__name__])
'''


def test_a_served_run_has_its_own_rules_folder_and_its_cache_sees_the_folder_change(tmp_path: Path, short_dir: str,
                                                                                   repos: dict[str, Path]) -> None:
    """The server builds the base plugins before any request; a request's own plugins come on top, in that child
    only, and count in its results-cache key (caches on here): an edited rule is run again, not answered from cache."""
    s = _served(tmp_path, short_dir)
    rules = tmp_path / "rules"
    rules.mkdir()
    args = ("--rules-dir", str(rules), "--no-context", "-f", "json", "Dockerfile")
    try:
        words = []
        for word in ("first", "second-and-longer"):
            (rules / "says.py").write_text(SAYS.replace("WORD", word))
            served = s.run(*args, cwd=repos["b"], daemon=True)
            here = s.run(*args, cwd=repos["b"], daemon=False, extra={"LINTIMG_NO_CACHE": "1"})
            assert _result(served) == _result(here), word
            words.append({w for w in ("first", "second-and-longer") if w.encode() in served.stdout})
        plain = s.run("--no-context", "-f", "json", "Dockerfile", cwd=repos["b"], daemon=True)
        assert words == [{"first"}, {"second-and-longer"}] and b"EX901" not in plain.stdout and plain.returncode in (0, 1)
        assert s.status()[1] == 4  # all three were served (the status request is the fourth)
    finally:
        s.stop()


def test_an_installed_third_party_plugin_is_loaded_afresh_by_each_served_run(tmp_path: Path, short_dir: str,
                                                                            repos: dict[str, Path]) -> None:
    """The server key covers lintimg's code, not a plugin's: with one installed (an entry point outside lintimg),
    the server prepares no plugin manager and each child imports the plugin's current code."""
    site = tmp_path / "site"
    (site / "exampleplug-1.0.dist-info").mkdir(parents=True)
    (site / "exampleplug-1.0.dist-info" / "entry_points.txt").write_text("[lintimg]\nexampleplug = exampleplug\n")
    s = _served(tmp_path, short_dir, PYTHONPATH=str(site))
    args = ("--no-context", "-f", "json", "Dockerfile")
    try:
        words = []
        for word in ("first", "second-and-longer"):
            (site / "exampleplug.py").write_text(SAYS.replace("WORD", word))
            served = s.run(*args, cwd=repos["b"], daemon=True)
            words.append({w for w in ("first", "second-and-longer") if w.encode() in served.stdout})
        assert words == [{"first"}, {"second-and-longer"}]
        assert s.status()[1] == 3  # both were served (the status request is the third)
    finally:
        s.stop()


def test_the_server_exits_when_idle(tmp_path: Path, short_dir: str) -> None:
    s = _served(tmp_path, short_dir, LINTIMG_DAEMON_IDLE="0.5")
    started = subprocess.run([str(SCRIPT), "daemon", "start"], env=s.env, cwd="/", capture_output=True, text=True, timeout=60)
    assert started.returncode == 0 and started.stdout.startswith("running: pid "), started
    pid = int(started.stdout.split()[2].rstrip(","))
    spare = _spare(pid, 0.4)
    try:
        assert _gone(pid, 20) and (spare is None or _gone(spare, 5))  # its spare ended with it
        assert not list(Path(short_dir).glob("*.sock"))  # it removed its socket
        assert subprocess.run([str(SCRIPT), "daemon", "status"], env=s.env, cwd="/", capture_output=True, timeout=60).returncode == 1
    finally:
        if not _gone(pid, 0.1):
            os.kill(pid, signal.SIGKILL)


def test_the_client_loads_no_engine_argparse_or_socket_wrappers() -> None:
    probe = ("import json, sys; bare = set(sys.modules)\n"
             "from lintimg.__main__ import main\nfrom lintimg.resident import client\nclient.server_key()\n"
             "print(json.dumps(sorted(set(sys.modules) - bare)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60, check=True).stdout
    loaded = set(__import__("json").loads(out))
    heavy = {m for m in loaded if m.split(".")[0] in ("argparse", "typing", "pluggy", "dockerfile_parse", "socket", "selectors",
                                                      "subprocess", "signal", "re", "pathlib")}
    assert not heavy and not {m for m in loaded if m.startswith(("lintimg.cli", "lintimg.engine", "lintimg.dockerfile", "lintimg.run"))}


def test_a_served_run_imports_no_module_of_lintimg_the_server_had_not(tmp_path: Path) -> None:
    """What the server imports before any request (server.WARM) covers a check, with and without build contexts."""
    probe = ("import json, sys\nfrom lintimg.resident.server import warm\nwarm()\nbefore = set(sys.modules)\n"
             "from lintimg.__main__ import in_process\nnew = set()\n"
             "for args in (['--no-context'], []):\n"
             "    sys.argv = ['lintimg', '-q', *args, sys.argv[1]]\n    in_process()\n    new |= set(sys.modules) - before\n"
             "print(json.dumps(sorted(m for m in new if m.startswith('lintimg.'))), file=sys.stderr)")
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(PRAGMAS)
    (tmp_path / "ctx" / "app.py").write_text("print('hi')\n")
    proc = subprocess.run([sys.executable, "-c", probe, "Dockerfile"], capture_output=True, text=True, cwd=tmp_path / "ctx",
                          timeout=120, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert __import__("json").loads(proc.stderr.strip().splitlines()[-1]) == []


def test_the_commands_the_client_leaves_alone_are_the_cli_commands_but_check() -> None:
    from lintimg.cli import COMMANDS
    from lintimg.resident.client import OTHER_COMMANDS

    assert set(OTHER_COMMANDS) == set(COMMANDS) - {"check"}


def test_the_pages_a_spare_copies_are_learnt_from_a_sample_check() -> None:
    """Learnt once per server: the pages a check of the sample wrote — some of the server's writable memory, not all of it, and
    nothing outside it (the spare copies every writable mapping only when this cannot be learnt)."""
    probe = ("import gc, json\nfrom lintimg.resident import server\nserver.warm()\ngc.collect()\ngc.freeze()\n"
             "print(json.dumps([server._learn(server._written_pages, caches=True), server._writable_regions()]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd="/", timeout=120, check=True).stdout
    pages, regions = __import__("json").loads(out)
    learnt, writable = sum(n for _, n in pages), sum(high - low for low, high in regions)
    assert 1 << 20 < learnt < writable * 3 // 4, (learnt, writable)
    assert all(any(low <= a and a + n <= high for low, high in regions) for a, n in pages)


@pytest.mark.parametrize(("args", "env", "asks"), [
    ([f"d{i}/Dockerfile" for i in range(8)], {}, True),
    ([f"d{i}/Dockerfile" for i in range(7)], {}, False),  # too few to split
    (["-f", "json", "."], {}, True),  # a folder
    (["-j", "1", "."], {}, False), (["--jobs=1", "."], {}, False), (["-j1", "."], {}, False),
    (["."], {"LINTIMG_JOBS": "1"}, False),
    (["--no-cache", "."], {}, False), (["."], {"LINTIMG_NO_CACHE": "1"}, False),  # no keys to prove it sees the same files
])
def test_a_served_run_asks_for_the_helper_only_when_it_may_hand_it_a_share(
        args: list[str], env: dict[str, str], asks: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lintimg.resident import server

    monkeypatch.chdir(tmp_path)
    for name in ("LINTIMG_JOBS", "LINTIMG_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert server._may_split(["lintimg", *args]) is asks
