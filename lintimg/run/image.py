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
from collections.abc import Callable
from typing import TYPE_CHECKING

from lintimg.dockerfile.sources import normalized, read_source, split_lines
from lintimg.engine import Engine
from lintimg.engine.registry import ALWAYS_SELECTED
from lintimg.engine.target import Subject, Target
from lintimg.errors import LintimgError
from lintimg.findings import Finding, ImageLocation
from lintimg.image.mapping import map_layers, parse_created_by, synthetic_path
from lintimg.image.model import CaptureNames, ContentRequest, Image, LayerAnalyzer, LayerEntry
from lintimg.image.secrets import analyzer
from lintimg.image.shape import SHAPE_FILES
from lintimg.run import RunResult
from lintimg.run.check import model_of
from lintimg.secrets.redact import scrub
from lintimg.secrets.scanner import SecretScanner

if TYPE_CHECKING:
    from lintimg.context import ContextAttacher
    from lintimg.dockerfile import Dockerfile

# dockle's history checkpoints (sudo, dist-upgrade, apk --no-cache, apt lists, update alone, ADD).
HISTORY_PEERS = frozenset({"DKL-DI-0001", "DKL-DI-0003", "DKL-DI-0004", "DKL-DI-0005", "CIS-DI-0007", "CIS-DI-0009"})
# trivy's image-config mode runs every DS check but these two.
TRIVY_SKIPPED = frozenset({"DS-0007", "DS-0016", "DS007", "DS016"})
# Files whose bytes the account rules (empty-password, duplicate-uid-gid) read; small by nature.
# Kept by name wherever they are written: a layer may write etc/passwd through a link (x -> /etc, then
# x/passwd), which only the merge of the layers resolves, after the layers were read.
ACCOUNT_NAMES = frozenset({"passwd", "group", "shadow", "master.passwd"})
HISTORY_FILE = "history.Dockerfile"
MAX_ANOMALY_NOTES = 20


def _without_password_hashes(path: str, data: bytes) -> bytes:
    """Account files as the rules need them: a password field says only whether it is empty.

    The hashes are of no use to any rule and are not kept, in memory or in the layer cache.
    """
    if path.rpartition("/")[2] == "group":
        return data
    out = []
    for line in data.split(b"\n"):
        fields = line.split(b":")
        if len(fields) >= 2 and fields[1] and not line.lstrip().startswith(b"#"):
            fields[1] = b"*"
        out.append(b":".join(fields))
    return b"\n".join(out)


ACCOUNTS = CaptureNames(ACCOUNT_NAMES, _without_password_hashes)


class RuleCapture:
    """What the image rules read from files: the account files (hashes dropped) and the shape rule's small files."""

    @property
    def key(self) -> str:
        return f"{ACCOUNTS.key};{SHAPE_FILES.key}"

    def wants(self, entry: LayerEntry) -> bool:
        return ACCOUNTS.wants(entry) or SHAPE_FILES.wants(entry)

    def keep(self, path: str, data: bytes) -> bytes:
        return ACCOUNTS.keep(path, data) if path.rpartition("/")[2] in ACCOUNTS.names else SHAPE_FILES.keep(path, data)


def rule_reading(engine: Engine) -> tuple[list[LayerAnalyzer], ContentRequest]:
    """What the image rules need from each layer: the analyzers and the captured files.

    The layer cache key is made from these, so every reader of an image for
    the rules (``lintimg image``, ``lintimg build``, a fleet worker) must use
    this function to share cached layers.
    """
    from lintimg.image.packages import PackagesAnalyzer

    return [analyzer(SecretScanner(engine.config.settings.get("secrets"))), PackagesAnalyzer()], RuleCapture()


def open_for_rules(engine: Engine, ref: str, platform: str | None = None, progress: Callable[[str, int, int], None] | None = None,
                   insecure: bool = False, ca_file: str | None = None) -> Image:
    """Read ``ref`` with what the image rules need captured during the one streaming pass,
    serving layers analysed before from the layer cache."""
    from lintimg.image import open_image
    from lintimg.image.layercache import LayerCache

    analyzers, capture = rule_reading(engine)
    return open_image(ref, platform=platform, analyzers=analyzers, want_content=capture, progress=progress,
                      insecure=insecure, ca_file=ca_file, cache=LayerCache())


def read_dockerfile(path: str) -> Dockerfile:
    """The Dockerfile model for ``--dockerfile``/``-f``; a missing file is an input error."""

    if not os.path.exists(path):
        raise LintimgError(f"{path}: Dockerfile not found")
    return model_of(read_source(path))


