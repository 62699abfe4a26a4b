"""Run the hostile corpus (:mod:`tests.hostile.corpus`) against a lintimg and judge every case.

Each case runs as ``PYTHON -I -X faulthandler -m lintimg ARGS`` (as the console script:
the working directory is not importable) in its own session, with ``RLIMIT_AS``, a
file-size cap, its own HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME, DOCKER_CONFIG and TMPDIR,
and a wall-clock cap (``Case.timeout``) after which it gets SIGABRT (faulthandler prints
every thread's stack: where it hung), then SIGKILL. Measured: exit code, seconds, CPU
seconds, peak RSS of lintimg and its helpers (``/usr/bin/time`` when there is one, and a
0.2 s sample of the process group), peak and leftover ``$TMPDIR`` bytes. Judged: the
case's expected outcome, its bounds, and that no planted secret shows in stdout, stderr,
report files, caches or, for the forwarding cases, what the capture server received.

``python -m tests.hostile.runner --markdown T.md --json T.json`` prints the table of
docs/limits.md's figures; the test suite uses :class:`Runner` (tests/hostile/test_corpus.py).
Run it under ``prlimit``: a case that misbehaves is capped, the runner is not.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.hostile import corpus as hc
from tests.hostile import registry as hr

TIME = shutil.which("time", path="/usr/bin:/bin")
KEEP = 64 << 20  # bytes of stdout/stderr kept per stream
MEMORY = 4 << 30  # RLIMIT_AS of each run


@dataclass
class Run:
    exit: int | None  # None: killed at the cap
    stdout: bytes
    stderr: bytes
    seconds: float
    rss_mb: float
    cpu_seconds: float = 0.0
    tmp_peak_mb: float = 0.0
    tmp_left_mb: float = 0.0

    @property
    def timed_out(self) -> bool:
        return self.exit is None


@dataclass
class Verdict:
    case: hc.Case
    run: Run | None
    problems: list[str] = field(default_factory=list)  # outcome failures
    bounds: list[str] = field(default_factory=list)  # time/memory over the case's bounds
    leaks: list[str] = field(default_factory=list)  # where a planted secret showed up
    where: str = ""  # innermost lintimg frame of a crash or hang, when found

    @property
    def ok(self) -> bool:
        return self.run is not None and not (self.problems or self.bounds or self.leaks)

    def failures(self) -> list[str]:
        """What went wrong, without wall-clock bounds (a test enforces the case's cap, not timings)."""
        return self.problems + [b for b in self.bounds if " MB " in b] + [f"secret in {x}" for x in self.leaks]


# --- running one process ---------------------------------------------------------------------

def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512  # what the disk holds (copies may be sparse)
            except OSError:
                pass
    return total


def _group_rss_kb(pgid: int) -> int:
    """Peak resident KB so far of every process of a process group (lintimg and its helpers): VmHWM, the
    high-water mark of each process's own memory since its exec, so a sample misses no peak before it."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) != pgid:
                    continue
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
        except (OSError, ValueError, IndexError):
            continue
    return total


def _reader(stream: IO[bytes], sink: bytearray) -> None:
    while chunk := stream.read(1 << 16):
        if len(sink) < KEEP:
            sink += chunk[: KEEP - len(sink)]


def execute(cmd: list[str], *, cwd: Path, env: dict[str, str], stdin: str, stdout: str, timeout: float, tmpdir: Path,
            signal_after: float | None = None) -> Run:
    """Run ``cmd`` under the caps; ``stdin`` is "" / "zero:N", ``stdout`` pipe / devfull / closed."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 30, 8 << 30))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if stdout == "closed":
            os.close(1)

    zeros = int(stdin[5:]) if stdin.startswith("zero:") else 0
    out_file = open("/dev/full", "wb") if stdout == "devfull" else None  # noqa: SIM115 - closed below
    out_arg: Any = subprocess.PIPE if stdout == "pipe" else out_file or subprocess.DEVNULL
    out, err = bytearray(), bytearray()
    # /usr/bin/time measures from a small parent (wait4 on our own child would report this process's
    # pre-exec RSS); not when a signal or a closed stdout must be lintimg's own
    usage = tmpdir.parent / f".{tmpdir.name}.usage"
    usage.unlink(missing_ok=True)
    wrapped = bool(TIME) and signal_after is None and stdout != "closed"
    if wrapped:
        cmd = [str(TIME), "-q", "-f", "%M %U %S", "-o", str(usage), *cmd]
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE if zeros else subprocess.DEVNULL, stdout=out_arg,
                         stderr=subprocess.PIPE, preexec_fn=limits, start_new_session=True)
    assert p.stderr is not None
    threads = [threading.Thread(target=_reader, args=(p.stderr, err), daemon=True)]
    if stdout == "pipe":
        assert p.stdout is not None
        threads.append(threading.Thread(target=_reader, args=(p.stdout, out), daemon=True))
    if zeros:
        def feed() -> None:
            assert p.stdin is not None
            block, left = bytes(1 << 20), zeros
            try:
                while left > 0:
                    p.stdin.write(block[: min(left, len(block))])
                    left -= len(block)
                p.stdin.close()
            except (BrokenPipeError, ValueError, OSError):
                pass
        threads.append(threading.Thread(target=feed, daemon=True))
    for t in threads:
        t.start()
    killed = threading.Event()
    done = threading.Event()

    def on_timeout() -> None:
        killed.set()
        try:
            os.killpg(p.pid, signal.SIGABRT)  # faulthandler: every thread's stack on stderr
            if not done.wait(3):
                os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    peak_tmp = [0]
    peak_rss = [0]

    def sample() -> None:
        signal_at = float("inf") if signal_after is None else signal_after
        while not done.wait(0.05):
            held = _tree_bytes(tmpdir)
            peak_tmp[0] = max(peak_tmp[0], held)
            peak_rss[0] = max(peak_rss[0], _group_rss_kb(p.pid))
            # SIGTERM in the middle of the work: past signal_after and once the temp folder holds bytes
            # (a loaded machine can take longer than signal_after just to start Python)
            elapsed = time.monotonic() - start
            if elapsed >= signal_at and (held or elapsed >= timeout / 2):
                signal_at = float("inf")
                _signal(p.pid, signal.SIGTERM)

    timers = [threading.Timer(timeout, on_timeout)]
    sampler = threading.Thread(target=sample, daemon=True)
    for t in (*timers, sampler):
        t.start()
    _, status, rusage = os.wait4(p.pid, 0)
    seconds = time.monotonic() - start
    done.set()
    for t in timers:
        t.cancel()
    try:
        os.killpg(p.pid, signal.SIGKILL)  # helpers it left behind hold our pipes
    except (ProcessLookupError, PermissionError):
        pass
    for t in threads:
        t.join(5)
    if out_file is not None:
        out_file.close()
    peak_tmp[0] = max(peak_tmp[0], _tree_bytes(tmpdir))
    rss_kb, cpu = peak_rss[0], rusage.ru_utime + rusage.ru_stime
    try:
        fields = usage.read_text().split()
        rss_kb, cpu = max(rss_kb, int(fields[-3])), float(fields[-2]) + float(fields[-1])
    except (OSError, ValueError, IndexError):
        if not wrapped and not rss_kb:
            # gone before the first sample: wait4's figure, an upper bound (it counts the pre-exec RSS of this
            # forked test process, which grows over a full suite run)
            rss_kb = rusage.ru_maxrss
    usage.unlink(missing_ok=True)
    return Run(None if killed.is_set() else os.waitstatus_to_exitcode(status), bytes(out), bytes(err), seconds, rss_kb / 1024, cpu,
               peak_tmp[0] / 1e6, _tree_bytes(tmpdir) / 1e6)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# --- preparing and judging one case ------------------------------------------------------------

