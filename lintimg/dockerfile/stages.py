"""How stages relate: which stage builds on which, what an image inherits, which stages ship.

Rules about the image a build produces (its user, health check, labels) need
to look through ``FROM <stage>`` chains, because a stage inherits everything
its base stage set; rules about base images need the stages that pull from a
registry rather than from another stage.
"""
from __future__ import annotations

from lintimg.dockerfile import Dockerfile, Instruction, Stage


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


def copy_from_refs(df: Dockerfile) -> set[int]:
    """Indexes of stages that a later ``COPY --from`` names."""
    used: set[int] = set()
    for ins in df.of("COPY", "ADD"):
        for ref in ins.flag_values("from"):
            st = df.stage_by_ref(ref, before=ins.stage_index) if ins.stage_index is not None else None
            if st is not None and st.index != ins.stage_index:
                used.add(st.index)
    return used


def leaf_stages(df: Dockerfile) -> list[Stage]:
    """Stages whose image is a build result: no later stage builds on them or copies from them."""
    used = copy_from_refs(df) | {st.base_stage for st in df.stages if st.base_stage is not None}
    return [st for st in df.stages if st.index not in used]
