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


def test_readme_snippet_pinned_to_a_tag_runs_and_brings_shellcheck(user_repo: Path, tmp_path_factory) -> None:
    """As the README says: a tag created in a copy of lintimg, the snippet with that copy's path as repo."""
    pinned, _ = _readme_snippets()
    spec = pinned["repos"][0]
    copy = copy_checkout(tmp_path_factory.mktemp("lintimg-copy"), commit=True)
    git = lambda *a, cwd=copy: subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *a], cwd=cwd, check=True, capture_output=True)  # noqa: E731
    git("tag", spec["rev"])  # the README's instruction
    repo = tmp_path_factory.mktemp("project")
    shutil.copytree(user_repo / "good", repo / "good")
    (repo / "good" / "Dockerfile").write_text((repo / "good" / "Dockerfile").read_text() + "RUN echo $1 && ls `pwd`\n")
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{**spec, "repo": str(copy)}]}))
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "init", cwd=repo)
    env = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "PYTHONPATH")}
    env.update({"PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit-home-pinned"), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1"})
    proc = subprocess.run([*_pre_commit(), "run", "--all-files", "--verbose"], cwd=repo, env=_without_shellcheck(env),
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
