"""What a fleet run scans: repositories, tags, and the image each tag resolves to (driver side).

Repositories come from the registry's catalog (``/v2/_catalog``, every
``Link`` page) or, for registries that hide it, from a file. Tags come from
``/tags/list`` (or the file, as ``repo:tag``), are filtered by glob patterns on
``REPOSITORY:TAG``, and are resolved to one image manifest for the platform
(as ``lintimg image`` picks it). Tags that resolve to the same manifest digest
are one image: it is scanned once. ``--latest N`` keeps the N most recently
created images (the config's ``created``) of each repository.

A repository or tag that cannot be listed or resolved is a :class:`Failure`
with its one-line reason; the rest of the fleet goes on.
"""
from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lintimg.dockerfile.reference import DockerRef, looks_like_host, parse_docker_ref
from lintimg.errors import LintimgError
from lintimg.image import oci
from lintimg.image.pacing import HostPacer, HostStats, add_traffic, take_stats
from lintimg.image.registry import Registry

RESOLVE_THREADS = 8  # requests in flight from the driver (the pacer still holds the host's budget)
MAX_REPOS_FILE = 1 << 20


@dataclass(frozen=True)
class FleetTarget:
    """``REGISTRY[/NAMESPACE]``: the host as written (``docker.io`` for Docker Hub) and a repository prefix."""

    registry: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"{self.registry}/{self.namespace}" if self.namespace else self.registry

    def holds(self, repository: str) -> bool:
        return not self.namespace or repository == self.namespace or repository.startswith(self.namespace + "/")


def parse_target(text: str) -> FleetTarget:
    """``127.0.0.1:5000/team`` -> registry ``127.0.0.1:5000``, namespace ``team``; a bare name is a Docker Hub namespace."""
    t = text.strip().removeprefix("docker://").strip("/")
    if not t or any(c.isspace() for c in t) or "@" in t:
        raise LintimgError(f"{text!r}: expected REGISTRY[/NAMESPACE], e.g. registry.example.com/team")
    first, _, rest = t.partition("/")
    if not looks_like_host(first):
        first, rest = "docker.io", t
    if rest and ":" in rest:
        raise LintimgError(f"{text!r}: a namespace has no tag; pick tags with --include")
    return FleetTarget(first.lower(), rest)


@dataclass(frozen=True)
class LayerRef:
    """One layer as a worker pulls it: a blob in a repository, and the digest of its uncompressed tar."""

    registry: str
    repository: str
    digest: str
    diff_id: str
    size: int
    media_type: str


@dataclass
class ImageJob:
    """One image (a manifest digest) and every selected tag that points at it."""

    registry: str
    repository: str
    digest: str
    tags: list[str]
    config: dict[str, Any]
    layers: list[LayerRef]
    platform: str
    elsewhere: list[str] = field(default_factory=list)  # "repository:tag" of other repositories holding the same manifest

    @property
    def name(self) -> str:
        return parse_docker_ref(f"{self.registry}/{self.repository}").name

    @property
    def reference(self) -> str:
        """What ``lintimg image`` would be given to check exactly this image."""
        return f"docker://{self.name}@{self.digest}"

    @property
    def label(self) -> str:
        """``repository:first tag`` for people (the digest when no tag was selected)."""
        return f"{self.repository}:{sorted(self.tags)[0]}" if self.tags else f"{self.repository}@{self.digest}"

    @property
    def created(self) -> str:
        c = self.config.get("created")
        return c if isinstance(c, str) else ""


@dataclass(frozen=True)
class Failure:
    """Something of the fleet that could not be scanned, and why (one line)."""

    stage: str  # catalog, tags, resolve, layer, check
    what: str  # the repository, tag or image it concerns
    reason: str


@dataclass
class Plan:
    target: FleetTarget
    repositories: list[str] = field(default_factory=list)
    tags_listed: int = 0
    tags_selected: int = 0
    images: dict[str, ImageJob] = field(default_factory=dict)  # by manifest digest
    failures: list[Failure] = field(default_factory=list)
    traffic: dict[str, HostStats] = field(default_factory=dict)  # the driver's requests per host

    @property
    def layers(self) -> dict[str, LayerRef]:
        """Each distinct layer (by diff_id) once, from the first image that holds it."""
        out: dict[str, LayerRef] = {}
        for job in self.images.values():
            for la in job.layers:
                out.setdefault(la.diff_id, la)
        return out


@dataclass(frozen=True)
class Selection:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    latest: int | None = None

    def wants(self, repository: str, tag: str) -> bool:
        name = f"{repository}:{tag}"
        if self.include and not any(fnmatch.fnmatchcase(name, p) for p in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in self.exclude)


def read_repos_file(path: str) -> list[tuple[str, str | None]]:
    """``--repos FILE``: one ``repository`` or ``repository:tag`` per line; ``#`` starts a comment."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_REPOS_FILE:
            raise LintimgError(f"{path}: larger than {MAX_REPOS_FILE} bytes")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LintimgError(f"{path}: repository list not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise LintimgError(f"{path}: unreadable repository list ({getattr(e, 'strerror', None) or e})") from None
    out: list[tuple[str, str | None]] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        repo, sep, tag = line.rpartition(":") if ":" in line.rsplit("/", 1)[-1] else (line, "", "")
        if not repo or any(c.isspace() for c in line) or "@" in line or (sep and not tag):
            raise LintimgError(f"{path}:{n}: expected REPOSITORY or REPOSITORY:TAG, got {line!r}")
        out.append((repo.strip("/"), tag or None))
    return out


class _Registries:
    """One client per repository, shared by the driver's threads (tokens are fetched once per scope)."""

    def __init__(self, target: FleetTarget, *, insecure: bool, ca_file: str | None, pacer: HostPacer | None) -> None:
        self.target = target
        self.kw: dict[str, Any] = {"insecure": insecure, "ca_file": ca_file, "pacer": pacer}
        self._lock = threading.Lock()
        self._by_repo: dict[str, Registry] = {}

    def get(self, repository: str) -> Registry:
        with self._lock:
            reg = self._by_repo.get(repository)
            if reg is None:
                reg = self._by_repo[repository] = Registry(DockerRef(self.target.registry, repository, None, None), **self.kw)
            return reg


