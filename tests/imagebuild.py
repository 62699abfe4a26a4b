"""Build :class:`lintimg.image.model.Image` objects in Python for rule unit tests.

A layer is described by what it writes and deletes; the builder derives the
per-path history and the final view the way whiteouts define them (a deleted
directory hides everything below it), so rules can be tested on shapes that
are slow or impossible to make with a real engine (huge files, odd modes).

    img = make_image([
        layer("ADD file:abc in /", files={"bin/sh": 900_000}),
        layer("RUN dd of=/BigFile", files={"BigFile": 50_000_000}),
        layer("RUN rm /BigFile", delete=["BigFile"]),
    ], user="app")
"""
from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lintimg.image.model import Action, EntryType, Image, ImageFile, Layer, LayerEntry, PathEvent


@dataclass
class L:
    created_by: str
    files: dict[str, Any] = field(default_factory=dict)  # path -> size, or (size, mode[, uid, gid])
    dirs: dict[str, int] = field(default_factory=dict)  # path -> mode
    symlinks: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    content: dict[str, bytes] = field(default_factory=dict)  # path -> bytes (size taken from it)


def layer(created_by: str, **kw: Any) -> L:
    return L(created_by, **kw)


def _entries(spec: L) -> list[LayerEntry]:
    out = []
    for path, mode in spec.dirs.items():
        out.append(LayerEntry(path, EntryType.DIR, 0, mode, 0, 0))
    files = dict(spec.files)
    for path, data in spec.content.items():
        files.setdefault(path, len(data))
    for path, v in files.items():
        given = (v,) if isinstance(v, int) else tuple(v)
        size, mode, uid, gid = given + (0o644, 0, 0)[len(given) - 1:]  # defaults for what was not given
        out.append(LayerEntry(path, EntryType.FILE, size, mode, uid, gid))
    for path, target in spec.symlinks.items():
        out.append(LayerEntry(path, EntryType.SYMLINK, 0, 0o777, 0, 0, target))
    return out


def make_image(
    layers: list[L],
    *,
    name: str = "example.com/team/app",
    reference: str | None = None,
    config: dict[str, Any] | None = None,
    empty_history: list[tuple[int, str]] = (),
) -> Image:
    """An image of ``layers``; ``config`` is the container config, ``empty_history`` adds
    ``(position, created_by)`` empty-layer history entries before layer ``position``."""
    history: list[dict[str, Any]] = []
    extra = sorted(empty_history)
    built: list[Layer] = []
    events: dict[str, list[PathEvent]] = {}
    files: dict[str, ImageFile] = {}
    contents: dict[tuple[int, str], bytes] = {}
    for i, spec in enumerate(layers):
        while extra and extra[0][0] <= i:
            history.append({"created_by": extra.pop(0)[1], "empty_layer": True})
        history.append({"created_by": spec.created_by})
        entries = _entries(spec)
        digest = "sha256:" + hashlib.sha256(f"{i}:{spec.created_by}".encode()).hexdigest()
        lay = Layer(i, digest, digest, 0, "application/vnd.docker.image.rootfs.diff.tar.gzip", entries, list(spec.delete), [], spec.created_by, len(history) - 1)
        for gone in spec.delete:
            for path in [p for p in files if p == gone or p.startswith(gone.rstrip("/") + "/")]:
                del files[path]
                events.setdefault(path, []).append(PathEvent(i, Action.DELETED, None))
        for e in entries:
            action = Action.MODIFIED if e.path in files else Action.ADDED
            events.setdefault(e.path, []).append(PathEvent(i, action, e))
            files[e.path] = ImageFile(e, i)
        for path, data in spec.content.items():
            contents[(i, path)] = data
        built.append(lay)
    for _, created in extra:
        history.append({"created_by": created, "empty_layer": True})
    cfg = {"architecture": "amd64", "os": "linux", "config": dict(config or {}), "history": history,
           "rootfs": {"type": "layers", "diff_ids": [x.diff_id for x in built]}}
    return Image(reference or f"docker-archive:{name.rsplit('/', 1)[-1]}.tar", name, None, cfg, built, "linux/amd64", events, files, contents)


