"""Real images with no secret planted in them, built once and kept by tag (the clean-image tests).

- ``minbase``: ``debootstrap --variant=minbase bookworm``, imported (also the base of the Go/Node
  toolchain image the kuard fixtures build on: one debootstrap serves both);
- ``python``: + Debian's python3 and a venv of popular PyPI packages (``fixtures/clean-images/python``);
- ``node``: + Debian's nodejs (not its npm: 335 ``node-*`` packages) and an app folder whose
  ``node_modules`` holds popular npm packages (``fixtures/clean-images/node``);
- ``java``: + OpenJDK 17 JRE, git and curl.

Containers here have no network of their own: PyPI wheels and npm tarballs are downloaded on the
host (pinned by hash; npm's by the lockfile's sha512 integrity, fetched from the registry with
``urllib``, so the host needs no npm, and no package script runs anywhere) and COPYed in; apt runs
inside ``docker build --network host``. Downloads are cached under ``$LINTIMG_TEST_CACHE``
(default ``~/.cache/lintimg-test``); each image carries a label with the hash of its inputs and is
rebuilt only when they change; its ``docker save`` archive is kept next to the downloads, named by
image id. The three child images build in parallel.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.dockerengine import DockerEngine, unavailable

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures" / "clean-images"
CACHE = Path(os.environ.get("LINTIMG_TEST_CACHE") or Path.home() / ".cache" / "lintimg-test")
MIRROR = os.environ.get("LINTIMG_DEBIAN_MIRROR", "http://deb.debian.org/debian")
NPM_REGISTRY = os.environ.get("LINTIMG_NPM_REGISTRY", "https://registry.npmjs.org")
LABEL = "org.lintimg.test.inputs"
MINBASE_TAG = "lintimg-test/bookworm-minbase:1"
TAGS = {"minbase": MINBASE_TAG, "python": "lintimg-test/clean-python:1", "node": "lintimg-test/clean-node:1", "java": "lintimg-test/clean-java:1"}
# Left out of the imported rootfs: the .debs and indexes debootstrap used, and docs.
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")
_APT = "apt-get update -qq && apt-get install -y -qq --no-install-recommends {} >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*"
# the image's Python (bookworm: CPython 3.11, glibc 2.36), for pip download on any host
PY_TARGET = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none",
             "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
             "--platform", "any", "--only-binary=:all:"]

DOCKERFILES = {
    "python": f"""\
FROM {MINBASE_TAG} AS runtime
RUN {_APT.format("python3 python3-venv")}

FROM runtime AS build
COPY wheels/ /tmp/wheels/
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install -q --no-index --no-cache-dir --find-links /tmp/wheels --require-hashes -r /tmp/requirements.txt

FROM runtime
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
CMD ["python3"]
""",
    "node": f"""\
FROM {MINBASE_TAG}
RUN {_APT.format("nodejs")}
WORKDIR /app
COPY app/ /app/
CMD ["node"]
""",
    "java": f"""\
