"""SARIF 2.1.0 for GitHub code scanning, built from sarif-om objects.

sarif-om has no serialiser and carries non-null defaults (``ruleIndex: -1``,
``kind: "fail"``, ``language: "en-US"`` …) that GitHub rejects or that only
add noise, so :func:`to_json` writes each attrs field under its schema name
and leaves out values equal to the field's default. ``level`` is the one
default kept: a result's level is always written.

Placement choices (docs/sarif.md explains them to users):

- every result has exactly one physical location with a repo-relative ``uri``;
  a raw image reference never appears there (``alpine:3`` reads as a URI
  scheme), it becomes ``<sanitised image name>/<path>``;
- ``partialFingerprints.primaryLocationLineHash`` is ours: a hash of the rule,
  the file, the normalised source line and the finding's key, plus an
  occurrence counter, so it survives edits elsewhere in the file;
- one run per Dockerfile checked and one per image, each with its own
  ``automationDetails.id`` (its code-scanning category);
- within GitHub's limits: results per run, gzipped size of the log.
"""
from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import attr
import sarif_om as om

from lintimg.engine.rule import Rule
from lintimg.findings import Edit, Finding, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import (
    artifact_path,
    fingerprints,
    image_name,
    is_security,
    region_of,
    secret_lines,
    shown_edits,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://lintimg.dev/"
MAX_DESCRIPTION = 1024  # GitHub: short/fullDescription.text
MAX_TAGS = 10  # GitHub keeps only the first 10
MAX_RESULTS = 25_000  # GitHub rejects a run with more
MAX_GZIP_BYTES = 10_000_000  # GitHub rejects an upload whose gzipped SARIF is larger
# Written even when equal to sarif-om's default, because readers should not guess.
_ALWAYS = {"level"}

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.STYLE: "note"}
PROBLEM_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation", Severity.STYLE: "recommendation"}


# --- serialiser ------------------------------------------------------------

def to_json(obj: Any) -> Any:
    """A sarif-om object tree as plain JSON values, sarif-om's defaults left out."""
    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        names = set()
        for f in attr.fields(type(obj)):
            names.add(f.name)
            value = getattr(obj, f.name)
            if value is None or (f.name not in _ALWAYS and _is_default(f, value)):
                continue
            out[f.metadata.get("schema_property_name", f.name)] = to_json(value)
        # PropertyBag only declares ``tags``; other keys (``security-severity``) ride in __dict__.
        for key, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
            if key not in names and value is not None:
                out[key] = to_json(value)
        return out
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    return obj


def _is_default(f: attr.Attribute[Any], value: Any) -> bool:
    default: Any = f.default
    if default is attr.NOTHING:
        return False
    if isinstance(default, attr.Factory):  # type: ignore[arg-type]
        default = default.factory() if not default.takes_self else attr.NOTHING
    return bool(value == default)


def bag(tags: list[str] | None = None, **extra: Any) -> om.PropertyBag:
    """A property bag with free-form keys (hyphens allowed: ``**{"security-severity": "8.0"}``)."""
    b = om.PropertyBag(tags=tags or None)
    for k, v in extra.items():
        if v is not None:
            b.__dict__[k] = v
    return b


def artifact_uri(path: str, image: str | None = None) -> str:
    """A URI reference GitHub accepts: repo-relative, percent-encoded (``:`` -> ``%3A``)."""
    p = artifact_path(path, image)
    if os.path.isabs(p):
        return "file://" + quote(p, safe="/-._~")
    return quote(p, safe="/-._~")


def region(f: Finding, info: RunInfo) -> om.Region:
    r = region_of(f, info)
    return om.Region(start_line=r.start_line, start_column=r.start_column, end_line=r.end_line, end_column=r.end_column)


# --- rules -----------------------------------------------------------------

