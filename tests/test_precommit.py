"""The pre-commit hook as users run it: a .pre-commit-config.yaml pins a copy of this repository, `pre-commit run` installs it and runs the hook."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.clirun import EXAMPLES, REPO, copy_checkout

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())


def hook(hook_id: str) -> dict:
    return next(h for h in HOOKS if h["id"] == hook_id)


@pytest.mark.parametrize("name, matched", [
    ("Dockerfile", True), ("deploy/Dockerfile", True), ("svc/api.Dockerfile", True), ("web.dockerfile", True),
    ("Dockerfile.prod", True), ("Containerfile", True), ("podman/Containerfile.dev", True),
    ("Dockerfile.dockerignore", False), (".dockerignore", False), ("svc/.dockerignore", False),
    ("docker-compose.yml", False), ("README.md", False), ("MyDockerfile", False),
])
def test_hook_files_regex(name: str, matched: bool) -> None:
    assert bool(re.search(hook("lintimg")["files"], name)) is matched


def test_hook_manifest_fields() -> None:
    h = hook("lintimg")
    assert (h["language"], h["entry"], h["types"], h["require_serial"]) == ("python", "lintimg", ["text"], True)
    served = hook("lintimg-daemon")  # the same hook through the resident server
    assert served["entry"] == "lintimg --daemon" and {k: v for k, v in served.items() if k not in ("id", "name", "description", "entry")} == \
        {k: v for k, v in h.items() if k not in ("id", "name", "description", "entry")}
    img = hook("lintimg-image")
    assert img["pass_filenames"] is False and img["stages"] == ["manual"]


def _pre_commit() -> list[str]:
    found = shutil.which("pre-commit")
    if found:
        return [found]  # its full path: a test may narrow PATH
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    return [sys.executable, "-m", "pre_commit"]


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, Path]:
    """(a copy of lintimg committed and tagged with the README's pinned rev, the PRE_COMMIT_HOME every call shares).
    Users pin a rev in .pre-commit-config.yaml; pre-commit builds the hook's environment once per (repo, rev)
    and reuses it, so the calls here build it once too."""
    copy = copy_checkout(tmp_path_factory.mktemp("lintimg-copy"), commit=True)
    _git("tag", _readme_snippets()[0]["repos"][0]["rev"], cwd=copy)  # the README's instruction
    return copy, tmp_path_factory.mktemp("pre-commit-home")


def _hook_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "PYTHONPATH")}
    env.update({"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1"})
    return env


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory, hook_repo: tuple[Path, Path]) -> Path:
    """A git repository with one good and one broken Dockerfile and a .pre-commit-config.yaml using the hook
    from the pinned copy, as a pre-commit user would have."""
    root = tmp_path_factory.mktemp("user-repo")
    shutil.copytree(EXAMPLES / "good", root / "good")
    (root / "bad").mkdir()
    shutil.copy(EXAMPLES / "broken" / "Dockerfile", root / "bad" / "Dockerfile")
    rev = _readme_snippets()[0]["repos"][0]["rev"]
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": str(hook_repo[0]), "rev": rev, "hooks": [{"id": "lintimg"}]}]}))
    _git("init", "-q", cwd=root)
    _git("add", ".", cwd=root)
    _git("commit", "-q", "-m", "init", cwd=root)
    return root


def run_hook(user_repo: Path, hook_repo: tuple[Path, Path], *files: str) -> subprocess.CompletedProcess:
    """``pre-commit run --files FILES`` in the user's repository, as a commit touching those files runs it."""
    return subprocess.run([*_pre_commit(), "run", "--verbose", "--files", *files],
                          cwd=user_repo, env=_hook_env(hook_repo[1]), capture_output=True, text=True, timeout=900)


def test_good_dockerfile_passes_the_hook(user_repo: Path, hook_repo: tuple[Path, Path]) -> None:
    proc = run_hook(user_repo, hook_repo, "good/Dockerfile")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"lintimg \(Dockerfiles\)\.+Passed", out), out[-3000:]


def test_broken_dockerfile_fails_the_hook(user_repo: Path, hook_repo: tuple[Path, Path]) -> None:
    proc = run_hook(user_repo, hook_repo, "bad/Dockerfile", "good/Dockerfile")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert re.search(r"lintimg \(Dockerfiles\)\.+Failed", out), out[-3000:]
    assert "bad/Dockerfile:2:1: error LI001 parse-error" in out
    assert "Traceback" not in out


def test_files_that_are_not_dockerfiles_are_not_passed(user_repo: Path, hook_repo: tuple[Path, Path]) -> None:
    proc = run_hook(user_repo, hook_repo, "good/requirements.txt", "good/.dockerignore")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"lintimg \(Dockerfiles\)\.+\(no files to check\)Skipped", out), out[-3000:]


def _readme_snippets() -> tuple[dict, dict]:
    """The README's two .pre-commit-config.yaml snippets: pinned to a rev, and repo: local."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("### pre-commit", 1)[1].split("\n### ", 1)[0]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    pinned = next(b for b in blocks if b["repos"][0]["repo"] != "local")
    local = next(b for b in blocks if b["repos"][0]["repo"] == "local")
    return pinned, local


def _without_shellcheck(env: dict[str, str]) -> dict[str, str]:
    """PATH with no folder that holds a shellcheck (the hook must bring its own)."""
    keep = [d for d in env.get("PATH", "").split(os.pathsep) if d and not os.path.exists(os.path.join(d, "shellcheck"))]
    return {**env, "PATH": os.pathsep.join(keep)}


def test_readme_snippet_pinned_to_a_tag_runs_and_brings_shellcheck(user_repo: Path, hook_repo: tuple[Path, Path], tmp_path_factory) -> None:
    """As the README says: a tag created in a copy of lintimg, the snippet with that copy's path as repo."""
    pinned, _ = _readme_snippets()
    spec = pinned["repos"][0]
    repo = tmp_path_factory.mktemp("project")
    shutil.copytree(user_repo / "good", repo / "good")
    (repo / "good" / "Dockerfile").write_text((repo / "good" / "Dockerfile").read_text() + "RUN echo $1 && ls `pwd`\n")
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{**spec, "repo": str(hook_repo[0])}]}))
    _git("init", "-q", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "init", cwd=repo)
    proc = subprocess.run([*_pre_commit(), "run", "--all-files", "--verbose"], cwd=repo, env=_without_shellcheck(_hook_env(hook_repo[1])),
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert "SC2006" in out and "LI390" in out, out[-3000:]  # ShellCheck ran inside the hook's own environment
    assert "shellcheck not found" not in out


def test_readme_local_hook_runs_the_installed_lintimg(user_repo: Path, tmp_path_factory) -> None:
    _, local = _readme_snippets()
    hook_spec = local["repos"][0]["hooks"][0]
    for name, matched in (("Dockerfile", True), ("svc/api.Dockerfile", True), ("Dockerfile.prod", True), ("Containerfile", True),
                          ("web.dockerfile", True), (".dockerignore", False), ("Dockerfile.dockerignore", False), ("README.md", False)):
        assert bool(re.search(hook_spec["files"], name)) is matched, name
    repo = tmp_path_factory.mktemp("project-local")
    shutil.copytree(user_repo / "good", repo / "good")
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(local))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "PYTHONPATH")}
    env.update({"PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit-home-local"), "PRE_COMMIT_COLOR": "never",
                "PATH": os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])})
    proc = subprocess.run([*_pre_commit(), "run", "--all-files"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and re.search(r"lintimg\.+Passed", proc.stdout), proc.stdout[-3000:] + proc.stderr[-2000:]
