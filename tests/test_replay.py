"""The run memo (lintimg.replay): a repeated ``check`` is answered from what the earlier run wrote, only while
everything that run read answers the same, and the report is the one a fresh run writes.

Every run is the real entry point (``lintimg.__main__``) in a fresh interpreter; after the run the wrapper
says whether the command line code was imported, which tells a replayed run from one that ran. Each
"changed" case is checked against a run with caches off (what lintimg really says now).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lintimg.cachefiles import digest
from tests.clirun import REPO
from tests.test_result_cache import COUNTING_RULE, DOCKERFILE, age

MARK = "\nlintimg.cli imported: "
ENTRY = ("import sys\nfrom lintimg.__main__ import main\ncode = main()\n"
         f"sys.stderr.write({MARK!r} + str('lintimg.cli' in sys.modules) + '\\n')\nsys.exit(code)\n")


class Run:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr, _, loaded = proc.stderr.rpartition(MARK)
        assert loaded.strip() in ("True", "False"), proc.stderr
        self.replayed = loaded.strip() == "False"
        assert "Traceback" not in self.stderr, self.stderr


class Project:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.ctx = tmp / "ctx"
        self.ctx.mkdir()
        self.dockerfile = self.ctx / "Dockerfile"
        self.dockerfile.write_text(DOCKERFILE)
        (self.ctx / "app.txt").write_text("hello\n")
        self.rules = tmp / "rules"
        self.rules.mkdir()
        self.log = tmp / "runs.log"
        self.write_rule("counted")
        self.env = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "NO_COLOR", "LINTIMG_NO_CACHE")}
        self.env.update({"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp / "cache"), "XDG_CONFIG_HOME": str(tmp / "config")})
        # as ~/.cache is there; the working directory is on sys.path (-c), and a run depends on the names it holds
        (tmp / "cache").mkdir()
        self.log.touch()
        age(self.ctx, self.rules)

    def write_rule(self, message: str) -> None:
        (self.rules / "counting.py").write_text(COUNTING_RULE.format(log=str(self.log), message=message))

    def args(self, *extra: str) -> list[str]:
        return ["--no-color", "--rules-dir", str(self.rules), *extra, str(self.dockerfile)]

    def run(self, *extra: str, env: dict[str, str] | None = None) -> Run:
        proc = subprocess.run([sys.executable, "-c", ENTRY, *self.args(*extra)], cwd=self.tmp, capture_output=True, text=True,
                              env={**self.env, **(env or {})}, timeout=120)
        return Run(proc)

    def fresh(self, *extra: str, env: dict[str, str] | None = None) -> Run:
        """What lintimg says now, caches off."""
        return self.run("--no-cache", *extra, env=env)

    def checks(self) -> int:
        return len(self.log.read_text().splitlines())

    def memos(self) -> list[Path]:
        return sorted(p for p in (self.tmp / "cache" / "lintimg" / "runs").rglob("*") if p.is_file())


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.mark.parametrize("extra", [(), ("--no-context",), ("--format", "json"), ("--format", "sarif"), ("--fail-on", "none")])
def test_a_repeated_run_is_replayed_with_the_report_and_exit_code_of_a_fresh_run(project, extra):
    truth = project.fresh(*extra)
    cold = project.run(*extra)
    warm = project.run(*extra)
    assert not cold.replayed and warm.replayed
    assert project.checks() == 2  # the fresh run and the cold one: the replayed run ran no rule
    assert (warm.stdout, warm.code, warm.stderr) == (cold.stdout, cold.code, "") == (truth.stdout, truth.code, "")
    assert truth.stdout  # a report with findings (the counting rule's at least)


def _edit_dockerfile(p: Project) -> None:
    p.dockerfile.write_text(DOCKERFILE.replace("-y curl", "-y curl wget"))
    age(p.dockerfile, seconds=1800)


def _grow_copied_file(p: Project) -> None:
    (p.ctx / "app.txt").write_bytes(b"x" * 5000)  # over max-copy-size: LI405
    age(p.ctx / "app.txt", seconds=1800)


def _new_config_here(p: Project) -> None:
    (p.tmp / ".lintimg.yaml").write_text("rules:\n  LI301: off\n")
    age(p.tmp / ".lintimg.yaml", seconds=1800)


def _edit_config(p: Project) -> None:
    (p.tmp / ".lintimg.yaml").write_text("max-copy-size: 1KB\nrules:\n  LI301: error\n")
    age(p.tmp / ".lintimg.yaml", seconds=1800)


def _edit_rule_plugin(p: Project) -> None:
    p.write_rule("counted, reworded")
    age(p.rules, seconds=1800)


def _drop_kept_results(p: Project) -> None:
    for entry in (p.tmp / "cache" / "lintimg" / "results").rglob("*.json"):
        entry.unlink()


def _new_user_config(p: Project) -> None:
    more = p.tmp / "more-rules"
    more.mkdir()
    (more / "counting_two.py").write_text(COUNTING_RULE.format(log=str(p.log), message="two").replace("LX901", "LX902").replace('"counting"', '"counting-two"'))
    (p.tmp / "config" / "lintimg").mkdir(parents=True)
    (p.tmp / "config" / "lintimg" / "config.yaml").write_text(f"rules-dirs: [{str(more)!r}]\n")  # the user's own rules, every run
    age(more, p.tmp / "config")


@pytest.mark.parametrize("change", [_edit_dockerfile, _grow_copied_file, _new_config_here, _edit_config, _edit_rule_plugin,
                                    _drop_kept_results, _new_user_config])
def test_a_change_to_what_the_run_read_is_not_replayed(project, change):
    config = project.tmp / ".lintimg.yaml"
    if change is _edit_config or change is _grow_copied_file:
        config.write_text("max-copy-size: 1KB\n")
        age(config)
    project.run()
    assert project.run().replayed
    change(project)
    after = project.run()
    assert not after.replayed
    truth = project.fresh()
    assert (after.stdout, after.code) == (truth.stdout, truth.code)
    assert project.run().replayed  # and the new run is remembered in turn


def test_another_environment_or_command_line_is_not_replayed(project):
    project.run()
    assert project.run().replayed
    assert not project.run(env={"LINTIMG_BASE_IMAGE_LOOKUP": "off"}).replayed
    assert not project.run("--ignore", "LI301").replayed
    assert not project.run("--no-cache").replayed and not project.run("--no-cache").replayed  # nothing kept by either
    assert not project.run(env={"LINTIMG_NO_CACHE": "1"}).replayed


def test_a_file_written_this_second_is_not_trusted_until_later(project):
    project.run()
    _edit_dockerfile(project)
    project.dockerfile.touch()  # now: a second write in the same clock tick could go unseen
    project.run()
    assert not project.run().replayed and project.memos()  # the earlier memo stays, unused
    age(project.dockerfile, seconds=1800)
    project.run()
    assert project.run().replayed


def test_runs_that_write_more_than_their_report_are_not_kept(project):
    report = project.tmp / "report.txt"
    project.run("--output", str(report))
    report.unlink()
    again = project.run("--output", str(report))
    assert not again.replayed and report.read_text()  # written again
    config = project.tmp / ".lintimg.yaml"
    config.write_text("plugins: [os]\n")  # not trusted: a notice on stderr every run
    age(config)
    first, second = project.run(), project.run()
    assert not second.replayed and second.stderr == first.stderr != ""
    assert project.memos() == []


def test_a_torn_foreign_or_fifo_memo_is_ignored(project):
    cold = project.run()
    assert project.run().replayed
    (memo,) = project.memos()
    good = memo.read_bytes()
    check, _, body = good.partition(b"\0")
    other = body.replace(memo.name.encode(), b"0" * 64)  # whole and well-formed, but another run's
    for garbage in (b"", b"lintimg-replay 1\0", good[:-40], good.replace(b"\0\0", b"\0x\0", 1), digest(other).encode() + b"\0" + other):
        memo.write_bytes(garbage)
        run = project.run()
        assert (run.stdout, run.code, run.replayed) == (cold.stdout, cold.code, False)
    memo.unlink()
    os.mkfifo(memo)  # a reader that opened it would wait for a writer forever
    run = project.run()
    assert (run.stdout, run.code, run.replayed) == (cold.stdout, cold.code, False)


def test_a_memo_asks_first_what_an_edit_changes_and_last_what_costs_most(project):
    """A replay stops at the first probe that differs: the linted file's results entry comes first, the file
    arguments before lintimg's own folders, and single stats before names of folders before listings with stamps."""
    project.run()
    assert project.run().replayed
    (memo,) = project.memos()
    head = memo.read_bytes().partition(b"\0")[2].partition(b"\0\0")[0].decode().split("\0")
    probes = [(head[i], head[i + 1]) for i in range(3, len(head), 3)]
    kinds = [kind for kind, _ in probes]
    assert probes[0][0] == "stat" and Path(probes[0][1]).is_relative_to(project.tmp / "cache" / "lintimg" / "results")
    assert ("stat", str(project.dockerfile)) in probes and "list" in kinds and "names" in kinds
    rank = {"stat": 0, "lstat": 0, "names": 2, "list": 3}
    assert [rank.get(k, 1) for k in kinds] == sorted(rank.get(k, 1) for k in kinds), kinds