def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def descriptor(r: Rule) -> om.ReportingDescriptor:
    """A rule as SARIF ``reportingDescriptor``, with its docs and GitHub's properties."""
    from lintimg.reports.ruledocs import rule_markdown, rule_text

    tags = list(dict.fromkeys((["security"] if is_security(r) else []) + list(r.tags)))[:MAX_TAGS]
    score = f"{r.security_severity:.1f}" if r.security_severity is not None else None  # GitHub wants a numeric string
    props = bag(tags=tags, precision="high", peers=list(r.peers) or None, fix=[str(k) for k in r.fixable] or None,
                **{"problem.severity": PROBLEM_SEVERITY[r.severity], "security-severity": score})
    return om.ReportingDescriptor(
        id=r.id,
        name=r.slug,
        short_description=om.MultiformatMessageString(text=_clip(r.summary or r.slug)),
        full_description=om.MultiformatMessageString(text=_clip(r.section("What it does") or r.summary or r.slug)),
        default_configuration=om.ReportingConfiguration(level=LEVELS[r.severity], enabled=r.enabled_by_default),
        help=om.MultiformatMessageString(text=rule_text(r), markdown=rule_markdown(r)),
        help_uri=r.help_uri,
        properties=props,
    )


def _fallback_descriptor(f: Finding) -> om.ReportingDescriptor:
    """For a finding whose rule is not in RunInfo.rules (a plugin that was not listed)."""
    text = f"{f.rule_id} {f.slug}"
    return om.ReportingDescriptor(
        id=f.rule_id, name=f.slug,
        short_description=om.MultiformatMessageString(text=text),
        full_description=om.MultiformatMessageString(text=text),
        help=om.MultiformatMessageString(text=text),
        properties=bag(None, precision="high", **{"problem.severity": PROBLEM_SEVERITY[f.severity]}),
    )


# --- the log ---------------------------------------------------------------

def automation_id(info: RunInfo, target: str | None = None) -> str:
    """The run's ``automationDetails.id``: its category is everything before the last ``/``.

    One category per image (``lintimg/image/<name>/``) and per Dockerfile
    (``lintimg/dockerfile/<path>/``), so each uploads and closes its own alerts.
    """
    if info.kind == "image":
        return f"lintimg/image/{image_name(info.image or 'image')}/"
    if target is not None:
        return f"lintimg/{info.kind}/{artifact_path(target, info.image)}/"
    return f"lintimg/{info.kind}/"


def _result(f: Finding, index: int, fp: str, info: RunInfo, edits: tuple[Edit, ...] = ()) -> om.Result:
    props: dict[str, Any] = {"slug": f.slug, "severity": str(f.severity)}
    if f.fix:
        props["fix"] = f.fix
    im = f.image
    if im is not None:
        props.update({"image": im.image, "imagePath": im.path, "layerIndex": im.layer_index, "layerDigest": im.layer_digest, "createdBy": im.created_by})
    props.update(f.properties)
    phys = om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=artifact_uri(f.location.path, info.image)),
        region=region(f, info),
    )
    return om.Result(
        rule_id=f.rule_id,
        rule_index=index,
        level=LEVELS[f.severity],
        message=om.Message(text=f.message or f.slug),
        locations=[om.Location(physical_location=phys)],
        partial_fingerprints={"primaryLocationLineHash": fp},
        fixes=[fix(f, edits, info)] if edits else None,
        properties=bag(**props),
    )


def fix(f: Finding, edits: tuple[Edit, ...], info: RunInfo) -> om.Fix:
    """The finding's edits as a SARIF ``fix``: one artifact change of replacements (an insertion
    deletes an empty region); ``properties.safety`` says whether ``lintimg --fix`` applies it
    without ``--unsafe-fixes``."""
    replacements = [
        om.Replacement(
            deleted_region=om.Region(start_line=e.line, start_column=e.column, end_line=e.end_line, end_column=e.end_column),
            inserted_content=om.ArtifactContent(text=e.text),
        )
        for e in edits
    ]
    change = om.ArtifactChange(artifact_location=om.ArtifactLocation(uri=artifact_uri(f.location.path, info.image)),
                               replacements=replacements)
    return om.Fix(description=om.Message(text=f.fix or f"fix {f.rule_id}"), artifact_changes=[change],
                  properties=bag(safety=str(f.safety)))


Pair = tuple[Finding, str]  # a finding and its fingerprint


