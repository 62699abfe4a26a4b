"""What the fleet holds, from the per-image records: findings by rule and severity, waste, bases, failures.

Base images are found from the layers themselves, since an image in a
registry does not say what it was built ``FROM``: an image's base is the
longest image of the fleet whose layers are a proper prefix of its own (named
by that image's repository and tag); failing that, the longest run of first
layers it shares with another image (an unnamed base, named by its top
layer); an ``org.opencontainers.image.base.name`` label, when present, names
a base that is not in the fleet.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lintimg.findings import Severity
from lintimg.fleet.plan import Failure, Plan
from lintimg.image.pacing import HostStats, add_traffic
from lintimg.image.stats import human

SCHEMA_VERSION = 1
TOP_WASTE = 10
BASE_LABEL = "org.opencontainers.image.base.name"

# Exit codes of `lintimg fleet` (docs/fleet.md); 2 is a fatal error, as in every command.
EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3


@dataclass
class RunStats:
    """What this run did (the records say what the fleet holds)."""

    runner: str = ""
    seconds: float = 0.0
    scanned: int = 0  # images checked by this run
    resumed: int = 0  # images an earlier run into the same folder had finished
    reused: int = 0  # images whose results an earlier run left in the cache (same image, rules and config)
    layers_submitted: int = 0  # distinct layers of the images this run checked
    analysed: int = 0  # layer tasks that pulled and read their blob
    cached: int = 0  # layer tasks the cache answered
    reread: int = 0  # layers image tasks had to read again (cache lost or off)
    pulled: int = 0  # blob bytes read
    traffic: dict[str, HostStats] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_traffic(self, traffic: dict[str, HostStats]) -> None:
        add_traffic(self.traffic, traffic)


def label(rec: dict[str, Any]) -> str:
    tags = rec.get("tags") or []
    return f"{rec['repository']}:{tags[0]}" if tags else f"{rec['repository']}@{rec['digest'][:19]}"


def _prefix_keys(diff_ids: list[str]) -> list[str]:
    """A key per prefix length (1..n): equal keys mean equal first layers."""
    out, h = [], hashlib.sha256()
    for d in diff_ids:
        h.update(d.encode() + b"\0")
        out.append(h.copy().hexdigest())
    return out


def bases(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Base images in use: name, layers, sizes, and how many images of the fleet build on each."""
    seqs = {r["digest"]: [la["diff_id"] for la in r.get("layers", [])] for r in records}
    keys = {d: _prefix_keys(s) for d, s in seqs.items()}
    whole: dict[str, dict[str, Any]] = {}  # prefix key -> the fleet image that is exactly those layers
    count: dict[str, int] = {}
    for r in records:
        ks = keys[r["digest"]]
        if ks:
            whole.setdefault(ks[-1], r)
        for k in ks:
            count[k] = count.get(k, 0) + 1
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        ks = keys[r["digest"]]
        found: tuple[str, int] | None = None
        for n in range(len(ks) - 1, 0, -1):  # longest proper prefix that is an image of the fleet
            if ks[n - 1] in whole:
                found = (label(whole[ks[n - 1]]), n)
                break
        if found is None:
            declared = (r.get("labels") or {}).get(BASE_LABEL)
            shared = next((n for n in range(len(ks) - 1, 0, -1) if count[ks[n - 1]] > 1), 0)
            if isinstance(declared, str) and declared:
                found = (declared, 0)
            elif shared:
                found = (f"(unnamed) {seqs[r['digest']][shared - 1][:19]}", shared)
        if found is None:
            continue
        g = groups.get(found)
        if g is None:
            layers = r["layers"][: found[1]]
            g = groups[found] = {"base": found[0], "layers": found[1] or None,
                                 "compressed": sum(la["size"] for la in layers) if found[1] else None,
                                 "uncompressed": sum(la["uncompressed"] for la in layers) if found[1] else None,
                                 "images": 0, "examples": []}
        g["images"] += 1
        if len(g["examples"]) < 3:
            g["examples"].append(label(r))
    return sorted(groups.values(), key=lambda g: (-g["images"], g["base"]))


