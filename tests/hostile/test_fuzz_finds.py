"""What a 10-minute run of tests/hostile/fuzz.py found, kept as cases of their own (each failed before its fix)."""
from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from lintimg.dockerfile.words import is_digits
from tests.clirun import lintimg
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
