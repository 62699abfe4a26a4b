"""A check split between processes (lintimg.run.parallel) says what a check in one process says.

Every run is the real entry point in a fresh interpreter over real Dockerfiles of the corpus, each in a folder
of its own, plus two Dockerfiles that share one build context. A rules folder adds a rule that logs, per file,
the process that checked it: a split run is told from one that was not, and files of one context from each
other. The same rule ends a worker (SIGKILL), makes it wait (for SIGTERM) or slows it down when a marker file asks.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lintimg import limits
from lintimg.run.parallel import MIN_FILES, shares
from tests.clirun import REPO, lintimg, one_line_error
from tests.shared import CORPUS, need
from tests.test_replay import ENTRY, Run
from tests.test_resident import SCRIPT, Served, _gone, _served, _spare, _spareless
from tests.test_result_cache import age

pytestmark = pytest.mark.skipif(limits.usable_cpus() < 2 or not hasattr(os, "fork"), reason="a split check needs fork and 2 usable CPUs")

WHO_RULE = '''
import os, signal, time
from lintimg.engine import hookimpl, rule
from lintimg.findings import Hit, Severity

FIRST = os.getpid()  # imported by the process the run started in, before any worker


def elsewhere():
    # a forked worker, or the resident server's helper (which imports this itself; its output is /dev/null)
    return os.getpid() != FIRST or os.readlink("/proc/self/fd/1") == "/dev/null"


@rule("LX950", "who-checked", Severity.INFO)
def who_checked(t):
    """Logs which process checked the file.

    ## What it does
    Appends the process id and the file's path to a log.

    ## Why it matters
    Tests tell a split check from one in one process.

    ## Example
    Any file.

    ## Fix
    Nothing.
    """
    with open({log!r}, "a") as fh:
        fh.write(f"{{os.getpid()}} {{t.path}}\\n")
    if elsewhere() and os.path.exists({kill!r}):
        os.kill(os.getpid(), signal.SIGKILL)
    if elsewhere() and os.path.exists({hang!r}):
        with open({hang!r}, "a") as fh:
            fh.write(f"{{os.getpid()}}\\n")
        time.sleep(60)
    if elsewhere() and os.path.exists({slow!r}):  # once: the first file of the share
        os.unlink({slow!r})
        time.sleep(11)
    yield Hit("checked", line=1)


@hookimpl
def lintimg_rules():
    return [who_checked]
'''


class Project:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        corpus = need(CORPUS / "jessfraz-dockerfiles", "the corpus")
        self.files: list[str] = []
        for src in sorted(corpus.glob("*/Dockerfile"))[:2 * MIN_FILES + 2]:
            (tmp / src.parent.name).mkdir()
            self.files.append(str(shutil.copy(src, tmp / src.parent.name / "Dockerfile")))
        shared = tmp / "shared-context"  # two Dockerfiles, one context: one walk, one process
        shared.mkdir()
        (shared / "app.py").write_text("print('hi')\n")
        (shared / ".dockerignore").write_text("*.log\n")
        (shared / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\nRUN pip install flask\nCMD python /app/app.py\n")
        (shared / "Dockerfile.dev").write_text("FROM python:3.12\nCOPY app.py /app/\nRUN apt-get update && apt-get install -y vim\n")
        self.files[3:3] = [str(shared / "Dockerfile"), str(shared / "Dockerfile.dev")]
        # Not in the working directory: it is on sys.path (-c), and a run's memo depends on the names it holds.
        (tmp / "state").mkdir()
        (tmp / "caches").mkdir()
        self.log, self.kill, self.hang, self.slow = (tmp / "state" / name for name in ("who.log", "kill-worker", "hang-worker", "slow-worker"))
        self.rules = tmp / "rules"
        self.rules.mkdir()
        (self.rules / "who.py").write_text(WHO_RULE.format(log=str(self.log), kill=str(self.kill), hang=str(self.hang), slow=str(self.slow)))
        age(tmp)  # files written this second are not trusted by the caches: an hour old, they are

    def env(self, cache: str) -> dict[str, str]:
        return {"XDG_CACHE_HOME": str(self.tmp / "caches" / cache), "LINTIMG_NO_CACHE": "0", "LINTIMG_JOBS": ""}

    def args(self, *extra: str) -> list[str]:
        return ["--no-color", "--rules-dir", str(self.rules), *extra, *self.files]

    def run(self, *extra: str, cache: str = "cache") -> subprocess.CompletedProcess:
        self.log.unlink(missing_ok=True)
        return lintimg(*self.args(*extra), cwd=self.tmp, env=self.env(cache))

    def who(self) -> dict[str, str]:
        """file -> the process that checked it, in the last run."""
        return {path: pid for pid, path in (line.split(" ", 1) for line in self.log.read_text().splitlines())}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_a_split_check_reports_what_one_process_reports(project):
    one = project.run("--format", "json", "--jobs", "1", cache="one")
    assert len(set(project.who().values())) == 1
    split = project.run("--format", "json", "--jobs", "2", cache="split")
    who = project.who()
    assert len(set(who.values())) == 2 and len(who) == len(project.files)  # each file checked once, in two processes
    assert who[project.files[3]] == who[project.files[4]]  # one build context, one process
    assert (split.stdout, split.stderr, split.returncode) == (one.stdout, one.stderr, one.returncode)
    assert one.returncode == 1 and one.stderr == ""
    assert {f["file"] for f in json.loads(one.stdout)["findings"]} == set(project.files)

    def entries(cache: str) -> dict[str, bytes]:
        root = project.tmp / "caches" / cache / "lintimg" / "results"
        return {p.name: p.read_bytes() for p in root.rglob("*.json")}

    assert entries("split") == entries("one") and len(entries("one")) == len(project.files)  # the results cache too


def test_a_served_check_splits_in_the_servers_child(project):
    folder = tempfile.mkdtemp(prefix="lid-", dir="/tmp")  # a short path: a unix socket's is at most 107 bytes
    server = _served(project.tmp, folder, LINTIMG_NO_CACHE="1")
    try:
        args = project.args("-f", "sarif", "-j", "2")
        here = server.run(*args, cwd=project.tmp, daemon=False)
        served = server.run(*args, cwd=project.tmp, daemon=True)
        who = project.who()
        assert server.status()[0] is not None and len(set(who.values())) == 2  # served, and split
        assert who[project.files[3]] == who[project.files[4]]
        assert (served.returncode, served.stdout, served.stderr) == (here.returncode, here.stdout, here.stderr)
        assert here.returncode == 1 and b"LX950" in here.stdout
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _helped(server: Served, seconds: float = 20) -> tuple[int, int]:
    """(server pid, runs split with a helper so far), once a helper waits."""
    deadline = time.monotonic() + seconds
    while True:
        out = subprocess.run([str(SCRIPT), "daemon", "status"], env=server.env, cwd="/", capture_output=True, text=True,
                             timeout=60).stdout
        words = out.split()
        if "(one waiting)" in out or time.monotonic() > deadline:
            assert "(one waiting)" in out, out
            return int(words[2].rstrip(",")), int(words[words.index("split") - 1])
        time.sleep(0.05)


@pytest.fixture
def helped_server(project: Project) -> Iterator[Served]:
    """A resident server for ``project``'s runs, with their results cache on (a helper checks only runs that have
    one: it proves it sees what the run sees by the files' keys)."""
    folder = tempfile.mkdtemp(prefix="lid-", dir="/tmp")  # a short path: a unix socket's is at most 107 bytes
    server = _served(project.tmp, folder, **project.env("served"))
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_served_check_hands_a_share_to_the_servers_helper(project, helped_server):
    """The second share of a served split run goes to the server's helper: a process forked ahead, its pages copied,
    that sets itself up from the run's command line. What the run says, keeps and remembers is a one-process run's."""
    args = project.args("-j", "2")
    helped_server.run("--no-context", project.files[0], cwd=project.tmp, daemon=True, extra=project.env("warm"))  # a server runs
    pid, before = _helped(helped_server)
    helper = _spare(pid, suffix=".help")
    served = helped_server.run(*args, cwd=project.tmp, daemon=True)
    who = project.who()
    assert set(who.values()) - {str(helper)} and str(helper) in who.values()  # split, the helper checked a share
    assert who[project.files[3]] == who[project.files[4]]  # one build context: one process
    assert _helped(helped_server) == (pid, before + 1)
    here = helped_server.run(*project.args("-j", "1"), cwd=project.tmp, daemon=False, extra=project.env("one"))
    assert (served.returncode, served.stdout, served.stderr) == (here.returncode, here.stdout, here.stderr)
    # The run wrote its caches after its client had gone; its memo, once the helper had written its files' entries too
    assert helper is not None and _gone(helper, 20)
    home = project.tmp / "caches" / "served" / "lintimg"
    deadline = time.monotonic() + 20
    while not [p for p in (home / "runs").rglob("*") if p.is_file()] and time.monotonic() < deadline:
        time.sleep(0.05)
    code, probes, report = _memo(project, "served")
    assert (code, report) == _memo(project, "one")[::2]
    entries = [str(home.parent / where) for kind, where, _ in probes if kind == "stat" and where.startswith("lintimg/results/")]
    assert len(entries) == len(project.files) and all(os.path.isfile(e) for e in entries)
    memo = next(p for p in (home / "runs").rglob("*") if p.is_file()).read_bytes().decode("utf-8", "replace")
    assert all(f"{e}\0[" in memo for e in entries)  # each stamped as a file that was there, not an error


