"""`.lintimg.yaml`: discovery, overrides, and one-line errors for every kind of bad file."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.clirun import EXAMPLE_RULES, REPO, lintimg, one_line_error

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
    proc = lintimg("--trust-config", "--select", "EX100", "--format", "json", "..", cwd=tmp_path / "app")
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


# --- extends: -------------------------------------------------------------------------------


def test_extends_reads_the_shared_policy_first_and_lets_the_file_win(tmp_path: Path) -> None:
    from lintimg.config import load_config

    shared = tmp_path / "platform"
    shared.mkdir()
    (shared / "rules").mkdir()
    (shared / "base.yaml").write_text("trusted-registries: [registry.example.com]\nrules: {LI101: error, LI102: error}\n")
    (shared / "policy.yaml").write_text("extends: base.yaml\nrequire-digest: true\nrules-dirs: [rules]\nrules: {LI102: off}\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".lintimg.yaml").write_text("extends: ../platform/policy.yaml\nrules: {LI101: warning}\nrequire-digest: false\n")
    cfg = load_config(repo / ".lintimg.yaml", trusted=True)
    assert cfg.settings["trusted-registries"] == ["registry.example.com"] and cfg.settings["require-digest"] is False
    assert {k: (v.enabled, str(v.severity)) for k, v in cfg.rules.items()} == {"LI101": (True, "warning"), "LI102": (False, "None")}
    assert cfg.rules_dirs == [str(shared / "rules")], "a folder named in an extended file is relative to that file"
    assert cfg.base_dir == str(repo)
    untrusted = load_config(repo / ".lintimg.yaml")
    assert untrusted.rules_dirs == [] and untrusted.untrusted_code == [f"rules-dirs: {shared / 'rules'}"], \
        "extending a policy does not make the found config trusted"


@pytest.mark.parametrize("files, needles", [
    ({"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"}, ["extends forms a cycle"]),
    ({"a.yaml": "extends: missing.yaml\n"}, ["extends 'missing.yaml', which is not a file"]),
    ({"a.yaml": "extends: b.yaml\n", "b.yaml": "strict-labels: maybe\n"}, ["b.yaml: 'strict-labels' must be true or false"]),
    ({"a.yaml": "extends: {x: 1}\n"}, ["'extends' must be a path"]),
    ({"a.yaml": "extends: package:no_such_policy_package\n"}, ["no installed package 'no_such_policy_package'"]),
    ({"a.yaml": "extends: package:../etc\n"}, ["is not a package name"]),
])
def test_bad_extends_is_one_line_naming_the_file(tmp_path: Path, files: dict[str, str], needles: list[str]) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "Dockerfile").write_text(LATEST)
    one_line_error(lintimg("--config", str(tmp_path / "a.yaml"), "Dockerfile", cwd=tmp_path), *needles)


def test_extends_a_package_finds_its_policy_without_importing_it(tmp_path: Path) -> None:
    pkg = tmp_path / "site" / "acme_policy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise SystemExit('imported: code ran')\n")
    (pkg / "lintimg-policy.yaml").write_text("rules: {EX100: error}\n")
    (pkg / "strict.yaml").write_text("rules: {EX100: off}\n")
    (tmp_path / "proj").mkdir()
    proj = project(tmp_path / "proj", "extends: package:acme_policy\n")
    env = {"PYTHONPATH": os.pathsep.join((str(REPO), str(tmp_path / "site")))}
    proc = run(proj, "Dockerfile", env=env)
    assert proc.returncode == 1 and "error EX100" in proc.stdout and "imported" not in proc.stderr
    (proj / ".lintimg.yaml").write_text("extends: package:acme_policy/strict.yaml\nrules: {EX101: off}\n")
    assert "EX100" not in lintimg("--rules-dir", str(EXAMPLE_RULES), "Dockerfile", cwd=proj, env=env).stdout


MARKER = "import pathlib\npathlib.Path(__file__).resolve().parent.parent.joinpath('RAN').write_text('code ran')\n"


def _checkout(tmp_path: Path, config: str) -> Path:
    """A checked-out repository whose .lintimg.yaml asks to load code; its rule file leaves RAN when run."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLE_RULES, tmp_path / "lint-rules")
    (tmp_path / "lint-rules" / "marker.py").write_text(MARKER)
    (tmp_path / ".lintimg.yaml").write_text(config)
    (tmp_path / "Dockerfile").write_text(LATEST)
    return tmp_path


