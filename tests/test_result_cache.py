"""Findings kept between runs (lintimg.run.cache): reused only while nothing they depend on changed.

Every test runs the real CLI. A counting rule (a --rules-dir plugin that appends to a log each
time it runs) tells a run whose findings came from the cache from one that checked the file.
Files are given an mtime an hour back, as files not written this second have: a stamp of a file
written within the last two seconds is not trusted (a second write in the same clock tick could
go unseen), so such a run keeps nothing; one test checks exactly that.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lintimg.findings import Edit, Finding, ImageLocation, Location, Safety, Severity
from lintimg.run.cache import Unstorable, dumps, encode, loads
from tests.clirun import REPO, lintimg

COUNTING_RULE = '''
from lintimg.engine import hookimpl, rule
from lintimg.findings import Hit, Severity


@rule("LX901", "counting", Severity.INFO)
def counting(t):
    """Counts the times it runs.

    ## What it does
    Appends the file's path to a log.

    ## Why it matters
    Tests tell a checked file from a cached one.

    ## Example
    Any file.

    ## Fix
    Nothing.
    """
    with open({log!r}, "a") as fh:
        fh.write(t.path + "\\n")
    yield Hit({message!r}, line=1)


@hookimpl
def lintimg_rules():
    return [counting]
'''

DOCKERFILE = "FROM debian:12\nCOPY app.txt /app/\nRUN apt-get update && apt-get install -y curl\n"


def age(*paths: Path, seconds: int = 3600) -> None:
    """Give files (and everything under folders) an mtime ``seconds`` back."""
    when = time.time() - seconds
    for p in paths:
        for q in [p, *(p.rglob("*") if p.is_dir() else [])]:
            os.utime(q, (when, when), follow_symlinks=False)


class Project:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.ctx = tmp / "ctx"
        self.ctx.mkdir()
        (self.ctx / "Dockerfile").write_text(DOCKERFILE)
        (self.ctx / "app.txt").write_text("hello\n")
        self.rules = tmp / "rules"
        self.rules.mkdir()
        self.log = tmp / "runs.log"
        self.write_rule("counted")
        self.cache = tmp / "cache"
        age(self.ctx, self.rules)

    def write_rule(self, message: str) -> None:
        (self.rules / "counting.py").write_text(COUNTING_RULE.format(log=str(self.log), message=message))

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> dict:
        proc = lintimg("--format", "json", "--rules-dir", str(self.rules), *args, str(self.ctx / "Dockerfile"), cwd=cwd or self.tmp,
                       env={"XDG_CACHE_HOME": str(self.cache), "LINTIMG_NO_CACHE": "0", **(env or {})})
        assert proc.returncode in (0, 1), proc.stderr
        data: dict = json.loads(proc.stdout)
        return data

    def checks(self) -> int:
        """How many times a file was checked (not taken from the cache)."""
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def entries(self) -> list[Path]:
        return sorted((self.cache / "lintimg" / "results").rglob("*.json"))


def ids(report: dict) -> list[tuple[str, str, str]]:
    return [(f["rule"], f["severity"], f["message"]) for f in report["findings"]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_a_second_run_reuses_the_findings_and_reports_the_same(project):
    cold = project.run()
    assert project.checks() == 1 and len(project.entries()) == 1
    assert any(r == "LI301" for r, _, _ in ids(cold))  # the built-in rules ran too
    warm = project.run()
    assert project.checks() == 1  # not checked again
    assert warm == cold
    text_cold = lintimg("--no-color", "--rules-dir", str(project.rules), "--no-cache", str(project.ctx / "Dockerfile"), cwd=project.tmp)
    text_warm = lintimg("--no-color", "--rules-dir", str(project.rules), str(project.ctx / "Dockerfile"), cwd=project.tmp,
                        env={"XDG_CACHE_HOME": str(project.cache), "LINTIMG_NO_CACHE": "0"})
    assert text_warm.stdout == text_cold.stdout and text_warm.returncode == text_cold.returncode


def test_an_edited_dockerfile_is_checked_again(project):
    before = project.run()
    (project.ctx / "Dockerfile").write_text(DOCKERFILE.replace("-y curl", "-y curl wget"))
    age(project.ctx / "Dockerfile", seconds=1800)
    after = project.run()
    assert project.checks() == 2
    assert ids(after) != ids(before)


def test_a_change_to_a_file_copy_reads_is_seen(project):
    config = project.tmp / ".lintimg.yaml"
    config.write_text("max-copy-size: 1KB\n")
    age(config)
    small = project.run()
    assert not [f for f in small["findings"] if f["rule"] == "LI405"]
    project.run()
    assert project.checks() == 1
    (project.ctx / "app.txt").write_bytes(b"x" * 5000)  # the file COPY sends grows over max-copy-size
    age(project.ctx / "app.txt", seconds=1800)
    big = project.run()
    assert project.checks() == 2
    assert [f for f in big["findings"] if f["rule"] == "LI405"]


def test_a_new_file_in_a_copied_folder_is_seen(project):
    (project.ctx / "Dockerfile").write_text("FROM debian:12\nCOPY . /app/\n")
    age(project.ctx)
    project.run()
    project.run()
    assert project.checks() == 1
    key = project.ctx / "id_rsa"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    age(key, seconds=1800)
    report = project.run()
    assert project.checks() == 2
    assert [f for f in report["findings"] if f["rule"] == "LI402"]  # the key COPY . now sends


def test_a_changed_config_checks_again(project):
    config = project.tmp / ".lintimg.yaml"
    config.write_text("rules:\n  LI301: error\n")
    age(config)
    first = project.run()
    assert ("LI301", "error") in {(r, s) for r, s, _ in ids(first)}
    config.write_text("rules:\n  LI301: style\n")
    age(config, seconds=1800)
    second = project.run()
    assert project.checks() == 2
    assert ("LI301", "style") in {(r, s) for r, s, _ in ids(second)}
    project.run("--ignore", "LI301")  # narrowing the rules on the command line is a change too
    assert project.checks() == 3


def test_a_changed_rule_plugin_checks_again(project):
    project.run()
    project.write_rule("counted, reworded")
    age(project.rules, seconds=1800)
    report = project.run()
    assert project.checks() == 2
    assert ("LX901", "info", "counted, reworded") in ids(report)


def test_a_new_commit_checks_a_context_in_git_again(project):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", str(project.ctx)], check=True)
    subprocess.run([*git, "-C", str(project.ctx), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(project.ctx), "commit", "-qm", "one"], check=True)
    age(project.ctx)
    project.run()
    project.run()
    assert project.checks() == 1
    subprocess.run([*git, "-C", str(project.ctx), "commit", "-q", "--allow-empty", "-m", "two"], check=True)
    project.run()  # LI407 counts commits touching what COPY sends: another commit may change it
    assert project.checks() == 2


def test_a_file_written_this_second_is_not_trusted_until_later(project):
    project.run()
    (project.ctx / "app.txt").write_text("changed\n")  # now: a second write in this tick could go unseen
    project.run()
    project.run()
    assert project.checks() == 3  # nothing kept while app.txt is this fresh
    age(project.ctx / "app.txt", seconds=1800)
    project.run()
    project.run()
    assert project.checks() == 4


def test_no_cache_and_the_environment_switch_turn_it_off(project):
    project.run("--no-cache")
    project.run("--no-cache")
    project.run(env={"LINTIMG_NO_CACHE": "1"})
    assert project.checks() == 3
    assert project.entries() == []


def test_a_corrupt_or_foreign_entry_is_checked_again(project):
    cold = project.run()
    for garbage in ('{"torn', '{"key": "another", "findings": [], "probes": []}', '[1, 2]',
                    '{"key": "%s", "findings": [{"$d": "Nope", "f": {}}], "probes": []}',
                    '{"key": "%s", "findings": "[{\\"$d\\": \\"Nope\\", \\"f\\": []}]", "notes": [], "probes": []}',
                    '{"key": "%s", "findings": "[{\\"rule_id\\": \\"LI001\\"}]", "notes": [], "probes": []}'):
        (entry,) = project.entries()
        entry.write_text(garbage.replace("%s", entry.stem) if "%s" in garbage else garbage)
        assert project.run() == cold
    assert project.checks() == 7
    assert project.run() == cold and project.checks() == 7  # rewritten whole


def test_the_working_directory_is_in_the_key(project):
    # messages name context paths relative to where lintimg runs
    project.run(cwd=project.tmp)
    project.run(cwd=project.ctx)
    assert project.checks() == 2


def test_concurrent_runs_share_the_cache_safely(project):
    env = {**os.environ, "XDG_CACHE_HOME": str(project.cache), "PYTHONPATH": str(REPO)}
    env.pop("LINTIMG_NO_CACHE", None)
    cmd = [sys.executable, "-m", "lintimg", "--format", "json", "--rules-dir", str(project.rules), str(project.ctx / "Dockerfile")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=project.tmp) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode in (0, 1) for p in procs), [e for _, e in outs]
    reports = [json.loads(o) for o, _ in outs]
    assert all(r == reports[0] for r in reports)
    assert not [p for p in (project.cache / "lintimg" / "results").rglob("*") if p.name.startswith(".tmp-")]
    for p in project.entries():
        json.loads(p.read_text())  # every entry whole
    before = project.checks()
    assert project.run() == reports[0] and project.checks() == before


USER_POLICY = "allowed-users: ['10000-65535']\n"
NO_USER = 'FROM {base}\nCMD ["/app"]\n'  # no USER line: the base image's user decides (LI905)


def li905(report: dict) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule"] == "LI905"]


@pytest.mark.engine
def test_a_base_image_that_changed_in_the_engine_is_seen(project, docker, tmp_path):
    tag = "lintimg-test/cache-base-user:1"
    base = tmp_path / "base"
    base.mkdir()

    def base_runs_as(user: str) -> None:
        (base / "Dockerfile").write_text(f"FROM {docker.base_image()}\nUSER {user}\n")
        docker.build(base, tag)

    base_runs_as("20000")
    (project.ctx / "Dockerfile").write_text(NO_USER.format(base=tag))
    (project.tmp / ".lintimg.yaml").write_text(USER_POLICY)
    age(project.ctx, project.tmp / ".lintimg.yaml")
    env = {"LINTIMG_BASE_IMAGE_LOOKUP": "local"}
    assert li905(project.run(env=env)) == []
    assert li905(project.run(env=env)) == [] and project.checks() == 1  # the engine answers the same: reused
    base_runs_as("0")  # same tag, now an image that runs as root
    (msg,) = li905(project.run(env=env))
    assert "runs as '0'" in msg and "read from the engine" in msg
    assert project.checks() == 2


def test_base_image_lookups_of_another_mode_check_again(project):
    (project.ctx / "Dockerfile").write_text(NO_USER.format(base="example.invalid/team/base:1"))
    (project.tmp / ".lintimg.yaml").write_text(USER_POLICY)
    age(project.ctx, project.tmp / ".lintimg.yaml")
    (off,) = li905(project.run(env={"LINTIMG_BASE_IMAGE_LOOKUP": "off"}))
    assert "lookups are off" in off
    project.run(env={"LINTIMG_BASE_IMAGE_LOOKUP": "off"})
    assert project.checks() == 1
    (local,) = li905(project.run(env={"LINTIMG_BASE_IMAGE_LOOKUP": "local"}))
    assert "not in the local engine" in local and project.checks() == 2


def test_a_lookup_that_failed_for_now_is_not_kept(project):
    # Nothing listens on port 9 of this host: the registry is unreachable, which may not be so next time.
    (project.ctx / "Dockerfile").write_text(NO_USER.format(base="127.0.0.1:9/team/base:1"))
    (project.tmp / ".lintimg.yaml").write_text(USER_POLICY)
    age(project.ctx, project.tmp / ".lintimg.yaml")
    env = {"LINTIMG_BASE_IMAGE_LOOKUP": "registry"}
    (msg,) = li905(project.run(env=env))
    assert "could not be looked up" in msg
    project.run(env=env)
    assert project.checks() == 2 and project.entries() == []


def test_every_field_of_a_finding_comes_back_as_it_was():
    f = Finding(
        rule_id="LI999", slug="some-rule", severity=Severity.STYLE, message="m ✓",
        location=Location("a/Dockerfile", 3, 4, 5, 6), fix="do this",
        image=ImageLocation("img:1", 2, "sha256:ab", "/etc/x", "RUN x"), key="k",
        properties={"n": 1, "pair": (1, "x"), "nested": {"list": [1.5, None, True]}},
        target="a/Dockerfile", anchor="build:1f2e",
        edits=(Edit(3, 4, 3, 4, "-y "), Edit(5, 1, 6, 2, "")), safety=Safety.UNSAFE,
    )
    covered = {"rule_id", "slug", "severity", "message", "location", "fix", "image", "key", "properties", "target", "anchor", "edits", "safety"}
    import dataclasses

    # A field added to Finding must be set above (and its type stored): a new one fails here first.
    assert {x.name for x in dataclasses.fields(Finding)} == covered
    back = loads(dumps([f]))[0]
    assert back == f
    assert isinstance(back.severity, Severity) and back.properties["pair"] == (1, "x")
    assert back.safety is Safety.UNSAFE and back.edits[0] == Edit(3, 4, 3, 4, "-y ")


def test_values_a_cache_cannot_hold_are_refused():
    with pytest.raises(Unstorable):
        encode({"x": object()})
    with pytest.raises(Unstorable):
        encode({1: "key that is not a string"})
    with pytest.raises(KeyError):
        loads('{"$d": "Path", "f": []}')  # only lintimg.findings' own types come back
    with pytest.raises(ValueError):
        loads('[{"rule_id": "LI001"}]')  # every object is a tagged value


def _finding(message: str, path: str) -> Finding:
    return Finding(rule_id="LI999", slug="some-rule", severity=Severity.INFO, message=message, location=Location(path, 1, 1))


def test_an_entry_keeps_no_secret_and_a_batch_without_one_is_kept_as_found(tmp_path):
    """put_all finds the secrets of a batch's texts at once: with one anywhere, every entry is masked on its
    own; without any, the entries are kept as found (no masking pass)."""
    from lintimg.config import Config
    from lintimg.context.observe import Observations
    from lintimg.engine import Engine
    from lintimg.run.cache import ResultCache

    password = "Sup3rS3cretPassw0rdXyz"
    secret = _finding(f"curl -u deploy:{password} https://x", "a/Dockerfile")
    clean = [_finding("apt-get install without a version: curl", "b/Dockerfile"), _finding("note ✓ \x1b", "b/Dockerfile")]
    cache = ResultCache(Engine(Config()), root=tmp_path)
    cache.put_all([("k1", [secret], [], Observations()), ("k2", clean, ["a note"], Observations())])
    kept = b"".join(p.read_bytes() for p in tmp_path.rglob("*.json"))
    assert len(list(tmp_path.rglob("*.json"))) == 2 and password.encode() not in kept
    ((masked,), _), (back, notes) = cache.get("k1"), cache.get("k2")
    assert masked.message.startswith("curl -u deploy:") and password not in masked.message
    assert back == clean and notes == ["a note"]
    cache.put_all([("k3", clean, [], Observations())])
    assert cache.get("k3") == (clean, [])
