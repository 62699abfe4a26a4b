"""The two tasks of a fleet run, as they run on a worker (a pool process or a Dask worker).

- :func:`analyse_layer_task`: "analyse layer L" — pull one blob and analyse it
  into the shared layer cache, unless the cache already holds it. Returns a
  small :class:`LayerDone` receipt, never the result itself, so the engine moves
  only small messages and a layer result is never held in memory for the run.
- :func:`check_image_task`: "check image I given its layers' results" — read
  each layer's result from the cache (pulling only a layer the cache lost),
  assemble the image, run the rules and render its reports exactly as
  ``lintimg image`` renders them.

Arguments are references and settings (:class:`Settings`), never credentials:
a worker's registry client finds credentials in its own environment
(``DOCKER_CONFIG``, ``DOCKER_AUTH_CONFIG``, ``~/.docker/config.json``,
credential helpers), as ``lintimg image`` does. Engines and registry clients
are kept per worker process (engines per thread) and reused across tasks.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lintimg.config import Config
from lintimg.dockerfile.reference import DockerRef
from lintimg.engine import Engine
from lintimg.findings import Severity
from lintimg.fleet.plan import ImageJob, LayerRef
from lintimg.image.layercache import LayerCache
from lintimg.image.pacing import HostPacer, HostStats, take_stats
from lintimg.image.reader import LayerResult, LayerSource, analyse_layer, assemble
from lintimg.image.registry import Registry


@dataclass(frozen=True)
class EngineRecipe:
    """How to rebuild the driver's engine in a worker: its config, rule folders and which rules run how."""

    config: Config
    rules_dirs: tuple[str, ...]
    registry_state: dict[str, Any]
    key: str  # identifies the recipe in a worker's memo

    @classmethod
    def of(cls, engine: Engine, rules_dirs: tuple[str, ...] = ()) -> EngineRecipe:
        state = engine.registry.run_state()
        key = hashlib.sha256(pickle.dumps((engine.config, rules_dirs, _folder_digest(rules_dirs), sorted(state.items(), key=repr)))).hexdigest()
        return cls(engine.config, tuple(rules_dirs), state, key)

    def build(self) -> Engine:
        engine = Engine(self.config, self.rules_dirs)
        engine.registry.restore(self.registry_state)
        return engine


def _folder_digest(folders: tuple[str, ...]) -> str:
    """The rule modules' code in local rule folders: an edited rule makes another recipe (so earlier results are not reused)."""
    import os

    h = hashlib.sha256()
    for folder in folders:
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
        except OSError:
            continue  # the engine has already said what is wrong with the folder
        for name in names:
            try:
                with open(os.path.join(folder, name), "rb") as fh:
                    h.update(name.encode() + b"\0" + hashlib.sha256(fh.read()).digest())
            except OSError:
                h.update(name.encode() + b"\0?")
    return h.hexdigest()


@dataclass(frozen=True)
class Settings:
    """What every task of one run shares. Holds paths and numbers only: nothing secret."""

    recipe: EngineRecipe
    cache_root: str  # the layer cache every worker sees
    pace_dir: str  # per-host request budget and back-offs, shared the same way
    rate: float  # requests per second per registry host (0: no budget)
    insecure: bool = False
    ca_file: str | None = None
    threshold: str = "info"  # the failure threshold, for each image's verdict


@dataclass
class LayerDone:
    """A layer task's receipt."""

    diff_id: str
    analysed: bool  # the blob was pulled and read (False: the cache held it)
    stored: bool  # the result is in the shared cache
    pulled: int  # blob bytes read
    seconds: float
    traffic: dict[str, HostStats] = field(default_factory=dict)


@dataclass
class ImageDone:
    """An image task's result: both reports as ``lintimg image`` writes them, and the facts the summary needs."""

    digest: str
    report_json: str
    report_sarif: str
    record: dict[str, Any]
    reread: int  # layers the cache did not hold and this task read again
    pulled: int
    traffic: dict[str, HostStats] = field(default_factory=dict)


def image_key(s: Settings, job: ImageJob, automation_id: str) -> str:
    """What an image task's result depends on: lintimg, the rules and their config, the threshold, and the image as
    this run names it (its digest fixes its layers and config). Equal keys, equal :class:`ImageDone` (traffic aside)."""
    from lintimg import __version__

    named = [job.registry, job.repository, job.digest, job.reference, sorted(job.tags), job.elsewhere, job.created, job.platform]
    return hashlib.sha256(json.dumps([__version__, s.recipe.key, s.threshold, automation_id, named], default=str).encode()).hexdigest()


# --- per worker process -------------------------------------------------------

_lock = threading.Lock()
_registries: dict[tuple[str, str, bool, str | None, float, str], Registry] = {}
_local = threading.local()


def _engine(recipe: EngineRecipe) -> Engine:
    """One engine per recipe and thread: rule runs keep per-target state, so threads never share one."""
    memo: dict[str, Engine] = _local.__dict__.setdefault("engines", {})
    engine = memo.get(recipe.key)
    if engine is None:
        engine = memo[recipe.key] = recipe.build()
    return engine


def _registry(s: Settings, registry: str, repository: str) -> Registry:
    key = (registry, repository, s.insecure, s.ca_file, s.rate, s.pace_dir)
    with _lock:
        reg = _registries.get(key)
        if reg is None:
            reg = _registries[key] = Registry(DockerRef(registry, repository, None, None), insecure=s.insecure, ca_file=s.ca_file,
                                              pacer=HostPacer(s.pace_dir, s.rate))
        return reg


