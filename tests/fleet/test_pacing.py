"""The per-host request budget and back-off, shared by every process that uses the same folder."""
from __future__ import annotations

import email.utils
import multiprocessing
import time

import pytest

from lintimg.dockerfile.reference import DockerRef
from lintimg.image.pacing import HostPacer, retry_after, take_stats
from lintimg.image.registry import Registry

HOST = "registry.example.com"


def _hold_then_go(folder: str, hosts: list[str], ready, go, out) -> None:
    """In another process: once told to go, one request per host; puts (host, asked at, went at, seconds held) each."""
    pacer = HostPacer(folder, 0)
    ready.set()
    go.wait(60)
    for h in hosts:
        take_stats()
        asked = time.time()
        pacer.before(h)
        out.put((h, asked, time.time(), take_stats()[h].waited_seconds))


def _requests(folder: str, n: int, rate: float) -> list[tuple[float, float]]:
    """In another process: ``n`` requests to HOST under a shared budget; (asked at, went at) each."""
    pacer = HostPacer(folder, rate, burst=1)
    out = []
    for _ in range(n):
        asked = time.time()
        pacer.before(HOST)
        out.append((asked, time.time()))
    return out


def test_a_back_off_holds_the_host_in_every_process_and_no_other_host(tmp_path):
    folder = str(tmp_path / "pace")
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=_hold_then_go, args=(folder, ["other.example.com", HOST], ready, go, out))
    child.start()
    try:
        assert ready.wait(120)
        HostPacer(folder).back_off(HOST, 3.0, 429, True)  # this process was throttled...
        until = time.time() + 3.0
        go.set()
        other, held = out.get(timeout=120), out.get(timeout=120)
    finally:
        child.join(30)
    assert other[0] == "other.example.com" and other[3] == 0.0  # ...another host is not held
    host, asked, went, waited = held
    assert host == HOST and asked < until - 1, "the child asked too late to show anything"
    assert went >= until - 3.0 + 2.9 and waited > 1  # ...the other process waited for the pause it did not see


def test_the_budget_is_shared_by_processes(tmp_path):
    folder = str(tmp_path / "pace")
    rate, per = 10.0, 8
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.starmap(_requests, [(folder, per, rate)] * 2)
    calls = [c for run in runs for c in run]
    first_asked = min(a for a, _ in calls)
    last_went = max(w for _, w in calls)
    # 16 requests at 10/s with no burst: the last cannot go before 1.5 s after anyone asked
    assert last_went - first_asked >= (2 * per - 1) / rate - 0.01
    # and each process alone would have finished in 0.7 s: they really waited for each other
    assert max(w for _, w in runs[0]) - min(a for a, _ in runs[0]) > (per - 1) / rate


def test_retry_after_forms():
    assert retry_after("3") == 3.0 and retry_after(" 0.5 ") == 0.5 and retry_after("-2") == 0.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after(soon) or 0) <= 31
    assert retry_after(None) is None and retry_after("") is None and retry_after("soon") is None


@pytest.mark.registry
def test_the_registry_client_honours_retry_after_through_the_pacer(fleet, tmp_path):
    from tests.registry import ThrottlingProxy

    proxy = ThrottlingProxy(fleet.host, every=2, retry_after="1")
    try:
        reg = Registry(DockerRef(proxy.host, "fleet/app02", None, None), pacer=HostPacer(str(tmp_path / "pace"), 0), attempts=4)
        take_stats()
        t0 = time.time()
        assert reg.tags() == ["1"]
        assert reg.tags() == ["1"]  # request 2 is the 429, request 3 its retry
        st = take_stats()[proxy.host]
    finally:
        proxy.close()
    # 4 requests: a TLS attempt first (plain HTTP on loopback is found by trying), then the three the proxy saw
    assert (st.requests, st.throttled, st.statuses, st.retry_after) == (4, 1, {429: 1}, 1)
    assert st.backoff_seconds == 1.0 and st.waited_seconds > 0.5
    statuses = [s for _, _, s in proxy.log]
    assert statuses == [200, 429, 200]
    retried_at = proxy.log[2][0]
    assert retried_at - proxy.log[1][0] >= 0.9 and retried_at > t0