def _run_with_a_helper_that(project: Project, server: Served, marker: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess, int | None, int]:
    """An in-process run, then a served one whose helper meets ``marker``: (both runs, the helper, helped before)."""
    args = project.args("-j", "2")
    here = server.run(*args, cwd=project.tmp, daemon=False, extra=project.env("one"))
    server.run("--no-context", project.files[0], cwd=project.tmp, daemon=True, extra=project.env("warm"))
    pid, before = _helped(server)
    helper = _spare(pid, suffix=".help")
    marker.touch()
    project.log.unlink()
    return here, server.run(*args, cwd=project.tmp, daemon=True), helper, before


def test_a_helper_slower_than_its_old_time_limit_is_waited_for_and_its_share_checked_once(project, helped_server):
    """A run waited 10 s for its helper's answer, then checked the share again itself while the helper went on."""
    here, served, helper, before = _run_with_a_helper_that(project, helped_server, project.slow)  # waits 11 s in its first file
    checked = [line.split(" ", 1)[1] for line in project.log.read_text().splitlines()]
    assert not project.slow.exists() and sorted(checked) == sorted(project.files)  # each file once
    assert str(helper) in project.who().values()
    assert (served.returncode, served.stdout, served.stderr) == (here.returncode, here.stdout, here.stderr)
    assert _helped(helped_server)[1] == before + 1


