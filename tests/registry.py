"""Real Debian ``docker-registry`` processes on 127.0.0.1 for pull tests.

All registries of one farm share a storage directory, so an image pushed by
the engine to the anonymous one can be pulled through the TLS+basic-auth and
token-auth ones. Missing binaries skip (or fail under LINTIMG_REQUIRE_ENGINE=1).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.dockerengine import unavailable

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def lan_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def make_cert(directory: Path, cn: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl at test time."""
    if not shutil.which("openssl"):
        unavailable("openssl is not installed (needed for the TLS registry)")
    key, cert = directory / f"{cn}.key", directory / f"{cn}.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={cn}",
         "-addext", f"subjectAltName=IP:{cn}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return key, cert


def htpasswd_file(path: Path, user: str, password: str) -> Path:
    if not shutil.which("htpasswd"):
        unavailable("htpasswd is not installed (Debian apache2-utils)")
    subprocess.run(["htpasswd", "-Bbc", str(path), user, password], check=True, capture_output=True)
    return path


@dataclass
class RunningRegistry:
    host: str  # 127.0.0.1:PORT
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class RegistryFarm:
    workdir: Path
    running: list[RunningRegistry] = field(default_factory=list)

    @property
    def storage(self) -> Path:
        return self.workdir / "storage"

    def start(self, name: str, *, tls: tuple[Path, Path] | None = None, auth: str = "", address: str = "127.0.0.1") -> RunningRegistry:
        """Start one registry; ``auth`` is a YAML fragment for the ``auth:`` section."""
        port = free_port(address)
        conf = self.workdir / f"{name}.yml"
        lines = [
            "version: 0.1",
            "log: {level: warn}",
            f"storage: {{filesystem: {{rootdirectory: {self.storage}}}, delete: {{enabled: true}}}}",
            "http:",
            f"  addr: {address}:{port}",
            f"  secret: lintimg-test-{name}",
        ]
        if tls:
            lines += ["  tls:", f"    certificate: {tls[1]}", f"    key: {tls[0]}"]
        if auth:
            lines += ["auth:", *("  " + line for line in auth.strip().splitlines())]
        conf.write_text("\n".join(lines) + "\n")
        log = self.workdir / f"{name}.log"
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(conf)], stdout=log.open("wb"), stderr=subprocess.STDOUT)
        reg = RunningRegistry(f"{address}:{port}", proc, log)
        self.running.append(reg)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"registry {name} exited: {log.read_text()[-1000:]}")
            try:
                with socket.create_connection((address, port), timeout=0.5):
                    return reg
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"registry {name} did not start: {log.read_text()[-1000:]}")

    def stop_all(self) -> None:
        for reg in self.running:
            reg.stop()
        self.running.clear()


def registry_or_skip(workdir: Path) -> RegistryFarm:
    if not os.path.exists(REGISTRY_BIN):
        unavailable("Debian docker-registry is not installed (/usr/bin/docker-registry)")
    farm = RegistryFarm(workdir)
    farm.storage.mkdir(parents=True, exist_ok=True)
    return farm


def forward_get(handler, upstream: str) -> None:
    """Answer ``handler``'s GET with the upstream registry's answer (status, headers, streamed body)."""
    import http.client

    conn = http.client.HTTPConnection(upstream, timeout=30)
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "authorization")}
    conn.request("GET", handler.path, headers=headers)
    resp = conn.getresponse()
    handler.send_response(resp.status)
    for k, v in resp.getheaders():
        if k.lower() not in ("connection", "transfer-encoding", "location"):
            handler.send_header(k, v)
    handler.end_headers()
    while chunk := resp.read(1 << 16):
        handler.wfile.write(chunk)
    conn.close()


