"""Robustness on 36,043 real Dockerfiles (``../shared/corpus``): no crash, ever.

- the whole corpus in-process, in batches like the CLI (ShellCheck rules off:
  ShellCheck is an external process and would make this minutes longer);
- every 40th file with every rule on, ShellCheck included;
- a CLI smoke test over 200 files through the console entry point;
- the 255 files hadolint cannot parse: no crash, and a parse error exactly
  where the Docker engine's own parser rejects the file (checked against the
  local engine when it runs).
"""
from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lintimg.dockerfile import Dockerfile
from lintimg.dockerfile.sources import is_dockerfile_name, read_source
from lintimg.engine import Engine
from lintimg.run.check import target_of
from tests.rulespec import engine
from tests.shared import CORPUS
from tests.test_peer_mapping import peer_matches

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("binnacle-icse2020-gold", "jessfraz-dockerfiles", "shipwright-broken-dockerfiles", "vsoch-dockerfiles")
BATCH = 400

pytestmark = pytest.mark.shared(CORPUS, "the corpus")


def corpus_files() -> list[Path]:
    out: list[Path] = []
    for folder in FOLDERS:
        for root, dirs, files in os.walk(CORPUS / folder):
            dirs.sort()
            out.extend(Path(root) / f for f in sorted(files) if is_dockerfile_name(f))
    return out


@dataclass
class Outcome:
    crashes: list[str] = field(default_factory=list)  # "path: what"
    parse_errors: dict[str, int] = field(default_factory=dict)  # path -> first LI001 line
    files: int = 0


def lint_corpus(files: list[Path], config: dict | None = None) -> Outcome:
    """Lint ``files`` in batches (prepare, then rules) with an engine of ``config``; record every crash instead of
    stopping. Batches run in worker processes, one per CPU: the whole corpus is the suite's longest test."""
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    workers = min(os.cpu_count() or 1, len(batches))
    if workers < 2:
        eng = engine(config)
        parts = [_lint_batch(eng, b) for b in batches]
    else:
        # Spawned, not forked: this process runs threads (the test registries' servers, pytest-xdist's own), and
        # a forked worker inherits any lock one of them held at that moment, held for ever.
        spawn = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker, initargs=(config,)) as pool:
            parts = list(pool.map(_lint_in_worker, batches))
    out = Outcome()
    for part in parts:
        out.crashes += part.crashes
        out.parse_errors.update(part.parse_errors)
        out.files += part.files
    return out


_WORKER: list[Engine] = []  # a worker process's engine (an Engine does not pickle: each worker builds its own)


def _start_worker(config: dict | None) -> None:
    _WORKER.append(engine(config))


def _lint_in_worker(files: list[Path]) -> Outcome:
    return _lint_batch(_WORKER[-1], files)


def _lint_batch(eng: Engine, files: list[Path]) -> Outcome:
    out = Outcome()
    targets = []
    for f in files:
        try:
            t = target_of(eng, read_source(str(f)))
        except Exception as e:  # noqa: BLE001 - the point is to catch anything
            out.crashes.append(f"{f}: model: {type(e).__name__}: {e}")
            continue
        if not isinstance(t.dockerfile, Dockerfile):
            out.crashes.append(f"{f}: no model")
            continue
        targets.append(t)
    try:
        eng.prepare(targets)
    except Exception as e:  # noqa: BLE001
        out.crashes.append(f"batch of {files[0]}: prepare: {type(e).__name__}: {e}")
        return out
    for t in targets:
        try:
            findings = eng.run(t)
        except Exception as e:  # noqa: BLE001
            out.crashes.append(f"{t.path}: engine: {type(e).__name__}: {e}")
            continue
        out.files += 1
        out.crashes += [f"{t.path}:{f.location.line}: {f.message}" for f in findings if f.rule_id == "LI002"]
        lines = [f.location.line for f in findings if f.rule_id == "LI001"]
        if lines:
            out.parse_errors[os.path.relpath(t.path, CORPUS)] = min(lines)
    return out


def shellcheck_rules(eng: Engine) -> list[str]:
    return [r.id for r in eng.rules if "shellcheck" in r.tags or any(peer_matches(p, "SC*") for p in r.peers)]


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return corpus_files()


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads((CORPUS / "hadolint-baseline.json").read_text())


