"""The fleet summary from per-image records: bases from shared layers, findings by rule and severity, exit codes."""
from __future__ import annotations

from lintimg.fleet.plan import Failure, FleetTarget, ImageJob, Plan
from lintimg.fleet.summary import RunStats, bases, build, findings_table, render_text
from lintimg.image.pacing import HostStats


def rec(repo: str, layers: list[str], *, tags=("1",), findings=None, labels=None, waste=0, fails=False) -> dict:
    return {"digest": "sha256:" + (repo.replace("/", "") + "0" * 64)[:64], "repository": repo, "tags": list(tags),
            "layers": [{"diff_id": f"sha256:{d}", "digest": "", "size": 10 * (i + 1), "uncompressed": 100 * (i + 1)} for i, d in enumerate(layers)],
            "findings": findings or {}, "slugs": {}, "labels": labels or {}, "fails": fails,
            "waste": {"bytes": waste, "efficiency": 0.5, "largest": [{"path": "opt/x", "size": waste, "layer": 1}] if waste else []}}


def test_bases_are_the_longest_fleet_image_under_each_image():
    recs = [rec("t/os", ["a"]), rec("t/py", ["a", "b"]), rec("t/app", ["a", "b", "c"]), rec("t/tool", ["a", "x"]),
            rec("t/solo", ["z"])]
    got = {b["base"]: (b["images"], b["layers"], b["compressed"], b["uncompressed"], b["examples"]) for b in bases(recs)}
    assert got == {"t/os:1": (2, 1, 10, 100, ["t/py:1", "t/tool:1"]), "t/py:1": (1, 2, 30, 300, ["t/app:1"])}


def test_a_base_outside_the_fleet_is_the_shared_run_of_first_layers_or_the_declared_label():
    recs = [rec("t/a", ["q", "r", "s"]), rec("t/b", ["q", "r", "t"]), rec("t/c", ["q", "u"]),
            rec("t/d", ["m", "n"], labels={"org.opencontainers.image.base.name": "docker.io/library/python:3.12-slim"})]
    got = {b["base"]: (b["images"], b["layers"], b["compressed"]) for b in bases(recs)}
    assert got == {"(unnamed) sha256:r": (2, 2, 30), "(unnamed) sha256:q": (1, 1, 10), "docker.io/library/python:3.12-slim": (1, None, None)}


def test_findings_by_rule_and_severity_count_images_and_findings():
    recs = [rec("t/a", ["a"], findings={"LI550": {"error": 2}, "LI751": {"info": 1}}),
            rec("t/b", ["b"], findings={"LI550": {"error": 1, "warning": 1}}), rec("t/c", ["c"])]
    assert findings_table(recs) == [
        {"rule": "LI550", "slug": "", "severity": "error", "images": 2, "findings": 3},
        {"rule": "LI550", "slug": "", "severity": "warning", "images": 1, "findings": 1},
        {"rule": "LI751", "slug": "", "severity": "info", "images": 1, "findings": 1},
    ]


def _doc(recs, failures=(), traffic=None):
    plan = Plan(FleetTarget("r.example.com", "t"), repositories=["t/a"], tags_listed=3, tags_selected=len(recs))
    plan.images = {r["digest"]: ImageJob("r.example.com", r["repository"], r["digest"], r["tags"], {}, [], "linux/amd64") for r in recs}
    stats = RunStats(runner="embedded process pool, 2 workers", scanned=len(recs), traffic=traffic or {})
    return build(plan, recs, list(failures), stats, platform=None, tool_version="0")


def test_exit_codes_and_text():
    clean = [rec("t/a", ["a"])]
    assert _doc(clean)["exit_code"] == 0
    failing = [rec("t/a", ["a"], findings={"LI550": {"error": 1}}, fails=True, waste=5_000_000)]
    assert _doc(failing)["exit_code"] == 1
    throttled = {"r.example.com": HostStats(requests=40, throttled=12, statuses={429: 12}, retry_after=1, backoff_seconds=4.5)}
    doc = _doc(failing, [Failure("resolve", "r.example.com/t/b:2", "manifest 2 not found (404)")], throttled)
    assert doc["exit_code"] == 3  # incomplete wins: the gate must not pass a fleet it could not see whole
    text = render_text(doc)
    assert "registry r.example.com: 40 requests; 12 asked us to slow down (429: 12; Retry-After named 1 times): " \
           "every worker backed off this host for 4.5 s in all" in text
    assert "Could not scan (1):\n  resolve  r.example.com/t/b:2: manifest 2 not found (404)" in text
    assert ["t/a:1", "5.0", "MB", "50.0", "%", "opt/x", "5.0", "MB"] in [line.split() for line in text.splitlines()]
    assert text.startswith("lintimg fleet r.example.com/t: 1 image (1 scanned now, 0 from the cache, 0 by an earlier run), 1 could not be scanned;")
