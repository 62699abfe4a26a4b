"""Registry credentials and the challenge/response dance.

Credentials come from Docker's ``config.json`` (``$DOCKER_CONFIG`` or
``~/.docker``; ``DOCKER_AUTH_CONFIG`` layered over it): ``credHelpers`` for
the host, else ``credsStore``, else the ``auths`` entry. A challenge is
answered with Basic auth or a bearer token from the realm (anonymous,
Basic-authenticated, OAuth2 refresh with an identity token, or a stored
registry token). Secrets never appear in messages.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lintimg import limits
from lintimg.dockerfile.reference import DOCKER_HUB
from lintimg.errors import LintimgError

HUB_KEY = "https://index.docker.io/v1/"
HELPER_TIMEOUT = 20.0
CLIENT_ID = "lintimg"
# RFC 6750 b64token: what a bearer token may hold.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""  # an OAuth2 refresh token (config identitytoken, or a helper's <token> user)
    registry_token: str = ""  # sent as-is as a bearer token

    def __repr__(self) -> str:  # never show secrets in tracebacks or logs
        return f"Credentials(username={self.username!r}, ...)"


def _config_path() -> str:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def _json(text: bytes | str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise LintimgError(f"{what}: unreadable Docker config (not valid JSON)") from None
    if not isinstance(doc, dict):
        raise LintimgError(f"{what}: unreadable Docker config (not a JSON object)")
    return _checked(doc, what)


def _checked(cfg: dict[str, Any], what: str) -> dict[str, Any]:
    """Docker's config.json, its credential keys of the types Docker writes; any other is a one-line error."""
    auths = cfg.get("auths")
    if auths is not None and not (isinstance(auths, dict) and all(isinstance(e, dict) for e in auths.values())):
        raise LintimgError(f"{what}: 'auths' must map registries to objects")
    for key, entry in (auths or {}).items():
        for field in ("auth", "username", "password", "identitytoken", "registrytoken"):
            if entry.get(field) is not None and not isinstance(entry[field], str):
                raise LintimgError(f"{what}: auths[{key[:80]!r}].{field} must be a string")
    helpers = cfg.get("credHelpers")
    if helpers is not None and not (isinstance(helpers, dict) and all(isinstance(v, str) for v in helpers.values())):
        raise LintimgError(f"{what}: 'credHelpers' must map registries to helper names")
    if cfg.get("credsStore") is not None and not isinstance(cfg["credsStore"], str):
        raise LintimgError(f"{what}: 'credsStore' must be a helper name")
    return cfg


def _load_config() -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    path = _config_path()
    if os.path.exists(path):
        try:
            cfg = _json(limits.read_file(path, limits.MAX_JSON), path)
        except OSError as e:
            raise LintimgError(f"{path}: unreadable Docker config ({limits.why(e)})") from None
    extra = os.environ.get("DOCKER_AUTH_CONFIG")
    if extra:
        overlay = _json(extra, "DOCKER_AUTH_CONFIG")
        cfg = {**cfg, "auths": {**(cfg.get("auths") or {}), **(overlay.get("auths") or {})}}
    return cfg


def _host_key(key: str) -> str:
    """``https://host/v1/`` and ``host`` name the same registry."""
    if "://" in key:
        key = urllib.parse.urlsplit(key).netloc
    key = key.split("/", 1)[0]
    return DOCKER_HUB if key in ("index.docker.io", "registry-1.docker.io") else key


def _run_helper(name: str, server: str) -> Credentials | None:
    exe = f"docker-credential-{name}"
    try:
        proc = subprocess.run([exe, "get"], input=server.encode(), capture_output=True, timeout=HELPER_TIMEOUT)
    except FileNotFoundError:
        raise LintimgError(f"credential helper {exe} named in {_config_path()} is not installed") from None
    except subprocess.TimeoutExpired:
        raise LintimgError(f"credential helper {exe} did not answer within {HELPER_TIMEOUT:g}s") from None
    if proc.returncode != 0:
        if b"credentials not found" in (proc.stdout + proc.stderr).lower():
            return None
        msg = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()
        raise LintimgError(f"credential helper {exe} failed: {msg[0][:200] if msg else f'exit {proc.returncode}'}")
    try:
        out = json.loads(proc.stdout)
    except (ValueError, RecursionError):
        raise LintimgError(f"credential helper {exe} printed no JSON") from None
    if not isinstance(out, dict) or not all(isinstance(out.get(k) or "", str) for k in ("Username", "Secret")):
        raise LintimgError(f"credential helper {exe} printed JSON of the wrong shape")
    user, secret = str(out.get("Username") or ""), str(out.get("Secret") or "")
    if user == "<token>":
        return Credentials(identity_token=secret)
    return Credentials(username=user, password=secret) if user or secret else None