def _source(s: Settings, la: LayerRef, index: int) -> LayerSource:
    reg = _registry(s, la.registry, la.repository)
    return LayerSource(index, la.digest, la.diff_id, la.size, la.media_type, reg.opener({"digest": la.digest, "mediaType": la.media_type}))


def _reading(s: Settings) -> tuple[Engine, Any, Any, LayerCache]:
    from lintimg.run.image import rule_reading

    engine = _engine(s.recipe)
    analyzers, capture = rule_reading(engine)
    return engine, analyzers, capture, LayerCache(s.cache_root)


# --- the tasks ------------------------------------------------------------------

def analyse_layer_task(s: Settings, la: LayerRef) -> LayerDone:
    """Analyse one layer into the shared cache (or find it there); raises LintimgError with a one-line reason."""
    start = time.monotonic()
    take_stats()
    _, analyzers, capture, cache = _reading(s)
    ref = f"docker://{la.registry}/{la.repository}@{la.digest}"
    res = analyse_layer(_source(s, la, 0), ref=ref, analyzers=analyzers, want_content=capture, cache=cache)
    analysed = cache.hits == 0
    return LayerDone(la.diff_id, analysed, cache.stores > 0 or not analysed, res.layer.size if analysed else 0,
                     time.monotonic() - start, take_stats())


def check_image_task(s: Settings, job: ImageJob, automation_id: str, *layers: LayerDone) -> ImageDone:
    """Check one image from its layers' cached results; the reports and the summary's facts about it.

    ``layers`` are the receipts of its layer tasks: passing them makes the
    engine run this task after those (the results themselves come from the cache).
    """
    from lintimg.image import stats
    from lintimg.image.oci import platform_of
    from lintimg.run.image import check_image

    take_stats()
    engine, analyzers, capture, cache = _reading(s)
    results: list[LayerResult] = []
    reread = pulled = 0
    for i, la in enumerate(job.layers):
        hits = cache.hits
        results.append(analyse_layer(_source(s, la, i), ref=job.reference, analyzers=analyzers, want_content=capture, cache=cache))
        if cache.hits == hits:  # not in the cache (its layer task failed to store it, or the cache is off): read here
            reread += 1
            pulled += results[-1].layer.size
    image = assemble(reference=job.reference, name=job.name, digest=job.digest, config=job.config, results=results,
                     platform=platform_of(job.config))
    run = check_image(engine, image)
    formats = engine.report_formats()
    info = run.run_info(engine, "image", job.reference)
    report_json = formats["json"](run.findings, info)
    sarif = json.loads(formats["sarif"](run.findings, info))
    for r in sarif.get("runs", []):
        r.setdefault("automationDetails", {})["id"] = automation_id
    waste = stats.waste(image)
    floor = None if s.threshold == "none" else Severity.parse(s.threshold)
    by_rule: dict[str, dict[str, int]] = {}
    for f in run.findings:
        counts = by_rule.setdefault(f.rule_id, {})
        counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
    record = {
        "digest": job.digest,
        "key": image_key(s, job, automation_id),
        "registry": job.registry,
        "repository": job.repository,
        "tags": sorted(job.tags),
        "elsewhere": job.elsewhere,
        "reference": job.reference,
        "platform": job.platform,
        "created": job.created,
        "labels": (job.config.get("config") or {}).get("Labels") or {},
        "findings": by_rule,
        "slugs": {f.rule_id: f.slug for f in run.findings},
        "fails": floor is not None and any(f.severity >= floor for f in run.findings),
        "layers": [{"diff_id": r.layer.diff_id, "digest": r.layer.digest, "size": r.layer.size, "uncompressed": r.layer.uncompressed_size}
                   for r in results],
        "size": {"compressed": sum(r.layer.size for r in results), "uncompressed": sum(r.layer.uncompressed_size for r in results)},
        "waste": {"bytes": waste.wasted_bytes, "efficiency": round(waste.efficiency, 4),
                  "largest": [{"path": w.path, "size": w.size, "layer": w.added_layer} for w in waste.files[:3]]},
    }
    return ImageDone(job.digest, report_json, json.dumps(sarif, indent=2, ensure_ascii=False) + "\n", record, reread, pulled, take_stats())


# --- cluster checks (run once on every worker before any task) ------------------

def probe_write(cache_root: str, token: str) -> tuple[str, str]:
    """(this worker's lintimg version, "" or why it cannot write a file in the layer cache folder)."""
    import os
    import socket

    from lintimg import __version__

    try:
        folder = os.path.join(cache_root, ".workers", token)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{socket.gethostname()}-{os.getpid()}"), "w"):
            pass
    except OSError as e:
        return __version__, e.strerror or str(e)
    return __version__, ""


def probe_see(cache_root: str, token: str, clean: bool = False) -> int:
    """How many workers' probe files this worker sees (all of them when the folder is really shared);
    with ``clean``, remove them (a second round, once every worker has looked)."""
    import os
    import shutil

    folder = os.path.join(cache_root, ".workers", token)
    try:
        seen = len(os.listdir(folder))
    except OSError:
        return 0
    if clean:
        shutil.rmtree(folder, ignore_errors=True)
    return seen
