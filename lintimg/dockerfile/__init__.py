"""The Dockerfile model and what rule authors import to read it.

- :mod:`.model` — instructions, stages, tokens with exact places, ARG/ENV scopes;
- :mod:`.parser` — ``parse_dockerfile`` on top of dockerfile-parse;
- :mod:`.words` — Docker's word splitting, quotes and ``$VAR`` expansion;
- :mod:`.shell` — RUN scripts via tree-sitter-bash and the shell query vocabulary;
- :mod:`.stages` — how stages relate (chains, inheritance, stages that ship);
- :mod:`.queries` — helpers for rule bodies (hits at the right place, RUN commands, SHELL in force);
- :mod:`.labels` — label keys and label-schema value formats;
- :mod:`.sources` — finding Dockerfiles and reading them safely.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lintimg.dockerfile.model import (
        BUILTIN_ARGS,
        KNOWN_INSTRUCTIONS,
        Comment,
        Dockerfile,
        DockerfileSyntaxError,
        Flag,
        Heredoc,
        Instruction,
        Pos,
        Stage,
        Token,
    )
    from lintimg.dockerfile.parser import parse_dockerfile

__all__ = [
    "BUILTIN_ARGS", "KNOWN_INSTRUCTIONS", "Comment", "Dockerfile", "DockerfileSyntaxError", "Flag", "Heredoc",
    "Instruction", "Pos", "Stage", "Token", "parse_dockerfile",
]


def __getattr__(name: str) -> Any:
    # The names load on first use: reading sources (a run whose results come from the cache)
    # needs neither the model nor dockerfile-parse.
    if name in __all__:
        return getattr(importlib.import_module(f"{__name__}.{'parser' if name == 'parse_dockerfile' else 'model'}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