def make_plan(
    target: FleetTarget,
    *,
    repos_file: str | None = None,
    selection: Selection = Selection(),
    platform: str | None = None,
    insecure: bool = False,
    ca_file: str | None = None,
    pacer: HostPacer | None = None,
    on_step: Callable[[str, int, int], None] | None = None,
) -> Plan:
    """List and resolve what the run scans. Raises :class:`LintimgError` only when nothing can be listed."""
    plan = Plan(target)
    regs = _Registries(target, insecure=insecure, ca_file=ca_file, pacer=pacer)
    step = on_step or (lambda stage, done, total: None)
    if repos_file is not None:
        listed = [(r, t) for r, t in read_repos_file(repos_file) if target.holds(r)]
    else:
        take_stats()
        try:
            listed = [(r, None) for r in regs.get("").catalog() if target.holds(r)]
        except LintimgError as e:
            raise LintimgError(f"{e}; if the registry hides its catalog, list the repositories with --repos FILE") from None
        add_traffic(plan.traffic, take_stats())
    plan.repositories = list(dict.fromkeys(r for r, _ in listed))
    explicit: dict[str, list[str]] = {}
    for r, t in listed:
        if t is not None:
            explicit.setdefault(r, []).append(t)

    def tags_of(repo: str) -> tuple[str, list[str], Failure | None, dict[str, HostStats]]:
        if repo in explicit:
            return repo, explicit[repo], None, {}
        take_stats()
        try:
            return repo, regs.get(repo).tags(), None, take_stats()
        except LintimgError as e:
            return repo, [], Failure("tags", f"{target.registry}/{repo}", str(e)), take_stats()

    pairs: list[tuple[str, str]] = []
    with ThreadPoolExecutor(RESOLVE_THREADS, thread_name_prefix="lintimg-fleet-list") as pool:
        for i, (repo, tags, failed, traffic) in enumerate(pool.map(tags_of, plan.repositories), 1):
            step("listing tags", i, len(plan.repositories))
            add_traffic(plan.traffic, traffic)
            if failed:
                plan.failures.append(failed)
            plan.tags_listed += len(tags)
            pairs += [(repo, t) for t in sorted(set(tags)) if selection.wants(repo, t)]  # registries list tags in any order

    resolved = _resolve_all(pairs, regs, platform, plan, step)
    if selection.latest is not None:
        resolved = _latest(resolved, selection.latest)
    for repo, tag, job in resolved:
        plan.tags_selected += 1
        have = plan.images.get(job.digest)
        if have is None:
            plan.images[job.digest] = have = job
        if have.repository == repo:
            have.tags.append(tag)
        else:  # the same manifest in another repository: one scan, reported under the first
            have.elsewhere.append(f"{repo}:{tag}")
    return plan


def _resolve_all(pairs: list[tuple[str, str]], regs: _Registries, platform: str | None, plan: Plan,
                 step: Callable[[str, int, int], None]) -> list[tuple[str, str, ImageJob]]:
    def one(pair: tuple[str, str]) -> tuple[str, str, ImageJob | Failure, dict[str, HostStats]]:
        repo, tag = pair
        reg = regs.get(repo)
        take_stats()
        try:
            manifest, digest, config = reg.resolve(tag, platform)
            sources = oci.layer_sources(manifest, config, reg.opener, f"docker://{reg.ref.name}:{tag}")
        except LintimgError as e:
            return repo, tag, Failure("resolve", f"{reg.ref.name}:{tag}", str(e)), take_stats()
        layers = [LayerRef(plan.target.registry, repo, s.digest, s.diff_id, s.size, s.media_type) for s in sources]
        return repo, tag, ImageJob(plan.target.registry, repo, digest, [], config, layers, oci.platform_of(config)), take_stats()

    out: list[tuple[str, str, ImageJob]] = []
    with ThreadPoolExecutor(RESOLVE_THREADS, thread_name_prefix="lintimg-fleet-resolve") as pool:
        for i, (repo, tag, got, traffic) in enumerate(pool.map(one, pairs), 1):
            step("resolving tags", i, len(pairs))
            add_traffic(plan.traffic, traffic)
            if isinstance(got, Failure):
                plan.failures.append(got)
            else:
                out.append((repo, tag, got))
    return out


def _latest(resolved: Iterable[tuple[str, str, ImageJob]], n: int) -> list[tuple[str, str, ImageJob]]:
    """Per repository, the tags of its ``n`` most recently created images (newest first; ties by tag)."""
    by_repo: dict[str, list[tuple[str, str, ImageJob]]] = {}
    for item in resolved:
        by_repo.setdefault(item[0], []).append(item)
    out: list[tuple[str, str, ImageJob]] = []
    for items in by_repo.values():
        newest: list[str] = []
        for _, _, job in sorted(items, key=lambda it: (it[2].created, it[1]), reverse=True):
            if job.digest not in newest:
                newest.append(job.digest)
        keep = set(newest[:n])
        out += [it for it in items if it[2].digest in keep]
    return out