def _sub(text: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        text = text.replace(k, v)
    return text


def _mutate_cache(root: Path, how: str) -> int:
    """Replace every cache file under ``root`` (a FIFO, a link to /dev/zero, an entry of the wrong shape); how many."""
    n = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if not stat.S_ISREG(os.lstat(p).st_mode):
                continue
            n += 1
            if how == "wrong-shape":
                doc = json.loads(p.read_text())
                p.write_text(json.dumps({k: [*v[:3], [["x"]]] if isinstance(v, list) else v for k, v in doc.items()}))
                continue
            p.unlink()
            if how == "fifo":
                os.mkfifo(p)
            elif how == "devzero":
                os.symlink("/dev/zero", p)
    return n


def _planted_in(data: bytes, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s.encode() in data]


def _regular_files(root: Path, limit: int = 64 << 20) -> Iterator[Path]:
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size <= limit:
                yield p


_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def well_formed(kind: str, data: bytes) -> str:
    """Why ``data`` is not a well-formed report of ``kind`` ("" when it is)."""
    if kind in ("text", "github") and (m := _CONTROL.search(data.replace(b"\r\n", b"\n"))):
        return f"raw control character {m.group()!r} in the {kind} output"
    lines = data.decode("utf-8", "replace").splitlines()
    if kind == "text" and any(line.startswith(hc.FORGED) for line in lines):
        return "a forged 'lintimg:' line in the output"
    if kind == "github":
        bad = [line for line in lines if line.strip() and not re.match(r"^::(error|warning|notice|debug)\b", line)]
        if bad or any(line.startswith("::error file=FORGED") for line in lines):
            return f"{len(bad)} github output lines are not lintimg's workflow commands"
    if kind == "junit":
        try:
            ET.fromstring(data)
        except ET.ParseError as e:
            return f"junit XML does not parse ({e})"
    if kind == "json":
        try:
            json.loads(data)
        except ValueError as e:
            return f"output is not JSON ({str(e)[:60]})"
    return ""


def _has(text: str, item: str | tuple[str, ...]) -> bool:
    return any(a.lower() in text.lower() for a in ((item,) if isinstance(item, str) else item))


def innermost_frame(stderr: str, root: Path) -> str:
    """The innermost lintimg frame of a traceback or faulthandler dump (a dump lists innermost first)."""
    frames = [(p, line, fn) for p, line, fn in re.findall(r'File "([^"]*)", line (\d+),? in (\S+)', stderr) if str(root) in p]
    if not frames:
        return ""
    path, line, func = frames[0] if "most recent call first" in stderr else frames[-1]
    return f"{os.path.relpath(path, root)}:{func}:{line}"


class Runner:
    """Runs cases of a corpus built under ``corpus`` with the lintimg of ``python``."""

    def __init__(self, python: str, corpus: Path, tmp_root: Path, shellcheck: bool = True) -> None:
        self.python = python
        self.shellcheck = shellcheck
        self.corpus = corpus
        self.tmp_root = tmp_root
        self.image = hc.registry_image()
        where = subprocess.run([python, "-I", "-c", "import lintimg; print(lintimg.__file__)"], capture_output=True, text=True, check=True)
        self.root = Path(where.stdout.strip()).parent.parent

    def env(self, home: Path, tmp: Path, extra: dict[str, str]) -> dict[str, str]:
        return {
            # the environment's bin holds shellcheck when lintimg[shellcheck] is installed (LI390 runs it)
            "PATH": (f"{Path(self.python).parent}:" if self.shellcheck else "") + "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
            "DOCKER_CONFIG": str(home / ".docker"), "TMPDIR": str(tmp), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **extra,
        }

    def run(self, case: hc.Case) -> Verdict:
        if case.skip:
            return Verdict(case, None, [f"skipped: {case.skip}"])
        cdir = self.corpus / case.name
        cdir.mkdir(parents=True, exist_ok=True)
        home, tmp = self.tmp_root / "home" / case.name, self.tmp_root / "tmp" / case.name
        for d in (home, tmp):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        for rel in (*case.outputs, *case.expect.no_file):
            (cdir / rel).unlink(missing_ok=True)  # left by an earlier run
        farm = hr.serve(case.registry, self.image, token=hc.CRLF_TOKEN) if case.registry else None
        try:
            values = {"@CASE@": str(cdir), "@ROOT@": str(self.corpus), "@REGISTRY@": farm.host if farm else "@REGISTRY@"}
            for rel in case.templated:
                p, template = cdir / rel, cdir / (rel + ".tmpl")
                if not template.exists():
                    shutil.copyfile(p, template)
                p.write_text(_sub(template.read_text(), values))
            cmd = [self.python, "-I", "-X", "faulthandler", "-m", "lintimg", *[_sub(a, values) for a in case.argv]]
            env = self.env(home, tmp, {k: _sub(v, values) for k, v in case.env.items()})
            cwd = cdir / case.cwd
            for step in case.prepare:
                if step == "warm":
                    execute(cmd, cwd=cwd, env=env, stdin="", stdout="pipe", timeout=120, tmpdir=tmp)
                else:
                    _, how, sub = step.split(":")
                    if not _mutate_cache(home / ".cache" / "lintimg" / sub, how):
                        return Verdict(case, None, [f"setup: the warm run left no cache file under lintimg/{sub}"])
            run = execute(cmd, cwd=cwd, env=env, stdin=case.stdin, stdout=case.stdout, timeout=case.timeout, tmpdir=tmp,
                          signal_after=case.signal_after)
            return self.judge(case, run, values, cdir, home, farm)
        finally:
            if farm:
                farm.stop()
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)

    def judge(self, case: hc.Case, run: Run, values: dict[str, str], cdir: Path, home: Path, farm: hr.Farm | None) -> Verdict:
        e = case.expect
        v = Verdict(case, run)
        err = run.stderr.decode("utf-8", "replace")
        err_lines = [line for line in err.splitlines() if line.strip()]
        outputs = b"".join((cdir / f).read_bytes() for f in case.outputs if (cdir / f).is_file())
        shown = (run.stdout + b"\n" + outputs).decode("utf-8", "replace")
        if run.timed_out:
            v.problems.append(f"no result within {case.timeout:g} s (hang)")
            v.where = innermost_frame(err, self.root)
        else:
            if "internal error" in err or "Traceback (most recent call last)" in err:
                v.problems.append("internal error")
                v.where = innermost_frame(err, self.root)
            if run.exit not in e.exit:
                v.problems.append(f"exit {run.exit}, expected {'/'.join(map(str, e.exit))}")
            if run.exit == 2:
                if len(err_lines) != 1:
                    v.problems.append(f"{len(err_lines)} stderr lines, expected one")
                names = _sub(e.names, values)
                if names and err_lines and names not in err_lines[0]:
                    v.problems.append(f"the error does not name {names!r}")
            v.problems += [f"stderr lacks {item!r}" for item in e.stderr if not _has(err, item)]
            if run.exit != 2:
                v.problems += [f"output lacks {item!r}" for item in e.output if not _has(shown, item)]
                v.problems += [f"{rid} not reported" for rid in e.findings if rid not in shown]
            for rid in e.no_findings:
                if re.search(rf"\b{rid}\b", shown):
                    v.problems.append(f"{rid} reported")
            v.problems += [f"output holds {item[:30]!r}" for item in e.output_lacks if item in shown]
            if e.valid and run.exit in (0, 1) and (why := well_formed(e.valid, run.stdout or outputs)):
                v.problems.append(why)
            v.problems += [f"{rel} exists: code from the checkout ran" for rel in e.no_file if (cdir / rel).exists()]
        if e.tmp_clean and run.tmp_left_mb > 0:
            v.problems.append(f"{run.tmp_left_mb * 1e6:,.0f} bytes left in $TMPDIR")
        if e.capture_clean and farm and farm.capture:
            got = farm.capture.seen
            auth = [s for s in got if "Authorization" in s.headers]
            leaked = [s for s in got if _planted_in(json.dumps(s.headers).encode() + s.body + s.path.encode(), case.secrets)]
            if auth or leaked:
                v.leaks.append(f"the capture server on another port got {len(auth)} Authorization header(s), {len(leaked)} planted value(s)")
        for what, data in (("stdout", run.stdout), ("stderr", run.stderr), ("a report file", outputs)):
            if _planted_in(data, case.secrets):
                v.leaks.append(what)
        for f in _regular_files(home):
            if _planted_in(f.read_bytes(), case.secrets):
                v.leaks.append(f"cache file {f.relative_to(home)}")
                break
        if not run.timed_out:
            if run.seconds > e.max_seconds:
                v.bounds.append(f"{run.seconds:.1f} s > {e.max_seconds:g} s")
            if run.rss_mb > e.max_rss_mb:
                v.bounds.append(f"{run.rss_mb:.0f} MB > {e.max_rss_mb:g} MB")
        return v