def _targets(findings: list[Finding], info: RunInfo) -> list[tuple[str, list[Pair]]]:
    """(automation id, findings) per run: one run for an image run, else one per Dockerfile checked (clean ones too,
    so that an upload closes the alerts of a file that became clean)."""
    pairs = list(zip(findings, fingerprints(findings, info)))
    if info.kind == "image" or not info.files:
        return [(automation_id(info), pairs)]
    groups: dict[str, list[Pair]] = {t: [] for t in info.files}
    for f, fp in pairs:
        groups.setdefault(f.target or f.location.path, []).append((f, fp))
    return [(automation_id(info, t), ps) for t, ps in groups.items()]


T = TypeVar("T")


def _most_severe(items: list[T], keep: int, finding: Callable[[T], Finding]) -> list[T]:
    """The ``keep`` items whose findings are most severe, in their order."""
    chosen = set(sorted(range(len(items)), key=lambda i: -finding(items[i]).severity)[:keep])
    return [p for i, p in enumerate(items) if i in chosen]


def _run(run_id: str, pairs: list[Pair], total: int, info: RunInfo, hidden: set[tuple[str, int]]) -> om.Run:
    by_id = {r.id: r for r in info.rules}
    used = list(dict.fromkeys(f.rule_id for f, _ in pairs))
    index = {rid: i for i, rid in enumerate(used)}
    rules = [descriptor(by_id[rid]) if rid in by_id else _fallback_descriptor(next(f for f, _ in pairs if f.rule_id == rid)) for rid in used]
    dropped = total - len(pairs)
    notices, why = [], None
    if dropped:
        why = (f"{dropped} of {total} results were left out, the least severe first, to stay within GitHub's limits "
               f"({MAX_RESULTS} results per run, {MAX_GZIP_BYTES // 1_000_000} MB per upload); --format json lists them all")
        notices.append(om.Notification(message=om.Message(text=why), level="warning"))
    return om.Run(
        tool=om.Tool(driver=om.ToolComponent(name="lintimg", version=info.tool_version or None, information_uri=INFORMATION_URI, rules=rules)),
        automation_details=om.RunAutomationDetails(id=run_id),
        invocations=[om.Invocation(execution_successful=True, tool_execution_notifications=notices or None)],
        column_kind="unicodeCodePoints",
        results=[_result(f, index[f.rule_id], fp, info, shown_edits(f, hidden)) for f, fp in pairs],
        properties=bag(kind=info.kind, image=info.image, notes=info.notes or None, droppedResults=dropped or None, droppedReason=why),
    )


def build_log(findings: list[Finding], info: RunInfo, max_bytes: int | None = None) -> om.SarifLog:
    """The SARIF log: one run per Dockerfile (or one for an image), each listing the rules it has results for.

    Within GitHub's limits: a run keeps its ``MAX_RESULTS`` most severe results,
    and when the gzipped log would pass ``max_bytes`` (10 MB) the least severe
    results of the whole log go first; a cut run says so in its properties
    (``droppedResults``, ``droppedReason``) and in a tool notification, so a
    cut report never passes for a complete one.
    """
    limit = MAX_GZIP_BYTES if max_bytes is None else max_bytes
    groups = _targets(findings, info)
    kept = [_most_severe(pairs, MAX_RESULTS, lambda p: p[0]) for _, pairs in groups]
    hidden = secret_lines(findings, info)
    while True:
        log = om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI,
                          runs=[_run(rid, ks, len(pairs), info, hidden) for (rid, pairs), ks in zip(groups, kept)])
        size = len(gzip.compress(_dumps(log).encode("utf-8"), compresslevel=6))
        n = sum(len(k) for k in kept)
        if size <= limit or n == 0:
            return log
        budget = int(n * limit / size * 0.9)  # results are about the same size: aim below the limit
        flat = _most_severe([(g, f, fp) for g, ks in enumerate(kept) for f, fp in ks], budget, lambda x: x[1])
        kept = [[(f, fp) for gg, f, fp in flat if gg == g] for g in range(len(kept))]


def _dumps(log: om.SarifLog) -> str:
    return json.dumps(to_json(log), indent=2, ensure_ascii=False) + "\n"


def render(findings: list[Finding], info: RunInfo) -> str:
    return _dumps(build_log(findings, info))