def test_a_lost_helper_is_replaced_and_one_that_keeps_dying_is_given_up(project, helped_server):
    args = project.args("-j", "2")
    here = helped_server.run(*args, cwd=project.tmp, daemon=False, extra=project.env("one"))
    helped_server.run("--no-context", project.files[0], cwd=project.tmp, daemon=True)
    pid, count = _helped(helped_server)
    lost: list[int] = []
    for _ in range(3):  # server.SPARE_FAILURES helpers in a row that end without a run: given up
        helper = _spare(pid, suffix=".help")
        assert helper is not None and helper not in lost
        os.kill(helper, signal.SIGKILL)
        assert _gone(helper, 10)
        lost.append(helper)
    assert _spareless(pid, 10, suffix=".help")
    served = helped_server.run(*args, cwd=project.tmp, daemon=True, extra={"XDG_CACHE_HOME": str(project.tmp / "caches" / "without")})
    assert len(set(project.who().values())) == 2  # split all the same: a forked worker
    assert (served.returncode, served.stdout, served.stderr) == (here.returncode, here.stdout, here.stderr)
    status = subprocess.run([str(SCRIPT), "daemon", "status"], env=helped_server.env, cwd="/", capture_output=True, text=True,
                            timeout=60).stdout
    assert f"pid {pid}," in status and f"{count} split with a helper (none waiting)" in status  # and no helper forked after it


def test_a_helper_that_dies_in_its_share_leaves_the_share_to_the_run(project, helped_server):
    here, served, helper, before = _run_with_a_helper_that(project, helped_server, project.kill)  # kills itself in its first file
    # the helper began its share and died in it; the run checked every file itself (a file's last line is the run's)
    assert helper is not None and _gone(helper, 10) and f"{helper} " in project.log.read_text()
    assert str(helper) not in project.who().values()
    assert (served.returncode, served.stdout, served.stderr) == (here.returncode, here.stdout, here.stderr)
    assert _helped(helped_server)[1] == before + 1


