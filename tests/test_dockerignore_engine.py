"""Ground truth: what the real classic builder copies, against what lintimg predicts.

Each case is a generated context with an ignore file; the engine builds
``FROM scratch`` + ``COPY . /ctx`` and the layer is read from ``docker save``
in memory (never extracted).
"""
from __future__ import annotations

import io
import json
import random
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lintimg.context import CLASSIC, CLASSIC_PRE23, BuildContext
from tests.test_dockerignore import MATRIX, MATRIX_IGNORE, make_tree

pytestmark = pytest.mark.engine

CASES = 60
NAMES = ["a", "b", "data", "src", "node_modules", ".env", "x.txt", "y.md", "temp1", "tempX", "keep.keep", "id_rsa", "id_rsa.pub", "foo", "build", "#c", "star*.txt", "c.pyc", "lib"]
EXTS = ["txt", "md", "keep", "pyc", "pub"]


def random_tree(rng: random.Random) -> tuple[dict[str, str], list[str]]:
    files: dict[str, str] = {}
    empty_dirs: list[str] = []

    def fill(prefix: str, depth: int) -> None:
        for name in rng.sample(NAMES, rng.randint(2, 6)):
            path = f"{prefix}{name}"
            if depth < 3 and rng.random() < 0.4:
                if rng.random() < 0.15:
                    empty_dirs.append(path)
                else:
                    fill(path + "/", depth + 1)
            elif not any(k.startswith(path + "/") for k in files):
                files[path] = "x"

    fill("", 0)
    # A name cannot be both a file and a directory.
    files = {p: c for p, c in files.items() if not any(k.startswith(p + "/") for k in files)}
    empty_dirs = [d for d in empty_dirs if d not in files and not any(k.startswith(d + "/") for k in files)]
    return files, empty_dirs


def random_pattern(rng: random.Random, files: list[str]) -> str:
    path = rng.choice(files) if files else "a"
    parts = path.split("/")
    forms = [
        lambda: path,
        lambda: "/".join(parts[:-1]) or parts[0],
        lambda: "*." + rng.choice(EXTS),
        lambda: "**/*." + rng.choice(EXTS),
        lambda: "**/" + parts[-1],
        lambda: parts[0] + "/**",
        lambda: parts[0] + "/*",
        lambda: parts[0] + "/**/" + parts[-1],
        lambda: "*/" + parts[-1],
        lambda: parts[-1][:-1] + "?" if len(parts[-1]) > 1 else "?",
        lambda: "[a-d]*",
        lambda: "[^a]*",
        lambda: "temp?",
        lambda: "star\\*.txt",
        lambda: "  # " + parts[-1],
        lambda: "../" + parts[-1],
        lambda: "./" + path + "/",
        lambda: "/" + path,
        lambda: "Dockerfile",
        lambda: ".dockerignore",
    ]
    pat = rng.choice(forms)()
    if rng.random() < 0.35:
        pat = "!" + rng.choice(["", " "]) + pat.strip()
    if rng.random() < 0.1:
        pat = "  " + pat + " \t"
    return pat


def generate(rng: random.Random, root: Path) -> None:
    files, empty = random_tree(rng)
    lines = ["# generated"] + [random_pattern(rng, list(files)) for _ in range(rng.randint(1, 8))]
    make_tree(root, files)
    for d in empty:
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / ".dockerignore").write_text("\n".join(lines) + "\n")


def classic_variant(docker) -> str:
    """The CLI makes the context tar: before 23 it matched with the deprecated Matches."""
    version = docker.run("version", "--format", "{{.Client.Version}}").stdout.decode().strip()
    return CLASSIC if int(version.split(".")[0]) >= 23 else CLASSIC_PRE23


def predicted(root: Path, builder: str) -> tuple[set[str], set[str]]:
    ctx = BuildContext(str(root), str(root / "Dockerfile"), builder)
    tree = ctx.everything()
    files = {e.rel for e in tree.files}
    dirs = set(tree.dirs)
    for f in files:
        parts = f.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return files, dirs


def arrived(docker, root: Path, tag: str) -> tuple[set[str], set[str]]:
    docker.build(root, tag, None, "--no-cache")  # identical contexts in parallel must not share a cached image
    saved = docker.run("save", tag).stdout
    with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        layers = manifest[0]["Layers"]
        assert len(layers) == 1, layers
        layer = outer.extractfile(layers[0]).read()
    files, dirs = set(), set()
    with tarfile.open(fileobj=io.BytesIO(layer)) as tf:
        for m in tf.getmembers():
            name = m.name.rstrip("/")
            if name == "ctx" or not name.startswith("ctx/"):
                continue
            (dirs if m.isdir() else files).add(name[4:])
    docker.run("rmi", "-f", tag, check=False)
    return files, dirs


def _check(docker, root: Path, tag: str, builder: str) -> str | None:
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx\n")
    got_files, got_dirs = arrived(docker, root, tag)
    want_files, want_dirs = predicted(root, builder)
    if (got_files, got_dirs) == (want_files, want_dirs):
        return None
    ignore = (root / ".dockerignore").read_text()
    return (
        f"{root.name}: .dockerignore=\n{ignore}"
        f"files engine-only {sorted(got_files - want_files)} lintimg-only {sorted(want_files - got_files)}; "
        f"dirs engine-only {sorted(got_dirs - want_dirs)} lintimg-only {sorted(want_dirs - got_dirs)}"
    )


def test_classic_builder_agrees_on_generated_contexts(docker, tmp_path: Path) -> None:
    rng = random.Random(6061)
    roots = []
    matrix = tmp_path / "matrix"
    make_tree(matrix, {p: "x" for p in MATRIX if p not in (".dockerignore", "Dockerfile")})
    (matrix / ".dockerignore").write_text(MATRIX_IGNORE)
    roots.append(matrix)
    for i in range(CASES):
        root = tmp_path / f"case{i:02d}"
        root.mkdir()
        generate(rng, root)
        roots.append(root)
    builder = classic_variant(docker)
    with ThreadPoolExecutor(4) as pool:
        problems = list(pool.map(lambda r: _check(docker, r, f"lintimg-test/ctx-{r.name}:1", builder), roots))
    failed = [p for p in problems if p]
    assert len(roots) >= 50
    assert not failed, "\n\n".join(failed)
