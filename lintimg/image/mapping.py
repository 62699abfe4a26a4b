"""Layers -> history entries -> the Dockerfile instructions and lines that made them.

The chain is: every non-empty ``history[]`` entry of the image config made one
layer, in order (``empty_layer`` entries made none). When the Dockerfile is
known, its history-recording instructions are matched to the history from the
end, because the base image's entries come first; for a multi-stage file only
the final stage (and the stages it is built FROM) made layers. Whatever is left
before the first matched entry belongs to the base image and maps to the FROM
line.

Both builders' ``created_by`` forms are understood:

- classic: ``/bin/sh -c #(nop)  COPY file:… in /app`` for metadata and
  COPY/ADD, ``/bin/sh -c apt-get …`` (optionally ``|2 A=1 B=2 `` first) for RUN;
- BuildKit: ``RUN /bin/sh -c … # buildkit``, ``COPY src /dst # buildkit``,
  ``ENV A=b``, ``WORKDIR /app``.

Findings on an image point at the Dockerfile line of their layer; with no
Dockerfile they point at a stable, colon-free synthetic path
``<image short name>/<in-image path>`` so that SARIF consumers get a file
location they accept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lintimg.findings import Hit, ImageLocation
from lintimg.secrets.redact import scrub

if TYPE_CHECKING:
    from lintimg.dockerfile import Dockerfile, Instruction
    from lintimg.image.model import Image


class MappedImage(Protocol):
    """What placing an image finding needs: the image, its layer mapping, the Dockerfile if any
    (an image rule's view, :class:`lintimg.engine.target.ImageTarget`, has them)."""

    @property
    def image(self) -> Image: ...
    @property
    def dockerfile(self) -> Dockerfile | None: ...
    @property
    def layer_map(self) -> dict[int, LayerOrigin]: ...


_NOP_RE = re.compile(r"#\(nop\)\s*([A-Za-z]+)\b\s*(.*)$", re.S)
_BUILDKIT_SUFFIX = "# buildkit"
_KEYWORD_RE = re.compile(r"^([A-Z]+)(?:\s+(.*))?$", re.S)
# The instructions that leave a history entry (FROM does not).
RECORDED = frozenset("ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split())
# Instructions that always leave a history entry; the others may be missing
# (builders differ), so a mismatch on one of those skips the instruction.
_LAYER_MAKERS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class HistoryStep:
    """What one ``created_by`` says: the instruction keyword and its text (the RUN script for RUN)."""

    keyword: str  # "" when the entry is not recognisably from a Dockerfile (an import, a tool)
    text: str


def _strip_build_args(s: str) -> str:
    """Drop the ``|N K=V …`` prefix builders put before a RUN that uses build args."""
    m = re.match(r"^\|(\d+)\s+", s)
    if not m:
        return s
    rest = s[m.end():]
    for _ in range(int(m.group(1))):
        # K=V pairs; a value never holds a space here (the builders print them raw).
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    return rest


def _shell_script(s: str) -> str:
    """The script of ``/bin/sh -c script`` (any shell path), or ``s`` for exec-form commands."""
    m = re.match(r"^\S+\s+-c\s+(.*)$", s, re.S)
    return m.group(1) if m else s


def parse_created_by(created_by: str) -> HistoryStep:
    """Read a history entry's ``created_by`` as the instruction that made it."""
    s = (created_by or "").strip()
    if not s:
        return HistoryStep("", "")
    nop = _NOP_RE.search(s)
    if nop:
        return HistoryStep(nop.group(1).upper(), nop.group(2).strip())
    if s.endswith(_BUILDKIT_SUFFIX):
        m = _KEYWORD_RE.match(s[: -len(_BUILDKIT_SUFFIX)].rstrip())
        if m and m.group(1) in RECORDED:
            text = m.group(2) or ""
            if m.group(1) == "RUN":
                text = _shell_script(_strip_build_args(text))
            return HistoryStep(m.group(1), text.strip())
    m = _KEYWORD_RE.match(s)
    if m and m.group(1) in RECORDED and m.group(1) != "RUN":
        return HistoryStep(m.group(1), (m.group(2) or "").strip())
    if s.startswith("/") or s.startswith("|"):
        # Classic RUN: the command line itself.
        return HistoryStep("RUN", _shell_script(_strip_build_args(s)).strip())
    return HistoryStep("", s)


@dataclass(frozen=True)
class LayerOrigin:
    """Where one layer came from. For base-image layers ``instruction`` is the FROM."""

    layer: int
    history_index: int | None
    created_by: str
    instruction: Instruction | None = None
    base: bool = False


@dataclass
class LayerMapping:
    layers: dict[int, LayerOrigin] = field(default_factory=dict)
    # history index -> instruction, for every matched entry (empty layers included)
    history: dict[int, Instruction] = field(default_factory=dict)
    # why the Dockerfile could not be matched to the image, when it could not
    problem: str | None = None


def layer_history(image: Image) -> list[int | None]:
    """For each layer, the index of the history entry that made it (aligned from the end)."""
    made = [i for i, h in enumerate(image.history) if not h.get("empty_layer")]
    n = len(image.layers)
    # A config whose history lacks the base's entries still ends with the newest ones.
    tail = made[-n:] if n else []
    return [None] * (n - len(tail)) + tail


def final_chain(df: Dockerfile) -> list[Instruction]:
    """The recorded instructions of the final stage and the stages it is built FROM, oldest first."""
    from lintimg.dockerfile.stages import chain  # with a Dockerfile only: an image alone loads no Dockerfile model

    stage = df.final_stage
    stages = reversed(chain(df, stage)) if stage is not None else ()
    return [ins for st in stages for ins in st.instructions if ins.keyword in RECORDED]


def _align(history: list[dict[str, Any]], instructions: list[Instruction]) -> tuple[dict[int, Instruction], str | None]:
    """Match instructions to history entries from the end; a RUN/COPY/ADD is never skipped."""
    out: dict[int, Instruction] = {}
    hi, ii = len(history) - 1, len(instructions) - 1
    while ii >= 0:
        ins = instructions[ii]
        if hi < 0:
            if ins.keyword in _LAYER_MAKERS:
                return {}, f"line {ins.line}: {ins.keyword} has no layer in the image's history"
            ii -= 1
            continue
        step = parse_created_by(history[hi].get("created_by", ""))
        if step.keyword == ins.keyword:
            out[hi] = ins
            hi, ii = hi - 1, ii - 1
        elif ins.keyword not in _LAYER_MAKERS:
            ii -= 1  # not recorded by this builder (BuildKit and ARG, for one)
        elif history[hi].get("empty_layer"):
            hi -= 1
        else:
            shown = (history[hi].get("created_by") or "")[:60]
            return {}, f"line {ins.line}: {ins.keyword} does not match history entry {hi} ({shown!r})"
    return out, None


def map_layers(image: Image, dockerfile: Dockerfile | None = None) -> LayerMapping:
    """Map every layer to its history entry and, with a Dockerfile, to its instruction."""
    history = image.history
    per_layer = layer_history(image)
    mapping = LayerMapping()
    from_ins = None
    if dockerfile is not None and dockerfile.final_stage is not None:
        stage = dockerfile.final_stage
        while stage.base_stage is not None:
            stage = dockerfile.stages[stage.base_stage]
        from_ins = stage.from_
        mapping.history, mapping.problem = _align(history, final_chain(dockerfile))
        if mapping.problem:
            from_ins = None  # an unmatched Dockerfile says nothing about where layers came from
    first_own = min(mapping.history) if mapping.history else len(history)
    for layer, hidx in enumerate(per_layer):
        created = history[hidx].get("created_by", "") if hidx is not None else ""
        ins = mapping.history.get(hidx) if hidx is not None else None
        base = from_ins is not None and ins is None and (hidx is None or hidx < first_own)
        mapping.layers[layer] = LayerOrigin(layer, hidx, created, ins or (from_ins if base else None), base)
    return mapping


def short_name(name: str) -> str:
    """The last path component of a repository name, reduced to path-safe characters."""
    last = name.rstrip("/").rsplit("/", 1)[-1] or "image"
    last = last.split("@", 1)[0].split(":", 1)[0]
    return re.sub(r"[^A-Za-z0-9._-]", "_", last) or "image"


def synthetic_path(image_name: str, in_image_path: str = "") -> str:
    """``<short name>/<in-image path>``: a stable, colon-free file location for image findings."""
    inner = in_image_path.lstrip("/")
    inner = re.sub(r"[^A-Za-z0-9._/@+-]", "_", inner)
    return f"{short_name(image_name)}/{inner}" if inner else short_name(image_name)


def image_hit(
    t: MappedImage,
    message: str,
    *,
    layer: int | None = None,
    path: str | None = None,
    fix: str | None = None,
    key: str | None = None,
    **props: Any,
) -> Hit:
    """A hit on an image: at the Dockerfile line that made ``layer`` when known, else at the synthetic path."""
    image = t.image
    origin = t.layer_map.get(layer) if layer is not None else None
    # The uncompressed digest: the same whether the layer came from a registry (gzip) or an archive (plain tar).
    digest = image.layers[layer].diff_id if layer is not None and 0 <= layer < len(image.layers) else None
    where = ImageLocation(
        image=image.reference,
        layer_index=layer,
        layer_digest=digest,
        path="/" + path.lstrip("/") if path else None,
        created_by=scrub(getattr(origin, "created_by", None) or "") or None,  # build args show here
    )
    ins = getattr(origin, "instruction", None)
    if t.dockerfile is not None and ins is not None:
        p = ins.pos
        return Hit(message, line=p.line, column=p.column, end_line=p.end_line, end_column=p.end_column, fix=fix, image=where, key=key or path, properties=props)
    return Hit(message, line=1, column=1, path=synthetic_path(image.name, path or ""), fix=fix, image=where, key=key or path, properties=props)


def describe_layer(t: MappedImage, layer: int) -> str:
    """``layer 3 (line 7: RUN apt-get …)`` or ``layer 3 (RUN apt-get …)`` from history, secrets in it masked."""
    origin = t.layer_map.get(layer)
    ins = getattr(origin, "instruction", None)
    if t.dockerfile is not None and ins is not None:
        src = " ".join(t.dockerfile.source_line(ins.line).split())
        what = f"base image, line {ins.line}" if getattr(origin, "base", False) else f"line {ins.line}"
        return f"layer {layer} ({what}: {_clip(src)})"
    step = parse_created_by(getattr(origin, "created_by", "") or "")
    if step.keyword:
        return f"layer {layer} ({step.keyword} {_clip(step.text)})"
    return f"layer {layer}"


def _clip(s: str, n: int = 60) -> str:
    """The start of an instruction's text for a message: its secrets masked first (a cut would leave
    a part of a value that no detector recognises any more)."""
    from lintimg.secrets.spans import mask  # loads a detector only when the text holds a trigger

    s = " ".join(mask(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"