def test_corpus_is_complete(files, baseline):
    assert len(files) == sum(v["files"] for v in baseline.values()) == 36043


def test_whole_corpus_without_shellcheck(files):
    out = lint_corpus(files, {"rules": {rid: "off" for rid in shellcheck_rules(engine())}})
    assert not out.crashes, f"{len(out.crashes)} crashes, first 20:\n" + "\n".join(out.crashes[:20])
    assert out.files == len(files)


def test_corpus_sample_with_every_rule(files):
    sample = files[::40]
    out = lint_corpus(sample)
    assert not out.crashes, f"{len(out.crashes)} crashes, first 20:\n" + "\n".join(out.crashes[:20])
    assert out.files == len(sample)


def test_cli_over_a_sample(files, tmp_path):
    sample = [str(f) for f in files[7::180]]
    assert len(sample) >= 200
    for fmt in ("json", "text"):
        proc = subprocess.run([sys.executable, "-m", "lintimg", "--format", fmt, "--no-color", *sample], capture_output=True, text=True, cwd=tmp_path, timeout=600)
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr[-1000:]}"
        if fmt == "json":
            report = json.loads(proc.stdout)
            assert sorted(report["files"]) == sorted(os.path.normpath(p) for p in sample)
            assert not [f for f in report["findings"] if f["rule"] == "LI002"]


# --- the files hadolint cannot parse ---------------------------------------------------------

@pytest.fixture(scope="module")
def unparsable(baseline) -> list[str]:
    return [f for source in baseline.values() for f in source["parse_error_files"]]


@pytest.fixture(scope="module")
def unparsable_outcome(unparsable) -> Outcome:
    return lint_corpus([CORPUS / f for f in unparsable])


def test_files_hadolint_cannot_parse_do_not_crash(unparsable, unparsable_outcome, capsys):
    out = unparsable_outcome
    assert len(unparsable) == 255
    assert not out.crashes, "\n".join(out.crashes[:20])
    assert out.files == 255
    parsed = sorted(set(unparsable) - set(out.parse_errors))
    with capsys.disabled():
        print(f"\nhadolint DL1000 files: {len(unparsable)}; lintimg LI001 on {len(out.parse_errors)}; "
              f"{len(parsed)} parse without error (Docker's grammar accepts them, hadolint's stricter grammar does not):")
        for f in parsed:
            print(f"  {f}")


# Errors dockerd's classic builder raises while parsing, before any step runs.
_DOCKER_PARSE = re.compile(r"parse error|failed to parse|no build stage|unknown instruction", re.I)


def docker_verdict(docker, dockerfile: Path, ctx: Path) -> tuple[bool, int | None, str]:
    """(rejected by the parser, line it names, message). ``--pull`` makes any
    file the parser accepts stop at the offline pull of its base image."""
    shutil.copyfile(dockerfile, ctx / "Dockerfile")
    proc = docker.run("build", "--pull", "--network", "host", "-q", str(ctx), check=False)
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    last = err[-1] if err else ""
    if not _DOCKER_PARSE.search(last):
        return False, None, last
    m = re.search(r"line (\d+)", last)
    return True, int(m.group(1)) if m else None, last


def test_parse_errors_match_the_docker_engine(docker, unparsable, unparsable_outcome, tmp_path):
    """LI001 exactly where dockerd's parser rejects the file, at the line it names."""
    def check(i: int) -> str | None:
        f = unparsable[i]
        ctx = tmp_path / str(i)  # a context per file: the builds run side by side
        ctx.mkdir()
        rejected, line, msg = docker_verdict(docker, CORPUS / f, ctx)
        ours = unparsable_outcome.parse_errors.get(f)
        if rejected != (ours is not None) or (line is not None and ours != line):
            return f"{f}: docker {'rejects at ' + str(line) if rejected else 'accepts'} ({msg[:100]}); lintimg LI001 at {ours}"
        return None

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        wrong = [m for m in pool.map(check, range(len(unparsable))) if m]
    assert not wrong, f"{len(wrong)} files where lintimg's parse errors differ from dockerd's:\n" + "\n".join(wrong)
