"""``docker://REF``: pull from a registry with no daemon (distribution API v2).

Manifests and configs are small and verified in memory; layer blobs are
streamed straight through hashing, decompression and the tar walk (never
held whole, never written out). Retries are bounded; redirects to blob
storage on another host never carry the Authorization header.
"""
from __future__ import annotations

import errno
import functools
import http.client
import io
import ipaddress
import os
import random
import ssl
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, BinaryIO

from lintimg import limits
from lintimg.dockerfile.reference import DockerRef, parse_docker_ref
from lintimg.errors import LintimgError
from lintimg.image import oci
from lintimg.image.auth import Authenticator, lookup
from lintimg.image.pacing import HostPacer, retry_after
from lintimg.image.reader import CHUNK

TIMEOUT = float(os.environ.get("LINTIMG_REGISTRY_TIMEOUT", "60"))  # one socket operation
ATTEMPTS = 4
BACKOFF = 0.25  # seconds, doubled per attempt
MAX_WAIT = 10.0  # cap on Retry-After
MAX_REDIRECTS = 5
RETRY_STATUS = (429, 500, 502, 503, 504)
REDIRECT_STATUS = (301, 302, 303, 307, 308)


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL; credentials are for one origin only."""
    u = urllib.parse.urlsplit(url)
    try:
        port = u.port or {"https": 443, "http": 80}.get(u.scheme)
    except ValueError:  # a port out of range: it matches nothing
        port = -1
    return u.scheme, (u.hostname or "").lower(), port


class _Body(io.IOBase):
    """A response body as a closable reader that also closes its connection, within a deadline.

    Each read returns what arrived (at most ``n`` bytes) and fails once the
    request's deadline has passed: a server sending a byte a second cannot
    keep a read going for hours, one socket timeout at a time.
    """

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, deadline: float, what: str,
                 timeout: float = TIMEOUT) -> None:
        super().__init__()
        self.conn, self.resp, self.deadline, self.what, self.timeout = conn, resp, deadline, what, timeout

    def _remaining(self) -> float:
        limits.check_clock()
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(errno.ETIMEDOUT, "the registry is too slow: no complete answer within the deadline (docs/limits.md)")
        return left

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            raise ValueError("unbounded read")
        parts: list[bytes] = []
        got = 0
        try:
            while got < n:
                if self.conn.sock is not None:
                    self.conn.sock.settimeout(min(self.timeout, self._remaining()))
                else:
                    self._remaining()
                chunk = self.resp.read1(min(n - got, CHUNK))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except http.client.HTTPException as e:  # a cut-off body is an I/O error to the layer reader
            raise OSError(f"connection broke off ({type(e).__name__})") from None
        except TimeoutError as e:  # the socket's own timeout, cut to what the deadline left
            raise TimeoutError(errno.ETIMEDOUT, "the registry is too slow: no complete answer within the deadline (docs/limits.md)") from e
        return b"".join(parts)

    def read_all(self, limit: int) -> bytes:
        """The whole body, at most ``limit`` + 1 bytes of it (so a caller can tell it was bigger)."""
        parts = []
        got = 0
        while got <= limit:
            chunk = self.read(min(CHUNK, limit + 1 - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        self.resp.close()
        self.conn.close()
        super().close()


def _tls_context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    """One TLS context per setting and process: loading the system CAs costs ~0.2 s, and a fleet
    scan makes a client per repository (contexts are safe to share between connections and threads)."""
    return _tls_context_for(ca_file, insecure, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _tls_context_for(ca_file: str | None, insecure: bool, cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # cert_file/cert_dir are only the cache key: create_default_context reads them from the environment
    ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Registry:
    """One repository on one registry, with its TLS settings and auth state."""

    def __init__(self, ref: DockerRef, *, insecure: bool = False, ca_file: str | None = None,
                 timeout: float = TIMEOUT, attempts: int = ATTEMPTS, pacer: HostPacer | None = None) -> None:
        self.ref = ref
        self.timeout, self.attempts = timeout, attempts
        self.pacer = pacer  # a request budget and back-offs shared per host (a fleet scan); None: retries sleep here
        self.what = f"docker://{ref}"
        self.host = ref.api_host
        hostname = urllib.parse.urlsplit(f"//{self.host}").hostname or self.host
        self.plain_ok = insecure or is_loopback(hostname)
        self.scheme = "https"
        self.ctx = _tls_context(ca_file, insecure)
        self.scope = f"repository:{ref.repository}:pull"
        self.auth = Authenticator(lookup(ref.registry), self._fetch_token, self.what)

    # -- transport ----------------------------------------------------------

    def _connect(self, url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
        u = urllib.parse.urlsplit(url)
        try:
            port = u.port
        except ValueError:
            raise LintimgError(f"{self.what}: the registry sent an invalid address ({u.netloc[:80]})") from None
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        if u.scheme == "https":
            return http.client.HTTPSConnection(u.hostname or "", port or 443, context=self.ctx, timeout=timeout), path
        if u.scheme == "http" and (self.plain_ok or is_loopback(u.hostname or "")):
            return http.client.HTTPConnection(u.hostname or "", port or 80, timeout=timeout), path
        raise LintimgError(f"{self.what}: refusing {u.scheme[:10]}:// to {u.netloc[:80]} (plain HTTP only for loopback or with --insecure)")

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
              deadline: float) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        limits.check_clock()
        left = deadline - time.monotonic()
        if left <= 0:
            raise LintimgError(f"{self.what}: the registry is too slow (no answer within the deadline; see docs/limits.md)")
        conn, path = self._connect(url, min(self.timeout, left))
        try:
            conn.request(method, path, body=body, headers={"User-Agent": "lintimg", **headers})
            return conn, conn.getresponse()
        except http.client.HTTPException as e:
            conn.close()
            raise OSError(f"bad HTTP response ({type(e).__name__})") from None
        except ssl.SSLError:  # a ValueError too: the caller tells TLS failures apart
            conn.close()
            raise
        except ValueError:  # http.client refuses a header value with CR/LF (a token server's "token", say)
            conn.close()
            raise LintimgError(f"{self.what}: a header for {urllib.parse.urlsplit(url).netloc[:80]} holds characters HTTP forbids "
                               "(a malformed token?)") from None
        except BaseException:
            conn.close()
            raise

    def _fetch_token(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        deadline = time.monotonic() + limits.REQUEST_DEADLINE
        conn, resp = self._call(method, url, headers=headers, body=body, authenticate=False, deadline=deadline)
        with _Body(conn, resp, deadline, self.what, self.timeout) as b:
            return resp.status, self._read(b, urllib.parse.urlsplit(url).netloc)

    def _call(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None, authenticate: bool = True,
        deadline: float,
        scope: str | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """One logical request: auth challenge, bounded retries with backoff, redirects, all before ``deadline``.

        Credentials go to the origin (scheme, host, port) asked first and nowhere else: a redirect to
        another origin drops every Authorization header, the caller's included, and a request
        carrying a body (a token request with a refresh token) is never re-sent to another origin.
        """
        origin = _origin(url)
        scope = scope or self.scope
        challenged = False
        attempt = 0  # connection failures
        throttled = 0  # retried statuses (429, 5xx)
        redirects = 0
        while True:
            here = urllib.parse.urlsplit(url)
            same = _origin(url) == origin
            h = {k: v for k, v in (headers or {}).items() if same or k.lower() != "authorization"}
            if authenticate and same and (token := self.auth.header(scope)):
                h["Authorization"] = token
            if self.pacer is not None:
                self.pacer.before(here.netloc)
            try:
                conn, resp = self._send(method, url, h, body, deadline)
            except ssl.SSLCertVerificationError as e:
                raise LintimgError(
                    f"{self.what}: TLS certificate of {here.netloc} is not trusted ({e.verify_message}); pass its CA with SSL_CERT_FILE or --ca-file"
                ) from None
            except (ssl.SSLError, ConnectionResetError) as e:
                if here.scheme == "https" and here.netloc == self.host and self.plain_ok and self.scheme == "https":
                    self.scheme = "http"  # a loopback/insecure registry without TLS, as Docker falls back
                    url = urllib.parse.urlunsplit(("http", *here[1:]))
                    origin = _origin(url)
                    continue
                hint = "" if self.plain_ok else "; if it serves plain HTTP, allow that with --insecure"
                why = getattr(e, "reason", None) or e.__class__.__name__
                raise LintimgError(f"{self.what}: TLS with {here.netloc} failed ({why}){hint}") from None
            except OSError as e:
                attempt += 1
                if attempt >= self.attempts:
                    raise LintimgError(f"{self.what}: registry {here.netloc} is unreachable ({e.strerror or e})") from None
                self._sleep(BACKOFF * 2 ** (attempt - 1), deadline)
                continue
            status = resp.status
            if status in REDIRECT_STATUS and (loc := resp.getheader("Location")):
                _Body(conn, resp, deadline, self.what, self.timeout).close()
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise LintimgError(f"{self.what}: too many redirects from {here.netloc}")
                url = urllib.parse.urljoin(url, loc.strip())
                if method == "POST" and status == 303:
                    method, body = "GET", None
                if body is not None and _origin(url) != origin:
                    raise LintimgError(f"{self.what}: {here.netloc} redirected a request carrying credentials to another host; not following")
                continue
            if status == 401 and authenticate and not challenged and same:
                challenge = resp.getheader("WWW-Authenticate") or ""
                _Body(conn, resp, deadline, self.what, self.timeout).close()
                challenged = True
                if challenge and self.auth.respond(challenge, scope):
                    continue
                raise LintimgError(f"{self.what}: authentication required (401); log in with docker login or fix the credentials")
            # With a pacer, a throttled request is retried more patiently: the pause holds every process, so
            # retries do not add load, and in a busy fleet one request may be unlucky several times running.
            if status in RETRY_STATUS and throttled + 1 < (self.pacer.patience if self.pacer is not None else self.attempts):
                named = retry_after(resp.getheader("Retry-After"))
                wait = named if named is not None else BACKOFF * 2 ** min(throttled, 8) * (1 + random.random() / 4)
                _Body(conn, resp, deadline, self.what, self.timeout).close()
                throttled += 1
                if self.pacer is not None:  # the whole host waits, in every process of the run; the next before() holds this one too
                    self.pacer.back_off(here.netloc, wait, status, named is not None)
                else:
                    self._sleep(min(wait, MAX_WAIT), deadline)
                continue
            return conn, resp

    def _read(self, body: _Body, where: str) -> bytes:
        """A small document's body (at most MAX_JSON + 1 bytes); a failed read names the registry."""
        try:
            return body.read_all(oci.MAX_JSON)
        except OSError as e:
            raise LintimgError(f"{self.what}: reading from {where[:80]} failed ({e.strerror or e})") from None

    def _sleep(self, seconds: float, deadline: float) -> None:
        if time.monotonic() + seconds >= deadline:
            raise LintimgError(f"{self.what}: the registry is too slow (no answer within the deadline; see docs/limits.md)")
        time.sleep(seconds)
        limits.check_clock()

    def _url(self, kind: str, ident: str) -> str:
        return f"{self.scheme}://{self.host}/v2/{self.ref.repository}/{kind}/{ident}"

    def _fail(self, status: int, thing: str) -> LintimgError:
        if status == 401:
            return LintimgError(f"{self.what}: authentication required (401); log in with docker login or fix the credentials")
        if status == 403:
            return LintimgError(f"{self.what}: access denied (403) to {thing}")
        if status == 404:
            return LintimgError(f"{self.what}: {thing} not found (404)")
        return LintimgError(f"{self.what}: registry answered {status} for {thing}")

    # -- API ----------------------------------------------------------------

    def get_small(self, kind: str, ident: str, accept: str | None = None) -> tuple[bytes, str, str]:
        """A manifest or config: (bytes, content type, Docker-Content-Digest), size- and time-bounded."""
        thing = "manifest " + ident if kind == "manifests" else "blob " + ident
        deadline = time.monotonic() + limits.REQUEST_DEADLINE
        conn, resp = self._call("GET", self._url(kind, ident), headers={"Accept": accept} if accept else None, deadline=deadline)
        with _Body(conn, resp, deadline, self.what, self.timeout) as b:
            if resp.status != 200:
                raise self._fail(resp.status, thing)
            data = self._read(b, self.host)
        if len(data) > oci.MAX_JSON:
            raise LintimgError(f"{self.what}: {thing} is larger than {oci.MAX_JSON} bytes")
        ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip()
        return data, ctype, resp.getheader("Docker-Content-Digest") or ""

    def fetch(self, desc: dict[str, Any]) -> bytes:
        """A descriptor's small blob (manifest or config), verified against its digest."""
        digest = desc["digest"]
        kind = "manifests" if desc.get("mediaType") in (*oci.MANIFEST_TYPES, *oci.INDEX_TYPES) or "platform" in desc else "blobs"
        data, _, _ = self.get_small(kind, digest, oci.ACCEPT if kind == "manifests" else None)
        return oci.verify(data, digest, f"{self.what}: {kind[:-1]} {digest}")

    def open_blob(self, digest: str, size: int) -> BinaryIO:
        """A layer blob's body; its deadline grows with its declared size (:data:`lintimg.limits.BLOB_RATE`)."""
        deadline = time.monotonic() + limits.REQUEST_DEADLINE + size / limits.BLOB_RATE
        conn, resp = self._call("GET", self._url("blobs", digest), deadline=deadline)
        if resp.status != 200:
            _Body(conn, resp, deadline, self.what, self.timeout).close()
            raise self._fail(resp.status, f"blob {digest}")
        return _Body(conn, resp, deadline, self.what, self.timeout)  # type: ignore[return-value]

    def blob_tail(self, digest: str, n: int) -> bytes | None:
        """The last ``n`` bytes of a blob (an HTTP suffix range), or None when the registry ignores ranges."""
        deadline = time.monotonic() + limits.REQUEST_DEADLINE
        conn, resp = self._call("GET", self._url("blobs", digest), headers={"Range": f"bytes=-{n}"}, deadline=deadline)
        with _Body(conn, resp, deadline, self.what, self.timeout) as b:
            if resp.status != 206:
                if resp.status != 200:  # a 200 would send the whole blob: closed unread
                    raise self._fail(resp.status, f"blob {digest}")
                return None
            data = b.read(n + 1)
        return data if len(data) == n else None

    def resolve(self, version: str, platform: str | None) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """A tag or digest down to one image: (manifest, its digest, config), every document verified."""
        data, ctype, header_digest = self.get_small("manifests", version, oci.ACCEPT)
        if oci.DIGEST_RE.match(version):
            oci.verify(data, version, f"{self.what}: manifest")
        elif header_digest.startswith("sha256:"):
            oci.verify(data, header_digest, f"{self.what}: manifest (Docker-Content-Digest)")
        return oci.resolve(data, ctype, self.fetch, self.what, platform)

    def _pages(self, path: str, key: str, what: str, scope: str, limit: int) -> list[str]:
        """A paginated name list (``/v2/_catalog``, ``/tags/list``), following ``Link: <…>; rel="next"`` on this host."""
        out: list[str] = []
        seen: set[str] = set()
        while path and len(out) < limit and path not in seen:
            seen.add(path)
            url = f"{self.scheme}://{self.host}{path}"  # the scheme may have fallen back to http on the first call
            deadline = time.monotonic() + limits.REQUEST_DEADLINE
            conn, resp = self._call("GET", url, scope=scope, deadline=deadline)
            with _Body(conn, resp, deadline, self.what, self.timeout) as b:
                if resp.status != 200:
                    raise self._fail(resp.status, what)
                data = b.read(oci.MAX_JSON + 1)
                link = _next_link(resp.getheader("Link") or "")
            if len(data) > oci.MAX_JSON:
                raise LintimgError(f"{self.what}: a page of {what} is larger than {oci.MAX_JSON} bytes")
            listed = oci.as_list(oci.load_json(data, f"{self.what}: {what}").get(key))
            out += [t for t in listed if isinstance(t, str)]
            nxt = urllib.parse.urlsplit(urllib.parse.urljoin(url, link)) if link else None
            if nxt is None or nxt.netloc != self.host:
                break  # no next page, or one on another host (not followed with our credentials)
            path = nxt.path + (f"?{nxt.query}" if nxt.query else "")
        return out[:limit]

    def tags(self, max_tags: int = 10_000, page: int = 1000) -> list[str]:
        """The repository's tags (``/tags/list``, following ``Link`` pages), at most ``max_tags``."""
        return self._pages(f"/v2/{self.ref.repository}/tags/list?n={page}", "tags", "the tag list", self.scope, max_tags)

    def catalog(self, max_repos: int = 100_000, page: int = 1000) -> list[str]:
        """Every repository on the registry (``/v2/_catalog``, following ``Link`` pages), at most ``max_repos``."""
        return self._pages(f"/v2/_catalog?n={page}", "repositories", "the catalog", "registry:catalog:*", max_repos)

    def opener(self, desc: dict[str, Any]) -> Callable[[], BinaryIO]:
        if desc.get("urls") and "foreign" in str(desc.get("mediaType", "")):
            raise LintimgError(f"{self.what}: foreign layer {desc['digest']} is not distributable from this registry")
        size = desc.get("size")
        return lambda: self.open_blob(desc["digest"], size if isinstance(size, int) and size > 0 else 0)


def _next_link(header: str) -> str:
    """The URL of ``rel="next"`` in a ``Link`` header (RFC 8288), or ""."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return target.strip().strip("<>")
    return ""


def open_registry_image(
    text: str, platform: str | None, *, insecure: bool = False, ca_file: str | None = None
) -> oci.Resolved:
    """Resolve ``text`` on its registry down to one image; layers stream later, when read."""
    ref = parse_docker_ref(text)
    reg = Registry(ref, insecure=insecure, ca_file=ca_file)
    manifest, digest, config = reg.resolve(ref.version, platform)
    sources = oci.layer_sources(manifest, config, reg.opener, reg.what)
    return oci.Resolved(digest, config, sources, ref.name)
