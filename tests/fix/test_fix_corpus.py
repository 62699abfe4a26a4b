"""``--fix`` on real Dockerfiles nobody here wrote (``../shared/corpus``), judged by the Docker engine's own parser.

A sample of every 55th corpus file (655 files, of which well over 500 change) is fixed twice
in-process, once with safe fixes and once with unsafe ones too. For each:

- no fix is refused and every fixed finding is gone on the next pass (``FileFix.problems``);
- fixing the fixed text again changes nothing;
- the fixed file has no parse error lintimg's parser did not already see;
- the engine's parser accepts every fixed file whose original it accepts (and rejects the
  others for the same reason).

The engine's parser: Debian's docker.io 20.10 has no buildx, so ``docker build --check`` does not
exist here; its classic builder parses the whole file into typed instructions (the Dockerfile
parser and instruction packages BuildKit's frontend vendors) before it dispatches anything. Asked
for a build target no file names, it stops right after that parse with "failed to reach build
target": nothing is pulled or run, so the check works offline (CI has no Docker Hub).
"""
from __future__ import annotations

import concurrent.futures
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lintimg.config import Config
from lintimg.dockerfile import parse_dockerfile
from lintimg.engine import Engine
from lintimg.run.fix import FileFix, Source, fix_source, read_for_fix
from tests.test_corpus import CORPUS, corpus_files

EVERY = 55
MIN_FIXED = 500

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")


@dataclass
class Sample:
    fixes: dict[Path, FileFix] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)


def _engine() -> Engine:
    eng = Engine(Config())
    eng.registry.ignore(eng.registry.resolve(["LI390"]))  # ShellCheck fixes nothing, and is an external process
    return eng


def _fix_sample(unsafe: bool) -> Sample:
    eng = _engine()
    out = Sample()
    for f in corpus_files()[::EVERY]:
        try:
            src = read_for_fix(str(f))
            if src is not None:
                out.fixes[f] = fix_source(eng, src, unsafe=unsafe)
        except Exception as e:  # noqa: BLE001 - record every crash, then fail on them together
            out.crashes.append(f"{f}: {type(e).__name__}: {e}")
    return out


@pytest.fixture(scope="module")
def safe() -> Sample:
    return _fix_sample(unsafe=False)


@pytest.fixture(scope="module")
def unsafe() -> Sample:
    return _fix_sample(unsafe=True)


@pytest.mark.parametrize("kind", ["safe", "unsafe"])
def test_fixes_are_accepted_effective_and_settle(kind: str, request: pytest.FixtureRequest, capsys) -> None:
    sample: Sample = request.getfixturevalue(kind)
    assert not sample.crashes, "\n".join(sample.crashes[:20])
    changed = {f: r for f, r in sample.fixes.items() if r.changed}
    assert len(changed) >= MIN_FIXED, f"only {len(changed)} files changed"
    problems = [f"{f}: {p}" for f, r in sample.fixes.items() for p in r.problems]
    assert not problems, "\n".join(problems[:30])
    eng = _engine()
    again = [str(f) for f, r in changed.items() if fix_source(eng, Source(str(f), r.fixed), unsafe=kind == "unsafe").applied]
    assert not again, f"a second --fix changed {len(again)} files: {again[:10]}"
    broken = []
    for f, r in changed.items():
        before = {e.args[0] for e in parse_dockerfile(r.source.text).errors}
        new = [e.args[0] for e in parse_dockerfile(r.fixed).errors if e.args[0] not in before]
        if new:
            broken.append(f"{f}: {new[0]}")
    assert not broken, "\n".join(broken[:20])
    with capsys.disabled():
        n = sum(len(r.applied) for r in changed.values())
        print(f"\n--fix{' --unsafe-fixes' if kind == 'unsafe' else ''} on every {EVERY}th corpus file: "
              f"{len(changed)} of {len(sample.fixes)} files changed, {n} findings fixed")


# A stage name no corpus file uses: the classic builder looks for it only once the whole file parsed.
_TARGET = "lintimg-parse-only-3f9c"
_PARSED = f"failed to reach build target {_TARGET} in Dockerfile"


def engine_verdict(docker, text: str, ctx: Path) -> tuple[bool, str]:
    """(the engine's parser accepts ``text``, its last line of output)."""
    (ctx / "Dockerfile").write_text(text, encoding="utf-8", errors="surrogateescape")
    proc = docker.run("build", "--target", _TARGET, str(ctx), check=False)
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    last = err[-1] if err else ""
    return _PARSED in last, last


def _without_line(msg: str) -> str:
    return re.sub(r"line \d+", "line N", msg)


def test_the_engine_parses_every_fixed_file(docker, safe: Sample, unsafe: Sample) -> None:
    """Every fixed file (safe fixes; and unsafe ones where they differ) goes through the engine's parser."""
    texts = [(f, r.source.text, r.fixed) for f, r in safe.fixes.items() if r.changed]
    texts += [(f, r.source.text, r.fixed) for f, r in unsafe.fixes.items()
              if r.changed and r.fixed != safe.fixes[f].fixed]
    assert len(texts) >= MIN_FIXED
    root = Path(tempfile.mkdtemp(prefix="lintimg-fix-engine-"))

    def check(i: int) -> str | None:
        f, original, fixed = texts[i]
        ctx = root / str(i)
        ctx.mkdir()
        ok, why = engine_verdict(docker, fixed, ctx)
        if ok:
            return None
        was_ok, was_why = engine_verdict(docker, original, ctx)
        if was_ok:
            return f"{f}: the engine parses the original but rejects the fix: {why}"
        if _without_line(why) != _without_line(was_why):
            return f"{f}: the engine rejects the fix for another reason than the original: {why} (was: {was_why})"
        return None

    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            bad = [m for m in pool.map(check, range(len(texts))) if m]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert not bad, f"{len(bad)} of {len(texts)} fixed files:\n" + "\n".join(bad[:20])
