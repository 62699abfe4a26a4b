"""Data flows one way: every import in lintimg/ and rules/ goes from a higher layer to a lower one.

The layers, lowest first, and what each may import (read with ``ast``, so
imports inside functions and under ``TYPE_CHECKING`` count too):

- core: ``errors``, ``paths``, ``findings``, ``config``, ``cachefiles``, ``records``, ``rx`` — nothing else;
- sources and models: ``dockerfile/`` (files and stdin, the model, the reference grammar);
  ``secrets/`` (the detector, used on Dockerfile text, context files and layers);
  ``shellcheck/`` (the ShellCheck adapter, over the Dockerfile model);
  ``image/`` (image sources, the layer reader, the image model and its mapping to Dockerfile lines);
  ``context/`` (the build context a Dockerfile's COPY/ADD sends);
- ``engine/``: targets, rules, the registry, pragmas, running rules; sees the models
  (the target's fields), never a detector;
- ``reports/``: findings and the engine's RunInfo into text, JSON, SARIF, …: nothing of
  the models or detectors (an image run redacts history text before findings reach a report);
- ``rules/`` (``lintimg.rules``): plugins over the engine and the models;
- ``run/``: one run from sources to findings; ``fleet/``: many image runs over a registry, on a
  process pool or a Dask cluster; ``cli`` (with ``replay``, its memo of whole runs, and ``resident.client``, which
  hands a run to the resident server): arguments in, report out;
- ``resident`` (``lintimg.resident.server``): imports what a check runs, rules included, once, then runs the CLI per request.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Lowest first. Each layer may import itself and the layers it names, all of which must be lower.
LAYERS: list[tuple[str, set[str]]] = [
    ("core", set()),
    ("dockerfile", {"core"}),
    ("secrets", {"core"}),
    ("shellcheck", {"core", "dockerfile"}),
    ("image", {"core", "dockerfile", "secrets"}),
    ("context", {"core", "dockerfile", "secrets"}),
    ("engine", {"core", "dockerfile", "image", "context"}),
    ("reports", {"core", "engine"}),
    ("rules", {"core", "dockerfile", "secrets", "shellcheck", "image", "context", "engine"}),
    ("run", {"core", "dockerfile", "secrets", "shellcheck", "image", "context", "engine"}),
    ("fleet", {"core", "dockerfile", "secrets", "image", "engine", "reports", "run"}),
    ("cli", {"core", "dockerfile", "engine", "context", "reports", "run", "fleet"}),
    ("resident", {"core", "dockerfile", "secrets", "shellcheck", "context", "engine", "reports", "rules", "run", "cli"}),
]
CORE = {"errors", "paths", "findings", "config", "cachefiles", "limits", "redaction", "distributions", "records", "rx", "_build"}  # _build: the build backend, run by pip only


def layer_of(module: str) -> str | None:
    """The layer of a ``lintimg`` module (``None`` for other packages)."""
    parts = module.split(".")
    if parts[0] != "lintimg":
        return None
    if len(parts) == 1 or parts[1] in CORE:
        return "core"
    if parts[1] == "resident" and parts[2:3] == ["server"]:
        return "resident"
    if parts[1] in ("cli", "__main__", "replay", "resident"):
        return "cli"
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "rules":
        parts = ["lintimg", *parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every import statement in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing package
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            out.append((node.lineno, base))
            # ``from lintimg import x`` imports the module lintimg.x
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names if _is_module(f"{base}.{a.name}")]
    return out


def _is_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != "lintimg" or len(parts) < 2:
        return False
    root = REPO.joinpath("rules", *parts[2:]) if parts[1:2] == ["rules"] else REPO.joinpath(*parts)
    return root.with_suffix(".py").is_file() or root.joinpath("__init__.py").is_file()


def sources() -> list[Path]:
    return sorted([*REPO.joinpath("lintimg").rglob("*.py"), *REPO.joinpath("rules").rglob("*.py")])


def violations(files: list[Path]) -> list[str]:
    rank = {name: i for i, (name, _) in enumerate(LAYERS)}
    allowed = dict(LAYERS)
    out = []
    for f in files:
        here = layer_of(module_name(f))
        assert here in rank, f"{f}: in no layer; add its package to LAYERS"
        for line, mod in imports(f):
            there = layer_of(mod)
            if there is None or there == here:
                continue
            if there not in rank:
                out.append(f"{f.relative_to(REPO)}:{line}: imports {mod}, which is in no layer")
            elif there not in allowed[here]:
                out.append(f"{f.relative_to(REPO)}:{line}: {here} imports {mod} ({there})")
    return out


def test_the_layer_table_only_points_down():
    rank = {name: i for i, (name, _) in enumerate(LAYERS)}
    for name, allowed in LAYERS:
        assert all(rank[a] < rank[name] for a in allowed), (name, allowed)


def test_every_import_goes_to_an_allowed_lower_layer():
    assert violations(sources()) == []


@pytest.mark.parametrize("package, line", [
    ("dockerfile", "from lintimg.engine.rule import rule"),
    ("reports", "from lintimg.secrets.spans import secret_spans"),
    ("engine", "    from lintimg.secrets.detect import detect"),  # inside a function counts too
    ("image", "from ..run import RunResult"),  # relative imports are resolved
])
def test_an_upward_import_is_reported(tmp_path, monkeypatch, package, line):
    fake = REPO / "lintimg" / package / "_layer_probe.py"
    body = f"def f():\n{line}\n" if line.startswith("    ") else f"{line}\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: body if self == fake else Path.read_bytes(self).decode())
    assert violations([fake]) != []


def test_only_the_rx_module_calls_re2():
    """RE2's binding ends the process on an exception raised in Python code it calls (a stop signal's): lintimg.rx
    holds the stop signals around every call, so no other module may reach the binding."""
    reaching = [f"{f.relative_to(REPO)}:{line}" for f in sources() if module_name(f) != "lintimg.rx"
                for line, mod in imports(f) if mod.split(".")[0] == "re2"]
    assert reaching == []
