"""`.lintimg.yaml`: discovery, overrides, and one-line errors for every kind of bad file."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.clirun import EXAMPLE_RULES, lintimg, one_line_error

LATEST = "FROM alpine\nRUN true\n"  # EX100 (warning) fires on line 1


def project(tmp_path: Path, config: str | None, dockerfile: str = LATEST) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    if config is not None:
        (tmp_path / ".lintimg.yaml").write_text(config)
    return tmp_path


def run(cwd: Path, *args: str, env: dict[str, str] | None = None):
    return lintimg("--rules-dir", str(EXAMPLE_RULES), "--select", "EX100,EX101", *args, cwd=cwd, env=env)


@pytest.mark.parametrize("text, needles", [
    ("failure-treshold: warning\n", ["unknown key 'failure-treshold'", "did you mean 'failure-threshold'"]),
    ("trusted-registry: [docker.io]\n", ["unknown key 'trusted-registry'", "did you mean 'trusted-registries'"]),
    ("strict-labels: yes please\n", ["'strict-labels' must be true or false"]),
    ("max-image-size: huge\n", ["'max-image-size' must be a size"]),
    ("failure-threshold: warnings\n", ["failure-threshold must be one of", "did you mean 'warning'"]),
    ("plugins: my_plugin\n", ["'plugins' must be a list"]),
    ("rules:\n  EX100: loud\n", ["rules.EX100 must be off, on, error"]),
    ("rules:\n  EX1000: off\n", ["unknown rule 'EX1000' in 'rules'", "did you mean 'EX100'"]),
    ("rules:\n  example-latest-teg: off\n", ["unknown rule 'example-latest-teg'", "did you mean 'example-latest-tag'"]),
    ("rules: [\n  LI001: off\n", ["invalid YAML at line 3", "expected ','"]),
    ("a: b: c\n", ["invalid YAML at line 1, column 5", "mapping values are not allowed"]),
    ("- a\n- b\n", ["expected a mapping"]),
    ("rules-dirs: [no/such/folder]\n", ["'rules-dirs'", "no/such/folder", "not a folder"]),
])
def test_bad_config_is_one_line_naming_file_and_key(tmp_path: Path, text: str, needles: list[str]) -> None:
    proj = project(tmp_path, text)
    one_line_error(run(proj, "Dockerfile"), ".lintimg.yaml", *needles)


def test_config_not_utf8(tmp_path: Path) -> None:
    proj = project(tmp_path, None)
    (proj / ".lintimg.yaml").write_bytes(b"rules:\n  EX100: \xff\xfe off\n")
    one_line_error(run(proj, "Dockerfile"), ".lintimg.yaml", "cannot read config")


def test_rule_settings_change_severity_and_turn_rules_off(tmp_path: Path) -> None:
    proj = project(tmp_path, "rules:\n  example-latest-tag: error\n")
    proc = run(proj, "Dockerfile")
    assert proc.returncode == 1 and "error EX100" in proc.stdout
    # without --select, so that only the config decides (--select would turn EX100 back on)
    everything = lambda: lintimg("--rules-dir", str(EXAMPLE_RULES), "Dockerfile", cwd=proj)  # noqa: E731
    (proj / ".lintimg.yaml").unlink()
    assert "EX100" in everything().stdout
    (proj / ".lintimg.yaml").write_text("rules:\n  EX100: off\n")
    assert "EX100" not in everything().stdout


@pytest.mark.parametrize("threshold, code", [("error", 0), ("warning", 1), ("style", 1), ("none", 0)])
def test_failure_threshold_from_config(tmp_path: Path, threshold: str, code: int) -> None:
    proj = project(tmp_path, f"failure-threshold: {threshold}\n")
    assert run(proj, "Dockerfile").returncode == code


def test_fail_on_overrides_config(tmp_path: Path) -> None:
    proj = project(tmp_path, "failure-threshold: none\n")
    assert run(proj, "Dockerfile", "--fail-on", "warning").returncode == 1


def test_discovery_walks_up_to_the_repository_root(tmp_path: Path) -> None:
    # A config above the repository root must not apply; one inside it applies from subfolders.
    (tmp_path / ".lintimg.yaml").write_text("rules:\n  EX100: off\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "services" / "api"
    sub.mkdir(parents=True)
    (sub / "Dockerfile").write_text(LATEST)
    assert run(sub, "Dockerfile").returncode == 1  # the outer config was not read
    (repo / ".lintimg.yml").write_text("failure-threshold: error\n")
    assert run(sub, "Dockerfile").returncode == 0  # the repository's config applies two levels down


def test_explicit_config_and_environment(tmp_path: Path) -> None:
    proj = project(tmp_path, "failure-threshold: none\n")
    other = tmp_path / "strict.yaml"
    other.write_text("failure-threshold: warning\n")
    assert run(proj, "Dockerfile").returncode == 0
    assert run(proj, "--config", str(other), "Dockerfile").returncode == 1
    assert run(proj, "Dockerfile", env={"LINTIMG_CONFIG": str(other)}).returncode == 1
    one_line_error(run(proj, "--config", "missing.yaml", "Dockerfile"), "missing.yaml", "config file not found")


def test_ignore_paths_and_rules_dirs_are_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLE_RULES, tmp_path / "lint-rules")
    (tmp_path / ".lintimg.yaml").write_text("rules-dirs: [lint-rules]\nignore-paths: [vendor, \"build/generated/\"]\n")
    for rel in ("app/Dockerfile", "vendor/lib/Dockerfile", "build/generated/Dockerfile", "build/Dockerfile"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(LATEST)
    # run from a subfolder: the config is found upwards, and its relative paths still resolve
    proc = lintimg("--select", "EX100", "--format", "json", "..", cwd=tmp_path / "app")
    assert proc.returncode == 1, proc.stderr
    import json

    files = sorted(json.loads(proc.stdout)["files"])
    assert files == ["../app/Dockerfile", "../build/Dockerfile"]


def test_disable_ignore_pragma(tmp_path: Path) -> None:
    text = "# lintimg ignore=EX100 accepted for this demo\nFROM alpine\n"
    proj = project(tmp_path, None, text)
    assert run(proj, "Dockerfile").returncode == 0
    (proj / ".lintimg.yaml").write_text("disable-ignore-pragma: true\n")
    assert run(proj, "Dockerfile").returncode == 1
