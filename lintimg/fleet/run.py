"""The driver of a fleet run: plan, hand tasks to a runner, write results as they come, summarise."""
from __future__ import annotations

import os
import time
import uuid
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from lintimg import __version__
from lintimg.engine import Engine
from lintimg.errors import LintimgError
from lintimg.fleet import summary
from lintimg.fleet.plan import Failure, FleetTarget, ImageJob, LayerRef, Selection, make_plan
from lintimg.fleet.progress import Progress
from lintimg.fleet.results import ImageCache, ResultStore
from lintimg.fleet.runners import DaskRunner, Runner, make_runner
from lintimg.fleet.tasks import EngineRecipe, ImageDone, LayerDone, Settings, analyse_layer_task, check_image_task, image_key, probe_see, probe_write
from lintimg.image.layercache import LayerCache, default_root
from lintimg.image.oci import parse_platform
from lintimg.image.pacing import HostPacer


@dataclass
class FleetOptions:
    target: FleetTarget
    out: str
    repos_file: str | None = None
    selection: Selection = field(default_factory=Selection)
    platform: str | None = None
    insecure: bool = False
    ca_file: str | None = None
    scheduler: str | None = None  # a Dask scheduler address; None: the embedded pool
    workers: int | None = None  # embedded pool size (default: CPUs)
    memory_limit: int | None = None  # bytes per embedded worker
    cache_root: str | None = None  # default: the layer cache's ($LINTIMG_LAYER_CACHE, else XDG)
    rate: float = 20.0  # requests per second per registry host
    threshold: str = "info"
    rules_dirs: tuple[str, ...] = ()


@dataclass
class FleetResult:
    summary: dict[str, Any]
    text: str

    @property
    def exit_code(self) -> int:
        return int(self.summary["exit_code"])


def automation_id(job: ImageJob) -> str:
    """SARIF ``automationDetails.id`` of an image's run: its own category (GitHub keeps alerts per category),
    stable across pushes of the same repository and tag."""
    return f"lintimg/fleet/{job.registry}/{job.label}/"


def one_line(err: BaseException, memory_limit: int | None = None) -> str:
    """A task's failure as the summary says it: never a traceback."""
    if isinstance(err, LintimgError):
        return str(err).splitlines()[0] if str(err) else "error"
    if isinstance(err, MemoryError):
        limit = f" (worker memory limit {memory_limit >> 20} MiB)" if memory_limit else ""
        return f"out of memory{limit}"
    if isinstance(err, BrokenProcessPool):
        return "a worker process died (killed, or out of memory); rerun to resume"
    name = type(err).__name__
    text = (str(err).splitlines() or [""])[0][:300]
    if name == "KilledWorker":
        return f"the workers running it died ({text}); see the cluster's logs, rerun to resume"
    return f"{name}: {text}" if text else name


def run_fleet(engine: Engine, opts: FleetOptions, progress: Progress | None = None) -> FleetResult:
    """Scan the fleet; results land in ``opts.out`` as each image finishes. Raises LintimgError when nothing can be listed."""
    started = time.monotonic()
    progress = progress or Progress()
    if opts.platform:
        parse_platform(opts.platform)  # a typo fails before any request
    store = ResultStore(opts.out)
    cache_root = str(opts.cache_root or default_root())
    pace_dir = os.path.join(cache_root, "pace")
    try:
        pacer = HostPacer(pace_dir, opts.rate)
    except OSError as e:
        raise LintimgError(f"{pace_dir}: cannot create the pacing folder ({e.strerror or e})") from None
    plan = make_plan(opts.target, repos_file=opts.repos_file, selection=opts.selection, platform=opts.platform, insecure=opts.insecure,
                     ca_file=opts.ca_file, pacer=pacer, on_step=progress.step)
    stats = summary.RunStats()
    stats.add_traffic(plan.traffic)
    failures = list(plan.failures)
    settings = Settings(EngineRecipe.of(engine, opts.rules_dirs), cache_root, pace_dir, opts.rate, opts.insecure, opts.ca_file,
                        opts.threshold)
    images = ImageCache(cache_root, LayerCache(cache_root).on)
    records: dict[str, dict[str, Any]] = {}
    todo: list[ImageJob] = []
    for digest, job in plan.images.items():
        key = image_key(settings, job, automation_id(job))
        rec = store.record(digest, key)
        done = images.get(key) if rec is None else None
        if rec is not None:
            records[digest] = rec
            stats.resumed += 1
        elif done is not None:  # checked before, with these rules, by a run into another folder
            store.save(done)
            records[digest] = done.record
            stats.reused += 1
        else:
            todo.append(job)
    if todo:
        runner = make_runner(opts.scheduler, opts.workers, opts.memory_limit)
        try:
            stats.runner = runner.description
            _check_workers(runner, cache_root)
            _scan(runner, settings, todo, store, images, records, failures, stats, progress, opts.memory_limit)
        finally:
            runner.close()
    if not LayerCache(cache_root).on:
        stats.notes.append("the layer cache is off (LINTIMG_NO_CACHE=1): each image read its own layers, shared ones included")
    stats.seconds = time.monotonic() - started
    ordered = [records[d] for d in plan.images if d in records]
    doc = summary.build(plan, ordered, failures, stats, platform=opts.platform, tool_version=__version__)
    text = summary.render_text(doc)
    store.write_summary(doc, text)
    store.write_combined_sarif([d for d in plan.images if d in records])
    return FleetResult(doc, text)