def test_sigterm_to_a_served_run_stops_its_helper(project, helped_server):
    helped_server.run("--no-context", project.files[0], cwd=project.tmp, daemon=True, extra=project.env("warm"))
    _helped(helped_server)
    project.hang.touch()  # the helper waits in its first file
    proc = subprocess.Popen([str(SCRIPT), *project.args("-j", "2")], cwd=project.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**helped_server.env, "LINTIMG_DAEMON": "1"})
    try:
        deadline = time.monotonic() + 60
        while not project.hang.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        helper = int(project.hang.read_text().split()[0])
        proc.send_signal(signal.SIGTERM)  # relayed to the run's child, which stops its helper
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and out == b""
    assert err.decode().strip().splitlines() == ["lintimg: stopped by SIGTERM"]
    assert _gone(helper, 10)


# A share handed to the server's helper by hand, as a run's child hands it: the helper takes the command line, then
# the share (one file under index 7, with the results-cache key given: the file's own, or another). Prints what it
# answered. Its search path is the console script's, so that it asks the same server.
HAND_OVER = f"""
import json, socket, sys
sys.path[0] = {str(SCRIPT.parent)!r}
from lintimg import cli
from lintimg.dockerfile.sources import read_source
from lintimg.engine import plugins
from lintimg.resident import client
from lintimg.run import parallel
which, argv = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["lintimg", *argv]
key = client.server_key()
sock = socket.socket(socket.AF_UNIX)
sock.settimeout(60)
sock.connect(client.socket_path(client.socket_dir(), key)[: -len(".sock")] + ".help")
client.send(sock, b"Q", client.request("run", key))
assert client.receive(sock)[0] == b"H"
plugins.remember_files(client.code_listings())  # lintimg's files as the server listed them: the server key proves it
args = cli._arguments(argv)
engine = cli.make_engine(args, cli._config(args))
src = read_source(args.paths[0])
given = cli._results_cache(engine).key(src, cli._context_attachers(args)[0]) if which == "right" else "0" * 64
parallel._send_message(sock, (2, [(7, src, True, given)]))
answer = parallel._receive_message(sock)
if answer is None:
    print("null")
else:
    ok, (checked, kept), _ = answer
    print(json.dumps({{"ok": ok, "indices": sorted(checked), "rules": sorted({{f.rule_id for f in checked[7][0]}})}}))
"""


@pytest.mark.parametrize("which", ["right", "wrong"])
def test_the_helper_checks_a_share_only_when_it_sees_what_the_run_sees(project, helped_server, which):
    """A file whose results-cache key differs from the one the run sent (its text or the configuration changed between
    the two reads) is not checked by the helper: it answers nothing, and the run checks the share itself."""
    argv = ["--no-color", "--rules-dir", str(project.rules), project.files[0]]
    helped_server.run("--no-context", project.files[0], cwd=project.tmp, daemon=True)
    _helped(helped_server)
    proc = subprocess.run([sys.executable, "-c", HAND_OVER, which, json.dumps(argv)], cwd=project.tmp, env=helped_server.env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    if which == "wrong":
        assert answer is None and not project.log.exists()  # nothing checked
    else:
        assert answer["ok"] and answer["indices"] == [7] and "LX950" in answer["rules"]
        assert list(project.who()) == [project.files[0]]


def _memo(project: Project, cache: str) -> tuple[str, list[tuple[str, str, str]], bytes]:
    """The memo of the one run kept under ``cache``: its exit code, its probes (in order: the order of the code listings
    varies from run to run, with the hash seed; a results-cache entry's by its place in the cache, without the stamp of
    the file: another file, written at another time) and its report."""
    home = project.tmp / "caches" / cache
    [path] = [p for p in (home / "lintimg" / "runs").rglob("*") if p.is_file()]
    _, _, body = path.read_bytes().partition(b"\0")
    head, _, output = body.partition(b"\0\0")
    fields = head.decode().split("\0")
    probes = []
    for kind, where, value in zip(fields[3::3], fields[4::3], fields[5::3]):
        if where.startswith(str(home / "lintimg" / "results")):
            where, value = os.path.relpath(where, home), "-"
        probes.append((kind, where, value))
    return fields[2], sorted(probes), output


def test_a_split_run_keeps_the_memo_a_run_in_one_process_keeps_and_is_replayed(project):
    def run(cache: str, *extra: str) -> Run:
        proc = subprocess.run([sys.executable, "-c", ENTRY, *project.args(*extra)], cwd=project.tmp, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO), **project.env(cache)}, timeout=120)
        return Run(proc)

    split = run("split", "-j", "2")
    assert len(set(project.who().values())) == 2
    project.log.unlink()
    again = run("split", "-j", "2")
    assert again.replayed and not project.log.exists()  # answered from the memo: nothing checked
    assert (again.stdout, again.stderr, again.code) == (split.stdout, split.stderr, split.code)
    run("one", "-j", "1")
    code, probes, report = _memo(project, "split")
    assert (code, probes, report) == _memo(project, "one")  # what it probes, its exit code and its report
    assert code == "1" and sum(kind == "stat" and "results" in where for kind, where, _ in probes) == len(project.files)