def check_ref(engine: Engine, ref: str, *, dockerfile: Dockerfile | None = None, platform: str | None = None,
              context: ContextAttacher | None = None, insecure: bool = False, ca_file: str | None = None) -> RunResult:
    """Open ``ref`` (progress on a terminal) and check it; ``insecure``/``ca_file`` are for registry pulls."""
    from lintimg.image.progress import terminal_progress

    with terminal_progress() as progress:
        image = open_for_rules(engine, ref, platform, progress, insecure=insecure, ca_file=ca_file)
    return check_image(engine, image, dockerfile, context)


def check_image(engine: Engine, image: Image, dockerfile: Dockerfile | None = None, context: ContextAttacher | None = None) -> RunResult:
    """Run the rules on ``image``, mapped to ``dockerfile`` when given (with its build context, for ``lintimg build``)."""
    run = RunResult(image=image)
    mapping = map_layers(image, dockerfile)
    if dockerfile is not None and mapping.problem:
        run.notes.append(f"{dockerfile.path} does not match image {image.reference} ({mapping.problem}); image findings point at the image instead of Dockerfile lines")
    target = Target(path=dockerfile.path if dockerfile is not None else synthetic_path(image.name), config=engine.config,
                    dockerfile=dockerfile, image=image, layer_map=dict(mapping.layers))
    if context is not None and dockerfile is not None:
        target.context = context.for_dockerfile(dockerfile.path)
    targets = [target]
    history = None
    if dockerfile is None and _runs_on_history(engine):
        history = _history_target(engine, image)
        targets.append(history[0])
    engine.prepare(targets)
    run.findings = engine.run(target)
    if dockerfile is not None:
        run.add_file(dockerfile.path, dockerfile.lines)
    if history is not None:
        t, lines = history
        assert t.dockerfile is not None
        run.findings += _history_findings(engine, t, lines, image)
        run.add_file(t.path, t.dockerfile.lines)
    elif dockerfile is None:  # listed as checked all the same: the same report whichever rules are on
        run.add_file(synthetic_path(image.name, HISTORY_FILE), split_lines(normalized(rebuild_dockerfile(image)[0])))
    for f in run.findings:
        run.add_file(f.location.path)
    run.collect_notes(targets)
    run.notes += anomaly_notes(image)
    run.findings.sort(key=Finding.sort_key)
    return run


def anomaly_notes(image: Image, most: int = MAX_ANOMALY_NOTES) -> list[str]:
    """What was odd but tolerated in the image's layers and config, one note each (at most ``most``)."""
    notes = []
    for a in image.anomalies[:most]:
        where = "config" if a.layer < 0 else f"layer {a.layer}"
        notes.append(f"{image.reference}: {where}: " + (f"/{a.path.lstrip('/')}: " if a.path else "") + a.reason)
    if len(image.anomalies) > most:
        notes.append(f"{image.reference}: {len(image.anomalies) - most} more anomalies")
    return notes


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


def _runs_on_history(engine: Engine) -> bool:
    """Whether a Dockerfile rule besides the always-on ones is enabled: else nothing the rebuilt Dockerfile
    could yield is kept (:func:`_history_findings`), and it is neither parsed nor checked (nor dockerfile-parse
    imported: a cached rescan with the image rules alone is mostly start-up)."""
    return any(r.id not in ALWAYS_SELECTED for r in engine.registry.running({Subject.DOCKERFILE}))


def _history_target(engine: Engine, image: Image) -> tuple[Target, dict[int, int]]:
    """The target of the Dockerfile rebuilt from history, and the line of each history entry."""
    from lintimg.dockerfile import parse_dockerfile

    text, at = rebuild_dockerfile(image)
    path = synthetic_path(image.name, HISTORY_FILE)
    return Target(path=path, config=engine.config, dockerfile=parse_dockerfile(text, path)), at


def history_rule_ids(engine: Engine) -> set[str]:
    """Dockerfile rules that peers apply to image history and no image rule duplicates."""
    image_peers = {p for r in engine.rules if r.subject is Subject.IMAGE and engine.registry.enabled(r.id) for p in r.peers}
    out = set()
    for r in engine.rules:
        if r.subject is not Subject.DOCKERFILE or image_peers.intersection(r.peers):
            continue
        if any(p in HISTORY_PEERS or (p.startswith("DS") and p not in TRIVY_SKIPPED) for p in r.peers):
            out.add(r.id)
    return out


def _history_findings(engine: Engine, t: Target, lines: dict[int, int], image: Image) -> list[Finding]:
    keep = history_rule_ids(engine) | {"LI002"}
    line_to_history = {line: i for i, line in lines.items()}
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