# --- real base images for the book fixtures ------------------------------------

TOOLCHAIN_TAG = "lintimg-test/bookworm-go-node:1"


def toolchain_base(docker) -> str:
    """A Debian bookworm minbase with the distribution's Go and Node.js, made once and kept by tag.

    A real toolchain image (Debian's golang-go and nodejs, ~600 MB) rather than
    a stand-in: the kuard fixtures really compile and bundle with it, so what
    the single-stage image ships is what such a build ships. It is the clean
    minbase image (:mod:`tests.cleanimages`, one debootstrap for both) plus one
    apt layer; the tag is reused by both kuard variants and by later sessions.
    """
    return _apt_on_minbase(docker, TOOLCHAIN_TAG, "golang-go nodejs")


PYTHON_TAG = "lintimg-test/bookworm-python:2"


def python_base(docker) -> str:
    """The clean minbase with Debian's Python 3.11 and venv: the base lintimg's own image is built on in the tests
    (the Dockerfile's default, python:3.11-slim-bookworm, is on Docker Hub, out of reach here)."""
    return _apt_on_minbase(docker, PYTHON_TAG, "python3 python3-venv")


def _apt_on_minbase(docker, tag: str, packages: str) -> str:
    """The clean minbase image (:mod:`tests.cleanimages`) plus one apt layer of ``packages``, made once and kept by ``tag``."""
    from tests.cleanimages import MINBASE_TAG, minbase

    if docker.run("image", "inspect", tag, check=False).returncode == 0:
        return tag
    minbase(docker)
    with tempfile.TemporaryDirectory(prefix="lintimg-apt-base-") as d:
        (Path(d) / "Dockerfile").write_text(
            f"FROM {MINBASE_TAG}\n"
            f"RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends {packages} >/dev/null "
            "&& apt-get clean && rm -rf /var/lib/apt/lists/*\n"
        )
        docker.run("build", "--network", "host", "-q", "-t", tag, d, timeout=1800)
    return tag


SLIM_TAG = "lintimg-test/bookworm-slim:1"
# What the slim variant leaves out of the toolchain image: Go and Node.js, as a -slim tag of a real base would.
_TOOLCHAIN_DIRS = ("usr/lib/go", "usr/share/go", "usr/bin/go", "usr/share/nodejs", "usr/include/node", "usr/lib/x86_64-linux-gnu/libnode",
                   "usr/lib/aarch64-linux-gnu/libnode", "usr/bin/node", "usr/bin/nodejs")


def toolchain_slim(docker) -> str:
    """The toolchain base without Go and Node.js: the same Debian, ~500 MB smaller, imported once and kept by tag."""
    import tarfile

    if docker.run("image", "inspect", SLIM_TAG, check=False).returncode == 0:
        return SLIM_TAG
    full = toolchain_base(docker)
    cid = docker.run("create", full, "/bin/true").stdout.decode().strip()
    try:
        export = subprocess.Popen([docker.cli, "export", cid], stdout=subprocess.PIPE)
        imp = subprocess.Popen([docker.cli, "import", "-", SLIM_TAG], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert export.stdout is not None and imp.stdin is not None
        with tarfile.open(fileobj=export.stdout, mode="r|") as src, tarfile.open(fileobj=imp.stdin, mode="w|") as dst:
            for member in src:
                if member.name.lstrip("./").startswith(_TOOLCHAIN_DIRS):
                    continue
                dst.addfile(member, src.extractfile(member) if member.isreg() else None)
        imp.stdin.close()
        export.wait()
        if imp.wait() != 0:
            raise AssertionError(f"docker import failed: {imp.stderr.read().decode(errors='replace')[-500:] if imp.stderr else ''}")
    finally:
        docker.run("rm", cid, check=False)
    return SLIM_TAG
