"""ShellCheck integration (LI390) with the real shellcheck binary."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from lintimg import shellcheck
from lintimg.dockerfile.sources import decode
from lintimg.run.check import lint_paths, target_of
from tests.clirun import lintimg
from tests.rulespec import engine, lint

pytestmark = pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not on PATH (pip install lintimg[shellcheck])")


def sc(text: str) -> list[tuple[str, int]]:
    """(SC code, line) of every LI390 finding on ``text``."""
    return [(f.properties["shellcheck_code"], f.location.line) for f in lint(text) if f.rule_id == "LI390"]


def test_finding_lands_on_the_continuation_line_it_is_on():
    text = "FROM debian:12\nRUN echo start \\\n    && for f in $(ls /srv); do echo \"$f\"; done\n"
    assert ("SC2045", 3) in sc(text)


def test_finding_in_a_heredoc_lands_on_its_body_line():
    text = "FROM debian:12\nRUN <<EOF\nset -e\necho $1 > /x\nEOF\n"
    assert ("SC2086", 4) in sc(text)


def test_message_and_properties_carry_the_code():
    got = [f for f in lint("FROM debian:12\nRUN echo $1\n") if f.rule_id == "LI390"]
    assert got and got[0].message.startswith("SC2086: ")
    assert got[0].properties["shellcheck_level"] == "info"


def test_dockerfile_arg_and_env_names_are_known():
    assert any(code == "SC2154" for code, _ in sc('FROM debian:12\nRUN echo "$foo"\n'))
    assert not any(code == "SC2154" for code, _ in sc('FROM debian:12\nARG foo\nENV bar=1\nRUN echo "$foo" "$bar"\n'))


def test_onbuild_triggers_do_not_see_this_files_args():
    # the trigger runs in a child build, where this ARG is not declared
    assert any(code == "SC2154" for code, _ in sc('FROM debian:12\nARG foo\nONBUILD RUN echo "$foo"\n'))


def test_predefined_proxy_args_are_known_and_typos_of_them_reported():
    assert any(code == "SC2153" for code, _ in sc('FROM debian:12\nRUN echo "$RTTP_PROXY"\n'))


def test_hadolint_pragma_ignores_only_the_codes_it_names():
    text = "FROM debian:12\n# hadolint ignore=SC2086\nRUN echo $1 && for f in $(ls /srv); do echo \"$f\"; done\n"
    codes = {c for c, _ in sc(text)}
    assert "SC2086" not in codes and "SC2045" in codes


def test_lintimg_pragma_ignores_all_shellcheck_codes():
    assert sc("FROM debian:12\n# lintimg ignore=LI390\nRUN echo $1\n") == []


def test_global_pragma():
    text = "# hadolint global ignore=SC2086\nFROM debian:12\nRUN echo $1\nRUN echo $2\n"
    assert "SC2086" not in {c for c, _ in sc(text)}


def test_shell_dialect_follows_shell_instruction():
    # $RANDOM is undefined in POSIX sh, fine in bash
    assert "SC3028" in {c for c, _ in sc("FROM debian:12\nRUN echo \"$RANDOM\"\n")}
    assert "SC3028" not in {c for c, _ in sc('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN echo "$RANDOM"\n')}


def test_non_posix_shells_are_skipped():
    ps = "Get-Variable PSVersionTable | Select-Object -ExpandProperty Value $x"
    assert sc(f'FROM mcr.microsoft.com/windows:ltsc2022\nSHELL ["pwsh", "-c"]\nRUN {ps}\n') == []
    assert sc(f"# hadolint shell=powershell\nFROM mcr.microsoft.com/windows:ltsc2022\nRUN {ps}\n") == []


def test_heredoc_with_its_own_interpreter():
    # a python heredoc is not shell; a bash one is checked as bash, on the right line
    assert sc("FROM debian:12\nRUN <<EOF\n#!/usr/bin/env python3\nprint($1)\nEOF\n") == []
    got = sc('FROM debian:12\nRUN <<EOF\n#!/bin/bash\necho "$RANDOM" $1\nEOF\n')
    assert ("SC2086", 4) in got and not any(code == "SC3028" for code, _ in got)


def test_exec_form_run_is_not_a_script():
    assert sc('FROM debian:12\nRUN ["echo", "$1"]\n') == []


def test_one_shellcheck_process_for_many_files(tmp_path, monkeypatch):
    paths = []
    for n in range(5):
        p = tmp_path / f"{n}.Dockerfile"
        p.write_text("FROM debian:12\n" + "".join(f"RUN echo ${k}\n" for k in range(1, 6)))
        paths.append(str(p))
    started = []
    real = subprocess.Popen

    def counting(cmd, *a, **kw):
        started.append(cmd)
        return real(cmd, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", counting)
    monkeypatch.setenv("LINTIMG_NO_CACHE", "1")  # scripts checked earlier in the session would start no batch
    result = lint_paths(engine(), paths)
    # 25 RUNs in 5 files: one batch, split at most once per CPU — not a process per RUN or per file
    assert 1 <= len(started) <= min(os.cpu_count() or 1, 5), started
    per_file = {p: sum(1 for f in result.findings if f.rule_id == "LI390" and f.location.path == p) for p in paths}
    assert all(n == 5 for n in per_file.values()), per_file


def test_every_target_gets_its_results_across_many_chunks(tmp_path):
    # more scripts than one shellcheck process takes: results of later chunks still reach their files
    paths = []
    for n in range(3):
        p = tmp_path / f"{n}.Dockerfile"
        p.write_text("FROM debian:12\n" + "".join(f"RUN echo $1 {n}-{k}\n" for k in range(150)))
        paths.append(str(p))
    assert 450 > shellcheck._BATCH
    result = lint_paths(engine(), paths)
    for p in paths:
        lines = sorted(f.location.line for f in result.findings if f.rule_id == "LI390" and f.location.path == p)
        assert lines == list(range(2, 152)), (p, lines[:5], len(lines))


def test_prepare_stores_results_per_target(monkeypatch):
    monkeypatch.setenv("LINTIMG_NO_CACHE", "1")  # scripts checked earlier in the session would skip the batch
    e = engine()
    targets = [target_of(e, decode(f"D{n}", f"FROM debian:12\nRUN echo ${n + 1}\n".encode())) for n in range(3)]
    shellcheck.prepare(targets)
    batch, _ = targets[0].cache[shellcheck.BATCH_KEY]
    batch.wait()
    for t in targets:
        comments = [c for cs in t.cache[shellcheck.CACHE_KEY].values() for c in cs]
        assert [c.code for c in comments] == [2086]


def test_missing_binary_is_a_note_not_an_error(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\nRUN echo $1\n")
    proc = lintimg("check", "--format", "json", str(df), env={"PATH": str(tmp_path)})
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert any("shellcheck not found" in n for n in report["notes"])
    assert not any(f["rule"] == "LI390" for f in report["findings"])
    # the same file with shellcheck on PATH does get the finding, and no note
    found = json.loads(lintimg("check", "--format", "json", str(df)).stdout)
    assert any(f["rule"] == "LI390" for f in found["findings"]) and not found["notes"]


def test_temporary_scripts_are_removed_even_when_nobody_reads_the_results(tmp_path):
    work = tmp_path / "tmp"
    work.mkdir()
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\n" + "".join(f"RUN echo ${k} {k}\n" for k in range(1, 3000)))
    # LI390 is not selected: the batch still runs, and the process must not exit before cleaning up
    proc = lintimg("check", "--select", "LI300", str(df), env={"TMPDIR": str(work)})
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    assert list(work.iterdir()) == []


def test_rules_listing_shows_the_shellcheck_rule():
    proc = lintimg("rules", "LI390")
    assert proc.returncode == 0 and "ShellCheck" in proc.stdout
