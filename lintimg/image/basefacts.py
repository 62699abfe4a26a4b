"""Facts about the images a Dockerfile builds FROM: config, sizes, digests and sibling tags.

One service answers "what is ``python:3.11`` for this platform?" for every
consumer (size rules, defaults a base image sets such as USER, HEALTHCHECK or
SHELL, ``lintimg pin``), without knowing any rule:

- :meth:`BaseFactsService.lookup` resolves a reference to :class:`BaseFacts`
  (the container config, compressed and uncompressed size, manifest and index
  digests, layer count) or to :class:`Unavailable` with a one-line reason;
- :meth:`BaseFactsService.tags` lists the tags of a reference's repository;
- :meth:`BaseFactsService.lookup_many` looks up several references at once
  within one deadline;
- :func:`smaller_variants` measures the tags of the same version
  (``3.11`` → ``3.11-slim``, ``3.11-alpine``) and keeps the smaller ones.

Where facts come from, in order: the disk cache, the local engine, the
registry. The ``mode`` decides how far a lookup may go:

``off``       nothing is consulted; every lookup is Unavailable.
``local``     the default: the disk cache and the local engine. Never the
              network, so pre-commit and other Dockerfile-only runs stay
              offline unless the configuration says otherwise.
``registry``  the cache, the engine, then the registry (distribution API v2,
              the same client and credentials as ``lintimg image``).

Sizes are measured, never estimated. The compressed size is the sum of the
manifest's layer sizes (what a pull downloads). The uncompressed size comes
from the engine (``docker image inspect`` Size) or, from a registry, from
each gzip layer's trailer (ISIZE, read with a 4-byte range request: the tar
length modulo 4 GiB, exact for the single-member gzip every builder writes);
image configs carry no sizes. When a layer is zstd, or the registry ignores
ranges, or a trailer is implausible, the uncompressed size is ``None``.

Cache (``$XDG_CACHE_HOME/lintimg/basefacts``, off with ``LINTIMG_NO_CACHE=1``):
facts by the digest a reference resolved to and the platform (immutable, kept
until deleted); tag → digest and tag lists for ``TAG_TTL`` seconds. Only
registry answers are cached: the engine is asked afresh each time. Env values
that look like secrets are masked before anything is stored.
"""
from __future__ import annotations

import hashlib
import queue
import struct
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lintimg import cachefiles
from lintimg.config import LOOKUP_MODES
from lintimg.dockerfile.reference import DockerRef, parse_docker_ref, split_tag
from lintimg.errors import LintimgError

MODES = LOOKUP_MODES
DEFAULT_MODE = "local"
TAG_TTL = 3600.0  # seconds a tag's digest and a repository's tag list are trusted
DEADLINE = 30.0  # seconds for all lookups of one lookup_many call
REQUEST_TIMEOUT = 10.0  # seconds per registry request
WORKERS = 4
MAX_VARIANTS = 8  # tags measured per smaller_variants call
CONFIG_KEYS = ("User", "Healthcheck", "Shell", "Env", "WorkingDir", "Entrypoint", "Cmd", "ExposedPorts", "Volumes", "Labels", "StopSignal", "OnBuild")
CACHE_VERSION = 1
_GZIP_TYPES = ("gzip",)  # media types ending in +gzip / .tar.gzip


@dataclass(frozen=True)
class BaseFacts:
    """One image as a FROM line would get it, for one platform."""

    reference: str  # the normalised reference looked up (``python:3.11``, ``host:5000/team/base:1``)
    platform: str  # os/arch[/variant] of the image
    source: str  # "engine" or "registry": where it was measured
    config: dict[str, Any]  # the container config (User, Healthcheck, Shell, Env, WorkingDir, Entrypoint, Cmd, ...)
    compressed_size: int | None  # bytes a pull downloads (registry only)
    uncompressed_size: int | None  # bytes unpacked (engine Size, or the sum of gzip trailers)
    layers: int
    digest: str | None = None  # the platform's manifest digest (registry)
    index_digest: str | None = None  # what the tag points at: an index or manifest digest (what a pin writes)
    image_id: str | None = None  # the config digest
    cached: bool = False  # answered from the disk cache
    measured_at: float = field(default=0.0, compare=False)

    @property
    def size(self) -> int | None:
        """The uncompressed size: what ``docker images`` shows and what size limits compare."""
        return self.uncompressed_size

    @property
    def tag(self) -> str | None:
        return parse_docker_ref(self.reference).tag

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("cached")
        return d

    @classmethod
    def from_json(cls, d: Any) -> BaseFacts | None:
        if not isinstance(d, dict):
            return None
        try:
            return cls(**{**d, "cached": True})
        except TypeError:
            return None


