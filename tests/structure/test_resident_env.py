"""Environment variables read while a module loads are named in ``lintimg.resident.client.IMPORT_TIME_ENV``.

The resident server imports lintimg once, under the environment of the client
that started it; a variable read at import time keeps that value for every
request. The server key covers the variables listed there, so a client with
other values gets another server; a read the list misses would leak one
client's value into another's run. Read with ``ast``: module-level statements
and class bodies (both run at import), not function bodies.
"""
from __future__ import annotations

import ast

from lintimg.resident.client import IMPORT_TIME_ENV
from tests.structure.test_layers import sources


def _import_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node that runs when the module loads: all but function bodies (default values and decorators run)."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            todo += [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
            if not isinstance(node, ast.Lambda):
                todo += node.decorator_list
            continue
        todo += list(ast.iter_child_nodes(node))
    return out


def environment_reads(source: str) -> set[str]:
    """Names of environment variables read at import time (``os.environ.get("X")``, ``os.environ["X"]``, ``os.getenv("X")``);
    a read by a name that is not a string literal is reported as ``?``."""
    names: set[str] = set()
    for node in _import_time_nodes(ast.parse(source)):
        key: ast.AST | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            f = node.func
            if (f.attr == "get" and ast.unparse(f.value) == "os.environ") or ast.unparse(f) == "os.getenv":
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        if key is not None:
            names.add(key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else "?")
    return names


def test_every_import_time_environment_read_is_in_the_server_key() -> None:
    found: dict[str, set[str]] = {}
    for path in sources():
        for name in environment_reads(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path))
    assert set(found) <= set(IMPORT_TIME_ENV), {n: p for n, p in found.items() if n not in IMPORT_TIME_ENV}
    assert "LINTIMG_RUN_TIMEOUT" in found  # the scan sees lintimg/limits.py's reads


def test_reads_inside_functions_do_not_count_and_defaults_and_class_bodies_do() -> None:
    source = ("import os\nA = os.environ.get('A')\nclass C:\n    B = os.environ['B']\n"
              "def f(x=os.getenv('D')):\n    return os.environ.get('E')\n")
    assert environment_reads(source) == {"A", "B", "D"}


def test_the_list_holds_only_names_that_are_read() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in sources() if p.name != "client.py")
    assert all(f'"{name}"' in text for name in IMPORT_TIME_ENV)
