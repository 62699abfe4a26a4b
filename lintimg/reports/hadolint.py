"""``lintimg config --from-hadolint``: a hadolint config written out as a ``.lintimg.yaml``.

The keys are converted by :func:`lintimg.config.from_hadolint` (the same code
that reads a ``.hadolint.yaml`` when there is no ``.lintimg.yaml``); here each
hadolint code becomes the lintimg rule that claims it, with the code in a
comment, and what does not carry over is said in comments.
"""
from __future__ import annotations

from typing import Any

from lintimg.config import from_hadolint
from lintimg.engine.registry import Registry


def as_lintimg_yaml(data: dict[str, Any], where: str, registry: Registry) -> str:
    import yaml

    converted, notes = from_hadolint(data, where)
    out = [f"# .lintimg.yaml converted from {where} (lintimg config --from-hadolint)"]
    out += [f"# note: {n}" for n in notes]
    for key, value in converted.items():
        if key != "rules":
            out.append(yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False).rstrip())
    rules: dict[str, tuple[str, list[str]]] = {}  # our key -> (setting, what it came from)
    missing = []
    for code, setting in converted.get("rules", {}).items():
        found, family_code = registry.match(code)
        if not found:
            missing.append(code)
        for r in found:
            key = family_code or r.id  # a single ShellCheck code stays a code: it turns only that code off
            why = f"{code} ({r.slug})" if family_code is None else f"{r.id} {r.slug}: this code only"
            previous = rules.get(key, (setting, []))[1]
            rules[key] = (setting, [*previous, why])
    if rules or missing:
        out.append("rules:")
        out += [f"  {key}: {setting}  # {', '.join(why)}" for key, (setting, why) in rules.items()]
        out += [f"  # {code}: no lintimg rule claims this hadolint code; left out" for code in missing]
    return "\n".join(out) + "\n"