def _check_workers(runner: Runner, cache_root: str) -> None:
    """A cluster's workers must run this lintimg and share one layer cache folder: say so before any task runs."""
    if not isinstance(runner, DaskRunner):
        return
    token = uuid.uuid4().hex
    wrote = runner.run_on_workers(probe_write, cache_root, token)
    if not wrote:
        raise LintimgError(f"{runner.description}: the cluster has no workers")
    for worker, (version, problem) in sorted(wrote.items()):
        if version != __version__:
            raise LintimgError(f"Dask worker {worker} runs lintimg {version}, this is {__version__}: install the same version on every worker")
        if problem:
            raise LintimgError(f"Dask worker {worker} cannot write the layer cache {cache_root} ({problem}): every worker needs that folder, shared")
    seen_by = runner.run_on_workers(probe_see, cache_root, token)
    runner.run_on_workers(probe_see, cache_root, token, True)
    for worker, seen in sorted(seen_by.items()):
        if seen < len(wrote):
            raise LintimgError(f"Dask worker {worker} sees {seen} of {len(wrote)} workers' files in {cache_root}: "
                               "the layer cache must be one folder every worker shares (a shared volume)")


def _scan(runner: Runner, s: Settings, todo: list[ImageJob], store: ResultStore, images: ImageCache, records: dict[str, dict[str, Any]],
          failures: list[Failure], stats: summary.RunStats, progress: Progress, memory_limit: int | None) -> None:
    run_id = uuid.uuid4().hex[:12]
    use_cache = LayerCache(s.cache_root).on
    what: dict[Any, ImageJob | LayerRef] = {}
    handles: list[Any] = []
    layer_handles: dict[str, Any] = {}
    for job in todo:
        deps = []
        for la in job.layers if use_cache else ():
            h = layer_handles.get(la.diff_id)
            if h is None:
                h = layer_handles[la.diff_id] = runner.submit(analyse_layer_task, s, la, key=f"lintimg-layer-{run_id}-{la.diff_id.replace(':', '-')}")
                what[h] = la
                handles.append(h)
            deps.append(h)
        h = runner.submit(check_image_task, s, job, automation_id(job), *deps, key=f"lintimg-image-{run_id}-{job.digest.replace(':', '-')}")
        what[h] = job
        handles.append(h)
    stats.layers_submitted = len(layer_handles)
    c = progress.counts
    c.stage, c.images_total, c.images_done = "scanning", len(todo) + len(records), len(records)
    progress.refresh()
    for h, result, err in runner.as_completed(handles):
        item = what.pop(h)
        if not isinstance(item, ImageJob):
            if isinstance(result, LayerDone):
                _count_layer(result, stats, c)
            continue  # a failed layer fails the images that hold it: they say why
        job = item
        if err is not None or not isinstance(result, ImageDone):
            failures.append(Failure("check", f"{job.name}@{job.digest}" + (f" ({job.label})" if job.tags else ""),
                                    one_line(err or RuntimeError("no result"), memory_limit)))
            c.failed += 1
        else:
            store.save(result)
            images.put(result)
            records[job.digest] = result.record
            stats.scanned += 1
            stats.reread += result.reread
            stats.pulled += result.pulled
            c.pulled += result.pulled
            stats.add_traffic(result.traffic)
            c.images_done += 1
        runner.forget(h)
        _throttle_counts(stats, c)
        progress.refresh()


def _count_layer(done: LayerDone, stats: summary.RunStats, c: Any) -> None:
    if done.analysed:
        stats.analysed += 1
        c.analysed += 1
    else:
        stats.cached += 1
        c.cached += 1
    stats.pulled += done.pulled
    c.pulled += done.pulled
    stats.add_traffic(done.traffic)


def _throttle_counts(stats: summary.RunStats, c: Any) -> None:
    c.throttled = sum(st.throttled for st in stats.traffic.values())
    c.backoff = sum(st.backoff_seconds for st in stats.traffic.values())
