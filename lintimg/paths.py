"""Lexical path checks shared by the build-context walk and the layer reader."""
from __future__ import annotations

import posixpath


def is_outside(norm: str) -> bool:
    """Whether an already normalised relative path points above its root."""
    return norm == ".." or norm.startswith("../")


def climbs_out(base_dir: str, target: str) -> bool:
    """Whether a relative symlink ``target`` in ``base_dir`` leaves the root, judged lexically."""
    return is_outside(posixpath.normpath(posixpath.join(base_dir, target)))
