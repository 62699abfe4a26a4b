"""How stages relate: which stage builds on which, what an image inherits, which stages ship.

Rules about the image a build produces (its user, health check, labels) need
to look through ``FROM <stage>`` chains, because a stage inherits everything
its base stage set; rules about base images need the stages that pull from a
registry rather than from another stage.

Which stages ship (:func:`shipped_stages`): ``docker build`` builds the last
stage, and ``--target <name>`` builds any other named one as an image of its
own. A stage that later stages only take files from (``COPY --from=<stage>``,
``RUN --mount=from=<stage>``) is a builder: only the paths copied out of it
reach an image. So a stage ships when no later stage uses it (a build target)
or when a shipped stage holds its whole filesystem (it is built ``FROM`` it,
or copies its root); every other stage is "not shipped". An unnamed stage that
no other stage uses and that is not the last ships too: ``--target`` cannot
name it and BuildKit skips it (:func:`built_stages` finds it; LI118 reports
it), but the classic builder (``DOCKER_BUILDKIT=0``) builds every stage, and
naming the stage or using it makes it a target anyway. Rules about what the
image holds (caches left in a layer, two download tools) or about the
Dockerfile's text (a second CMD) skip stages that are not shipped; rules about
the build itself (a prompt that stops it, an unpinned download that makes its
output differ) check every stage. Rules about how the image runs as a
container (its exposed ports, its user, its volumes) read the stages a build
can tag (:func:`runs`): the targets ``docker build`` and ``--target`` can name,
and the stages they hold whole.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from lintimg.dockerfile import Dockerfile, Instruction, Stage
from lintimg.dockerfile.model import run_mounts


def chain(df: Dockerfile, stage: Stage) -> list[Stage]:
    """``stage`` and the stages it builds on, nearest first."""
    out = [stage]
    while out[-1].base_stage is not None and out[-1].base_stage not in {s.index for s in out}:
        out.append(df.stages[out[-1].base_stage])
    return out


def inherited(df: Dockerfile, stage: Stage, *keywords: str) -> list[Instruction]:
    """Instructions of ``keywords`` that apply to ``stage``'s image, in build order (base stages first)."""
    return [ins for st in reversed(chain(df, stage)) for ins in st.of(*keywords)]


def last_inherited(df: Dockerfile, stage: Stage, keyword: str) -> Instruction | None:
    found = inherited(df, stage, keyword)
    return found[-1] if found else None


_VARIABLE = re.compile(r"\$(?:\{(\w+)[^}]*\}|(\w+))")


def _name_pattern(ref: str) -> tuple[re.Pattern[str], list[str]] | None:
    """The stage names a reference with build arguments in it can expand to, as a pattern with one group per
    argument (and the arguments' names, in group order); None when it has no argument or nothing else."""
    pieces: list[str] = []
    names: list[str] = []
    pos = 0
    for m in _VARIABLE.finditer(ref):
        name = m.group(1) or m.group(2)
        pieces.append(re.escape(ref[pos:m.start()]))
        pieces.append(f"(?P=v{names.index(name)})" if name in names else f"(?P<v{len(names)}>.*)")
        if name not in names:
            names.append(name)
        pos = m.end()
    pieces.append(re.escape(ref[pos:]))
    if not names or not _VARIABLE.sub("", ref):
        return None
    return re.compile("".join(pieces), re.IGNORECASE), names