@dataclass(frozen=True)
class Unavailable:
    """Why a reference could not be looked up (one line, no secrets)."""

    reference: str
    reason: str
    kind: str  # off | offline | unresolved | unreachable | not-found | denied | timeout | error


Lookup = BaseFacts | Unavailable


def _now() -> float:
    return time.time()


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class _Cache:
    """The disk cache; every miss, torn entry or write failure only costs a lookup."""

    def __init__(self, root: Path | None) -> None:
        self.root = root if root is not None else cachefiles.cache_root("basefacts")
        self.on = cachefiles.enabled()

    def _read(self, kind: str, key: str) -> Any:
        if not self.on:
            return None
        doc = cachefiles.read_json(self.root / kind / f"{key}.json")
        return doc if isinstance(doc, dict) and doc.get("v") == CACHE_VERSION else None

    def _write(self, kind: str, key: str, data: dict[str, Any]) -> None:
        if self.on:
            cachefiles.write_json(self.root / kind / f"{key}.json", {"v": CACHE_VERSION, **data})

    def facts(self, digest: str, platform: str, reference: str) -> BaseFacts | None:
        """Facts stored for the digest, under ``reference`` (several tags may name one digest)."""
        doc = self._read("digests", _key(digest, platform))
        found = BaseFacts.from_json(doc.get("facts")) if doc else None
        return replace(found, reference=reference) if found is not None else None

    def put_facts(self, digest: str, platform: str, facts: BaseFacts) -> None:
        self._write("digests", _key(digest, platform), {"facts": facts.to_json()})

    def fresh(self, kind: str, name: str, ttl: float) -> Any:
        """The value stored under ``name`` if it is at most ``ttl`` seconds old."""
        doc = self._read(kind, _key(name))
        if doc and isinstance(doc.get("at"), (int, float)) and 0 <= _now() - doc["at"] <= ttl:
            return doc.get("value")
        return None

    def put(self, kind: str, name: str, value: Any) -> None:
        self._write(kind, _key(name), {"at": _now(), "value": value})


def _public_config(config: dict[str, Any]) -> dict[str, Any]:
    """The container config keys consumers read, with secret-looking Env values masked."""
    from lintimg.secrets.redact import scrub

    out = {k: config[k] for k in CONFIG_KEYS if k in config and config[k] is not None}
    if isinstance(out.get("Env"), list):
        out["Env"] = [scrub(e) if isinstance(e, str) else e for e in out["Env"]]
    return out


def _platform_text(platform: str | None) -> str:
    from lintimg.image.oci import host_platform, parse_platform

    return str(parse_platform(platform) if platform else host_platform())


def _same_platform(info: dict[str, Any], plat: str) -> bool:
    """Whether an engine image (``Os``/``Architecture``) is for ``plat`` (os and arch compared)."""
    from lintimg.image.oci import parse_platform

    try:
        have = parse_platform(f"{info.get('Os') or ''}/{info.get('Architecture') or ''}")
    except LintimgError:
        return False
    want = parse_platform(plat)
    return (have.os, have.arch) == (want.os, want.arch)