# --- the table --------------------------------------------------------------------------------

def hidden(text: str) -> str:
    for s in hc.PLANTED:
        text = text.replace(s, "[PLANTED]")
    return text


def first_stderr_line(run: Run | None, width: int = 110) -> str:
    if run is None:
        return ""
    if run.timed_out:
        return "(killed at the cap; faulthandler stacks on stderr)"
    lines = [line for line in run.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in hidden(lines[0]))
    return text[: width - 1] + "…" if len(text) > width else text


HEAD = ["case", "group", "exit", "s", "cpu s", "RSS MB", "tmp MB peak/left", "secret shown", "first stderr line", "outcome", "bounds", "verdict"]


def row(v: Verdict) -> list[str]:
    r = v.run
    if r is None:
        return [v.case.name, v.case.group, *["-"] * 7, "; ".join(v.problems), "-", "SKIP"]
    tmp = f"{r.tmp_peak_mb:.1f}/{r.tmp_left_mb:.1f}" if r.tmp_peak_mb > 0 else "0"
    return [v.case.name, v.case.group, "CAP" if r.timed_out else str(r.exit), f"{r.seconds:.2f}", f"{r.cpu_seconds:.2f}", f"{r.rss_mb:.0f}",
            tmp, "no" if not v.leaks else "YES: " + ", ".join(v.leaks), first_stderr_line(r),
            "PASS" if not v.problems else "FAIL: " + "; ".join(v.problems), "PASS" if not v.bounds else "FAIL: " + "; ".join(v.bounds),
            "PASS" if v.ok else "FAIL"]