def from_refs(df: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    """Each ``COPY --from``/``ADD --from`` and ``RUN --mount=from`` reference inside a stage, with its instruction."""
    for ins in df.instructions:
        if ins.stage_index is None:
            continue
        if ins.keyword in ("COPY", "ADD"):
            yield from ((ins, ref) for ref in ins.flag_values("from"))
        elif ins.keyword == "RUN":
            yield from ((ins, m["from"]) for m in run_mounts(ins) if m.get("from"))


def _argument_values(df: Dockerfile) -> dict[str, set[str]]:
    """For each build argument that picks stages, the values that name a stage in every reference using it.

    An argument has one value per build, so with ``FROM ${BASE}-php-ext-base`` and ``FROM ${BASE}-base`` it can
    only be a value that fits both (``fpm-alpine``, not ``fpm-alpine-php-ext``)."""
    found: dict[str, set[str]] | None = df.memo.get("argument_values")
    if found is not None:
        return found
    found = {}
    for ref in [st.base for st in df.stages] + [ref for _, ref in from_refs(df)]:
        fit = _name_pattern(ref)
        if fit is None:
            continue
        pattern, names = fit
        matches = [m for st in df.stages if st.name is not None and (m := pattern.fullmatch(st.name))]
        for k, name in enumerate(names):
            values = {m.group(f"v{k}").lower() for m in matches}
            if not values:  # a reference that names no stage (an image) says nothing about the argument
                continue
            # references that cannot agree (a typo, a stage removed) leave the argument every value either allows
            both = found.get(name, values) & values
            found[name] = both if both else found[name] | values
    df.memo["argument_values"] = found
    return found


def named_by(df: Dockerfile, ref: str, before: int) -> list[Stage]:
    """The stages before ``before`` that a ``FROM``/``--from`` reference can name: the one it names or, when a
    build argument picks the stage (``FROM tools-${VERSION}``), every stage whose name fits the rest of it with
    a value the argument can take. A reference that is nothing but a variable, or that names an image, names no stage."""
    st = df.stage_by_ref(ref, before=before)
    if st is not None:
        return [st]
    fit = _name_pattern(ref)
    if fit is None:
        return []
    pattern, names = fit
    values = _argument_values(df)
    out = []
    for s in df.stages[:before]:
        m = pattern.fullmatch(s.name) if s.name is not None else None
        if m is not None and all(m.group(f"v{k}").lower() in values.get(name, ()) for k, name in enumerate(names)):
            out.append(s)
    return out


def bases(df: Dockerfile, stage: Stage) -> list[Stage]:
    """The stages ``stage`` can be built FROM: the one its FROM names (with the build arguments' defaults) and,
    when a build argument is part of the name, every other one it can pick."""
    found = [df.stages[stage.base_stage]] if stage.base_stage is not None else []
    if _VARIABLE.search(stage.base):
        found += [st for st in named_by(df, stage.base, stage.index) if st not in found]
    return found


def stage_uses(df: Dockerfile) -> list[tuple[Instruction, Stage]]:
    """Each ``COPY --from=<stage>`` and ``RUN --mount=from=<stage>`` with the earlier stage it takes files from
    (a reference to an image names no stage and is left out)."""
    return [(ins, st) for ins, ref in from_refs(df) if ins.stage_index is not None for st in named_by(df, ref, ins.stage_index)]


def builder_refs(df: Dockerfile) -> set[int]:
    """Indexes of stages a later stage takes files from: ``COPY --from=<stage>`` or ``RUN --mount=from=<stage>``."""
    return {st.index for _, st in stage_uses(df)}


def built_stages(df: Dockerfile) -> frozenset[int]:
    """Indexes of the stages some build runs: the last stage and every named one (``--target`` takes a name),
    with the stages they are built FROM or take files from. Any other stage no build produces."""
    uses: dict[int, list[int]] = {}
    for ins, st in stage_uses(df):
        if ins.stage_index is not None:
            uses.setdefault(ins.stage_index, []).append(st.index)
    todo = [st.index for st in df.stages if st.name is not None or st.index == len(df.stages) - 1]
    out: set[int] = set()
    while todo:
        i = todo.pop()
        if i not in out:
            out.add(i)
            todo += [b.index for b in bases(df, df.stages[i])] + uses.get(i, [])
    return frozenset(out)


def leaf_stages(df: Dockerfile) -> list[Stage]:
    """Stages no later stage builds on or takes files from: each is an image of its own (the last stage always is one).

    ``--target`` picks a stage by its ``AS`` name only, so an unnamed leaf that is not the last is no target
    (BuildKit skips it); the classic builder builds it all the same."""
    used = builder_refs(df) | {b.index for st in df.stages for b in bases(df, st)}
    return [st for st in df.stages if st.index not in used]


def _holding(df: Dockerfile, tops: list[Stage]) -> frozenset[int]:
    """``tops`` and, transitively, the stages whose whole filesystem one of them holds: the one it is built FROM,
    and one it copies from its root (``COPY --from=<stage> / /``)."""
    whole: dict[int, list[int]] = {}
    for ins, st in stage_uses(df):
        if ins.keyword == "COPY" and ins.stage_index is not None \
                and any(posixpath.normpath(a.value) in ("/", ".") for a in ins.args[:-1]):
            whole.setdefault(ins.stage_index, []).append(st.index)
    todo = [st.index for st in tops]
    out: set[int] = set()
    while todo:
        i = todo.pop()
        if i not in out:
            out.add(i)
            todo.extend([b.index for b in bases(df, df.stages[i])] + whole.get(i, []))
    return frozenset(out)


def shipped_stages(df: Dockerfile) -> frozenset[int]:
    """Indexes of the stages that ship: the leaves (:func:`leaf_stages`) and the stages whose whole filesystem
    a shipped stage holds."""
    found: frozenset[int] | None = df.memo.get("shipped_stages")
    if found is None:
        found = df.memo["shipped_stages"] = _holding(df, leaf_stages(df))
    return found


def tagged_stages(df: Dockerfile) -> frozenset[int]:
    """Indexes of the stages whose settings reach an image a build can tag and run: the targets ``docker build``
    (the last stage) and ``--target <name>`` (a named leaf) produce, and the stages whose whole filesystem they hold.
    An unnamed leaf that is not the last is none of these: no build gives it a name to run it by."""
    found: frozenset[int] | None = df.memo.get("tagged_stages")
    if found is None:
        last = len(df.stages) - 1
        tops = [st for st in leaf_stages(df) if st.index == last or st.name is not None]
        found = df.memo["tagged_stages"] = _holding(df, tops)
    return found


def ships(df: Dockerfile, ins: Instruction) -> bool:
    """True when what ``ins`` does can reach an image: it sits in a stage that ships, before the first FROM,
    or it is an ONBUILD trigger (it runs in the builds of images made FROM this one)."""
    return ins.stage_index is None or ins.keyword == "ONBUILD" or ins.stage_index in shipped_stages(df)


def runs(df: Dockerfile, ins: Instruction) -> bool:
    """True when what ``ins`` sets can reach a container: it sits in a stage a build can tag
    (:func:`tagged_stages`), before the first FROM, or it is an ONBUILD trigger."""
    return ins.stage_index is None or ins.keyword == "ONBUILD" or ins.stage_index in tagged_stages(df)
