"""The pre-commit hook as users run it: `pre-commit try-repo` installs this repository and runs the hook."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.clirun import EXAMPLES, REPO

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
    img = hook("lintimg-image")
    assert img["pass_filenames"] is False and img["stages"] == ["manual"]


def _pre_commit() -> list[str]:
    if shutil.which("pre-commit"):
        return ["pre-commit"]
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    return [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory) -> Path:
    """A git repository with one good and one broken Dockerfile, as a pre-commit user would have."""
    root = tmp_path_factory.mktemp("user-repo")
    shutil.copytree(EXAMPLES / "good", root / "good")
    (root / "bad").mkdir()
    shutil.copy(EXAMPLES / "broken" / "Dockerfile", root / "bad" / "Dockerfile")
    git = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init")
    return root


def try_repo(user_repo: Path, tmp_path_factory, *files: str) -> subprocess.CompletedProcess:
    home = tmp_path_factory.getbasetemp() / "pre-commit-home"  # shared by the calls: one venv build
    env = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "PYTHONPATH")}
    env.update({"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1"})
    return subprocess.run(
        [*_pre_commit(), "try-repo", str(REPO), "lintimg", "--verbose", "--files", *files],
        cwd=user_repo, env=env, capture_output=True, text=True, timeout=900,
    )


def test_good_dockerfile_passes_the_hook(user_repo: Path, tmp_path_factory) -> None:
    proc = try_repo(user_repo, tmp_path_factory, "good/Dockerfile")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"lintimg \(Dockerfiles\)\.+Passed", out), out[-3000:]


def test_broken_dockerfile_fails_the_hook(user_repo: Path, tmp_path_factory) -> None:
    proc = try_repo(user_repo, tmp_path_factory, "bad/Dockerfile", "good/Dockerfile")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert re.search(r"lintimg \(Dockerfiles\)\.+Failed", out), out[-3000:]
    assert "bad/Dockerfile:2:1: error LI001 parse-error" in out
    assert "Traceback" not in out


def test_files_that_are_not_dockerfiles_are_not_passed(user_repo: Path, tmp_path_factory) -> None:
    proc = try_repo(user_repo, tmp_path_factory, "good/requirements.txt", "good/.dockerignore")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"lintimg \(Dockerfiles\)\.+\(no files to check\)Skipped", out), out[-3000:]
