"""``lintimg build``: build an image with the local engine, BuildKit where it works, else the classic builder.

Nothing about this machine is assumed: the CLI is ``$LINTIMG_DOCKER`` or
``docker`` on PATH; BuildKit is used when the CLI has buildx, or is a CLI
older than 23 (which carries its own BuildKit client), unless the user set
``DOCKER_BUILDKIT=0``; a BuildKit build that fails because BuildKit itself is
unusable is retried once with the classic builder. When the engine has no
``bridge`` network (a daemon run with ``--bridge=none``), builds use the host
network, since RUN steps could reach nothing otherwise.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from lintimg.errors import LintimgError

BUILD_TIMEOUT = 3600
# Messages that mean BuildKit cannot run here, not that the Dockerfile is wrong.
_NO_BUILDKIT = re.compile(r"buildx component is missing|BuildKit is enabled but|buildkit not supported|failed to dial gRPC|unknown flag: --iidfile", re.I)


@dataclass(frozen=True)
class Built:
    image_id: str
    builder: str  # "buildkit" or "classic"
    client_major: int  # the CLI's major version: how the classic builder reads .dockerignore


def docker_cli() -> str:
    cli = os.environ.get("LINTIMG_DOCKER") or shutil.which("docker")
    if not cli:
        raise LintimgError("lintimg build needs the docker CLI (none on PATH; set LINTIMG_DOCKER)")
    return cli


def _run(args: list[str], env: dict[str, str] | None = None, timeout: int = 30) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LintimgError(f"cannot run {args[0]}: {e}") from None


def _engine_info(cli: str) -> tuple[str, str]:
    """(client version, server version); an unreachable engine is an error."""
    proc = _run([cli, "version", "--format", "{{.Client.Version}}|{{.Server.Version}}"])
    out = proc.stdout.strip()
    if proc.returncode != 0 or "|" not in out or not out.split("|", 1)[1]:
        why = (proc.stderr.strip().splitlines() or ["no answer"])[-1]
        raise LintimgError(f"docker engine unreachable: {why}")
    client, server = out.split("|", 1)
    return client, server


def _major(version: str) -> int:
    m = re.match(r"(\d+)", version)
    return int(m.group(1)) if m else 0


def pick_builder(cli: str) -> tuple[str, int]:
    """(``buildkit`` or ``classic``, the CLI's major version) for this CLI and engine."""
    client = _major(_engine_info(cli)[0])
    if os.environ.get("DOCKER_BUILDKIT", "").lower() in ("0", "false"):
        return "classic", client
    if _run([cli, "buildx", "version"]).returncode == 0:
        return "buildkit", client
    # Before 23.0 the CLI had its own BuildKit client; later ones need buildx.
    return ("buildkit" if 0 < client < 23 else "classic"), client


def _network_args(cli: str) -> list[str]:
    proc = _run([cli, "network", "ls", "--format", "{{.Name}}"])
    names = proc.stdout.split()
    return ["--network", "host"] if proc.returncode == 0 and "bridge" not in names else []


def _last_error(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"error|returned a non-zero code|failed|not found", ln, re.I):
            return re.sub(r"^(#\d+ )?(ERROR:?\s*)?", "", ln)
    return lines[-1] if lines else "no output"


def build(context: str, dockerfile: str | None = None, build_args: Sequence[str] = (), tag: str | None = None,
          platform: str | None = None, show_output: bool | None = None) -> Built:
    """Build ``context``; the engine's output goes to stderr on a terminal and is kept quiet otherwise."""
    if not os.path.isdir(context):
        raise LintimgError(f"{context}: build context is not a directory")
    if dockerfile is not None and not os.path.isfile(dockerfile):
        raise LintimgError(f"{dockerfile}: Dockerfile not found")
    cli = docker_cli()
    builder, client = pick_builder(cli)
    if show_output is None:
        show_output = sys.stderr.isatty()
    with tempfile.TemporaryDirectory(prefix="lintimg-build-") as tmp:
        iidfile = os.path.join(tmp, "iid")
        args = [cli, "build", "--iidfile", iidfile, *_network_args(cli)]
        if dockerfile:
            args += ["-f", dockerfile]
        for ba in build_args:
            args += ["--build-arg", ba]
        if tag:
            args += ["-t", tag]
        if platform:
            args += ["--platform", platform]
        args.append(context)
        code, output = _build(args, builder, show_output)
        if code != 0 and builder == "buildkit" and _NO_BUILDKIT.search(output):
            builder = "classic"
            code, output = _build(args, builder, show_output)
        if code != 0:
            raise LintimgError(f"build of {context} failed ({builder} builder): {_last_error(output)}")
        try:
            with open(iidfile, encoding="ascii") as fh:
                image_id = fh.read().strip()
        except OSError:
            image_id = ""
        if not image_id:
            raise LintimgError(f"build of {context} reported no image id")
    return Built(image_id, builder, client)


def _build(args: list[str], builder: str, show: bool) -> tuple[int, str]:
    """Run one build; echo its output to stderr when ``show``; return (exit code, output tail)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1" if builder == "buildkit" else "0"}
    if builder == "buildkit":
        env["BUILDKIT_PROGRESS"] = "plain"
    tail: deque[str] = deque(maxlen=200)
    try:
        with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line)
                if show:
                    sys.stderr.write(line)
            code = proc.wait(timeout=BUILD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LintimgError(f"docker build failed to run: {e}") from None
    return code, "".join(tail)
