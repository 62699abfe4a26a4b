"""A small token server for the registry's bearer-token flow (tests only).

Serves ``GET /token`` (anonymous or Basic) and ``POST /token`` (OAuth2
refresh with an identity token), and signs RS256 JWTs whose ``x5c`` header
carries a self-signed certificate that the registry trusts through its
``rootcertbundle``. Grants ``pull`` only to known users; anonymous callers get
a token with no access, as a real token server does for private repositories.
"""
from __future__ import annotations

import base64
import datetime
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "lintimg-test-issuer"
SERVICE = "lintimg-test-registry"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, workdir: Path, users: dict[str, str], identity_tokens: dict[str, str]) -> None:
        self.users = users  # username -> password
        self.identity_tokens = identity_tokens  # refresh token -> username
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers) seen
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lintimg test token signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = workdir / "token-signer.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                u = urllib.parse.urlsplit(self.path)
                server.requests.append(("GET", self.path, dict(self.headers)))
                q = urllib.parse.parse_qs(u.query)
                user = server._basic_user(self.headers.get("Authorization", ""))
                if user is False:
                    return self._reply(401, {"details": "bad credentials"})
                self._reply(200, server._grant(user or "", q.get("scope", [""])[0]))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                server.requests.append(("POST", self.path, dict(self.headers)))
                form = urllib.parse.parse_qs(body)
                user = server.identity_tokens.get(form.get("refresh_token", [""])[0])
                if form.get("grant_type") != ["refresh_token"] or not user or not form.get("client_id"):
                    return self._reply(401, {"details": "bad refresh token"})
                self._reply(200, {"access_token": server._grant(user, form.get("scope", [""])[0])["token"], "expires_in": 300})

            def _reply(self, status: int, doc: dict) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _basic_user(self, header: str) -> str | None | bool:
        """The authenticated user, None for anonymous, False for wrong credentials."""
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.users.get(user) == password else False

    def _grant(self, user: str, scope: str) -> dict:
        access = []
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind == "repository" and user in self.users.keys() | set(self.identity_tokens.values()):
            access.append({"type": "repository", "name": name, "actions": [a for a in actions.split(",") if a == "pull"]})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access}
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {"token": f"{signing_input}.{_b64(sig)}", "expires_in": 300}

    def registry_auth(self) -> str:
        """The ``auth:`` section for docker-registry's config."""
        return f"token:\n  realm: {self.realm}\n  service: {SERVICE}\n  issuer: {ISSUER}\n  rootcertbundle: {self.bundle}\n"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
