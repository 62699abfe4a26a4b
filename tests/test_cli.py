"""The console script end to end: exit codes, outputs, bad input, colour, discovery, rule docs."""
from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import EXAMPLE_RULES, REPO, lintimg, one_line_error
from tests.clirun import example_run as run
from tests.clirun import json_findings as findings

LATEST = "FROM alpine\nRUN true\n"  # EX100 warning on line 1
PINNED = "FROM alpine:3.19\nRUN true\n"




# --- exit codes and thresholds ---------------------------------------------

@pytest.mark.parametrize("text, fail_on, code", [
    (PINNED, None, 0),
    (LATEST, None, 1),  # default threshold: info
    (LATEST, "warning", 1),
    (LATEST, "error", 0),
    (LATEST, "none", 0),
    ("FROM alpine:3.19\nENV DB_PASSWORD=abcdefghijkl\n", "error", 1),
])
def test_exit_codes_follow_the_threshold(tmp_path: Path, text: str, fail_on: str | None, code: int) -> None:
    (tmp_path / "Dockerfile").write_text(text)
    args = ("--fail-on", fail_on) if fail_on else ()
    proc = run(tmp_path, *args, "Dockerfile")
    assert proc.returncode == code, proc.stdout + proc.stderr


def test_bad_fail_on_value(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(PINNED)
    one_line_error(run(tmp_path, "--fail-on", "fatal", "Dockerfile"), "--fail-on", "fatal")


def test_output_file(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    proc = run(tmp_path, "--format", "json", "--output", "report.json", "Dockerfile")
    assert proc.returncode == 1 and proc.stdout == ""
    doc = json.loads((tmp_path / "report.json").read_text())
    assert [f["rule"] for f in doc["findings"]] == ["EX100"]


def test_output_file_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    one_line_error(run(tmp_path, "--output", "no/such/dir/report.txt", "Dockerfile"), "no/such/dir/report.txt", "cannot write report")


def test_unknown_options_and_rules(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(PINNED)
    one_line_error(lintimg("--frobnicate", "Dockerfile", cwd=tmp_path), "usage", "--frobnicate")
    one_line_error(run(tmp_path, "--format", "yaml", "Dockerfile"), "unknown format 'yaml'")
    one_line_error(run(tmp_path, "--ignore", "EX1000", "Dockerfile"), "unknown rule 'EX1000' in --ignore", "did you mean 'EX100'")


def test_select_and_ignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nENV DB_PASSWORD=abcdefghijkl\nRUNN x\n")
    got = {f["rule"] for f in findings(lintimg("--rules-dir", str(EXAMPLE_RULES), "--select", "example-latest-tag", "-f", "json", "Dockerfile", cwd=tmp_path))}
    assert got == {"EX100", "LI001"}  # parse errors stay on whatever is selected
    got = {f["rule"] for f in findings(run(tmp_path, "--ignore", "EX100", "-f", "json", "Dockerfile"))}
    assert got == {"EX101", "LI001"}


# --- bad input ----------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    one_line_error(run(tmp_path, "Dockerfile.missing"), "Dockerfile.missing", "no such file")


def test_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "gone")
    one_line_error(run(tmp_path, "Dockerfile"), "Dockerfile", "no such file")


def test_directory_without_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("print('hi')\n")
    one_line_error(run(tmp_path, "src"), "src", "no Dockerfile found")


def test_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile")  # fails for root too, unlike chmod 000
    one_line_error(run(tmp_path, "Dockerfile"), "Dockerfile", "not a regular file")


def test_unreadable_file(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text(PINNED)
    df.chmod(0)
    try:
        if os.access(df, os.R_OK):
            pytest.skip("running as root: a chmod 000 file is still readable (test_not_a_regular_file covers an unreadable path)")
        one_line_error(run(tmp_path, "Dockerfile"), "Dockerfile", "permission denied")
    finally:
        df.chmod(0o644)


def test_latin1_file_is_linted(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes("FROM alpine\nLABEL maintainer=\"Jos\xe9\"\n".encode("latin-1"))
    got = findings(run(tmp_path, "--format", "json", "Dockerfile"))
    assert [f["rule"] for f in got] == ["EX100"]


def test_stdin(tmp_path: Path) -> None:
    proc = run(tmp_path, "--format", "json", "-", stdin=LATEST.encode())
    got = findings(proc)
    assert proc.returncode == 1 and [(f["rule"], f["file"]) for f in got] == [("EX100", "-")]
    proc = run(tmp_path, "--format", "json", "--stdin-filename", "docker/Dockerfile", "-", stdin=LATEST.encode())
    assert [f["file"] for f in findings(proc)] == ["docker/Dockerfile"]
    one_line_error(run(tmp_path, "-", "-", stdin=b""), "stdin")


def test_stdin_binary(tmp_path: Path) -> None:
    proc = run(tmp_path, "--format", "json", "-", stdin=b"\x00\x01\x02garbage")
    got = findings(proc)
    assert [f["rule"] for f in got] == ["LI001"] and "not a text file" in got[0]["message"]


def test_broken_rule_module(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.py").write_text("def oops(:\n")
    (tmp_path / "Dockerfile").write_text(PINNED)
    one_line_error(lintimg("--rules-dir", str(rules), "Dockerfile", cwd=tmp_path), "bad.py", "cannot load rule module", "SyntaxError")


def test_plugin_that_fails_while_registering_is_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "angry.py").write_text(
        "from lintimg.engine.hookspecs import hookimpl\n\n@hookimpl\ndef lintimg_rules():\n    raise RuntimeError('no rules today')\n"
    )
    (tmp_path / "Dockerfile").write_text(PINNED)
    one_line_error(lintimg("--rules-dir", str(rules), "Dockerfile", cwd=tmp_path), "plugin angry.py:5 failed to provide its rules", "no rules today")


def test_rule_that_crashes_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "crashy.py").write_text('''
import sys
from lintimg.findings import Severity
from lintimg.engine.hookspecs import hookimpl
from lintimg.engine.rule import rule, rules_in


@rule("ZZ901", "always-crashes", Severity.INFO)
def always_crashes(t):
    """Crashes.

    ## What it does
    Divides by zero.

    ## Why it matters
    Tests.

    ## Example
    Any.

    ## Fix
    None.
    """
    return [1 / 0]


@hookimpl
def lintimg_rules():
    return rules_in(sys.modules[__name__])
''')
    (tmp_path / "Dockerfile").write_text(PINNED)
    proc = lintimg("--rules-dir", str(rules), "--select", "ZZ901", "-f", "json", "Dockerfile", cwd=tmp_path)
    got = findings(proc)
    assert proc.returncode == 1
    assert [f["rule"] for f in got] == ["LI002"]
    assert "ZZ901" in got[0]["message"] and "ZeroDivisionError" in got[0]["message"]


SELF_STOPPING_RULE = '''
import os, signal, sys, time
from lintimg.findings import Severity
from lintimg.engine.hookspecs import hookimpl
from lintimg.engine.rule import rule, rules_in


@rule("ZZ902", "stopped-while-running", Severity.INFO)
def stopped_while_running(t):
    """Is stopped while it runs.

    ## What it does
    Sends its own process SIGTERM and waits.

    ## Why it matters
    Tests.

    ## Example
    Any.

    ## Fix
    None.
    """
    {body}
    return []


@hookimpl
def lintimg_rules():
    return rules_in(sys.modules[__name__])
'''


@pytest.mark.parametrize("body", [
    "os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)",
    # a rule (or a library it calls) that handles every error also catches the stop the signal raises in it
    "try:\n        os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)\n    except Exception:\n        pass",
], ids=["raised", "caught-by-the-rule"])
def test_a_signal_while_a_rule_runs_ends_the_run_and_is_no_rule_crash(tmp_path: Path, body: str) -> None:
    """The rule is the last one of the only file: nothing after it checks the run's clock but the engine."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "selfstop.py").write_text(SELF_STOPPING_RULE.format(body=body))
    (tmp_path / "Dockerfile").write_text(PINNED)
    proc = lintimg("--rules-dir", str(rules), "--select", "ZZ902", "--no-cache", "Dockerfile", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (143, "", "lintimg: stopped by SIGTERM\n")


# --- discovery --------------------------------------------------------------

def test_directory_discovery_names(tmp_path: Path) -> None:
    wanted = ["Dockerfile", "svc/api.Dockerfile", "svc/web.dockerfile", "svc/Dockerfile.prod", "podman/Containerfile"]
    unwanted = ["svc/Dockerfile.dockerignore", "svc/.dockerignore", "notes.txt", "node_modules/pkg/Dockerfile", ".git/Dockerfile"]
    for rel in wanted + unwanted:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(PINNED)
    doc = json.loads(run(tmp_path, "--format", "json", ".").stdout)
    assert sorted(doc["files"]) == sorted(wanted)


def test_explicit_dockerignore_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    (tmp_path / "Dockerfile.dockerignore").write_text("node_modules\n")
    doc = json.loads(run(tmp_path, "--format", "json", "Dockerfile", "Dockerfile.dockerignore").stdout)
    assert doc["files"] == ["Dockerfile"]


# --- colour -----------------------------------------------------------------

def on_a_tty(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run lintimg with stdout on a pseudo-terminal and return what it printed."""
    main, child = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update({"PYTHONPATH": str(REPO), **env})
    proc = subprocess.Popen([sys.executable, "-m", "lintimg", *args], cwd=cwd, stdout=child, stderr=subprocess.PIPE, env=full_env)
    os.close(child)
    out = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(main)
    assert b"Traceback" not in proc.stderr.read()
    return out.decode("utf-8", "replace")


def test_colour_only_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    base = ["--rules-dir", str(EXAMPLE_RULES), "--select", "EX100", "Dockerfile"]
    assert "\x1b[" in on_a_tty(base, tmp_path, {})
    assert "\x1b[" not in on_a_tty(base, tmp_path, {"NO_COLOR": "1"})
    assert "\x1b[" not in on_a_tty(["--no-color", *base], tmp_path, {})
    assert "EX100" in on_a_tty(["--no-color", *base], tmp_path, {})
    assert "\x1b[" not in run(tmp_path, "Dockerfile").stdout  # a pipe


# --- rules documentation ------------------------------------------------------

def test_rules_table_doc_and_json() -> None:
    table = lintimg("rules", "--rules-dir", str(EXAMPLE_RULES))
    assert table.returncode == 0
    rows = [line.split()[0] for line in table.stdout.splitlines()[1:] if line[:2].isalpha() and line[2:5].isdigit()]
    assert "LI001" in rows and "EX100" in rows and rows == sorted(rows)

    doc = lintimg("rules", "--rules-dir", str(EXAMPLE_RULES), "example-latest-tag")
    assert doc.returncode == 0
    for section in ("## What it does", "## Why it matters", "## Example", "## Fix"):
        assert section in doc.stdout
    assert doc.stdout.startswith("# EX100 `example-latest-tag`")

    data = json.loads(lintimg("rules", "--rules-dir", str(EXAMPLE_RULES), "--format", "json").stdout)
    ex = next(r for r in data if r["id"] == "EX101")
    assert ex["slug"] == "example-password-env" and ex["severity"] == "error" and ex["subject"] == "dockerfile"
    assert ex["tags"] == ["example", "security", "secrets"] and ex["security_severity"] == 7.5
    assert ex["summary"] == "An ENV sets a password in the image."
    assert set(ex) >= {"id", "slug", "severity", "subject", "tags", "peers", "summary"}
    one = json.loads(lintimg("rules", "--format", "json", "LI001").stdout)
    assert one["id"] == "LI001" and one["peers"] == ["DL1000"]


def test_unknown_rule_doc() -> None:
    one_line_error(lintimg("rules", "LI0001"), "unknown rule 'LI0001'", "did you mean 'LI001'")


def test_version() -> None:
    proc = lintimg("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("lintimg ")


# --- one meaning per short flag, and the helpful errors where docker's habits differ -------

def test_short_flags_mean_the_same_in_every_command(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    # -f format, -t threshold, -o output, -q quiet: in check (the default command) and image alike
    proc = run(tmp_path, "-f", "json", "-t", "error", "-o", "r.json", "Dockerfile")
    assert proc.returncode == 0 and json.loads((tmp_path / "r.json").read_text())["findings"]
    for cmd in ("check", "image", "build"):
        usage = lintimg(cmd, "--help").stdout
        assert "--format" in usage and "-f FORMAT" in usage and "-t LEVEL" in usage, cmd
    build = lintimg("build", "--help").stdout
    assert "--file PATH" in build and "--tag TAG" in build


def test_build_with_docker_habits_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.dev").write_text(PINNED)
    line = one_line_error(lintimg("build", "-f", "Dockerfile.dev", ".", cwd=tmp_path), "unknown format 'Dockerfile.dev'")
    assert "--file" in line
    line = one_line_error(lintimg("build", "-t", "app:dev", ".", cwd=tmp_path), "'app:dev' is not a failure threshold")
    assert "--tag" in line


def test_quiet_statistics_and_plurals(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nENV DB_PASSWORD=abcdefghijkl\nFROM alpine\n")
    out = run(tmp_path, "-q", "Dockerfile").stdout
    assert out.splitlines() and all(line.startswith("Dockerfile:") for line in out.splitlines()), out
    stats = run(tmp_path, "--statistics", "Dockerfile").stdout.splitlines()
    assert stats[0].split()[:3] == ["2", "EX100", "example-latest-tag"] and stats[1].split()[:2] == ["1", "EX101"]
    assert stats[-1] == "3 findings in 1 file (1 error, 2 warning)"
    (tmp_path / "Dockerfile").write_text(LATEST)
    assert run(tmp_path, "Dockerfile").stdout.splitlines()[-1] == "1 finding in 1 file (1 warning)"


def test_force_color_colours_without_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    assert "\x1b[" not in run(tmp_path, "Dockerfile").stdout
    assert "\x1b[" in run(tmp_path, "Dockerfile", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run(tmp_path, "Dockerfile", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run(tmp_path, "--no-color", "Dockerfile", env={"FORCE_COLOR": "1"}).stdout


def test_excerpts_are_masked_only_where_a_secret_value_is(tmp_path: Path) -> None:
    secret = "s3cr3t-Pa55w0rd-value"
    (tmp_path / ".env").write_text(f"DB_PASSWORD={secret}\n")
    (tmp_path / "Dockerfile").write_text(f"FROM alpine:3.19\nCOPY . /app\nENV API_TOKEN={secret}\nENV LEGACY_PASSWORD {secret}\n")
    out = lintimg("Dockerfile", cwd=tmp_path).stdout
    assert secret not in out
    assert "   2 | COPY . /app\n" in out  # a secret file copied: the line holds no value, so it shows as written
    assert "   3 | ENV API_TOKEN=" in out and "   4 | ENV LEGACY_PASSWORD " in out  # the values are redacted, the names stay


def test_verbose_says_which_config(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(PINNED)
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3006]\n")
    err = lintimg("-V", "--no-context", "Dockerfile", cwd=tmp_path).stderr
    assert ".hadolint.yaml (hadolint's, converted)" in err and "rules enabled" in err
