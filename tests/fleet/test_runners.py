"""The task API on both engines: keys de-duplicate, handles are dependencies, failures reach dependents."""
from __future__ import annotations

import os

import pytest

from lintimg.errors import LintimgError
from lintimg.fleet.runners import DaskRunner, PoolRunner
from tests.fleet import taskfns


@pytest.fixture(params=["pool", "dask"])
def runner(request):
    if request.param == "pool":
        r = PoolRunner(2)
    else:
        r = DaskRunner(request.getfixturevalue("cluster").address)
    yield r
    r.close()


def _outcomes(runner, handles):
    return {h: (res, err) for h, res, err in runner.as_completed(handles)}


def test_a_key_runs_once_and_handles_are_dependencies(runner, tmp_path):
    a = runner.submit(taskfns.counted, str(tmp_path), 2, key="t-a")
    again = runner.submit(taskfns.counted, str(tmp_path), 2, key="t-a")
    b = runner.submit(taskfns.counted, str(tmp_path), 3, key="t-b")
    total = runner.submit(taskfns.add, a, b, 10, key="t-sum")
    twice = runner.submit(taskfns.add, a, again, key="t-twice")
    got = _outcomes(runner, [a, b, total, twice])
    assert got[total] == (15, None) and got[twice] == (4, None)
    assert again is a
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["2", "3"]  # each keyed task ran once


def test_a_failure_reaches_every_dependent_with_its_reason(runner):
    bad = runner.submit(taskfns.fail, "blob sha256:abc not found (404)", key="t-bad")
    good = runner.submit(taskfns.add, 1, 2, key="t-good")
    dependent = runner.submit(taskfns.add, bad, good, key="t-dep")
    got = _outcomes(runner, [bad, good, dependent])
    assert got[good] == (3, None)
    for h in (bad, dependent):
        res, err = got[h]
        assert res is None and isinstance(err, LintimgError) and "blob sha256:abc not found" in str(err)


def test_forget_drops_a_written_result(runner, tmp_path):
    """The driver forgets each image's handle once its reports are written: the engine must not keep the result."""
    import time

    first = runner.submit(taskfns.counted, str(tmp_path), 7, key="t-forget")
    assert _outcomes(runner, [first])[first] == (7, None)
    runner.forget(first)
    if isinstance(runner, PoolRunner):
        second = runner.submit(taskfns.counted, str(tmp_path), 7, key="t-forget")
        assert second is not first and _outcomes(runner, [second])[second] == (7, None)
        assert len(os.listdir(tmp_path)) == 2
        return
    held = None
    for _ in range(100):  # the scheduler releases asynchronously
        held = runner.client.run_on_scheduler(lambda dask_scheduler: "t-forget" in dask_scheduler.tasks)
        if not held:
            break
        time.sleep(0.1)
    assert held is False


def test_the_embedded_pool_caps_worker_memory():
    r = PoolRunner(1, memory_limit=768 << 20)
    try:
        small = r.submit(taskfns.big, 16 << 20, key="small")
        huge = r.submit(taskfns.big, 2 << 30, key="huge")
        got = _outcomes(r, [small, huge])
    finally:
        r.close()
    assert got[small] == (16 << 20, None)
    assert isinstance(got[huge][1], MemoryError)


def test_an_unreachable_scheduler_is_a_one_line_error():
    from tests.registry import free_port

    with pytest.raises(LintimgError, match=r"--scheduler tcp://127\.0\.0\.1:\d+: cannot reach the Dask scheduler"):
        DaskRunner(f"tcp://127.0.0.1:{free_port()}", timeout=2)