class BaseFactsService:
    """Base-image lookups for one run: ``mode`` (off, local, registry), a platform default, registry TLS options."""

    def __init__(self, mode: str = DEFAULT_MODE, *, platform: str | None = None, insecure: bool = False, ca_file: str | None = None,
                 cache_dir: Path | None = None, tag_ttl: float = TAG_TTL, request_timeout: float = REQUEST_TIMEOUT) -> None:
        if mode not in MODES:
            raise LintimgError(f"base-image lookup mode {mode!r}: expected one of {', '.join(MODES)}")
        self.mode = mode
        self.platform = platform
        self.insecure, self.ca_file = insecure, ca_file
        self.cache = _Cache(cache_dir)
        self.tag_ttl = tag_ttl
        self.request_timeout = request_timeout
        self._memo: dict[tuple[str, str], Lookup] = {}
        self._lock = threading.Lock()

    # -- public API ---------------------------------------------------------

    def lookup(self, ref: str, platform: str | None = None) -> Lookup:
        """Facts about ``ref`` (as a FROM line writes it, variables already applied) for ``platform``."""
        if "$" in ref or not ref.strip() or ref.endswith((":", "@")):  # an ARG without a default leaves "name:" behind
            return Unavailable(ref, "the reference depends on a build argument with no default", "unresolved")
        try:
            dref = parse_docker_ref(ref)
            plat = _platform_text(platform or self.platform)
        except LintimgError as e:
            return Unavailable(ref, str(e), "unresolved")
        memo_key = (str(dref), plat)
        with self._lock:
            if memo_key in self._memo:
                return self._memo[memo_key]
        found = self._lookup(dref, plat)
        with self._lock:
            self._memo[memo_key] = found
        return found

    def lookup_many(self, refs: list[tuple[str, str | None]], deadline: float = DEADLINE) -> dict[tuple[str, str | None], Lookup]:
        """``lookup`` of every ``(ref, platform)`` in parallel; those without an answer by ``deadline`` seconds are Unavailable."""
        todo = list(dict.fromkeys(refs))
        results: dict[tuple[str, str | None], Lookup] = {}
        if not todo:
            return results
        jobs: queue.Queue[tuple[str, str | None]] = queue.Queue()
        for item in todo:
            jobs.put(item)
        done = threading.Condition()

        def work() -> None:
            while True:
                try:
                    item = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    answer: Lookup = self.lookup(*item)
                except Exception as e:  # noqa: BLE001 - a lookup bug must not end the run; it is reported as unavailable
                    answer = Unavailable(item[0], f"lookup failed: {type(e).__name__}: {e}", "error")
                with done:
                    results[item] = answer
                    done.notify_all()

        # Daemon threads: a registry that stops answering cannot keep the process alive past the deadline.
        for _ in range(min(WORKERS, len(todo))):
            threading.Thread(target=work, daemon=True, name="lintimg-basefacts").start()
        end = time.monotonic() + deadline
        with done:
            while len(results) < len(todo) and (left := end - time.monotonic()) > 0:
                done.wait(left)
            for item in todo:
                results.setdefault(item, Unavailable(item[0], f"no answer within {deadline:g}s", "timeout"))
            return dict(results)

    def tags(self, ref: str) -> list[str] | Unavailable:
        """Every tag of ``ref``'s repository in its registry (registry mode only; cached for the tag TTL)."""
        try:
            dref = parse_docker_ref(ref)
        except LintimgError as e:
            return Unavailable(ref, str(e), "unresolved")
        repo = f"{dref.registry}/{dref.repository}"
        cached: Any = self.cache.fresh("taglists", repo, self.tag_ttl)
        if isinstance(cached, list):
            return [str(t) for t in cached if isinstance(t, str)]
        if self.mode != "registry":
            return Unavailable(ref, "registry lookups are off (base-image-lookup: registry lists tags)", "offline" if self.mode == "local" else "off")
        try:
            listed: list[str] = self._registry(dref).tags()
        except LintimgError as e:
            return Unavailable(ref, _one_line(e), _kind(e))
        self.cache.put("taglists", repo, listed)
        return listed

    def tag_digest(self, ref: str) -> str | Unavailable:
        """The digest ``ref``'s tag points at on its registry now (an image index for a multi-platform
        image, else its one manifest): what ``lintimg pin`` writes. Always asks the registry (registry
        mode only): a cached or engine answer may be older than the tag."""
        try:
            dref = parse_docker_ref(ref)
        except LintimgError as e:
            return Unavailable(ref, str(e), "unresolved")
        if self.mode != "registry":
            return Unavailable(ref, "registry lookups are off (base-image-lookup: registry resolves tags)", "offline" if self.mode == "local" else "off")
        try:
            return self._top_manifest(self._registry(dref), DockerRef(dref.registry, dref.repository, dref.tag, None))[2]  # the tag alone (a record: no dataclasses.replace)
        except LintimgError as e:
            return Unavailable(ref, _one_line(e), _kind(e))

    # -- sources ------------------------------------------------------------

    def _lookup(self, dref: DockerRef, plat: str) -> Lookup:
        ref = str(dref)
        if self.mode == "off":
            return Unavailable(ref, "base-image lookups are off (base-image-lookup: off)", "off")
        top = dref.digest or self.cache.fresh("tags", f"{dref.registry}/{dref.repository}:{dref.tag}", self.tag_ttl)
        if isinstance(top, str):
            hit = self.cache.facts(top, plat, ref)
            if hit is not None:
                return hit
        local = self._from_engine(dref, plat)
        if local is not None:
            return local
        if self.mode != "registry":
            return Unavailable(ref, "not in the local engine or the cache, and registry lookups are off (base-image-lookup: registry)", "offline")
        try:
            return self._from_registry(dref, plat)
        except LintimgError as e:
            return Unavailable(ref, _one_line(e), _kind(e))

    def _from_engine(self, dref: DockerRef, plat: str) -> BaseFacts | None:
        from lintimg.image import daemon

        name = str(dref)
        try:
            info = daemon.inspect(name)
        except (OSError, ValueError, LintimgError):
            return None  # no engine here: the other sources answer
        if not isinstance(info, dict):
            return None
        if not _same_platform(info, plat):
            return None  # the engine holds another platform's image under this name
        index_digest = None
        for rd in info.get("RepoDigests") or []:
            if isinstance(rd, str) and "@" in rd:
                try:
                    repo_digest = parse_docker_ref(rd)
                except LintimgError:
                    continue
                if (repo_digest.registry, repo_digest.repository) == (dref.registry, dref.repository):
                    index_digest = repo_digest.digest
        size = info.get("Size")
        rootfs: dict[str, Any] = info["RootFS"] if isinstance(info.get("RootFS"), dict) else {}
        return BaseFacts(
            reference=name, platform=plat, source="engine", config=_public_config(info.get("Config") or {}),
            compressed_size=None, uncompressed_size=size if isinstance(size, int) and size >= 0 else None,
            layers=len(rootfs.get("Layers") or []), digest=None, index_digest=dref.digest or index_digest,
            image_id=info.get("Id") if isinstance(info.get("Id"), str) else None, measured_at=_now(),
        )

    def _registry(self, dref: DockerRef) -> Any:
        from lintimg.image.registry import Registry

        return Registry(dref, insecure=self.insecure, ca_file=self.ca_file, timeout=self.request_timeout, attempts=2)

    def _from_registry(self, dref: DockerRef, plat: str) -> BaseFacts:
        from lintimg.image import oci

        reg = self._registry(dref)
        data, ctype, top = self._top_manifest(reg, dref)
        hit = self.cache.facts(top, plat, str(dref))
        if hit is not None:
            return hit
        manifest, digest, config = oci.resolve(data, ctype, reg.fetch, reg.what, plat)
        layers = [d for d in oci.as_list(manifest.get("layers")) if isinstance(d, dict)]
        sizes = [d.get("size") for d in layers]
        compressed = sum(s for s in sizes if isinstance(s, int) and s >= 0) if all(isinstance(s, int) and s >= 0 for s in sizes) else None
        facts = BaseFacts(
            reference=str(dref), platform=oci.platform_of(config) or plat, source="registry", config=_public_config(oci.mapping(config, "config")),
            compressed_size=compressed, uncompressed_size=_uncompressed(reg, layers), layers=len(layers), digest=digest,
            index_digest=top, image_id=_config_digest(manifest), measured_at=_now(),
        )
        self.cache.put_facts(top, plat, facts)
        return facts


    def _top_manifest(self, reg: Any, dref: DockerRef) -> tuple[bytes, str, str]:
        """(bytes, content type, digest) of what ``dref`` names on its registry, verified; a tag's digest is cached."""
        from lintimg.image import oci

        data, ctype, header_digest = reg.get_small("manifests", dref.version, oci.ACCEPT)
        top = dref.digest or (header_digest if header_digest.startswith("sha256:") else oci.sha256(data))
        oci.verify(data, top, f"{reg.what}: manifest")
        if dref.tag and not dref.digest:
            self.cache.put("tags", f"{dref.registry}/{dref.repository}:{dref.tag}", top)
        return data, ctype, top


