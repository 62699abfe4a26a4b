"""Hypothesis fuzzing of the Dockerfile model, the layer reader and the archive reader (issue 9).

Three targets, each a function of generated input that must end in results or a
``LintimgError``: never another exception, never a rule crash (LI002), at most 5 s on an
input under 64 KB, at most 500 MB of RSS.

- ``dockerfile``: real Dockerfiles from ``../shared/corpus`` mutated (slices cut, doubled,
  spliced, hostile tokens inserted: heredocs, continuations, quotes, NUL, invalid UTF-8),
  Dockerfiles from a small grammar, and ``"$(`` nested hundreds deep; linted with every rule;
- ``layer``: tar streams of generated entries (every type, odd names, PAX records, links),
  byte-flipped or cut short, plain, gzip or zstd; read by the streaming reader, merged and
  checked with every image rule;
- ``archive``: ``docker save`` archives whose manifest.json and config are generated JSON of
  any shape around one valid layer; opened and checked like ``lintimg image``.

In the test suite (tests/hostile/test_fuzz.py) each target runs ``LINTIMG_FUZZ_EXAMPLES``
examples (50 by default) and Hypothesis shrinks a failure. As a script it explores for a
wall-clock budget and keeps the smallest input per distinct failure (run it capped)::

    prlimit --as=4294967296 python -m tests.hostile.fuzz --seconds 600 --out /tmp/fuzz

Explore mode measures each example on its own: CPU seconds (this process and the helpers it
ran, such as ShellCheck; on a shared machine wall time is mostly queueing, so "slow" is judged
on CPU and the wall time is reported beside it) and peak RSS (the kernel's high-water mark,
reset before each example: ``ru_maxrss`` would be the whole run's peak, not the example's).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import re
import resource
import signal
import tarfile
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lintimg.engine import Engine
from lintimg.errors import LintimgError
from lintimg.findings import Finding
from lintimg.image.model import Image
from tests.hostile import corpus as hc

SLOW_SECONDS = 5.0
SMALL_INPUT = 64 * 1024
RSS_LIMIT_MB = 500
CORPUS = Path(os.environ.get("LINTIMG_FUZZ_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))


class Timeout(Exception):
    pass


class RuleCrash(Exception):
    """A rule raised (the engine turned it into an LI002 finding)."""


# --- the system under test ----------------------------------------------------------------------

_ENGINE: list[Engine] = []


def engine() -> Engine:
    if not _ENGINE:
        from lintimg.run.check import default_engine

        _ENGINE.append(default_engine())
    return _ENGINE[0]


def _no_crash(findings: list[Finding]) -> None:
    crashed = [f.message for f in findings if f.rule_id == "LI002"]
    if crashed:
        raise RuleCrash(crashed[0])


def lint_dockerfile(data: bytes) -> None:
    from lintimg.dockerfile.sources import decode
    from lintimg.run.check import lint_source

    findings, _ = lint_source(engine(), decode("Dockerfile", data))
    _no_crash(findings)


def _image_check(image: Image) -> None:
    from lintimg.run.image import check_image

    _no_crash(check_image(engine(), image).findings)


def read_layer_blob(blob: bytes, diff_id: str) -> None:
    from lintimg.image.reader import LayerSource, assemble, read_layers
    from lintimg.run.image import rule_reading

    analyzers, capture = rule_reading(engine())  # what lintimg image asks of a layer (no layer cache: every input is read)
    src = LayerSource(0, "sha256:" + hashlib.sha256(blob).hexdigest(), diff_id, len(blob), "", lambda: io.BytesIO(blob))
    results = read_layers([src], ref="fuzz", want_content=capture, analyzers=analyzers, workers=1)
    _image_check(assemble(reference="fuzz", name="fuzz", digest=None, config=hc.image_config([diff_id]), results=results))


def open_archive(data: bytes) -> None:
    from lintimg.run.image import open_for_rules

    with tempfile.TemporaryDirectory(prefix="lintimg-fuzz-") as d:
        path = Path(d) / "image.tar"
        path.write_bytes(data)
        _image_check(open_for_rules(engine(), f"docker-archive:{path}"))


# --- strategies ---------------------------------------------------------------------------------

HOSTILE_TOKENS = [
    "<<EOF ", "<<-EOF\n", "<<'EOF'\n", "\nEOF\n", "\\\n", "\\\n\\\n", '"$(', ')"', "$(", "`", "'", '"', "${A:-${B:-", "}",
    "\x00", "\r", "\t", "\ufeff", "# syntax=docker/dockerfile:1\n", "# escape=`\n", "ONBUILD ", "RUN ", "FROM ", "COPY --from=",
    "ARG A=${A}\n", "&& ", "| ", "; ", '["', '"]', "--mount=type=secret,id=", "\n \n", "#", "\\", "$", "{", "\u2028",
    "\x1b]0;x\x07", "https://u:p@h/", "?token=",
]


def corpus_files(limit: int = 2000) -> list[Path]:
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and "ockerfile" in p.name and p.stat().st_size < SMALL_INPUT)
    random.Random(7).shuffle(files)
    return files[:limit]


_FILES: list[list[Path]] = []


def _files() -> list[Path]:
    if not _FILES:
        _FILES.append(corpus_files())
    return _FILES[0]


@st.composite
def mutated_dockerfile(draw: st.DrawFn) -> bytes:
    files = _files()
    base = draw(st.sampled_from(files)).read_bytes() if files else b"FROM alpine:3.19\nRUN echo hi\n"
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "repeat", "byte", "splice"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data[at:at] = (draw(st.sampled_from(HOSTILE_TOKENS)) * draw(st.sampled_from([1, 2, 5, 50, 400]))).encode("utf-8", "surrogatepass")
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif op == "repeat":
            data[at:at] = bytes(data[at : at + draw(st.integers(1, 80))]) * draw(st.integers(2, 200))
        elif op == "byte" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "splice" and files:
            other = draw(st.sampled_from(files)).read_bytes()
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(1, 400))]
    return bytes(data[: 4 * SMALL_INPUT])


WORD = st.text(alphabet=st.sampled_from(list("abcXYZ019-_./=:$@{}()[]\"'`\\ *?&|;<>#~!%^+,")), min_size=0, max_size=12)
KEYWORDS = ["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "USER", "WORKDIR", "CMD", "ENTRYPOINT", "EXPOSE", "VOLUME",
            "HEALTHCHECK", "SHELL", "ONBUILD", "STOPSIGNAL", "MAINTAINER", "run", "FROMX"]


@st.composite
def grammar_dockerfile(draw: st.DrawFn) -> bytes:
    lines = [f"FROM {draw(WORD)}"] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 12))):
        args = " ".join(draw(st.lists(st.one_of(WORD, st.sampled_from(HOSTILE_TOKENS)), max_size=8)))
        lines.append(f"{draw(st.sampled_from(KEYWORDS))} {args}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def nested_dockerfile(draw: st.DrawFn) -> bytes:
    """Shell nesting hundreds deep: substitutions, subshells, quotes (the mutations seldom nest)."""
    open_, close = draw(st.sampled_from([('"$(echo ', ')"'), ("$(", ")"), ("(", ")"), ("`echo \\`", "\\``"), ("{ ", "; }")]))
    depth = draw(st.integers(1, 600))
    return f"FROM alpine:3.19\nRUN echo {open_ * depth}x{close * draw(st.integers(0, depth))}\n".encode()


dockerfiles = st.one_of(mutated_dockerfile(), grammar_dockerfile(), nested_dockerfile())

NAME = st.one_of(
    st.lists(st.sampled_from([*"ab./-\x1b\n\u00e9", "..", ".wh.", ".wh..wh..opq", "etc", "passwd"]), min_size=1, max_size=12).map("".join),
    st.sampled_from(["etc/passwd", "etc/shadow", "./etc/../etc/passwd", "/abs", "../up", "x/../../y", "a" * 300, "/".join(["d"] * 300)]),
)
TYPES = [tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE,
         tarfile.FIFOTYPE, tarfile.CONTTYPE, b"Z", b"7"]
PAX_KEYS = ["path", "linkpath", "size", "uid", "gid", "mtime", "uname", "GNU.sparse.map", "GNU.sparse.size", "GNU.sparse.major",
            "GNU.sparse.minor", "GNU.sparse.name", "GNU.sparse.realsize", "SCHILY.xattr.security.capability", "hdrcharset", "comment"]


@st.composite
def tar_entry(draw: st.DrawFn) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(draw(NAME))
    ti.type = draw(st.sampled_from(TYPES))
    ti.mode = draw(st.sampled_from([0o644, 0o755, 0o777, 0o4755, 0o666, 0o7777, 0]))
    ti.uid = ti.gid = draw(st.sampled_from([0, 1000, 65534, 2**21 - 1, 2**40]))
    ti.mtime = 0
    ti.linkname = draw(NAME) if ti.type in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    if draw(st.booleans()):
        values = st.text(max_size=20) | st.sampled_from(["0", "-1", "1e9", "99999999999", "0,5,1,0", "H"])
        ti.pax_headers = draw(st.dictionaries(st.sampled_from(PAX_KEYS), values, max_size=3))
    return ti


@st.composite
def layer_blob(draw: st.DrawFn) -> tuple[bytes, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT]))) as tar:
        for ti in draw(st.lists(tar_entry(), max_size=12)):
            data = draw(st.binary(max_size=300)) if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else b""
            ti.size = len(data)
            try:
                tar.addfile(ti, io.BytesIO(data) if data else None)
            except (ValueError, UnicodeError, tarfile.TarError, OverflowError):
                pass
    raw = bytearray(buf.getvalue())
    for _ in range(draw(st.integers(0, 3))):  # damage: flipped bytes, a cut
        if raw:
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        del raw[draw(st.integers(0, len(raw))) :]
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    how = draw(st.sampled_from(["plain", "gzip", "zstd"]))
    if how == "gzip":
        blob = gzip.compress(bytes(raw), 1, mtime=0)
    elif how == "zstd":
        import zstandard

        blob = zstandard.ZstdCompressor().compress(bytes(raw))
    else:
        blob = bytes(raw)
    if how != "plain" and draw(st.booleans()):
        blob = blob[: draw(st.integers(0, len(blob)))]
    return blob, diff_id


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
CONFIG_FIELDS = ["Env", "Labels", "User", "Healthcheck", "Cmd", "Entrypoint", "ExposedPorts", "Volumes", "WorkingDir", "Shell", "OnBuild",
                 "StopSignal", "ArgsEscaped"]


@st.composite
def archive_bytes(draw: st.DrawFn) -> bytes:
    layer = hc.gzip_layer([*hc.BASE_ROOTFS, hc.Entry("app/run.sh", b"#!/bin/sh\n", mode=0o755)])
    config = hc.image_config([layer.diff_id])
    for key in draw(st.lists(st.sampled_from(CONFIG_FIELDS), max_size=4)):
        config["config"][key] = draw(JSON)
    if draw(st.booleans()):
        config["history"] = draw(st.lists(JSON | st.fixed_dictionaries({"created_by": JSON, "empty_layer": JSON}), max_size=4))
    if draw(st.booleans()):
        config[draw(st.sampled_from(["rootfs", "os", "architecture", "config", "variant", "history"]))] = draw(JSON)
    manifest = json.dumps(draw(JSON)).encode() if draw(st.integers(0, 4)) == 0 else None
    try:
        return hc.docker_archive(None, [layer], config_bytes=json.dumps(config).encode(), manifest_bytes=manifest)
    except ValueError:  # json.dumps refuses nothing, but keep the archive builder honest
        return hc.docker_archive(None, [layer], config=config)


# --- one example --------------------------------------------------------------------------------

def classify(fn: Callable[[], None]) -> tuple[str, str] | None:
    """Run ``fn``: ``None`` when it ended well (results, or a LintimgError), else (kind, detail)."""
    try:
        fn()
    except LintimgError as e:
        if "\n" in str(e):
            return "exception", "a LintimgError of more than one line"
        return None
    except RuleCrash as e:
        return "rule-crash", str(e)
    except Timeout:
        return "hang", "no result within the alarm"
    except Exception as e:  # noqa: BLE001 - that is what the fuzzer hunts
        return "exception", f"{type(e).__name__}: {str(e)[:160]} at {_frame(e)}"
    return None


def _frame(e: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/lintimg/" in f.filename or "/rules/" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(e.__traceback__)[-1]
    return f"{Path(f.filename).name}:{f.name}:{f.lineno}"


Target = tuple[st.SearchStrategy[Any], Callable[[Any], Callable[[], None]], Callable[[Any], bytes]]
TARGETS: dict[str, Target] = {
    "dockerfile": (dockerfiles, lambda d: lambda: lint_dockerfile(d), lambda d: d),
    "layer": (layer_blob(), lambda b: lambda: read_layer_blob(*b), lambda b: b[0]),
    "archive": (archive_bytes(), lambda a: lambda: open_archive(a), lambda a: a),
}


def check_one(target: str, value: Any) -> None:
    """The test suite's assertion for one example (Hypothesis shrinks a failure).

    Outcomes only: a test asserts no wall-clock time (a loaded CI machine is no slow
    parser). Time is what :func:`explore` measures and reports.
    """
    _, runner, _ = TARGETS[target]
    bad = classify(runner(value))
    assert bad is None, f"{target}: {bad}"


# --- exploring for a time budget ----------------------------------------------------------------

class _Done(Exception):
    pass


def explore(targets: list[str], seconds: float, out: Path, alarm: int = 30) -> dict[str, Any]:
    """Run each target for its share of ``seconds``; keep the smallest input per distinct failure."""
    out.mkdir(parents=True, exist_ok=True)
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    stats: dict[str, dict[str, float]] = {}

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Timeout()

    signal.signal(signal.SIGALRM, on_alarm)
    for target in targets:
        stats[target] = _explore_one(target, time.monotonic() + seconds / len(targets), found, out, alarm)
    report = {"seconds": seconds, "stats": stats, "failures": sorted(found.values(), key=lambda f: (f["target"], f["kind"], f["detail"]))}
    (out / "summary.json").write_text(json.dumps(report, indent=1))
    return report


# Examples per Hypothesis run, run after run until the time is up: one run keeps a record of every example it made,
# ~5 MB more RSS a second, which the examples' own RSS limit would then count
ROUND = 1000


def _explore_one(target: str, stop: float, found: dict[tuple[str, str, str], dict[str, Any]], out: Path, alarm: int) -> dict[str, float]:
    strategy, runner, as_bytes = TARGETS[target]
    counts = {"examples": 0.0, "slowest_s": 0.0, "slowest_wall_s": 0.0, "slowest_small_s": 0.0, "max_rss_mb": 0.0}

    @settings(max_examples=ROUND, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(value: Any) -> None:
        if time.monotonic() > stop:
            raise _Done()
        data = as_bytes(value)
        _reset_peak_rss()
        signal.alarm(alarm)
        start, cpu, kids = time.perf_counter(), _cpu_seconds(), _largest_child_mb()
        try:
            bad = classify(runner(value))
        finally:
            signal.alarm(0)
        wall, took = time.perf_counter() - start, _cpu_seconds() - cpu
        # the kernel keeps only the largest child so far: one of this example's helpers when that grew
        rss = max(_peak_rss_mb(), _largest_child_mb() if _largest_child_mb() > kids else 0.0)
        counts["examples"] += 1
        counts["slowest_s"] = max(counts["slowest_s"], took)
        counts["slowest_wall_s"] = max(counts["slowest_wall_s"], wall)
        if len(data) < SMALL_INPUT:
            counts["slowest_small_s"] = max(counts["slowest_small_s"], took)
        if bad is None and took > SLOW_SECONDS and len(data) < SMALL_INPUT:
            bad = ("slow", f"{took:.1f} s CPU ({wall:.1f} s wall)")
        if bad is None and rss > RSS_LIMIT_MB:
            bad = ("rss", f"{rss:.0f} MB")
        counts["max_rss_mb"] = max(counts["max_rss_mb"], rss)
        if bad is not None:
            _keep(found, out, target, bad, data, took)

    try:
        while time.monotonic() < stop:
            one()
    except _Done:
        pass
    return counts


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the helpers it waited for."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _reset_peak_rss() -> None:
    """Start this process's peak RSS (VmHWM) again from its current RSS (Linux: ``clear_refs`` 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _largest_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def _keep(found: dict[tuple[str, str, str], dict[str, Any]], out: Path, target: str, bad: tuple[str, str], data: bytes, took: float) -> None:
    """Remember a failure: the smallest input per (target, kind, place)."""
    kind, detail = bad
    key = (target, kind, re.sub(r"\d+", "N", detail.split(" at ")[-1] if " at " in detail else detail)[:120])
    prev = found.get(key)
    if prev is None or len(data) < prev["size"]:
        name = hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        (out / f"{target}-{name}.bin").write_bytes(data)
        found[key] = {"target": target, "kind": kind, "detail": detail, "size": len(data), "file": f"{target}-{name}.bin",
                      "count": (prev or {}).get("count", 0) + 1, "seconds": round(took, 3)}
    else:
        prev["count"] += 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="explore the fuzz targets for a time budget")
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--targets", default="dockerfile,layer,archive")
    ap.add_argument("--out", default="/tmp/lintimg-fuzz")
    args = ap.parse_args(argv)
    report = explore(args.targets.split(","), args.seconds, Path(args.out))
    for t, s in report["stats"].items():
        print(f"{t:11} {s['examples']:6.0f} examples, slowest {s['slowest_s']:.2f} s CPU (under 64 KB: {s['slowest_small_s']:.2f} s; "
              f"slowest wall {s['slowest_wall_s']:.2f} s), max RSS of one example {s['max_rss_mb']:.0f} MB")
    for f in report["failures"]:
        print(f"{f['target']:11} {f['kind']:11} x{f['count']:<4} {f['size']:7} B  {f['detail'][:150]}")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