def markdown(verdicts: list[Verdict]) -> str:
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(c.replace("|", "\\|").replace("`", "'") for c in row(v)) + " |" for v in verdicts]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="run the hostile corpus against a lintimg and print the table")
    ap.add_argument("--python", default=sys.executable, help="the python of the environment lintimg is installed in")
    ap.add_argument("--corpus", default="/tmp/lintimg-hostile/corpus", help="where to build the corpus")
    ap.add_argument("--tmp", default="/tmp/lintimg-hostile/run", help="parent of each case's TMPDIR and HOME")
    ap.add_argument("--only", default="", help="run the cases whose name matches this regular expression")
    ap.add_argument("--no-shellcheck", action="store_true", help="leave the environment's bin (and its shellcheck) off PATH")
    ap.add_argument("--markdown", help="write the table as Markdown here")
    ap.add_argument("--json", help="write the results as JSON here")
    args = ap.parse_args(argv)
    started = time.monotonic()
    cases = hc.build(Path(args.corpus))
    print(f"corpus: {len(cases)} cases in {time.monotonic() - started:.0f} s under {args.corpus}", file=sys.stderr)
    runner = Runner(args.python, Path(args.corpus), Path(args.tmp), shellcheck=not args.no_shellcheck)
    verdicts = []
    for case in cases:
        if args.only and not re.search(args.only, case.name):
            continue
        v = runner.run(case)
        verdicts.append(v)
        r = row(v)
        print(f"{r[-1]:4} {r[0]:38} exit={r[2]:4} {r[3]:>6}s cpu={r[4]:>6}s {r[5]:>6}MB tmp={r[6]:9} | {r[9][:140]} | bounds {r[10]}"
              + (f" | at {v.where}" if v.where else ""), flush=True)
    passed = sum(v.ok for v in verdicts)
    print(f"{passed} passed, {len(verdicts) - passed} failed")
    if args.markdown:
        Path(args.markdown).write_text(markdown(verdicts))
    if args.json:
        Path(args.json).write_text(json.dumps([
            {"case": v.case.name, "group": v.case.group, "expected": v.case.expect.summary, "exit": v.run.exit if v.run else None,
             "seconds": round(v.run.seconds, 3) if v.run else None, "cpu_seconds": round(v.run.cpu_seconds, 3) if v.run else None,
             "rss_mb": round(v.run.rss_mb, 1) if v.run else None, "tmp_left_mb": round(v.run.tmp_left_mb, 1) if v.run else None,
             "stderr_first": first_stderr_line(v.run), "problems": v.problems, "bounds": v.bounds, "leaks": v.leaks, "where": v.where,
             "ok": v.ok} for v in verdicts], indent=1))
    return 0 if passed == len(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