def _config_digest(manifest: dict[str, Any]) -> str | None:
    cfg = manifest.get("config")
    d = cfg.get("digest") if isinstance(cfg, dict) else None
    return d if isinstance(d, str) else None


def _uncompressed(reg: Any, layers: list[dict[str, Any]]) -> int | None:
    """Sum of each layer's unpacked length from its gzip trailer, or None when one cannot be read."""
    total = 0
    for desc in layers:
        size = desc.get("size")
        media = str(desc.get("mediaType") or "")
        if not isinstance(size, int) or size < 0:
            return None
        if media.endswith(("tar", ".tar")) and "gzip" not in media and "zstd" not in media:
            total += size  # an uncompressed layer is its own length
            continue
        if not media.endswith(_GZIP_TYPES) or size < 20:
            return None
        tail = reg.blob_tail(desc["digest"], 4)
        if tail is None:
            return None
        isize = struct.unpack("<I", tail)[0]
        # gzip never shrinks a stream by more than its header and block overhead; a smaller
        # trailer means a layer over 4 GiB (ISIZE wrapped) or a multi-member stream.
        if isize + 1024 < size * 0.99:
            return None
        total += isize
    return total


def _one_line(e: LintimgError) -> str:
    return " ".join(str(e).split())


def _kind(e: LintimgError) -> str:
    text = str(e)
    if "unreachable" in text or "TLS" in text:
        return "unreachable"
    if "(404)" in text or "no image for platform" in text:
        return "not-found"
    if "(401)" in text or "(403)" in text:
        return "denied"
    return "error"


