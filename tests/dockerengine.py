"""The real Docker engine for tests: found, or skipped with a reason (failed when required)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Debian's docker.io CLI; /usr/local/bin/docker on these machines is a newer CLI without buildx.
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else (shutil.which("docker") or "docker")
BASE_TAG = "lintimg-test/busybox:1"


def required() -> bool:
    return os.environ.get("LINTIMG_REQUIRE_ENGINE") == "1"


def unavailable(reason: str):
    if required():
        pytest.fail(f"LINTIMG_REQUIRE_ENGINE=1 but {reason}")
    pytest.skip(reason)


@dataclass
class DockerEngine:
    cli: str = DOCKER

    def run(self, *args: str, input: bytes | None = None, check: bool = True, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
        e = {**os.environ, "DOCKER_BUILDKIT": "0", **(env or {})}
        proc = subprocess.run([self.cli, *args], input=input, capture_output=True, env=e, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr.decode(errors='replace')[-2000:]}")
        return proc

    def build(self, context: Path, tag: str, dockerfile: Path | None = None, *extra: str) -> str:
        args = ["build", "--network", "host", "-q", "-t", tag]
        if dockerfile is not None:
            args += ["-f", str(dockerfile)]
        self.run(*args, *extra, str(context))
        return tag

    def base_image(self) -> str:
        """A busybox base image made offline from Debian's busybox-static."""
        if self.run("image", "inspect", BASE_TAG, check=False).returncode == 0:
            return BASE_TAG
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not os.path.exists(busybox):
            unavailable("busybox-static is not installed (needed to make a base image offline)")
        with tempfile.TemporaryDirectory() as d:
            root = Path(d) / "rootfs"
            (root / "bin").mkdir(parents=True)
            (root / "tmp").mkdir()
            (root / "etc").mkdir()
            shutil.copy(busybox, root / "bin" / "busybox")
            for applet in ("sh", "ls", "cat", "rm", "echo", "mkdir", "cp", "mv", "touch", "dd", "chmod", "head", "sleep", "true", "wc", "find", "tar", "gzip", "ln"):
                (root / "bin" / applet).symlink_to("busybox")
            (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
            (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
            tar = subprocess.run(["tar", "-C", str(root), "-c", "."], capture_output=True, check=True).stdout
            self.run("import", "-", BASE_TAG, input=tar)
        return BASE_TAG


def engine_or_skip() -> DockerEngine:
    if not os.path.exists(DOCKER) and not shutil.which("docker"):
        unavailable("no docker CLI on this machine")
    eng = DockerEngine()
    try:
        proc = eng.run("info", check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        unavailable(f"docker engine not reachable: {e}")
    if proc.returncode != 0:
        unavailable("docker engine not running (start it with .ci/services.sh start)")
    return eng
