"""The build backend: setuptools, plus bytecode for editable installs.

pip compiles the modules of a wheel when it installs it, so an installed
lintimg never compiles itself at start-up. An editable install
(``pip install -e .``) runs the source tree in place, and setuptools writes
no bytecode for it; on a machine with ``PYTHONDONTWRITEBYTECODE=1`` every
run then compiled every module it imported again (~0.1 s of a 0.2 s run).
So :func:`build_editable` compiles ``lintimg/`` and ``rules/`` once, next to
the sources, exactly as the interpreter would have cached them
(``__pycache__/*.cpython-XY.pyc``, validated by the source's mtime and
size): Python reads them whatever ``PYTHONDONTWRITEBYTECODE`` says, and a
module edited later is simply compiled in memory again until the next
install.

Named in ``pyproject.toml`` as ``build-backend = "lintimg._build"`` with
``backend-path = ["."]``.
"""
from __future__ import annotations

import compileall
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401 - the rest of the PEP 517/660 interface, unchanged
    build_sdist,
    build_wheel,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

ROOT = Path(__file__).resolve().parent.parent


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None, metadata_directory: str | None = None) -> str:
    name: str = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    for folder in ("lintimg", "rules"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    return name
