"""Work after the report (lintimg.run.afterwards): a check's results-cache entries and its memo are written once its
report is out, after whoever waits for the run (a served run's client) has been let go; and what is written is what
the run found, not what its report made of it."""
from __future__ import annotations

from pathlib import Path

import pytest

from lintimg import cli, replay
from lintimg.run import afterwards
from tests.test_result_cache import DOCKERFILE, age


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "app.txt").write_text("hello\n")
    age(ctx)  # a file changed within the last seconds keeps the run from its memo
    for name in ("LINTIMG_CONFIG", "LINTIMG_NO_CACHE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(ctx)
    return tmp_path / "cache" / "lintimg"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def test_the_waiter_is_released_with_the_report_out_and_the_caches_are_written_after(project: Path,
                                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, object] = {}

    def release(code: int) -> int:
        seen.update(code=code, out=capsys.readouterr().out, entries=_files(project / "results"), memos=_files(project / "runs"))
        return code

    afterwards.when_released(release)
    code = cli.main(["--no-color", "Dockerfile"])
    assert code == seen["code"] == 1
    assert "LI300" in str(seen["out"]) and "4 findings in 1 file" in str(seen["out"])  # the whole report
    assert seen["entries"] == [] and seen["memos"] == []  # nothing written yet
    assert len(_files(project / "results")) == 1 and len(_files(project / "runs")) == 1  # written before the run ended
    assert replay.replayed(["--no-color", "Dockerfile"]) == 1  # and the memo answers the same run


def test_a_run_without_a_waiter_writes_its_caches_before_it_ends(project: Path) -> None:
    assert cli.main(["--no-color", "Dockerfile"]) == 1
    assert len(_files(project / "results")) == 1 and not afterwards.pending()


def test_the_results_cache_keeps_what_the_run_found_not_what_the_report_renamed(project: Path,
                                                                                capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["--no-color", "--file-path-in-report", "shown/Dockerfile", "Dockerfile"])
    assert "shown/Dockerfile:3:1" in capsys.readouterr().out
    cli.main(["--no-color", "--jobs", "1", "Dockerfile"])  # another command line: its findings come from the entry
    out = capsys.readouterr().out
    assert "Dockerfile:3:1" in out and "shown/" not in out


def test_a_run_that_fails_before_its_report_leaves_nothing_queued(project: Path) -> None:
    assert cli.main(["--no-color", "--output", str(project / "no" / "such" / "folder" / "report.txt"), "Dockerfile"]) == 2
    assert not afterwards.pending() and _files(project / "results") == []