def test_a_discovered_config_loads_no_code_and_says_so(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "rules-dirs: [lint-rules]\nplugins: [this]\n")
    proc = lintimg("--no-context", "--format", "json", "Dockerfile", cwd=repo, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert proc.returncode in (0, 1), proc.stderr
    assert not (repo / "RAN").exists()
    assert "Beautiful is better" not in proc.stdout  # `import this` prints the Zen
    notice = proc.stderr.strip().splitlines()
    assert len(notice) == 1 and "not loading code" in notice[0] and "rules-dirs: lint-rules" in notice[0] and "plugins: this" in notice[0]
    assert "--trust-config" in notice[0] and "EX100" not in proc.stdout


def test_trust_comes_from_the_command_line_or_the_user_config(tmp_path: Path) -> None:
    repo = _checkout(tmp_path, "rules-dirs: [lint-rules]\n")
    xdg = tmp_path / "xdg"
    proc = lintimg("--trust-config", "--no-context", "--format", "json", "Dockerfile", cwd=repo, env={"XDG_CONFIG_HOME": str(xdg)})
    assert proc.returncode == 1 and "EX100" in proc.stdout and (repo / "RAN").exists() and proc.stderr == ""
    (repo / "RAN").unlink()
    (xdg / "lintimg").mkdir(parents=True)
    (xdg / "lintimg" / "config.yaml").write_text(f"trusted-configs: [{repo}]\n")
    proc = lintimg("--no-context", "--format", "json", "Dockerfile", cwd=repo, env={"XDG_CONFIG_HOME": str(xdg)})
    assert proc.returncode == 1 and "EX100" in proc.stdout and (repo / "RAN").exists() and proc.stderr == ""


def test_the_user_config_loads_its_own_code_and_holds_only_its_keys(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(LATEST)
    xdg = tmp_path / "xdg"
    (xdg / "lintimg").mkdir(parents=True)
    (xdg / "lintimg" / "config.yaml").write_text(f"rules-dirs: [{EXAMPLE_RULES}]\n")
    proc = lintimg("--no-context", "--format", "json", "Dockerfile", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(xdg)})
    assert proc.returncode == 1 and "EX100" in proc.stdout
    (xdg / "lintimg" / "config.yaml").write_text("failure-threshold: none\n")
    one_line_error(lintimg("Dockerfile", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(xdg)}), "config.yaml", "holds only")


@pytest.mark.parametrize("text, needles", [
    ('plugins: [""]\n', ["'plugins' must list importable module names"]),
    ("plugins: [os]\n", ["plugin 'os' provides no lintimg hooks"]),
    ("trusted-configs: [/]\n", ["'trusted-configs' is read only from the user config"]),
    ("max-image-size: inf\n", ["'max-image-size' must be a size"]),
    ("max-image-size: 1e400\n", ["'max-image-size' must be a size"]),
    ("allowed-base-images: &a [x, *a]\n", ["aliases (*name) are not allowed"]),
])
def test_code_and_size_keys_are_checked_as_the_trusted_config_is_read(tmp_path: Path, text: str, needles: list[str]) -> None:
    proj = project(tmp_path, text)
    one_line_error(lintimg("--trust-config", "--config", ".lintimg.yaml", "Dockerfile", cwd=proj), ".lintimg.yaml", *needles)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    text = "&a0 [" + ",".join(["lol"] * 9) + "]"
    for k in range(1, 9):
        text = f"&a{k} [{text}" + f",*a{k - 1}" * 8 + "]"  # 9**9 values once expanded
    proj = project(tmp_path, "allowed-base-images: " + text + "\n")
    line = one_line_error(lintimg("--config", ".lintimg.yaml", "Dockerfile", cwd=proj), ".lintimg.yaml", "aliases")
    assert len(line) < 400


@pytest.mark.parametrize("how", ["config", "env"])
def test_a_config_that_is_a_fifo_is_refused_not_waited_for(tmp_path: Path, how: str) -> None:
    import os

    proj = project(tmp_path, None)
    os.mkfifo(proj / "cfg.yaml")
    args = ("--config", "cfg.yaml") if how == "config" else ()
    env = {"LINTIMG_CONFIG": str(proj / "cfg.yaml")} if how == "env" else None
    one_line_error(lintimg(*args, "Dockerfile", cwd=proj, env=env), "cfg.yaml", "not a regular file")