# --- tags of the same version ---------------------------------------------------

_SMALL_WORDS = ("slim", "alpine", "distroless", "minimal", "micro", "jre", "runtime", "busybox", "static")


def same_version_tags(tag: str, tags: list[str]) -> list[str]:
    """Tags of ``tags`` with ``tag``'s version and another variant (``latest`` also pairs with bare variants
    such as ``slim``), the likely small ones (slim, alpine, distroless, jre, …) first."""
    version, variant = split_tag(tag)
    out = []
    for t in tags:
        v, var = split_tag(t)
        if t == tag or var == variant:
            continue
        if v == version or (version == "latest" and v == ""):
            out.append(t)
    return sorted(out, key=lambda t: (not any(w in split_tag(t)[1] for w in _SMALL_WORDS), t))


def smaller_variants(service: BaseFactsService, facts: BaseFacts, limit: int = 3, deadline: float = DEADLINE) -> list[BaseFacts] | Unavailable:
    """Tags of ``facts``' repository with the same version that measure smaller, smallest first (at most ``limit``)."""
    tag = facts.tag
    if facts.size is None or not tag:
        return []
    listed = service.tags(facts.reference)
    if isinstance(listed, Unavailable):
        return listed
    dref = parse_docker_ref(facts.reference)
    candidates = same_version_tags(tag, listed)[:MAX_VARIANTS]
    name = dref.name
    found = service.lookup_many([(f"{name}:{t}", facts.platform) for t in candidates], deadline)
    smaller = [f for f in found.values() if isinstance(f, BaseFacts) and f.size is not None and f.size < facts.size]
    return sorted(smaller, key=lambda f: (f.size or 0, f.reference))[:limit]

