"""Misbehaving loopback registries and token servers, for the hostile corpus (issue 9; stdlib only).

``serve(behaviour, image)`` starts the servers a behaviour needs on 127.0.0.1
(free ports, daemon threads) and returns a :class:`Farm`; ``farm.host`` is the
registry's ``host:port``, ``farm.capture`` the server that must never receive a
credential (when the behaviour has one), ``farm.stop()`` ends them all. Every
request each server saw is kept in ``server.seen``.

Behaviours:

- ``image``: a well-behaved anonymous registry serving ``image`` (manifest, config, layer).
- ``realm-307``: the registry asks for a bearer token from a realm on a second
  port, which answers every request with 307 to a third port (the capture
  server); a client must not carry Basic credentials or a refresh token there.
- ``retry-after-nan`` / ``retry-after-negative``: every request gets 503 with
  ``Retry-After: nan`` / ``-5``.
- ``location-99999``: the manifest request is redirected to port 99999.
- ``token-crlf``: the realm hands out a token with CRLF and a header after it.
- ``drip``: the manifest is sent one byte per second.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
REPOSITORY = "team/app"
CRLF_SUFFIX = "\r\nX-Injected: 1"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handle = Callable[["Server", BaseHTTPRequestHandler, bytes], None]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that hangs up is part of the test
        pass


class Server:
    """One HTTP/1.1 server on 127.0.0.1 whose requests all go to ``handle``."""

    def __init__(self, name: str, handle: Handle) -> None:
        self.name = name
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(n, 1 << 20)) if n else b""
                server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
                try:
                    handle(server, self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = do_PUT = _any

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"hostile-{name}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def reply_json(h: BaseHTTPRequestHandler, status: int, doc: object, headers: dict[str, str] | None = None) -> None:
    reply(h, status, json.dumps(doc).encode(), {"Content-Type": "application/json", **(headers or {})})


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_routes(image: dict[str, bytes]) -> Handle:
    """Serve ``image`` (keys manifest, config, layer) under /v2/<REPOSITORY>/."""
    blobs = {_digest(image["config"]): image["config"], _digest(image["layer"]): image["layer"]}
    manifest = image["manifest"]

    def handle(srv: Server, h: BaseHTTPRequestHandler, body: bytes) -> None:
        path = h.path.split("?", 1)[0]
        if path in ("/v2/", "/v2"):
            return reply_json(h, 200, {})
        prefix = f"/v2/{REPOSITORY}/"
        if path.startswith(prefix + "manifests/"):
            return reply(h, 200, manifest, {"Content-Type": DOCKER_MANIFEST, "Docker-Content-Digest": _digest(manifest)})
        if path.startswith(prefix + "blobs/") and (blob := blobs.get(path.rsplit("/", 1)[1])) is not None:
            return reply(h, 200, blob, {"Content-Type": "application/octet-stream"})
        reply_json(h, 404, {"errors": [{"code": "NOT_FOUND"}]})

    return handle


def bearer_gate(realm: Callable[[], str], inner: Handle) -> Handle:
    """``inner`` for requests with a bearer token, else a 401 challenge naming ``realm()``."""

    def handle(srv: Server, h: BaseHTTPRequestHandler, body: bytes) -> None:
        if (h.headers.get("Authorization") or "").startswith("Bearer "):
            return inner(srv, h, body)
        challenge = f'Bearer realm="{realm()}",service="hostile-registry",scope="repository:{REPOSITORY}:pull"'
        reply_json(h, 401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"WWW-Authenticate": challenge})

    return handle


@dataclass
class Farm:
    registry: Server
    capture: Server | None = None
    others: list[Server] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.registry.host

    def stop(self) -> None:
        for s in [self.registry, *([self.capture] if self.capture else []), *self.others]:
            s.stop()


def serve(behaviour: str, image: dict[str, bytes], *, token: str = "planted-token") -> Farm:
    """Start what ``behaviour`` needs; ``token`` is what ``token-crlf`` hands out (before its CRLF)."""
    routes = image_routes(image)
    if behaviour == "image":
        return Farm(Server("registry", routes))
    if behaviour == "realm-307":
        capture = Server("capture", lambda srv, h, body: reply_json(h, 200, {"token": "captured", "access_token": "captured", "expires_in": 300}))

        def to_capture(srv: Server, h: BaseHTTPRequestHandler, body: bytes) -> None:
            reply(h, 307, b"", {"Location": f"http://{capture.host}{h.path}"})

        token = Server("token", to_capture)
        return Farm(Server("registry", bearer_gate(lambda: f"http://{token.host}/token", routes)), capture, [token])
    if behaviour in ("retry-after-nan", "retry-after-negative"):
        value = "nan" if behaviour.endswith("nan") else "-5"
        return Farm(Server("registry", lambda srv, h, body: reply_json(h, 503, {"errors": []}, {"Retry-After": value})))
    if behaviour == "location-99999":
        return Farm(Server("registry", lambda srv, h, body: reply(h, 307, b"", {"Location": f"http://127.0.0.1:99999{h.path}"})))
    if behaviour == "token-crlf":
        token_value = token + CRLF_SUFFIX
        holder: list[Server] = []

        def handle(srv: Server, h: BaseHTTPRequestHandler, body: bytes) -> None:
            if h.path.startswith("/token"):
                return reply_json(h, 200, {"token": token_value, "expires_in": 300})
            return bearer_gate(lambda: f"http://{holder[0].host}/token", routes)(srv, h, body)

        holder.append(Server("registry", handle))
        return Farm(holder[0])
    if behaviour == "drip":
        manifest = image["manifest"]

        def drip(srv: Server, h: BaseHTTPRequestHandler, body: bytes) -> None:
            h.send_response(200)
            h.send_header("Content-Type", DOCKER_MANIFEST)
            h.send_header("Content-Length", str(len(manifest)))
            h.end_headers()
            for i in range(len(manifest)):
                h.wfile.write(manifest[i : i + 1])
                h.wfile.flush()
                if srv.stopping.wait(1.0):
                    return

        return Farm(Server("registry", drip))
    raise ValueError(f"unknown registry behaviour {behaviour!r}")
