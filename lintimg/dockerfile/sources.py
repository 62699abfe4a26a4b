"""Finding and reading Dockerfiles: paths, directories and stdin."""
from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

from lintimg import limits
from lintimg.errors import LintimgError
from lintimg.records import record

MAX_DOCKERFILE_BYTES = limits.MAX_DOCKERFILE
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".hg", ".svn"}
_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "dockerfile", "Containerfile", "Containerfile.*", "*.Containerfile")


def is_dockerfile_name(name: str) -> bool:
    if name.endswith(".dockerignore") or name == ".dockerignore":
        return False
    return any(fnmatch.fnmatchcase(name, p) for p in _PATTERNS)


@record
class DockerfileText:
    """A Dockerfile as read: its text, or why it cannot be used."""

    path: str  # as shown in reports
    text: str | None  # None when the content is not usable (see problem)
    problem: str | None = None  # why the content could not be parsed
    size: int = 0


def discover(paths: list[str]) -> list[str]:
    """Expand directories into the Dockerfiles they hold; check that files exist."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found: list[str] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                found.extend(os.path.join(root, f) for f in sorted(files) if is_dockerfile_name(f))
            if not found:
                raise LintimgError(f"{p}: no Dockerfile found in this directory (looked for {', '.join(_PATTERNS[:4])}, Containerfile)")
            out.extend(_clean(f) for f in found)
        elif path.is_file():
            if path.name.endswith(".dockerignore"):
                continue  # an ignore file is context, read next to its Dockerfile
            out.append(_clean(p))
        elif path.exists():
            raise LintimgError(f"{p}: not a regular file")
        else:
            raise LintimgError(f"{p}: no such file or directory")
    return out


def ignored(path: str, patterns: list[str], base: str | None = None) -> bool:
    """Whether ``path`` matches an ``ignore-paths`` pattern (relative to ``base``).

    A pattern without ``/`` matches any one path component (``vendor``,
    ``*.generated.Dockerfile``); one with ``/`` matches the relative path
    from its start, and also everything below it (``third_party/``, ``docker/*/Dockerfile``).
    """
    if not patterns or path == "-":
        return False
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base or os.getcwd())).replace(os.sep, "/")
    parts = rel.split("/")
    for pat in patterns:
        pat = pat.strip().removeprefix("./").rstrip("/")
        if "/" not in pat:
            if any(fnmatch.fnmatchcase(part, pat) for part in parts):
                return True
        elif fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel, pat + "/*"):
            return True
    return False


def _clean(p: str) -> str:
    return os.path.normpath(p)


def read_source(path: str, stdin_name: str = "-") -> DockerfileText:
    """A Dockerfile's bytes, at most :data:`MAX_DOCKERFILE_BYTES` (+1, to tell that it is bigger) read.

    A path that is not a regular file (a FIFO, a device) is refused before it is read.
    """
    if path == "-":
        data = sys.stdin.buffer.read(MAX_DOCKERFILE_BYTES + 1)  # not the rest: stdin may be endless
        return decode(stdin_name, data)
    try:
        data = limits.read_file(path, MAX_DOCKERFILE_BYTES)
    except limits.TooLarge:
        return DockerfileText(path, None, _too_large(), MAX_DOCKERFILE_BYTES + 1)
    except limits.NotRegularFile as e:
        raise LintimgError(f"{path}: not a regular file ({limits.why(e)})") from None
    except PermissionError:
        raise LintimgError(f"{path}: permission denied") from None
    except OSError as e:
        raise LintimgError(f"{path}: cannot read: {limits.why(e)}") from None
    return decode(path, data)


def _too_large() -> str:
    return f"file is larger than {MAX_DOCKERFILE_BYTES // (1024 * 1024)} MiB; not parsed"


def normalized(text: str) -> str:
    """A Dockerfile's text as the model reads it: no byte-order mark, ``\n`` line ends (like Docker,
    a lone ``\r`` is not a line break)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")


def split_lines(text: str) -> list[str]:
    """The lines of a :func:`normalized` text as the model numbers them (no empty line after a final newline)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def decode(path: str, data: bytes) -> DockerfileText:
    size = len(data)
    if size > MAX_DOCKERFILE_BYTES:
        return DockerfileText(path, None, _too_large(), size)
    nul = data.find(b"\x00")
    if nul >= 0:
        return DockerfileText(path, None, f"not a text file (NUL byte at offset {nul})", size)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        # Latin-1 Dockerfiles exist in the wild; lint them rather than give up.
        text = data.decode("latin-1")
        if sum(1 for b in data if b < 9 or 13 < b < 32) > 8:
            return DockerfileText(path, None, f"not a text file (invalid UTF-8 at offset {e.start})", size)
    return DockerfileText(path, text, None, size)