class ThrottlingProxy:
    """An HTTP front for a registry that answers 429 to every ``every``-th request it gets (any path),
    optionally behind Basic auth, and logs ``(time, path, status)`` of each answer. The 429s carry
    ``Retry-After: retry_after`` (with ``first_only``, only the first of them; the others name no pause)."""

    def __init__(self, upstream: str, *, every: int = 3, retry_after: str | None = "1", first_only: bool = False, user: str = "",
                 password: str = "") -> None:
        import base64
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user else ""
        self.log: list[tuple[float, str, int]] = []
        lock = threading.Lock()
        proxy = self

        class Front(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, headers: dict[str, str]) -> None:
                with lock:
                    proxy.log.append((time.time(), self.path, status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                if expected and self.headers.get("Authorization") != expected:
                    return self.reply(401, {"WWW-Authenticate": 'Basic realm="lintimg-test"'})
                with lock:
                    n = len(proxy.log) + 1
                if every and n % every == 0:
                    named = retry_after is not None and not (first_only and any(st == 429 for _, _, st in proxy.log))
                    return self.reply(429, {"Retry-After": retry_after} if named else {})
                with lock:
                    proxy.log.append((time.time(), self.path, 200))
                forward_get(self, upstream)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FaultProxy:
    """An HTTP front for a registry that injects what real ones do: Basic challenges,
    429/503 with Retry-After, 403 for a path, and 307 redirects of blob GETs to a
    second host (the "blob storage"), which records the headers it receives."""

    def __init__(self, upstream: str, *, user: str, password: str, failures: int = 2, forbidden: str = "") -> None:
        import base64
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.failures_left = failures
        self.seen_by_storage: list[dict] = []
        self.statuses: list[int] = []
        proxy = self

        class Storage(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy.seen_by_storage.append(dict(self.headers))
                forward_get(self, upstream)

        class Front(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, headers: dict | None = None) -> None:
                proxy.statuses.append(status)
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != expected:
                    return self.reply(401, {"WWW-Authenticate": 'Basic realm="lintimg-test"'})
                if forbidden and forbidden in self.path:
                    return self.reply(403)
                if "/manifests/" in self.path and proxy.failures_left > 0:
                    proxy.failures_left -= 1
                    return self.reply(503 if proxy.failures_left % 2 else 429, {"Retry-After": "0"})
                if "/blobs/" in self.path:
                    return self.reply(307, {"Location": f"http://{proxy.storage_host}{self.path}"})
                proxy.statuses.append(200)
                forward_get(self, upstream)

        self.front = ThreadingHTTPServer(("127.0.0.1", 0), Front)
        self.storage = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
        self.host = f"127.0.0.1:{self.front.server_address[1]}"
        self.storage_host = f"127.0.0.1:{self.storage.server_address[1]}"
        for srv in (self.front, self.storage):
            threading.Thread(target=srv.serve_forever, daemon=True).start()

    def close(self) -> None:
        for srv in (self.front, self.storage):
            srv.shutdown()
            srv.server_close()


def push_fast(docker, source: str, host: str, repository: str, tag: str) -> str:
    """Push a local image to an anonymous registry with gzip level 1 (the engine's ``docker push`` compresses
    at the default level: minutes for a 600 MB base on a busy machine); returns the manifest digest.

    The distribution API as any client uses it: one monolithic blob upload per layer and for the config,
    then a schema-2 manifest. The result is an ordinary image; only the compression level differs.
    ``docker save`` is read as a stream and each layer compressed and hashed as it arrives: no copy of the
    image on disk, and the engine writes while this process compresses.
    """
    import gzip
    import hashlib
    import http.client
    import io
    import json
    import tarfile
    import tempfile

    class Hashed:
        """The compressed blob on its way to disk, hashed and counted as it is written."""

        def __init__(self, path: Path) -> None:
            self.fh, self.sha, self.size = open(path, "wb"), hashlib.sha256(), 0

        def write(self, data: bytes) -> int:
            self.sha.update(data)
            self.size += len(data)
            return self.fh.write(data)

        def flush(self) -> None:
            self.fh.flush()

    def compress(src, path: Path) -> tuple[str, int]:
        out = Hashed(path)
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as gz:  # type: ignore[arg-type]
            while chunk := src.read(1 << 20):
                gz.write(chunk)
        out.fh.close()
        return f"sha256:{out.sha.hexdigest()}", out.size

    def upload(path: Path, digest: str) -> None:
        conn = http.client.HTTPConnection(host, timeout=300)
        conn.request("POST", f"/v2/{repository}/blobs/uploads/")
        resp = conn.getresponse()
        resp.read()
        location = resp.getheader("Location") or ""
        assert resp.status == 202 and location, f"upload start: {resp.status}"
        sep = "&" if "?" in location else "?"
        with open(path, "rb") as fh:
            conn.request("PUT", f"{location.split(host, 1)[-1]}{sep}digest={digest}", body=fh,
                         headers={"Content-Type": "application/octet-stream", "Content-Length": str(path.stat().st_size)})
            resp = conn.getresponse()
            resp.read()
        conn.close()
        assert resp.status == 201, f"upload of {digest}: {resp.status}"

    with tempfile.TemporaryDirectory(prefix="lintimg-push-") as d:
        work = Path(d)
        small: dict[str, bytes] = {}  # configs, manifest.json (and layers under 1 MiB, compressed once known)
        packed: dict[str, tuple[Path, str, int]] = {}  # member name -> compressed blob, digest, size
        save = subprocess.Popen([docker.cli, "save", source], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert save.stdout is not None
        with tarfile.open(fileobj=save.stdout, mode="r|") as tar:
            for member in tar:
                if not member.isreg():
                    continue
                src = tar.extractfile(member)
                assert src is not None
                if member.size < 1 << 20:
                    small[member.name] = src.read()
                else:
                    blob = work / f"blob{len(packed)}.gz"
                    packed[member.name] = (blob, *compress(src, blob))
        save.stdout.close()
        assert save.wait() == 0, f"docker save {source}: {save.stderr.read().decode(errors='replace')[-500:] if save.stderr else ''}"
        (entry,) = json.loads(small["manifest.json"])
        layers = []
        for name in entry["Layers"]:
            if name not in packed:
                blob = work / f"blob{len(packed)}.gz"
                packed[name] = (blob, *compress(io.BytesIO(small[name]), blob))
            blob, digest, size = packed[name]
            upload(blob, digest)
            layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size, "digest": digest})
        config = small[entry["Config"]]
        config_path = work / "config.json"
        config_path.write_bytes(config)
        config_digest = f"sha256:{hashlib.sha256(config).hexdigest()}"
        upload(config_path, config_digest)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": config_digest},
                               "layers": layers}).encode()
        conn = http.client.HTTPConnection(host, timeout=60)
        conn.request("PUT", f"/v2/{repository}/manifests/{tag}", body=manifest,
                     headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        assert resp.status == 201, f"manifest put: {resp.status}"
        return f"sha256:{hashlib.sha256(manifest).hexdigest()}"
