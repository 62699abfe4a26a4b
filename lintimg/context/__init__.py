"""The build context: .dockerignore and what each COPY/ADD sends.

:class:`ContextAttacher` finds each Dockerfile's :class:`BuildContext`.
Everything is lazy: a Dockerfile without COPY/ADD costs nothing, ``COPY
package.json .`` costs one ``lstat``, and only a directory source makes the
walk list directories. A :class:`ContextAttacher` shares walks between the
Dockerfiles of one run that use the same context.

The names below load on first use, so that a module of this package (the
layer-order analysis a Dockerfile rule uses) can be imported alone.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lintimg.context.attach import BUILDKIT, CLASSIC, CLASSIC_PRE23, ContextAttacher
    from lintimg.context.build import BuildContext, find_ignore_file
    from lintimg.context.copies import Copy
    from lintimg.context.dockerignore import IgnoreFile
    from lintimg.context.walk import Entry, Subtree

__all__ = ["BUILDKIT", "CLASSIC", "CLASSIC_PRE23", "BuildContext", "ContextAttacher", "Copy", "Entry", "IgnoreFile", "Subtree", "find_ignore_file"]

_WHERE = {
    "BuildContext": "build", "ContextAttacher": "attach", "find_ignore_file": "build", "Copy": "copies", "IgnoreFile": "dockerignore",
    "BUILDKIT": "attach", "CLASSIC": "attach", "CLASSIC_PRE23": "attach", "Entry": "walk", "Subtree": "walk",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
