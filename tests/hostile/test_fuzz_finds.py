"""What a 10-minute run of tests/hostile/fuzz.py found, kept as cases of their own (each failed before its fix)."""
from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile

import pytest

from lintimg import shellcheck
from lintimg.dockerfile.words import is_digits
from lintimg.shellcheck.batch import cpu_budget
from tests.clirun import REPO, lintimg
from tests.hostile import fuzz
from tests.rulespec import lint


def test_an_instruction_before_any_stage_gets_no_fix_and_no_crash() -> None:
    # A misspelt FROM leaves the RUN without a stage; LI360's WORKDIR fix asserted it had one (LI002).
    findings = lint("FR${A:-x}OM alpine:3.19\nRUN cd /bin && make\nRUN echo hi\n")
    assert "LI001" in {f.rule_id for f in findings}
    assert "LI002" not in {f.rule_id for f in findings}


def test_a_non_ascii_digit_in_a_sparse_size_is_no_number() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("etc/data")
        info.size = 4
        info.pax_headers = {"GNU.sparse.realsize": "\u00b3", "GNU.sparse.name": "etc/data"}
        tar.addfile(info, io.BytesIO(b"data"))
    raw = buf.getvalue()
    fuzz.check_one("layer", (raw, "sha256:" + hashlib.sha256(raw).hexdigest()))


def test_stage_indexes_and_ports_are_ascii_numbers() -> None:
    assert is_digits("12") and not is_digits("\u00b3") and not is_digits("") and not is_digits("\u0663")
    findings = lint("FROM alpine:3.19 AS a\nFROM alpine:3.19\nCOPY --from=\u00b3 /x /x\nEXPOSE \u00b3\u00b3\n")
    assert "LI002" not in {f.rule_id for f in findings}


@pytest.mark.parametrize("closed", [True, False])
def test_deeply_nested_substitutions_are_kept_from_shellcheck(tmp_path, closed: bool) -> None:
    # ShellCheck's time doubles with each nested "$(…)": 20 levels took it over 20 s; left open (the fuzzer's
    # second find), the shell parser gives up and reports no nesting of its own.
    script = "x"
    for _ in range(20):
        script = f'echo "$({script})"' if closed else f'echo "$({script}'
    (tmp_path / "Dockerfile").write_text(f"FROM alpine:3.19\nRUN {script}\n")
    proc = lintimg("check", "--no-context", "--no-cache", str(tmp_path / "Dockerfile"))
    out = proc.stdout + proc.stderr
    assert "not given to ShellCheck (command substitutions nested more than" in out
    assert "shellcheck failed" not in out


@pytest.mark.skipif(shellcheck.binary() is None, reason="shellcheck not installed (pip install lintimg[shellcheck])")
def test_shellcheck_is_cut_at_its_cpu_budget_and_says_so(tmp_path) -> None:
    # The 10-minute run's find: a 2 KB RUN with 1,800 literal "{" took ShellCheck 5 s of CPU (its time grows with the
    # square of its warnings). Past its budget the kernel ends it (SIGXCPU), and a ShellCheck ended by a signal, with
    # no report, read as "no findings" instead of a note that LI390's results are missing.
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\nRUN echo " + "{" * 6000 + "\n")
    proc = lintimg("check", "--no-context", "--no-cache", str(tmp_path / "Dockerfile"))
    out = proc.stdout + proc.stderr
    # on a machine so loaded that 20 s of wall time pass before 3 s of CPU, the deadline ends it first
    assert re.search(rf"shellcheck failed \((over its {cpu_budget(1)} s CPU budget|past its [\d.]+ s deadline)\): some LI390 findings are missing", out)
    assert not re.search(r"\d: \w+ LI390 ", proc.stdout)  # no finding from a cut-off report


@pytest.mark.skipif(shellcheck.binary() is None, reason="shellcheck not installed (pip install lintimg[shellcheck])")
def test_shellcheck_memory_is_capped(tmp_path) -> None:
    # A find of a 4-minute run of the explorer: a RUN that is a long chain of `cd .. &&` (a 36 KB Dockerfile) took ShellCheck
    # to 2.7 GB in 9 s when left alone, and to 1 GB before its CPU budget ended it. Capped, it fails early, says so,
    # and the run stays within the fuzzer's 500 MB (peak RSS of lintimg and every process it waited for).
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\nRUN " + "cd .. && \\\n    " * 2400 + "true\n")
    proc = subprocess.Popen([sys.executable, "-m", "lintimg", "check", "--no-context", "--no-cache", "Dockerfile"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)  # (Popen.wait gives no rusage)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode in (0, 1) and "shellcheck failed (" in out and "some LI390 findings are missing" in out, out
    assert usage.ru_maxrss < fuzz.RSS_LIMIT_MB * 1024, f"{usage.ru_maxrss // 1024} MB"
