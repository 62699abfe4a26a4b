"""One task API over two engines: an embedded process pool, or a Dask distributed cluster.

A :class:`Runner` takes ``submit(fn, *args, key=...)``: handles among the
arguments are dependencies, resolved to their results before ``fn`` runs, and
a key submitted again returns the first handle, so a layer shared by many
images is one task. ``as_completed`` yields ``(handle, result, error)`` as
tasks finish; ``forget`` lets the engine drop a result the driver has written.

- :class:`PoolRunner` (the default): ``concurrent.futures`` processes on this
  machine, started with ``spawn``; dependencies are resolved in the driver.
  ``memory_limit`` caps each worker's address space (``RLIMIT_AS``): a task
  that needs more fails with ``MemoryError`` instead of taking the machine.
- :class:`DaskRunner` (``--scheduler ADDRESS``): ``distributed.Client`` to a
  running cluster; the scheduler resolves dependencies, and keys de-duplicate
  for as long as a future holds them, so the runner holds every keyed future
  until :meth:`close` (they are small receipts). Memory per worker is the
  cluster's own ``--memory-limit`` (the nanny pauses, spills, restarts).

Neither engine promises to run a task exactly once (a lost worker's tasks run
again): the layer cache's writes are atomic and idempotent, and a fleet run
counts analyses by what the tasks report, not by submissions.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from lintimg.errors import LintimgError

Outcome = tuple[Any, Any, BaseException | None]  # (handle, result, error)


class Runner(Protocol):
    description: str  # for the summary: what ran the tasks

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any: ...

    def as_completed(self, handles: Iterable[Any]) -> Iterator[Outcome]: ...

    def forget(self, handle: Any) -> None: ...

    def close(self) -> None: ...


def _limit_memory(limit: int | None) -> None:
    """Pool worker initialiser: cap the address space (a task over it raises MemoryError)."""
    if limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class PoolRunner:
    """The embedded engine: ``workers`` processes on this machine."""

    def __init__(self, workers: int, memory_limit: int | None = None) -> None:
        self.description = f"embedded process pool, {workers} worker{'s' if workers != 1 else ''}"
        if memory_limit:
            self.description += f", {memory_limit >> 20} MiB each"
        # spawn, not fork: the driver has threads (progress, resolution) and forking those is unsafe
        self._pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_limit_memory, initargs=(memory_limit,))
        self._by_key: dict[str, cf.Future[Any]] = {}
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> cf.Future[Any]:
        with self._lock:
            if key in self._by_key:
                return self._by_key[key]
            out: cf.Future[Any] = cf.Future()
            self._by_key[key] = out
        deps = [a for a in args if isinstance(a, cf.Future)]
        left = [len(deps)]
        left_lock = threading.Lock()

        def launch() -> None:
            try:
                real = [a.result() if isinstance(a, cf.Future) else a for a in args]
            except BaseException as e:  # a dependency failed: so does this task, with its reason
                out.set_exception(e)
                return
            try:
                inner = self._pool.submit(fn, *real)
            except RuntimeError as e:  # the pool is shutting down or broken
                out.set_exception(e)
                return
            inner.add_done_callback(lambda f: _copy(f, out))

        def dep_done(_: cf.Future[Any]) -> None:
            with left_lock:
                left[0] -= 1
                ready = left[0] == 0
            if ready:
                launch()

        if not deps:
            launch()
        for d in deps:
            d.add_done_callback(dep_done)
        return out

    def as_completed(self, handles: Iterable[cf.Future[Any]]) -> Iterator[Outcome]:
        for f in cf.as_completed(list(handles)):
            err = f.exception()
            yield f, None if err else f.result(), err

    def forget(self, handle: cf.Future[Any]) -> None:
        with self._lock:
            for k in [k for k, v in self._by_key.items() if v is handle]:
                del self._by_key[k]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _copy(src: cf.Future[Any], dst: cf.Future[Any]) -> None:
    if src.cancelled():
        dst.cancel()
        return
    err = src.exception()
    if err is not None:
        dst.set_exception(err)
    else:
        dst.set_result(src.result())


class DaskRunner:
    """Tasks on a running Dask distributed cluster (``pip install 'lintimg[fleet]'``)."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise LintimgError("--scheduler needs Dask distributed: pip install 'lintimg[fleet]'") from None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
        except OSError as e:  # distributed raises OSError (TimeoutError) for an unreachable scheduler
            raise LintimgError(f"--scheduler {address}: cannot reach the Dask scheduler ({e})") from None
        n = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        self.description = f"Dask scheduler {address}, {n} worker{'s' if n != 1 else ''}"
        self._by_key: dict[str, Any] = {}

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        fut = self._by_key.get(key)
        if fut is None:
            fut = self._by_key[key] = self.client.submit(fn, *args, key=key)
        return fut

    def as_completed(self, handles: Iterable[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        for f in as_completed(list(handles), loop=self.client.loop):  # type: ignore[no-untyped-call]
            if f.status == "error" or f.cancelled():
                err = f.exception() if f.status == "error" else None
                yield f, None, err if isinstance(err, BaseException) else LintimgError(f"task {f.key} was cancelled")
            else:
                yield f, f.result(), None

    def forget(self, handle: Any) -> None:
        self._by_key.pop(str(handle.key), None)
        handle.release()

    def run_on_workers(self, fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
        """``fn(*args)`` on every worker once: ``{worker address: result}``."""
        return dict(self.client.run(fn, *args))

    def close(self) -> None:
        self._by_key.clear()
        self.client.close()  # type: ignore[no-untyped-call]


def make_runner(scheduler: str | None, workers: int | None = None, memory_limit: int | None = None) -> Runner:
    """The embedded pool, or a Dask cluster when ``scheduler`` names one."""
    if scheduler:
        return DaskRunner(scheduler)
    return PoolRunner(workers or os.cpu_count() or 1, memory_limit)
