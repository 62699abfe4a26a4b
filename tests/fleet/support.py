"""A small real fleet for the fleet tests: images built by the engine and pushed to a loopback registry.

Three bases (the busybox base itself, one that adds a user, one that wastes
space), four apps on each, every app with layers of its own. Plus: two tags on one image, an
older build under another tag, and a repository ``fleet/broken`` whose tag
``s390x`` no image of this platform answers (an index listing only
linux/s390x) and whose tag ``amd64`` is app02's manifest again.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.clirun import REPO

NS = "fleet"
GHP = "ghp_" + "Rq83Lm2Xz7Kp4Nt9Vw1Yb5Cd6Ef0Gh3Jk8Lm"[:36]
AWS_ID = "AKIA" + "ZT4M8K2R9Q3W7X6Y"
KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEogIBAAKCAQEAx9" + "Lq2Wz7Rt4Mn8Kp3Vb6Yc1" * 3 + "\n-----END RSA PRIVATE KEY-----\n"

BASES = {
    "base-app": "FROM {busybox}\nRUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && echo app:x:1000: >> /etc/group && mkdir -p /home/app\n"
                "USER app\n",
    "base-wasteful": "FROM {busybox}\nCOPY blob.bin /opt/blob.bin\nRUN rm /opt/blob.bin\nCOPY motd /etc/motd\n",
}
VARIANTS = {
    "plain": "COPY own.txt /app/own.txt\nCMD [\"/bin/sh\"]\n",
    "creds": "COPY creds /app/creds\nCOPY own.txt /app/own.txt\n",
    "env": f"COPY own.txt /app/own.txt\nENV API_TOKEN={GHP}\n",
    "overwrite": "COPY id_rsa /app/key\nCOPY own.txt /app/key\n",
}


@dataclass
class Fleet:
    host: str  # 127.0.0.1:PORT
    images: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> manifest digest, for every tag that resolves
    broken: str = ""  # "repo:tag" that has no image for this platform

    @property
    def target(self) -> str:
        return f"{self.host}/{NS}"

    @property
    def digests(self) -> set[str]:
        return set(self.images.values())


def _context(root: Path, name: str, dockerfile: str, files: dict[str, bytes]) -> Path:
    ctx = root / name
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for rel, data in files.items():
        (ctx / rel).write_bytes(data)
    return ctx


def _manifest_digest(host: str, repo: str, tag: str) -> str:
    req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}",
                                 headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return "sha256:" + hashlib.sha256(r.read()).hexdigest()


def build_fleet(docker, host: str, work: Path) -> Fleet:
    """Build every image, push it to ``host`` under ``fleet/``, and drop the pushed tags from the engine.

    Builds and pushes of one round run in parallel: the engine does the work, and waiting on one at a time
    would make this fixture the slowest part of the fleet tests.
    """
    from concurrent.futures import ThreadPoolExecutor

    busybox = docker.base_image()
    fleet = Fleet(host)
    shared = {"creds": f"aws_access_key_id = {AWS_ID}\nregion = eu-west-1\n".encode(), "id_rsa": KEY.encode(),
              "blob.bin": hashlib.sha256(b"fleet").digest() * 65536, "motd": b"welcome\n"}
    local: dict[str, str] = {"busybox:1": busybox}
    with ThreadPoolExecutor(4) as pool:
        def build(item: tuple[str, str, dict[str, bytes]]) -> tuple[str, str]:
            ref, dockerfile, files = item
            ctx = _context(work, ref.replace(":", "-"), dockerfile, files)
            # app01's two builds are made anew each time: --latest needs the old one older (the build cache keeps creation times)
            fresh = ("--no-cache",) if ref.startswith("app01:") else ()
            return ref, docker.build(ctx, f"lintimg-test/fleet-{ref.replace(':', '-')}:1", None, *fresh)

        # with the bases: an older build of app01 under another tag (made before every app; a second tag on app01:1 below)
        first = [(f"{name}:1", text.format(busybox=busybox), shared) for name, text in BASES.items()]
        first.append(("app01:old", f"FROM {busybox}\nCOPY own.txt /app/own.txt\n", {"own.txt": b"app 1, an older build\n"}))
        local.update(pool.map(build, first))
        apps = []
        for b, base in enumerate(("busybox:1", "base-app:1", "base-wasteful:1")):
            for v, (variant, text) in enumerate(VARIANTS.items()):
                n = b * len(VARIANTS) + v + 1
                files = {**shared, "own.txt": f"app {n} on {base} ({variant})\n".encode()}
                apps.append((f"app{n:02d}:1", f"FROM {local[base]}\n{text}", files))
        local.update(pool.map(build, apps))
        local["app01:latest"] = local["app01:1"]

        def push(item: tuple[str, str]) -> tuple[str, str]:
            ref, image = item
            repo, tag = ref.split(":")
            remote = f"{host}/{NS}/{repo}:{tag}"
            docker.run("tag", image, remote)
            for attempt in range(3):  # the registry can lose a race between two uploads of one blob ("digest invalid"): push again
                done = docker.run("push", remote, check=attempt == 2)
                if done.returncode == 0:
                    break
            docker.run("rmi", remote)  # only the tag: the image stays under its lintimg-test/ name
            return f"{NS}/{repo}:{tag}", _manifest_digest(host, f"{NS}/{repo}", tag)

        # the bases first, one by one, so the apps find their layers there; a second tag after its first
        order = sorted(local.items(), key=lambda kv: (kv[0] not in ("busybox:1", *(f"{b}:1" for b in BASES)), kv[0] == "app01:latest", kv[0]))
        for item in order[:1 + len(BASES)]:
            fleet.images.update([push(item)])
        fleet.images.update(pool.map(push, order[1 + len(BASES):-1]))
        fleet.images.update([push(order[-1])])
    fleet.broken = f"{NS}/broken:s390x"
    _push_foreign_index(host, f"{NS}/app02", fleet.broken)
    return fleet


def _push_foreign_index(host: str, source_repo: str, target: str) -> None:
    """An index under ``target`` that lists one real manifest, labelled linux/s390x: no image for this platform."""
    req = urllib.request.Request(f"http://{host}/v2/{source_repo}/manifests/1",
                                 headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body, mtype = r.read(), r.headers["Content-Type"]
    repo, tag = target.split(":")
    # the manifest must exist in the target repository too: mount its blobs, then put it there
    manifest = json.loads(body)
    for desc in [manifest["config"], *manifest["layers"]]:
        mount = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/?mount={desc['digest']}&from={source_repo}", method="POST", data=b"")
        urllib.request.urlopen(mount, timeout=30).close()
    put = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/amd64", data=body, method="PUT", headers={"Content-Type": mtype})
    urllib.request.urlopen(put, timeout=30).close()
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": mtype, "digest": "sha256:" + hashlib.sha256(body).hexdigest(), "size": len(body),
         "platform": {"os": "linux", "architecture": "s390x"}}]}
    put = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", data=json.dumps(index).encode(), method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    urllib.request.urlopen(put, timeout=30).close()


def fleet_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``lintimg fleet ARGS`` in a subprocess (the pool's workers are spawned processes)."""
    base = {k: v for k, v in os.environ.items() if k not in ("LINTIMG_CONFIG", "NO_COLOR")}
    proc = subprocess.run([sys.executable, "-m", "lintimg", "fleet", *args], cwd=REPO, capture_output=True, timeout=timeout,
                          env={**base, "PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def results(out: Path) -> dict[str, dict[str, str]]:
    """Per image digest: the text of its JSON and SARIF reports."""
    got: dict[str, dict[str, str]] = {}
    for p in sorted((out / "images").glob("*.fleet.json")):
        stem = p.name[: -len(".fleet.json")]
        digest = stem.replace("-", ":", 1)
        got[digest] = {"json": (out / "images" / f"{stem}.json").read_text(), "sarif": (out / "images" / f"{stem}.sarif").read_text()}
    return got


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())