def findings_table(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per rule and severity: how many images have such findings, and how many findings in all."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        slugs = r.get("slugs", {})
        for rule, by_sev in (r.get("findings") or {}).items():
            for sev, n in by_sev.items():
                row = rows.setdefault((rule, sev), {"rule": rule, "slug": slugs.get(rule, ""), "severity": sev, "images": 0, "findings": 0})
                row["images"] += 1
                row["findings"] += n
    return sorted(rows.values(), key=lambda row: (-Severity.parse(row["severity"]), -row["images"], row["rule"]))


def build(plan: Plan, records: list[dict[str, Any]], failures: list[Failure], stats: RunStats, *, platform: str | None,
          tool_version: str) -> dict[str, Any]:
    scanned = {r["digest"] for r in records}
    failing = [r for r in records if r.get("fails")]
    worst: dict[str, int] = {}
    for r in records:
        sevs = {s for by in (r.get("findings") or {}).values() for s in by}
        for s in sevs:
            worst[s] = worst.get(s, 0) + 1
    waste = sorted((r for r in records if r["waste"]["bytes"]), key=lambda r: (-r["waste"]["bytes"], label(r)))[:TOP_WASTE]
    code = EXIT_INCOMPLETE if failures else EXIT_FINDINGS if failing else EXIT_CLEAN
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lintimg", "version": tool_version},
        "target": str(plan.target),
        "platform": platform,
        "runner": stats.runner,
        "seconds": round(stats.seconds, 2),
        "repositories": len(plan.repositories),
        "tags": {"listed": plan.tags_listed, "selected": plan.tags_selected},
        "images": {"selected": len(plan.images), "checked": len(scanned), "scanned_now": stats.scanned, "reused": stats.reused, "resumed": stats.resumed,
                   "failed": len([d for d in plan.images if d not in scanned]), "with_findings": sum(1 for r in records if r.get("findings")),
                   "failing": len(failing), "by_severity": dict(sorted(worst.items(), key=lambda kv: -Severity.parse(kv[0])))},
        "layers": {"distinct": len(plan.layers), "submitted": stats.layers_submitted, "analysed": stats.analysed, "cached": stats.cached,
                   "reread": stats.reread, "pulled_bytes": stats.pulled},
        "findings": findings_table(records),
        "waste": [{"image": label(r), "digest": r["digest"], "bytes": r["waste"]["bytes"], "efficiency": r["waste"]["efficiency"],
                   "largest": r["waste"]["largest"][:1]} for r in waste],
        "bases": bases(records),
        "registry": {host: st.to_json() for host, st in sorted(stats.traffic.items())},
        "failures": [{"stage": f.stage, "what": f.what, "reason": f.reason} for f in failures],
        "notes": stats.notes,
        "exit_code": code,
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def _n(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def render_text(doc: dict[str, Any]) -> str:
    im, la = doc["images"], doc["layers"]
    out = [f"lintimg fleet {doc['target']}: {_n(im['selected'], 'image')} ({im['scanned_now']} scanned now, {im['reused']} from the cache, {im['resumed']} by an earlier run), "
           f"{len(doc['failures'])} could not be scanned; {im['with_findings']} with findings, {im['failing']} at or above the failure threshold",
           f"runner: {doc['runner'] or 'none needed'} · {doc['seconds']:.1f} s · {_n(doc['repositories'], 'repository', 'repositories')}, "
           f"{doc['tags']['selected']} of {_n(doc['tags']['listed'], 'tag')}",
           f"layers: {la['distinct']} distinct; this run analysed {la['analysed']}, found {la['cached']} in the cache"
           + (f", read {la['reread']} again" if la["reread"] else "") + f"; {human(la['pulled_bytes'])} pulled"]
    if doc["findings"]:
        out += ["", "Images with findings, by rule and severity:"]
        out += _table([["rule", "slug", "severity", "images", "findings"]]
                      + [[r["rule"], r["slug"], r["severity"], str(r["images"]), str(r["findings"])] for r in doc["findings"]])
    if doc["waste"]:
        out += ["", "Biggest wasted space (bytes in layers that the final image does not show):"]
        out += _table([["image", "wasted", "efficiency", "largest"]]
                      + [[w["image"], human(w["bytes"]), f"{w['efficiency'] * 100:.1f} %",
                          (w["largest"][0]["path"] + " " + human(w["largest"][0]["size"])) if w["largest"] else ""] for w in doc["waste"]])
    if doc["bases"]:
        out += ["", "Base images in use:"]
        out += _table([["base", "layers", "compressed", "uncompressed", "images"]]
                      + [[b["base"], str(b["layers"] or "?"), human(b["compressed"]) if b["compressed"] is not None else "?",
                          human(b["uncompressed"]) if b["uncompressed"] is not None else "?", str(b["images"])] for b in doc["bases"]])
    for host, st in doc["registry"].items():
        line = f"registry {host}: {st['requests']} requests"
        if st["throttled"]:
            codes = ", ".join(f"{k}: {v}" for k, v in st["statuses"].items())
            line += (f"; {st['throttled']} asked us to slow down ({codes}; Retry-After named {st['retry_after']} times): "
                     f"every worker backed off this host for {st['backoff_seconds']:.1f} s in all")
        if st["waited_seconds"]:
            line += f"; requests waited {st['waited_seconds']:.1f} s for the budget and back-offs"
        out += ["", line] if host == next(iter(doc["registry"])) else [line]
    if doc["failures"]:
        out += ["", f"Could not scan ({len(doc['failures'])}):"]
        out += [f"  {f['stage']:<8} {f['what']}: {f['reason']}" for f in doc["failures"]]
    for note in doc["notes"]:
        out += [f"note: {note}"]
    return "\n".join(out) + "\n"