def lookup(registry: str) -> Credentials | None:
    """Credentials for a registry host as Docker's CLI finds them; None for anonymous."""
    cfg = _load_config()
    host = _host_key(registry)
    server = HUB_KEY if host == DOCKER_HUB else host
    helper = (cfg.get("credHelpers") or {}).get(host) or (cfg.get("credHelpers") or {}).get(server) or cfg.get("credsStore")
    if helper:
        return _run_helper(str(helper), server)
    for key, entry in (cfg.get("auths") or {}).items():
        if _host_key(key) != host or not isinstance(entry, dict):
            continue
        user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise LintimgError(f"{_config_path()}: auths[{key!r}].auth is not base64 of user:password") from None
        creds = Credentials(user, password, str(entry.get("identitytoken") or ""), str(entry.get("registrytoken") or ""))
        if any((creds.username, creds.password, creds.identity_token, creds.registry_token)):
            return creds
    return None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…"`` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)\s*=\s*"([^"]*)"', rest)}
    return scheme.lower(), params


# fetch(method, url, headers, body) -> (status, body bytes): an HTTP call with the registry's TLS settings
Fetch = Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Authenticator:
    """Holds the Authorization to send to one registry host, per scope; thread-safe."""

    def __init__(self, creds: Credentials | None, fetch: Fetch, what: str) -> None:
        self.creds = creds
        self.fetch = fetch
        self.what = what
        self._lock = threading.Lock()
        self._basic: str | None = None
        self._tokens: dict[str, tuple[str, float]] = {}  # scope -> (token, expiry)

    def header(self, scope: str) -> str | None:
        with self._lock:
            if self._basic:
                return self._basic
            tok = self._tokens.get(scope)
            if tok and tok[1] > time.time():
                return f"Bearer {tok[0]}"
        return None

    def respond(self, challenge: str, scope: str) -> bool:
        """Answer a 401 challenge; False when there is nothing more to try."""
        scheme, params = parse_challenge(challenge)
        c = self.creds
        if scheme == "basic":
            if not c or not (c.username or c.password):
                return False
            with self._lock:
                self._basic = basic(c.username, c.password)
            return True
        if scheme != "bearer" or not params.get("realm"):
            raise LintimgError(f"{self.what}: unsupported authentication challenge {scheme!r}")
        scope = params.get("scope") or scope
        if c and c.registry_token:
            if not _TOKEN.fullmatch(c.registry_token):
                raise LintimgError(f"{self.what}: the registrytoken in {_config_path()} is malformed")
            token, ttl = c.registry_token, 3600.0
        else:
            token, ttl = self._token(params["realm"], params.get("service", ""), scope)
        with self._lock:
            self._tokens[scope] = (token, time.time() + max(ttl - 5, 1))
        return True

    def _token(self, realm: str, service: str, scope: str) -> tuple[str, float]:
        c = self.creds
        host = urllib.parse.urlsplit(realm).netloc
        status, body = 0, b""
        if c and c.identity_token:
            form = urllib.parse.urlencode(
                {"grant_type": "refresh_token", "refresh_token": c.identity_token, "service": service, "scope": scope, "client_id": CLIENT_ID}
            ).encode()
            status, body = self.fetch("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"}, form)
        if status in (0, 404, 405):  # no identity token, or a token server without the OAuth2 POST
            query = urllib.parse.urlencode([(k, v) for k, v in (("service", service), ("scope", scope)) if v])
            headers = {"Authorization": basic(c.username, c.password)} if c and (c.username or c.password) else {}
            status, body = self.fetch("GET", realm + ("&" if "?" in realm else "?") + query, headers, None)
        if status in (401, 403):
            raise LintimgError(f"{self.what}: the token server {host} refused the credentials ({status})")
        if status != 200:
            raise LintimgError(f"{self.what}: the token server {host} answered {status}")
        try:
            doc = json.loads(body)
            token = doc.get("access_token") or doc.get("token")
            ttl = float(doc.get("expires_in") or 60)
        except (ValueError, AttributeError, TypeError):
            raise LintimgError(f"{self.what}: the token server {host} sent no token") from None
        if not token:
            raise LintimgError(f"{self.what}: the token server {host} sent no token")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):  # it goes into a header: no CR/LF, no spaces
            raise LintimgError(f"{self.what}: the token server {host} sent a malformed token")
        if not math.isfinite(ttl):
            ttl = 60.0
        return token, ttl
