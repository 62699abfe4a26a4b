"""``docker-daemon:REF``: an image from the local engine, through the Engine API.

The export (``GET /images/{name}/get``, what ``docker save`` uses) is
streamed to a file in the run's temp directory, then read like any
``docker-archive:`` (its ``manifest.json`` comes last, so it needs seeking).
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from typing import Any

from lintimg import limits
from lintimg.errors import LintimgError
from lintimg.image import oci
from lintimg.image.archive import open_docker_archive
from lintimg.image.reader import CHUNK, Progress

TIMEOUT = 60.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


def engine_address() -> str:
    """The engine's address from DOCKER_HOST (unix:// or tcp://), default the standard socket."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _connect() -> http.client.HTTPConnection:
    addr = engine_address()
    if addr.startswith("unix://"):
        return _UnixConnection(addr[len("unix://") :], TIMEOUT)
    if addr.startswith("tcp://"):
        u = urllib.parse.urlsplit(addr)
        return http.client.HTTPConnection(u.hostname or "localhost", u.port or 2375, timeout=TIMEOUT)
    raise LintimgError(f"DOCKER_HOST={addr!r}: only unix:// and tcp:// engines are supported")


def _get(path: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = _connect()
    try:
        conn.request("GET", path)
        return conn, conn.getresponse()
    except OSError:
        conn.close()
        raise


def _path(ref: str, what: str) -> str:
    return f"/images/{urllib.parse.quote(ref, safe='/:@')}/{what}"


def inspect(ref: str) -> dict[str, Any] | None:
    """The engine's view of ``ref``, or None when it has no such image; OSError when unreachable."""
    conn, resp = _get(_path(ref, "json"))
    try:
        body = resp.read(oci.MAX_JSON)
    finally:
        conn.close()
    if resp.status == 404:
        return None
    if resp.status != 200:
        raise OSError(f"engine answered {resp.status}: {body[:200].decode(errors='replace').strip()}")
    found: dict[str, Any] = json.loads(body)
    return found


def has_image(ref: str) -> bool:
    """Whether the local engine is reachable and has ``ref`` (for bare references)."""
    try:
        return inspect(ref) is not None
    except (OSError, ValueError, LintimgError):
        return False


def open_daemon_image(ref: str, platform: str | None, tmpdir: str, progress: Progress | None = None) -> oci.Resolved:
    what = f"docker-daemon:{ref}"
    if not ref:
        raise LintimgError(f"{what}: needs an image reference")
    try:
        info = inspect(ref)
    except (OSError, ValueError) as e:
        raise LintimgError(f"{what}: cannot reach the Docker engine at {engine_address()} ({e})") from None
    if info is None:
        raise LintimgError(f"{what}: no such image in the local engine")
    total = int(info.get("Size") or 0)
    out = os.path.join(tmpdir, "export.tar")
    try:
        conn, resp = _get(_path(ref, "get"))
        try:
            if resp.status != 200:
                raise OSError(f"engine answered {resp.status} to the export")
            done = 0
            with open(out, "wb") as f:
                while chunk := resp.read(CHUNK):
                    limits.check_clock()
                    f.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(f"export {ref}", done, max(total, done))
        finally:
            conn.close()
    except OSError as e:
        raise LintimgError(f"{what}: export from the engine failed ({e})") from None
    resolved = open_docker_archive(out, "", platform, tmpdir, what=what)
    if not resolved.name or resolved.name == os.path.basename(out):
        resolved.name = ref
    return resolved