FROM {MINBASE_TAG}
RUN {_APT.format("openjdk-17-jre-headless git curl ca-certificates")}
CMD ["java", "-version"]
""",
}


def _hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:32]


def _label(docker: DockerEngine, tag: str) -> str | None:
    proc = docker.run("image", "inspect", "--format", f'{{{{index .Config.Labels "{LABEL}"}}}}', tag, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def _image_id(docker: DockerEngine, tag: str) -> str:
    return docker.run("image", "inspect", "--format", "{{.Id}}", tag).stdout.decode().strip()


def minbase(docker: DockerEngine) -> str:
    """Debian bookworm minbase, debootstrapped on the host (its .debs cached) and imported."""
    want = _hash("minbase", MIRROR, *TRIM)
    if _label(docker, MINBASE_TAG) == want:
        return MINBASE_TAG
    if not shutil.which("debootstrap"):
        unavailable("debootstrap is not installed (needed to make the Debian base image)")
    debs = CACHE / "debootstrap"
    debs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lintimg-debootstrap-") as d:
        root = Path(d) / "rootfs"
        proc = subprocess.run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}", "bookworm", str(root), MIRROR],
                              capture_output=True, text=True, timeout=1200)
        if proc.returncode != 0:
            unavailable(f"debootstrap of bookworm from {MIRROR} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
        for rel in TRIM:
            for child in (root / rel).iterdir() if (root / rel).is_dir() else ():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif child.name != "lock":
                    child.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run([docker.cli, "import", "--change", f"LABEL {LABEL}={want}", "--change", 'CMD ["bash"]', "-", MINBASE_TAG],
                             stdin=tar.stdout, capture_output=True, timeout=900)
        tar.wait()
        if imp.returncode != 0:
            raise AssertionError(f"docker import failed: {imp.stderr.decode(errors='replace')[-500:]}")
    return MINBASE_TAG


def _wheels(dest: Path) -> None:
    """The pinned wheels (pip checks every hash), from the download cache or PyPI."""
    cache = CACHE / "wheels"
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps", "--require-hashes",
                           "-d", str(cache), "-r", str(FIXTURES / "python" / "requirements.txt"), *PY_TARGET],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        unavailable(f"pip download of the clean-image wheels failed: {proc.stderr.strip().splitlines()[-1:]}")
    dest.mkdir()
    for whl in cache.glob("*.whl"):
        os.link(whl, dest / whl.name)


def _tarball_url(name: str, version: str) -> str:
    return f"{NPM_REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def _npm_tarball(name: str, meta: dict) -> bytes:
    """One locked package's tarball, checked against the lockfile's integrity (cached by it)."""
    algo, _, digest = meta["integrity"].partition("-")
    path = CACHE / "npm" / hashlib.sha256(meta["integrity"].encode()).hexdigest()
    if path.exists():
        data = path.read_bytes()
    else:
        url = meta.get("resolved") or _tarball_url(name, meta["version"])
        with urllib.request.urlopen(url, timeout=120) as resp:
            data = resp.read()
    if base64.b64encode(hashlib.new(algo, data).digest()).decode() != digest:
        raise AssertionError(f"{name}@{meta['version']}: tarball does not match the lockfile's integrity")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _node_app(dest: Path) -> None:
    """package.json, the lockfile and node_modules laid out as ``npm ci --ignore-scripts`` lays them out."""
    lock = json.loads((FIXTURES / "node" / "package-lock.json").read_text())
    dest.mkdir()
    shutil.copy(FIXTURES / "node" / "package.json", dest)
    shutil.copy(FIXTURES / "node" / "package-lock.json", dest)
    for key, meta in lock["packages"].items():
        if not key or meta.get("link"):
            continue
        name = key.rsplit("node_modules/", 1)[1]
        target = dest / key
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(_npm_tarball(name, meta)), mode="r:gz") as tgz:
            for m in tgz.getmembers():
                parts = m.name.split("/", 1)  # the tarball's own top folder ("package/") is dropped
                if len(parts) < 2 or not (m.isfile() or m.isdir()) or ".." in parts[1].split("/"):
                    continue
                m.name = parts[1]
                m.mode = 0o755 if m.isdir() or m.mode & 0o111 else 0o644
                tgz.extract(m, target, set_attrs=False)


def _child(docker: DockerEngine, name: str) -> str:
    tag = TAGS[name]
    inputs = [name, DOCKERFILES[name], _image_id(docker, MINBASE_TAG)]
    if name == "python":
        inputs.append((FIXTURES / "python" / "requirements.txt").read_text())
    elif name == "node":
        inputs.append((FIXTURES / "node" / "package-lock.json").read_text())
    want = _hash(*inputs)
    if _label(docker, tag) == want:
        return tag
    with tempfile.TemporaryDirectory(prefix=f"lintimg-clean-{name}-") as d:
        ctx = Path(d)
        (ctx / "Dockerfile").write_text(DOCKERFILES[name])
        if name == "python":
            _wheels(ctx / "wheels")
            shutil.copy(FIXTURES / "python" / "requirements.txt", ctx)
        elif name == "node":
            _node_app(ctx / "app")
        docker.run("build", "--network", "host", "-q", "--label", f"{LABEL}={want}", "-t", tag, str(ctx), timeout=1800)
    return tag


def kept(docker: DockerEngine, tag: str, dockerfile: str, files: dict[str, str]) -> str:
    """An image built on the minbase image from ``dockerfile`` and a context of ``files``, kept by tag
    and rebuilt only when they (or minbase) change."""
    want = _hash(tag, dockerfile, _image_id(docker, minbase(docker)), *(f"{k}\0{v}" for k, v in sorted(files.items())))
    if _label(docker, tag) == want:
        return tag
    with tempfile.TemporaryDirectory(prefix="lintimg-kept-") as d:
        ctx = Path(d)
        (ctx / "Dockerfile").write_text(dockerfile)
        for name, text in files.items():
            (ctx / name).write_text(text)
        docker.run("build", "--network", "host", "-q", "--label", f"{LABEL}={want}", "-t", tag, str(ctx), timeout=1800)
    return tag


def clean_images(docker: DockerEngine) -> dict[str, str]:
    """Every clean image by name (built when missing or stale; the children in parallel)."""
    minbase(docker)
    with ThreadPoolExecutor(3) as pool:
        built = dict(zip(("python", "node", "java"), pool.map(lambda n: _child(docker, n), ("python", "node", "java"))))
    return {"minbase": MINBASE_TAG, **built}


def saved(docker: DockerEngine, tag: str) -> Path:
    """The image's ``docker save`` archive, kept in the cache by image id."""
    iid = _image_id(docker, tag).split(":")[-1][:16]
    path = CACHE / "archives" / f"{tag.replace('/', '_').replace(':', '_')}-{iid}.tar"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{tag.replace('/', '_').replace(':', '_')}-*.tar"):
            old.unlink()
        part = path.with_suffix(".part")
        docker.run("save", "-o", str(part), tag)
        part.replace(path)
    return path


def dockerfile(name: str) -> str:
    """The Dockerfile a child image was built from (for ``lintimg image --dockerfile``)."""
    return DOCKERFILES[name]
