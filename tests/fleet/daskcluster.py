"""A real Dask distributed cluster for tests: ``dask scheduler`` and ``dask worker`` processes on loopback.

Everything binds to 127.0.0.1 (the dashboard too: ``--dashboard-address
127.0.0.1:0``, else port 8787 opens on every interface), lives in a short
temporary folder, logs to files the test can read, and is stopped by process
group (never by name: other jobs on the machine may run Dask too).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.dockerengine import unavailable


@dataclass
class Cluster:
    address: str
    folder: Path
    logs: list[Path]

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def _dask_cli() -> list[str]:
    try:
        import distributed  # noqa: F401
    except ImportError:
        unavailable("Dask distributed is not installed (it is in the test extra: pip install -e '.[test]')")
    exe = Path(sys.executable).with_name("dask")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "distributed.cli.dask_scheduler"]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _scheduler_address(sched_file: Path, scheduler: subprocess.Popen, log: Path) -> str:
    """The address the scheduler writes to its file: the file appears before its JSON is complete, so wait for both."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return str(json.loads(sched_file.read_text())["address"])
        except (OSError, ValueError, KeyError):
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dask scheduler did not start: {log.read_text(errors='replace')[-2000:]}") from None
            time.sleep(0.1)


@contextlib.contextmanager
def dask_cluster(workers: int = 2, *, worker_env: dict[str, str] | None = None, memory_limit: str = "1GiB") -> Iterator[Cluster]:
    """A scheduler and ``workers`` single-threaded worker processes; ``worker_env`` is added to the workers' environment only."""
    dask = _dask_cli()
    folder = Path(tempfile.mkdtemp(prefix="lf-", dir="/tmp"))  # short: worker scratch and sockets live here
    sched_file = folder / "scheduler.json"
    logs = [folder / "scheduler.log", folder / "workers.log"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASK_", "DOCKER_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
             "--scheduler-file", str(sched_file)],
            stdout=logs[0].open("wb"), stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True))
        address = _scheduler_address(sched_file, procs[0], logs[0])
        procs.append(subprocess.Popen(
            [*dask, "worker", "--scheduler-file", str(sched_file), "--nworkers", str(workers), "--nthreads", "1", "--host", "127.0.0.1",
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--memory-limit", memory_limit, "--local-directory", str(folder / "w")],
            stdout=logs[1].open("wb"), stderr=subprocess.STDOUT, env={**env, **(worker_env or {})}, cwd=folder, start_new_session=True))
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=120)
        yield Cluster(address, folder, logs)
    finally:
        for p in reversed(procs):
            _stop(p)
        shutil.rmtree(folder, ignore_errors=True)


try:
    from distributed.diagnostics.plugin import SchedulerPlugin
except ImportError:  # the tests that use it skip (or fail under LINTIMG_REQUIRE_ENGINE=1) through _dask_cli
    SchedulerPlugin = object  # type: ignore[misc,assignment]


class SpecRecorder(SchedulerPlugin):  # type: ignore[misc,valid-type]
    """Kept on the scheduler: the repr and pickled bytes of every task it is given (what a task "carries")."""

    name = "lintimg-spec-recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    def update_graph(self, scheduler, *args, **kwargs) -> None:  # noqa: ANN001 - the signature varies between versions
        import pickle

        for key in kwargs.get("tasks") or kwargs.get("keys") or ():
            ts = scheduler.tasks.get(key)
            if ts is not None:
                try:
                    raw = pickle.dumps(ts.run_spec)
                except Exception:  # noqa: BLE001 - a spec that does not pickle is still recorded by its repr
                    raw = b""
                self.seen.append((str(key), repr(ts.run_spec), raw))


def recorded_specs(client) -> list[tuple[str, str, bytes]]:
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.plugins[SpecRecorder.name].seen)
