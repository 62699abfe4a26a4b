"""One run over an image: open it, map its layers, and check it alone or with its Dockerfile.

With the Dockerfile, one target carries the Dockerfile, its layer mapping, the
image and (for ``lintimg build``) the context, so every rule family runs in
one pass and image findings land on Dockerfile lines. Without it, the image
rules run on their own (findings at ``<image>/<in-image path>``), and the
history-based checks that dockle and trivy's image-config mode make run as
our Dockerfile rules on a Dockerfile rebuilt from ``history[].created_by``,
reported at ``<image>/history.Dockerfile``. Only Dockerfile rules that a peer
applies to history (a dockle history code or a trivy DS id, as trivy's
image-config mode does, less DS-0007/DS-0016 which trivy skips there) run on
that rebuilt file, and none that shares a peer id with an image rule, which
sees the same property directly and would report it twice.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable

from lintimg.dockerfile import Dockerfile
from lintimg.engine import Engine
from lintimg.errors import LintimgError
from lintimg.findings import Finding, ImageLocation
from lintimg.image.mapping import map_layers, parse_created_by, synthetic_path
from lintimg.image.model import Image, LayerEntry
from lintimg.rule import Subject
from lintimg.secrets import SecretScanner, scrub
from lintimg.target import Target

# dockle's history checkpoints (sudo, dist-upgrade, apk --no-cache, apt lists, update alone, ADD).
HISTORY_PEERS = frozenset({"DKL-DI-0001", "DKL-DI-0003", "DKL-DI-0004", "DKL-DI-0005", "CIS-DI-0007", "CIS-DI-0009"})
# trivy's image-config mode runs every DS check but these two.
TRIVY_SKIPPED = frozenset({"DS-0007", "DS-0016", "DS007", "DS016"})
# Files whose bytes the account rules (empty-password, duplicate-uid-gid) read; small by nature.
ACCOUNT_FILES = frozenset({"etc/passwd", "etc/group", "etc/shadow", "etc/master.passwd"})
HISTORY_FILE = "history.Dockerfile"


@dataclass
class ImageRun:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    image: Image | None = None


def _wants(entry: LayerEntry) -> bool:
    return entry.path in ACCOUNT_FILES


def open_for_rules(engine: Engine, ref: str, platform: str | None = None, progress: Callable[[str, int, int], None] | None = None,
                   insecure: bool = False, ca_file: str | None = None) -> Image:
    """Read ``ref`` with what the image rules need captured during the one streaming pass."""
    from lintimg.image import open_image

    secrets = SecretScanner(engine.config.settings.get("secrets")).analyzer()
    return open_image(ref, platform=platform, analyzers=[secrets], want_content=_wants, progress=progress,
                      insecure=insecure, ca_file=ca_file)


def read_dockerfile(path: str) -> Dockerfile:
    """The Dockerfile model for ``--dockerfile``/``-f``; a missing file is an input error."""
    from lintimg.runner import model_of
    from lintimg.sources import read_source

    if not os.path.exists(path):
        raise LintimgError(f"{path}: Dockerfile not found")
    return model_of(read_source(path))


def check_ref(engine: Engine, ref: str, *, dockerfile: Dockerfile | None = None, platform: str | None = None,
              attach: Callable[[Target], None] | None = None, insecure: bool = False, ca_file: str | None = None) -> ImageRun:
    """Open ``ref`` (progress on a terminal) and check it; ``insecure``/``ca_file`` are for registry pulls."""
    from lintimg.image.progress import terminal_progress

    with terminal_progress() as progress:
        image = open_for_rules(engine, ref, platform, progress, insecure=insecure, ca_file=ca_file)
    return check_image(engine, image, dockerfile, attach)


def check_image(engine: Engine, image: Image, dockerfile: Dockerfile | None = None, attach: Callable[[Target], None] | None = None) -> ImageRun:
    """Run the rules on ``image``, mapped to ``dockerfile`` when given."""
    run = ImageRun(image=image)
    mapping = map_layers(image, dockerfile)
    if dockerfile is not None and mapping.problem:
        run.notes.append(f"{dockerfile.path} does not match image {image.reference} ({mapping.problem}); image findings point at the image instead of Dockerfile lines")
    target = Target(path=dockerfile.path if dockerfile is not None else synthetic_path(image.name), config=engine.config,
                    dockerfile=dockerfile, image=image, layer_map=dict(mapping.layers))
    if attach is not None and dockerfile is not None:
        attach(target)
    targets = [target]
    history = None
    if dockerfile is None:
        history = _history_target(engine, image)
        targets.append(history)
    engine.prepare(targets)
    run.findings = engine.run(target)
    if dockerfile is not None:
        run.files.append(dockerfile.path)
        run.sources[dockerfile.path] = dockerfile.lines
    if history is not None:
        run.findings += _history_findings(engine, history, image)
        run.files.append(history.path)
        run.sources[history.path] = history.dockerfile.lines
    for f in run.findings:
        if f.location.path not in run.files:
            run.files.append(f.location.path)
    for t in targets:
        run.notes += [n for n in t.cache.get("notes", ()) if n not in run.notes]
    run.findings.sort(key=Finding.sort_key)
    return run


# --- the Dockerfile rebuilt from history ---------------------------------------

_EXPOSE_MAP = re.compile(r"^map\[(.*)\]$")


def _history_line(created_by: str, first_layer: bool) -> str:
    """One Dockerfile line for a history entry (a comment when it is no instruction)."""
    step = parse_created_by(created_by)
    text = step.text
    if not step.keyword or step.keyword == "HEALTHCHECK" or (first_layer and step.keyword == "ADD"):
        # The base rootfs ADD is how every image starts (dockle skips it too).
        return "# " + " ".join(created_by.split())
    if step.keyword in ("COPY", "ADD"):
        text = re.sub(r"\s+in\s+(\S+)\s*$", r" \1", text)  # classic: "file:<hash> in /dst"
    elif step.keyword == "EXPOSE":
        m = _EXPOSE_MAP.match(text)
        if m:  # BuildKit: "map[8080/tcp:{}]"
            text = " ".join(p.split(":", 1)[0] for p in m.group(1).split())
    return f"{step.keyword} " + text.replace("\n", " \\\n")


def rebuild_dockerfile(image: Image) -> tuple[str, dict[int, int]]:
    """Dockerfile text from ``history[].created_by`` and the line of each history entry."""
    lines = ["FROM scratch"]
    at: dict[int, int] = {}
    first_layer = True
    for i, h in enumerate(image.history):
        at[i] = len(lines) + 1
        line = _history_line(scrub(h.get("created_by", "")), first_layer)  # reports echo these lines
        first_layer = first_layer and bool(h.get("empty_layer"))
        lines.extend(line.split("\n"))
    return "\n".join(lines) + "\n", at


def _history_target(engine: Engine, image: Image) -> Target:
    from lintimg.dockerfile import parse_dockerfile

    text, at = rebuild_dockerfile(image)
    t = Target(path=synthetic_path(image.name, HISTORY_FILE), config=engine.config, dockerfile=parse_dockerfile(text, synthetic_path(image.name, HISTORY_FILE)))
    t.cache["history-lines"] = at
    return t


def history_rule_ids(engine: Engine) -> set[str]:
    """Dockerfile rules that peers apply to image history and no image rule duplicates."""
    image_peers = {p for r in engine.rules if r.subject is Subject.IMAGE and engine.enabled.get(r.id) for p in r.peers}
    out = set()
    for r in engine.rules:
        if r.subject is not Subject.DOCKERFILE or image_peers.intersection(r.peers):
            continue
        if any(p in HISTORY_PEERS or (p.startswith("DS") and p not in TRIVY_SKIPPED) for p in r.peers):
            out.add(r.id)
    return out


def _history_findings(engine: Engine, t: Target, image: Image) -> list[Finding]:
    keep = history_rule_ids(engine) | {"LI002"}
    line_to_history = {line: i for i, line in t.cache["history-lines"].items()}
    layer_of = {layer.history_index: layer for layer in image.layers if layer.history_index is not None}
    out = []
    for f in engine.run(t):
        if f.rule_id not in keep:
            continue
        hidx = max((i for line, i in line_to_history.items() if line <= f.location.line), default=None)
        if hidx is not None:
            layer = layer_of.get(hidx)
            f.image = ImageLocation(image=image.reference, layer_index=layer.index if layer else None,
                                    layer_digest=layer.diff_id if layer else None, created_by=scrub(image.history[hidx].get("created_by") or ""))
        out.append(f)
    return out
