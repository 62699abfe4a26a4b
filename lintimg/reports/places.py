"""Where a finding is, as CI systems want it: repo-relative paths, full regions, stable fingerprints.

Shared by the SARIF, GitHub, GitLab and JUnit reports so that they agree on
paths and fingerprints.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

from lintimg.engine.rule import Rule
from lintimg.findings import Edit, Finding
from lintimg.reports import RunInfo

_TRANSPORT = re.compile(r"^(?:docker|docker-archive|oci|oci-archive|docker-daemon):(?://)?")


def image_name(ref: str) -> str:
    """A stable, colon-free name for an image reference: no transport, tag or digest.

    ``docker://ghcr.io/org/app:1.2@sha256:…`` -> ``ghcr.io/org/app``;
    ``docker-archive:/tmp/app.tar`` -> ``app``.
    """
    archive = ref.startswith(("docker-archive:", "oci-archive:", "oci:"))
    s = _TRANSPORT.sub("", ref.strip()).split("@", 1)[0]
    if archive:
        s = re.sub(r"\.(tar|tgz|tar\.gz)$", "", os.path.basename(s.rstrip("/")).split(":", 1)[0])
    else:
        head, _, last = s.rpartition("/")
        last = last.split(":", 1)[0]
        s = f"{head}/{last}" if head else last
    s = re.sub(r"[^A-Za-z0-9._/\-]+", "-", s).strip("/-.")
    return s or "image"


def artifact_path(path: str, image: str | None = None) -> str:
    """A repo-relative path with forward slashes, no ``./``, and no raw image reference.

    A path that starts with the run's image reference (an image finding with
    no Dockerfile) becomes ``<image name>/<in-image path>``, because
    ``alpine:3.19/...`` would read as a URI scheme. An absolute path outside
    the working directory stays absolute.
    """
    p = path.replace("\\", "/")
    if p in ("", "-"):
        return p or "-"
    if image and p.startswith(image):
        p = image_name(image) + "/" + p[len(image):].lstrip("/")
    elif os.path.isabs(p):
        rel = os.path.relpath(p, os.getcwd())
        if rel.startswith(".."):
            return os.path.normpath(p).replace("\\", "/")
        p = rel
    p = os.path.normpath(p).replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


@dataclass(frozen=True)
class Region:
    """1-based, ``end_column`` exclusive; every field filled in."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int


def source_line(info: RunInfo, path: str, line: int) -> str:
    lines = info.sources.get(path, [])
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


def region_of(f: Finding, info: RunInfo) -> Region:
    """The finding's span; with no end column given it runs to the end of the line."""
    loc = f.location
    start_line = max(1, loc.line)
    start_col = max(1, loc.column)
    end_line = max(start_line, loc.end_line or start_line)
    end_col = loc.end_column
    if end_col is None:
        end_col = len(source_line(info, loc.path, end_line)) + 1
    if end_line == start_line and end_col <= start_col:
        end_col = start_col + 1
    return Region(start_line, start_col, end_line, end_col)


def _norm(text: str) -> str:
    return " ".join(text.split())


def fingerprint_parts(f: Finding, info: RunInfo, root: str | None = None) -> list[str]:
    """What a finding's fingerprint hashes: never a line number, a layer digest, an image's name or registry.

    - On a Dockerfile instruction: the rule, the file, the instruction's stage and
      normalised text, as a digest (:attr:`Finding.anchor`), the finding's key.
    - In an image: the rule, the path in the image, the instruction of the layer
      (the Dockerfile's when mapped, else the history's ``created_by``), the key;
      so one image pulled from two registries, or rebuilt, keeps its fingerprints.
    - Elsewhere (a context file, a line outside any instruction): the rule, the
      file, the normalised source line, the key; the message when there is no line.

    ``root``: paths relative to this folder (a baseline's) instead of the working directory.
    """
    key = f.key or ""
    if f.image is not None:
        layer = f.anchor.split("\x1f", 1)[-1] if f.anchor else _norm(f.image.created_by or "")
        parts = [f.rule_id, "image", f.image.path or "", layer, key]
        return parts if (f.image.path or layer) else [*parts, f.message]
    path = f.location.path
    if root is not None and path not in ("", "-"):
        path = os.path.relpath(os.path.abspath(path), root)
    text = f.anchor or _norm(source_line(info, f.location.path, f.location.line))
    parts = [f.rule_id, artifact_path(path, info.image), text, key]
    return parts if text else [*parts, f.message]


def fingerprints(findings: list[Finding], info: RunInfo, root: str | None = None) -> list[str]:
    """One stable fingerprint per finding, ``<hash>:<n>`` (see :func:`fingerprint_parts`).

    ``n`` counts findings that hash alike, in report order, so two identical
    findings on one instruction stay apart.
    """
    import hashlib  # here: a text report (the pre-commit path) needs no fingerprints, and OpenSSL costs start-up

    seen: Counter[str] = Counter()
    out = []
    for f in findings:
        digest = hashlib.sha256("\x1f".join(fingerprint_parts(f, info, root)).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        seen[digest] += 1
        out.append(f"{digest}:{seen[digest]}")
    return out


def is_security(r: Rule) -> bool:
    """Security rules carry a security-severity or the ``security`` tag."""
    return r.security_severity is not None or "security" in r.tags


def security_rule_ids(info: RunInfo) -> set[str]:
    return {r.id for r in info.rules if is_security(r)}





def secret_lines(findings: list[Finding], info: RunInfo) -> set[tuple[str, int]]:
    """(file, line) of every line a secret rule's finding points at."""
    secret = {r.id for r in info.rules if "secrets" in r.tags}
    return {(f.location.path, line) for f in findings if f.rule_id in secret
            for line in range(f.location.line, (f.location.end_line or f.location.line) + 1)}


def shown_edits(f: Finding, hidden: set[tuple[str, int]]) -> tuple[Edit, ...]:
    """The finding's edits for a report, or none when one touches a line that holds a secret
    (an edit's text can repeat that line's words)."""
    if any((f.location.path, line) in hidden for e in f.edits for line in range(e.line, e.end_line + 1)):
        return ()
    return f.edits
