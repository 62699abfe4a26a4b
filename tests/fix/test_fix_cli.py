"""``lintimg --fix`` / ``--diff`` / ``--unsafe-fixes`` through the real console entry, and what writing must never do."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.clirun import lintimg, one_line_error

BROKEN = "from debian:12\nRUN apt-get install curl\nrun echo hi\n"
FIXED = "from debian:12\nrun apt-get install -y curl\nrun echo hi\n"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    return repo


def test_fix_writes_the_file_and_reports_what_is_left(tmp_path: Path) -> None:
    df = _repo(tmp_path) / "Dockerfile"
    df.write_text(BROKEN)
    df.chmod(0o640)
    proc = lintimg("--fix", "--no-context", "--format", "json", str(df), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # findings are left (no USER, unpinned curl ...)
    assert df.read_text() == FIXED
    assert stat.S_IMODE(df.stat().st_mode) == 0o640
    assert [p.name for p in df.parent.iterdir() if p.name != ".git"] == ["Dockerfile"]  # no temporary file left
    import json

    report = json.loads(proc.stdout)
    assert not [f for f in report["findings"] if f["rule"] in ("LI201", "LI302")]
    assert any(n.startswith("fixed 2 findings in 1 file (LI201 x1, LI302 x1)") for n in report["notes"]), report["notes"]


def test_fix_keeps_crlf_bom_and_latin1(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    crlf = repo / "a.Dockerfile"
    crlf.write_bytes(b"\xef\xbb\xbfFROM debian:12\r\nrun apt-get install -y curl\r\nRUN x\r\n")
    latin = repo / "b.Dockerfile"
    latin.write_bytes("FROM debian:12\n# caf\xe9\nrun x\nRUN y\n".encode("latin-1"))
    proc = lintimg("--fix", "--no-context", str(crlf), str(latin), cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert crlf.read_bytes() == b"\xef\xbb\xbfFROM debian:12\r\nRUN apt-get install -y curl\r\nRUN x\r\n"
    assert latin.read_bytes() == "FROM debian:12\n# caf\xe9\nRUN x\nRUN y\n".encode("latin-1")


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    df = _repo(tmp_path) / "Dockerfile"
    df.write_text(BROKEN)
    proc = lintimg("--diff", "--no-context", "Dockerfile", cwd=df.parent)
    assert proc.returncode == 1
    assert proc.stdout == (
        "--- Dockerfile\n+++ Dockerfile\n@@ -1,3 +1,3 @@\n from debian:12\n"
        "-RUN apt-get install curl\n+run apt-get install -y curl\n run echo hi\n"
    )
    assert "would fix 2 findings in 1 file" in proc.stderr
    assert df.read_text() == BROKEN
    clean = lintimg("--diff", "--no-context", "-", stdin=FIXED.encode(), cwd=df.parent)
    assert clean.returncode == 0 and clean.stdout == ""


def test_unsafe_fixes_only_when_asked(tmp_path: Path) -> None:
    df = _repo(tmp_path) / "Dockerfile"
    df.write_text("FROM debian:12\nRUN apt-get install -y curl\n")
    safe = lintimg("--diff", "--no-context", str(df), cwd=tmp_path)
    assert safe.returncode == 0 and "1 more finding has an unsafe fix" in safe.stderr
    unsafe = lintimg("--diff", "--unsafe-fixes", "--no-context", str(df), cwd=tmp_path)
    assert unsafe.returncode == 1 and "+RUN apt-get install --no-install-recommends -y curl\n" in unsafe.stdout
    one_line_error(lintimg("--unsafe-fixes", str(df), cwd=tmp_path), "--unsafe-fixes goes with --fix or --diff")
    one_line_error(lintimg("--fix", "--diff", str(df), cwd=tmp_path), "cannot be used together")


def test_stdin_fix_prints_the_fixed_text_and_reports_on_stderr(tmp_path: Path) -> None:
    proc = lintimg("--fix", "--no-context", "-", stdin=BROKEN.encode(), cwd=tmp_path)
    assert proc.stdout == FIXED
    assert "fixed 2 findings" in proc.stderr and "LI702" in proc.stderr


def test_fix_refuses_a_symlink_out_of_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(BROKEN)
    repo = _repo(tmp_path)
    (repo / "Dockerfile").symlink_to(outside)
    (repo / "linked").symlink_to(outside.parent)
    for path in ("Dockerfile", "linked/Dockerfile"):
        proc = lintimg("--fix", "--no-context", path, cwd=repo)
        one_line_error(proc, path, "symlink", str(outside))
    assert outside.read_text() == BROKEN
    # Checking and --diff read through the link as before.
    assert lintimg("--diff", "--no-context", "Dockerfile", cwd=repo).returncode == 1


def test_fix_writes_through_a_symlink_inside_the_repository_and_keeps_the_link(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    real = repo / "docker" / "app.Dockerfile"
    real.parent.mkdir()
    real.write_text(BROKEN)
    link = repo / "Dockerfile"
    link.symlink_to(real)
    proc = lintimg("--fix", "--no-context", "Dockerfile", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    assert link.is_symlink() and real.read_text() == FIXED


def test_fix_refuses_non_regular_files_without_blocking(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    os.mkfifo(repo / "Dockerfile")
    proc = lintimg("--fix", "--no-context", str(repo), cwd=tmp_path)
    one_line_error(proc, "Dockerfile", "not a regular file")


def test_hard_links_keep_the_old_content_and_the_run_says_so(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    df = repo / "Dockerfile"
    df.write_text(BROKEN)
    other = tmp_path / "other-link"
    os.link(df, other)
    proc = lintimg("--fix", "--no-context", "Dockerfile", cwd=repo)
    assert df.read_text() == FIXED and other.read_text() == BROKEN
    assert "1 other hard link(s); they keep the old content" in proc.stdout


def test_fix_then_check_agree(tmp_path: Path) -> None:
    """What --fix leaves is exactly what a plain check then reports."""
    df = _repo(tmp_path) / "Dockerfile"
    df.write_text(BROKEN)
    fixed = lintimg("--fix", "--no-context", "--format", "json", "Dockerfile", cwd=df.parent)
    again = lintimg("--no-context", "--format", "json", "Dockerfile", cwd=df.parent)
    import json

    assert json.loads(fixed.stdout)["findings"] == json.loads(again.stdout)["findings"]
    second = lintimg("--fix", "--no-context", "Dockerfile", cwd=df.parent)
    assert df.read_text() == FIXED and "fixed" not in second.stdout


def test_fix_never_touches_files_it_was_not_given(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "Dockerfile").write_text(BROKEN)
    (repo / "keep.Dockerfile").write_text(BROKEN)
    before = {p: p.stat().st_mtime_ns for p in repo.iterdir()}
    subprocess.run(["sync"], check=False)
    lintimg("--fix", "--no-context", "Dockerfile", cwd=repo)
    assert (repo / "keep.Dockerfile").read_text() == BROKEN
    assert {p for p in repo.iterdir()} == set(before)


def test_sarif_and_json_carry_the_edits(tmp_path: Path) -> None:
    import json

    import jsonschema

    from tests.shared import SARIF_SCHEMA, need, required

    df = _repo(tmp_path) / "Dockerfile"
    df.write_text("FROM debian:12\nRUN apt-get install curl\nENV TOKEN_VALUE s3cr3t-value-here\n")
    log = json.loads(lintimg("--format", "sarif", "--no-context", "Dockerfile", cwd=df.parent).stdout)
    if SARIF_SCHEMA.is_file() or required():  # the rest of this test needs no ../shared
        errors = list(jsonschema.Draft4Validator(json.loads(need(SARIF_SCHEMA, "the SARIF 2.1.0 schema").read_text())).iter_errors(log))
        assert not errors, errors[0]
    run = log["runs"][0]
    yes = next(r for r in run["results"] if r["ruleId"] == "LI302")
    assert yes["fixes"] == [{
        "description": {"text": "add `-y`"},
        "artifactChanges": [{
            "artifactLocation": {"uri": "Dockerfile"},
            "replacements": [{"deletedRegion": {"startLine": 2, "startColumn": 20, "endLine": 2, "endColumn": 20},
                              "insertedContent": {"text": " -y"}}],
        }],
        "properties": {"safety": "safe"},
    }]
    recommends = next(r for r in run["results"] if r["ruleId"] == "LI303")
    assert recommends["fixes"][0]["properties"] == {"safety": "unsafe"}
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["LI302"]["properties"]["fix"] == ["safe"] and rules["LI303"]["properties"]["fix"] == ["unsafe"]
    assert "fix" not in rules["LI702"]["properties"] and rules["LI300"]["properties"]["fix"] == ["unsafe"]
    # The legacy ENV on a line that holds a secret: its fix is not shown.
    legacy = next(r for r in run["results"] if r["ruleId"] == "LI203")
    assert "fixes" not in legacy
    report = json.loads(lintimg("--format", "json", "--no-context", "Dockerfile", cwd=df.parent).stdout)
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert by_rule["LI302"]["fix_safety"] == "safe"
    assert by_rule["LI302"]["edits"] == [{"line": 2, "column": 20, "end_line": 2, "end_column": 20, "text": " -y"}]
    assert by_rule["LI300"]["edits"] == [] and by_rule["LI300"]["fix_safety"] is None
    assert by_rule["LI203"]["edits"] == []


def test_text_report_marks_what_fix_would_do(tmp_path: Path) -> None:
    df = _repo(tmp_path) / "Dockerfile"
    df.write_text("FROM debian:12\nRUN apt-get install curl\n")
    out = lintimg("--no-context", "Dockerfile", cwd=df.parent).stdout
    assert "= fix (--fix): add `-y`" in out and "= fix (--unsafe-fixes): add `--no-install-recommends`" in out
    assert "1 fixable with --fix (1 more with --fix --unsafe-fixes)" in out


def test_reading_for_a_fix_skips_a_fifo_without_blocking(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "a").mkdir()
    os.mkfifo(repo / "a" / "Dockerfile")
    (repo / "b.Dockerfile").write_text(BROKEN)
    from lintimg.run.fix import read_for_fix

    assert read_for_fix(str(repo / "a" / "Dockerfile")) is None
    assert read_for_fix(str(repo / "b.Dockerfile")).text == BROKEN