def test_small_runs_and_jobs_1_stay_in_one_process(project):
    project.files = project.files[: 2 * MIN_FILES]  # one file warms the process up: the rest is too few to split
    project.run()
    assert len(set(project.who().values())) == 1
    proc = lintimg(*project.args(), cwd=project.tmp, env={**project.env("c"), "LINTIMG_JOBS": "1"})
    assert proc.returncode == 1 and len(set(project.who().values())) == 1


@pytest.mark.parametrize("given", [("--jobs", "0"), ("-j", "two")])
def test_a_bad_jobs_option_is_a_usage_error(project, given):
    one_line_error(lintimg(*given, project.files[0], cwd=project.tmp), "--jobs")


def test_a_bad_lintimg_jobs_is_one_line(project):
    one_line_error(lintimg(project.files[0], cwd=project.tmp, env={"LINTIMG_JOBS": "-3"}), "LINTIMG_JOBS")


# A split whose first share (here) ends with a stop that was requested but not raised (code that handled every
# error caught it), while the worker's share takes 20 s and then leaves a mark. Prints what the run raised.
CAUGHT_STOP = """
import os, sys, time
from lintimg import limits
from lintimg.run import parallel
mark = sys.argv[1]

def work(share):
    if share == [0]:
        limits.request_stop("stopped by SIGTERM", 143)  # what the signal handler does before it raises
        return "here"
    time.sleep(20)
    open(mark, "w").close()
    return "worker"

try:
    print(parallel.run([[0], [1]], work, lambda share: [str(i) for i in share]))
except limits.Stopped as e:
    print("stopped", e.exit_code)
"""


def test_a_stop_caught_in_this_processs_share_is_not_waited_out(tmp_path):
    mark = tmp_path / "worker-finished"
    proc = subprocess.run([sys.executable, "-c", CAUGHT_STOP, str(mark)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert (proc.stdout, proc.stderr) == ("stopped 143\n", "")
    assert not mark.exists()  # the worker was stopped, not waited for


def test_a_worker_that_dies_ends_the_run_with_one_line(project):
    project.kill.touch()
    proc = project.run("-j", "2")
    line = one_line_error(proc, "worker process", "killed by SIGKILL")
    assert any(path in line for path in project.files)


def test_sigterm_stops_the_workers_and_ends_the_run(project):
    project.hang.touch()
    proc = subprocess.Popen([sys.executable, "-m", "lintimg", *project.args("-j", "2")], cwd=project.tmp, env={
        **os.environ, "PYTHONPATH": str(REPO), **project.env("c")}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not project.hang.read_text().strip() and time.monotonic() < deadline:  # a worker is in the rule
            time.sleep(0.05)
        worker = int(project.hang.read_text().split()[0])
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM and out == b""
    assert err.decode().strip().splitlines() == ["lintimg: stopped by SIGTERM"]
    with pytest.raises(ProcessLookupError):  # stopped and reaped: no process left behind
        os.kill(worker, 0)


def test_shares_keep_groups_whole_and_weigh_them_alike():
    groups = [([0], 5), ([1, 2], 9), ([3], 4), ([4], 4), ([5], 1)]
    dealt = shares(groups, 2, here=1.0)
    assert sorted(i for s in dealt for i in s) == [0, 1, 2, 3, 4, 5]
    assert any({1, 2} <= set(s) for s in dealt)  # a group stays in one share
    weight = {i: w / len(m) for m, w in groups for i in m}
    assert sorted(sum(weight[i] for i in s) for s in dealt) == [10, 13]  # the heaviest first, each where it ends first
    slower_here = shares(groups, 2, here=1.5)
    assert sum(weight[i] for i in slower_here[0]) < sum(weight[i] for i in slower_here[1])  # this process gets less
    assert shares(groups[:1], 3) == [[0]]  # never an empty share
