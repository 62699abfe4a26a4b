"""The hostile-input corpus (issue 9): every input the issue lists, built from scratch, each with its expected outcome.

``build(out_dir)`` writes one folder per case under ``out_dir`` and returns the
cases. A case says how to run lintimg on its input (arguments, stdin, stdout,
environment, a loopback registry behaviour, steps to run first) and what the
outcome must be: a one-line error naming the input and exit 2, or a finding or
anomaly, and in every case no planted secret anywhere, within the time and
memory bounds of docs/limits.md. :mod:`tests.hostile.runner` substitutes
``@CASE@`` (the case folder), ``@ROOT@`` (the corpus folder) and ``@REGISTRY@``
(host:port of the case's registry, :mod:`tests.hostile.registry`) in arguments,
environment values and the files named in ``templated``.

Stdlib only (GNU tar makes the two real ``tar --sparse`` layers). Gigabyte inputs
are described in megabytes: repeated gzip members of one compressed chunk.
``python -m tests.hostile.corpus OUT_DIR`` builds the corpus and lists it.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --- planted values: distinctive, detector-shaped, never real -------------------------------

GH_TOKEN = "ghp_" + "Zq7RkT2mXw9LpB4vNc8Hs1Jd6Fg3Ya5Ue0Ki"  # GitHub token shape: ghp_ + 36
URL_PASSWORD = "Hx7-planted-UrlPass-3141"
CURL_PASSWORD = "Hx7-planted-CurlPass-2718"
REF_PASSWORD = "Hx7-planted-RefPass-1618"
REGISTRY_PASSWORD = "Hx7-planted-RegPass-5772"
IDENTITY_TOKEN = "Hx7-planted-RefreshToken-6931"
CRLF_TOKEN = "Hx7plantedBearer4669"
assert len(GH_TOKEN) == 40

TABLE_SECONDS = 2.0  # issue 9, "Done when": each row of the time/memory table
TABLE_RSS_MB = 200.0
PLANTED = (GH_TOKEN, URL_PASSWORD, CURL_PASSWORD, REF_PASSWORD, REGISTRY_PASSWORD, IDENTITY_TOKEN, CRLF_TOKEN,
           base64.b64encode(f"admin:{REGISTRY_PASSWORD}".encode()).decode())


# --- cases ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """The outcome after the fix. Every listed condition must hold."""

    summary: str  # one line, for tables
    exit: tuple[int, ...] = (2,)  # allowed exit codes
    names: str = ""  # an exit-2 error line must contain this (the file or reference)
    stderr: tuple[str | tuple[str, ...], ...] = ()  # each item (or one of a tuple's items) in stderr
    output: tuple[str | tuple[str, ...], ...] = ()  # each item in stdout or the output files
    output_lacks: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()  # rule ids that must be reported
    no_findings: tuple[str, ...] = ("LI002",)  # rule ids that must not be (a rule crash)
    valid: str = ""  # "text" (no control chars, no forged line), "github", "junit", "json"
    no_file: tuple[str, ...] = ()  # case-relative paths that must not exist afterwards (code ran)
    capture_clean: bool = False  # the credential-capture server saw no credential
    tmp_clean: bool = True  # $TMPDIR empty afterwards
    max_seconds: float = 10.0  # measured and reported by the runner; a test enforces Case.timeout
    max_rss_mb: float = 500.0  # peak RSS of lintimg and its helpers


@dataclass
class Case:
    name: str
    group: str  # security | table | hang | crash
    issue: str  # what issue 9 says, shortened
    argv: list[str]  # lintimg's arguments (after the program)
    expect: Expect
    stdin: str = ""  # "" (empty), "file:REL" (a file of the case), "zero:BYTES" (that many NULs)
    stdout: str = "pipe"  # pipe | devfull | closed
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = "."  # relative to the case folder
    registry: str = ""  # a behaviour of hostile_registry.serve(), or ""
    prepare: tuple[str, ...] = ()  # "warm" (one untimed run first), "cache:<how>:<sub>" (mutate $XDG_CACHE_HOME/lintimg/<sub>)
    signal_after: float | None = None  # SIGTERM the run after this many seconds, once its temp folder holds bytes
    secrets: tuple[str, ...] = ()  # planted values that no output, error, log or cache may contain
    outputs: tuple[str, ...] = ()  # case-relative report files the run writes
    templated: tuple[str, ...] = ()  # case-relative files whose @REGISTRY@/@CASE@ get substituted
    # the runner kills the run after this (a hang): a hang never ends, so the cap only has to clear the slowest honest
    # run on a loaded machine (one small case took over 30 s at load 21 with the suite on two workers)
    timeout: float = 120.0
    skip: str = ""  # why the case could not be built here


# --- layers and archives --------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes = b""
    mode: int = 0o644
    type: bytes = tarfile.REGTYPE
    linkname: str = ""


def dir_(name: str, mode: int = 0o755) -> Entry:
    return Entry(name, mode=mode, type=tarfile.DIRTYPE)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, mode=0o777, type=tarfile.SYMTYPE, linkname=target)


_USTAR_TAIL = b"ustar\x0000" + bytes(64) + b"0000000\x00" * 2 + bytes(167)


def _header(e: Entry) -> bytes:
    """A ustar header made directly (300,000 of them through tarfile take a minute); PAX when the name needs it."""
    name, link = e.name.encode("utf-8", "surrogateescape"), e.linkname.encode("utf-8", "surrogateescape")
    size = len(e.data) if e.type == tarfile.REGTYPE else 0
    if len(name) > 99 or len(link) > 99 or not (name + link).isascii():
        ti = tarfile.TarInfo(e.name)
        ti.type, ti.mode, ti.linkname, ti.mtime, ti.size = e.type, e.mode, e.linkname, 0, size
        return ti.tobuf(tarfile.PAX_FORMAT)
    head = (name.ljust(100, b"\0") + b"%07o\0" % e.mode + b"0000000\x00" * 2 + b"%011o\0" % size + b"00000000000\x00"
            + b" " * 8 + e.type + link.ljust(100, b"\0") + _USTAR_TAIL)
    return head[:148] + b"%06o\0 " % sum(head) + head[156:]


def tar_bytes(entries: Iterable[Entry]) -> bytes:
    """A tar of ``entries`` (ustar, PAX for long names), ending in the two zero blocks."""
    out = []
    for e in entries:
        out.append(_header(e))
        if e.type == tarfile.REGTYPE and e.data:
            out.append(e.data + bytes(-len(e.data) % 512))
    out.append(bytes(1024))
    return b"".join(out)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """A layer as stored (``data``) and as it unpacks (``diff_id``)."""

    data: bytes
    diff_id: str


def gzip_layer(entries: Iterable[Entry]) -> Blob:
    t = tar_bytes(entries)
    return Blob(gzip.compress(t, 6, mtime=0), sha256(t))


def gzip_members(parts: Sequence[tuple[bytes, int]], *, digest: bool = True) -> tuple[bytes, str]:
    """A multi-member gzip stream of ``(chunk, times)`` parts (each chunk compressed once, its
    member repeated) and the sha256 of what it unpacks to (``""`` without ``digest``):
    gigabytes described in megabytes."""
    out, h = [], hashlib.sha256()
    for chunk, times in parts:
        member = gzip.compress(chunk, 9, mtime=0)
        out.append(member * times)
        for _ in range(times if digest else 0):
            h.update(chunk)
    return b"".join(out), "sha256:" + h.hexdigest() if digest else ""


def image_config(diff_ids: list[str], *, history: list[Any] | None = None, container: dict[str, Any] | None = None) -> dict[str, Any]:
    hist = history if history is not None else [
        {"created": "2024-01-01T00:00:00Z", "created_by": f"/bin/sh -c #(nop) ADD file:{d[7:19]} in / "} for d in diff_ids
    ]
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": container if container is not None else {"Env": ["PATH=/usr/bin:/bin"], "User": "1000", "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": hist,
    }


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
    tar.addfile(ti, io.BytesIO(data))


def docker_archive(
    path: Path | None,
    layers: Sequence[Blob],
    *,
    config: dict[str, Any] | None = None,
    config_bytes: bytes | None = None,
    manifest_bytes: bytes | None = None,
    layer_names: Sequence[int] | None = None,
    tag: str = "hostile/case:latest",
) -> bytes:
    """A ``docker save`` archive (Docker 25 layout: blobs/sha256/…). ``layer_names`` lists which
    blob each manifest layer names (indexes into ``layers``; default one each)."""
    order = list(layer_names) if layer_names is not None else list(range(len(layers)))
    if config_bytes is None:
        config_bytes = json.dumps(config if config is not None else image_config([layers[i].diff_id for i in order])).encode()
    cfg_name = f"blobs/sha256/{hashlib.sha256(config_bytes).hexdigest()}"
    names = [f"blobs/sha256/{hashlib.sha256(b.data).hexdigest()}" for b in layers]
    if manifest_bytes is None:
        manifest_bytes = json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": [names[i] for i in order]}]).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, blob in dict(zip(names, layers)).items():
            _add_member(tar, name, blob.data)
        _add_member(tar, cfg_name, config_bytes)
        _add_member(tar, "manifest.json", manifest_bytes)
    if path is not None:
        path.write_bytes(buf.getvalue())
    return buf.getvalue()


def registry_image() -> dict[str, bytes]:
    """What the loopback registry serves: ``manifest``, ``config`` and the one ``layer``."""
    layer = gzip_layer([dir_("app"), Entry("app/hello.txt", b"hello\n")])
    config = json.dumps(image_config([layer.diff_id])).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": sha256(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer.data), "digest": sha256(layer.data)}],
    }).encode()
    return {"manifest": manifest, "config": config, "layer": layer.data}


BASE_ROOTFS = [dir_("etc"), Entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"),
               Entry("etc/shadow", b"root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n", mode=0o640),
               Entry("etc/group", b"root:x:0:\napp:x:1000:\n"), dir_("app")]


# --- builders, one per kind of case ---------------------------------------------------------

DOCKERFILE_OK = "FROM alpine:3.19\nUSER 1000\nCMD [\"/bin/true\"]\n"
DOCKERFILE_FINDINGS = "FROM ubuntu:latest\nRUN apt-get update\nRUN apt-get install curl\n"
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


class Corpus:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.cases: list[Case] = []

    def dir(self, name: str) -> Path:
        d = self.out / name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        return d

    def add(self, case: Case) -> None:
        assert not any(c.name == case.name for c in self.cases), case.name
        self.cases.append(case)

    def write(self, case: str, rel: str, data: str | bytes, mtime: float | None = None) -> Path:
        p = self.out / case / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        if mtime is not None:
            os.utime(p, (mtime, mtime))
        return p


# --- security -------------------------------------------------------------------------------

def _secret_format_cases(c: Corpus) -> None:
    add_userinfo = f"FROM alpine:3.19\nADD https://admin:{URL_PASSWORD}@downloads.example.com/app.tgz /app/\n"
    add_query = f"FROM alpine:3.19\nADD https://downloads.example.com/app.tgz?token={GH_TOKEN} /app/\n"
    for tag, text, secret in (("userinfo", add_userinfo, URL_PASSWORD), ("query-token", add_query, GH_TOKEN)):
        base = f"secret-add-{tag}"
        c.dir(base)
        c.write(base, "Dockerfile", text)
        for fmt in FORMATS:
            c.add(Case(
                f"{base}-{fmt}", "security", f"ADD URL with {tag}: LI351 quotes it verbatim ({fmt})",
                ["check", "--no-context", "--format", fmt, f"@ROOT@/{base}/Dockerfile"],
                # the case is about what LI351 prints; whether LI503 also flags an ADD URL is detection's (issue 14)
                Expect(f"LI351 reported, the {tag} secret masked", exit=(1,), findings=("LI351",)),
                secrets=(secret,),
            ))

    # history rules on an image without --dockerfile
    runs = [
        f"/bin/sh -c cd /tmp && echo {GH_TOKEN} > /tmp/t",  # LI360
        f"/bin/sh -c sudo echo {GH_TOKEN}",  # LI361
        f"/bin/sh -c wget -q https://example.com/a && curl -fsSL -H 'Authorization: token {GH_TOKEN}' https://example.com/b",  # LI340
    ]
    _history_archive(c, "secret-history", runs)
    for fmt in FORMATS:
        c.add(Case(
            f"secret-history-{fmt}", "security", f"history rules LI340/LI360/LI361 print created_by with a token ({fmt})",
            ["image", "--format", fmt, "docker-archive:@ROOT@/secret-history/image.tar"],
            Expect("LI340, LI360, LI361 reported, the token masked", exit=(1,), findings=("LI340", "LI360", "LI361")),
            secrets=(GH_TOKEN,),
        ))
    _history_archive(c, "secret-curl-u", [f"/bin/sh -c curl -fsSL -u admin:{CURL_PASSWORD} https://example.com/x -o /x && cd /"])
    for fmt in FORMATS:
        c.add(Case(
            f"secret-curl-u-{fmt}", "security", f"curl -u user:pass in history printed whole ({fmt})",
            ["image", "--format", fmt, "docker-archive:@ROOT@/secret-curl-u/image.tar"],
            Expect("findings reported, the curl -u password masked", exit=(1,), findings=("LI360",)),
            secrets=(CURL_PASSWORD,),
        ))

    c.dir("secret-ref-userinfo")
    c.add(Case(
        "secret-ref-userinfo", "security", "docker://admin:pass@host/x echoes the password in the error",
        ["image", f"docker://admin:{REF_PASSWORD}@127.0.0.1:9/team/app:1"],
        Expect("one-line error about the reference, password masked", names="127.0.0.1:9"),
        secrets=(REF_PASSWORD,),
    ))


def _history_archive(c: Corpus, name: str, runs: list[str]) -> None:
    d = c.dir(name)
    layers = [gzip_layer(BASE_ROOTFS)] + [gzip_layer([Entry(f"app/step{i}.txt", b"x\n")]) for i in range(len(runs))]
    history = [{"created_by": "/bin/sh -c #(nop) ADD file:0123abcd in / "}] + [{"created_by": r} for r in runs]
    docker_archive(d / "image.tar", layers, config=image_config([b.diff_id for b in layers], history=history))


def _forwarding_cases(c: Corpus) -> None:
    basic = base64.b64encode(f"admin:{REGISTRY_PASSWORD}".encode()).decode()
    for name, entry, secrets, issue in (
        ("cred-realm-307-basic", {"auth": basic}, (REGISTRY_PASSWORD, basic), "token realm 307 to another host:port re-sends Basic auth"),
        ("cred-realm-307-refresh", {"identitytoken": IDENTITY_TOKEN}, (IDENTITY_TOKEN,), "token realm 307 re-sends the refresh_token POST body"),
    ):
        c.dir(name)
        c.write(name, "docker/config.json", json.dumps({"auths": {"@REGISTRY@": entry}}))
        c.add(Case(
            name, "security", issue, ["image", "docker://@REGISTRY@/team/app:1"],
            Expect("the capture server on the other host:port gets no credential", exit=(0, 1, 2), names="@REGISTRY@", capture_clean=True),
            env={"DOCKER_CONFIG": "@CASE@/docker"}, registry="realm-307", secrets=secrets, templated=("docker/config.json",),
        ))


def _symlink_parent_cases(c: Corpus) -> None:
    evil_passwd = b"root::0:0:root:/root:/bin/sh\n"
    for name, layers, issue in (
        ("evasion-symlink-parent-2layers",
         [gzip_layer(BASE_ROOTFS), gzip_layer([symlink("x", "/etc"), Entry("x/passwd", evil_passwd)])],
         "x -> /etc then x/passwd with root:: (absolute link, own layer)"),
        ("evasion-symlink-parent-relative",
         [gzip_layer([*BASE_ROOTFS, symlink("app/cfg", "../etc"), Entry("app/cfg/passwd", evil_passwd)])],
         "app/cfg -> ../etc then app/cfg/passwd with root:: (relative link, same layer)"),
    ):
        d = c.dir(name)
        docker_archive(d / "image.tar", layers)
        c.add(Case(
            name, "security", issue, ["image", "--format", "json", "docker-archive:@CASE@/image.tar"],
            Expect("LI802 empty password for root in /etc/passwd", exit=(1,), findings=("LI802",), output=("etc/passwd",)),
        ))


FORGED = "lintimg: FORGED all clear"


def _injection_cases(c: Corpus) -> None:
    d = c.dir("inject-filenames")
    names = [
        "app/\x1b]0;OWNED-TITLE\x07\x1b[2Jesc.sh",  # OSC title + clear screen
        f"app/nl\n{FORGED}\n.sh",  # a forged lintimg line
        "app/gh\n::error file=FORGED::forged annotation\n.sh",  # a forged workflow command
        "app/ctl\x08\x0b\x0c\x7f\x9b31m.sh",  # other C0/C1 controls (invalid in XML 1.0)
    ]
    layer = gzip_layer([*BASE_ROOTFS, *[Entry(n, b"#!/bin/sh\n", mode=0o666) for n in names]])
    docker_archive(d / "image.tar", [layer])
    for fmt, valid in (("text", "text"), ("github", "github"), ("junit", "junit"), ("json", "json"), ("sarif", "json"), ("gitlab", "json")):
        c.add(Case(
            f"inject-filenames-{fmt}", "security", f"ESC/OSC and newlines in layer file names ({fmt})",
            ["image", "--format", fmt, "docker-archive:@ROOT@/inject-filenames/image.tar"],
            Expect(f"LI801 reported; {fmt} output well-formed, no raw control characters, no forged line",
                   exit=(1,), findings=("LI801",), valid=valid),
        ))


def _code_loading_cases(c: Corpus) -> None:
    marker = "import pathlib\npathlib.Path(__file__).resolve().parent.parent.joinpath('PWNED').write_text('code ran')\n"
    for name, cfg, extra, issue, exp in (
        ("config-rules-dirs", "rules-dirs: [rules]\n", {"rules/evil.py": marker},
         "discovered .lintimg.yaml rules-dirs imports Python from the checkout",
         Expect("no code runs; a one-line notice about rules-dirs; the lint goes on", exit=(0, 1), stderr=("rules-dirs",), no_file=("checkout/PWNED",))),
        ("config-plugins-os", "plugins: [os]\n", {}, "discovered plugins: [os] was accepted",
         Expect("not imported; a one-line notice about plugins", exit=(0, 1), stderr=("plugins",))),
        ("config-plugins-this", "plugins: [this]\n", {}, "discovered plugins: imports any installed module (this prints the Zen)",
         Expect("not imported (no Zen on stdout); a notice about plugins", exit=(0, 1), stderr=("plugins",),
                output_lacks=("Beautiful is better than ugly",))),
    ):
        c.dir(name)
        c.write(name, "checkout/.git/HEAD", "ref: refs/heads/main\n")
        c.write(name, "checkout/.lintimg.yaml", cfg)
        c.write(name, "checkout/Dockerfile", DOCKERFILE_OK)
        for rel, text in extra.items():
            c.write(name, f"checkout/{rel}", text)
        c.add(Case(name, "security", issue, ["check", "--no-context", "Dockerfile"], exp, cwd="checkout"))


# --- time and memory (issue 9's table; bounds 2 s and 200 MB) -------------------------------

def _table(summary: str, names: str, **kw: Any) -> Expect:
    return Expect(summary, exit=kw.pop("exit", (1, 2)), names=names, max_seconds=TABLE_SECONDS, max_rss_mb=TABLE_RSS_MB, **kw)


def _table_cases(c: Corpus) -> None:
    for name, times in (("table-heredoc-16000", 16000), ("table-heredoc-43500", 43500)):
        c.dir(name)
        c.write(name, "Dockerfile", "FROM alpine:3.19\nRUN " + "<<EOF " * times + "\n")
        c.add(Case(name, "table", f"`RUN <<EOF ` x {times} ({6 * times // 1000} KB)", ["check", "--no-context", "@CASE@/Dockerfile"],
                   _table("a finding (LI001) or a one-line error naming the file", "Dockerfile")))

    d = c.dir("table-path-100k-components")
    deep = "/".join(["a"] * 100_000)
    docker_archive(d / "image.tar", [gzip_layer([*BASE_ROOTFS, Entry(deep, b"x", mode=0o666)])])
    c.add(Case("table-path-100k-components", "table", "one layer entry with 100,000 path components (10 KB archive)",
               ["image", "docker-archive:@CASE@/image.tar"],
               _table("a one-line error or an anomaly naming the path depth limit", "image.tar")))

    d = c.dir("table-pax-1gib")
    _pax_bomb(d / "image.tar")
    c.add(Case("table-pax-1gib", "table", "PAX header declaring 1 GiB", ["image", "docker-archive:@CASE@/image.tar"],
               _table("a one-line error naming the layer (PAX header over the limit)", "image.tar")))

    d = c.dir("table-gzip-archive-4g")
    _gzip_archive_bomb(d / "image.tar.gz")
    c.add(Case("table-gzip-archive-4g", "table", "4.2 MB gzip docker-archive writes 4.2 GB to $TMPDIR",
               ["image", "docker-archive:@CASE@/image.tar.gz"],
               _table("a one-line error or the image's findings; no temp copy left", "image.tar.gz")))
    c.add(Case("table-gzip-archive-4g-sigterm", "table", "... and left behind on SIGTERM",
               ["image", "docker-archive:@ROOT@/table-gzip-archive-4g/image.tar.gz"],
               Expect("SIGTERM after 1.5 s, while unpacking: exit 143 (or the bomb's error first), $TMPDIR empty", exit=(2, 143),
                      max_seconds=TABLE_SECONDS + 1.5, max_rss_mb=TABLE_RSS_MB),
               signal_after=1.5))
    c.dir("table-stdin-3g")

    c.add(Case("table-stdin-3g", "table", "head -c 3G /dev/zero | lintimg check -",
               ["check", "-", "--stdin-filename", "BIG.Dockerfile"], _table("LI001 (too large) or a one-line error naming it", "BIG.Dockerfile"),
               stdin=f"zero:{3 << 30}"))

    c.dir("table-yaml-anchor-bomb")
    c.write("table-yaml-anchor-bomb", "bomb.yaml", _yaml_bomb())
    c.write("table-yaml-anchor-bomb", "Dockerfile", DOCKERFILE_OK)
    c.add(Case("table-yaml-anchor-bomb", "table", "YAML anchor bomb in allowed-base-images",
               ["check", "--no-context", "--config", "@CASE@/bomb.yaml", "@CASE@/Dockerfile"],
               _table("a one-line error naming the config", "bomb.yaml", exit=(2,))))

    d = c.dir("table-100k-layers")
    layer = gzip_layer([Entry("app/f", b"x\n")])
    n = 100_000
    docker_archive(d / "image.tar", [layer], layer_names=[0] * n,
                   config=image_config([layer.diff_id] * n, history=[]))
    c.add(Case("table-100k-layers", "table", "manifest.json with 100,000 layers reusing one blob", ["image", "docker-archive:@CASE@/image.tar"],
               _table("a one-line error (layer count over the limit)", "image.tar")))

    d = c.dir("table-300k-entries")
    entries = [*BASE_ROOTFS, Entry("app/ww", b"x", mode=0o666)]
    entries += [Entry(f"data/d{i // 1000}/f{i}") for i in range(300_000)]
    docker_archive(d / "image.tar", [gzip_layer(entries)])
    c.add(Case("table-300k-entries", "table", "300,000 entries in one image (not flat)", ["image", "docker-archive:@CASE@/image.tar"],
               _table("the image's findings (LI801) or a one-line limit error", "image.tar"), timeout=600))  # CPU-bound: 120 s was not enough at load 30


def _pax_bomb(path: Path) -> None:
    """A valid layer whose first header is a PAX extended header of exactly 1 GiB (one comment record)."""
    size = 1 << 30
    head = tarfile.TarInfo("././@PaxHeader")
    head.type, head.size, head.mtime = tarfile.XHDTYPE, size, 0
    prefix = f"{size} comment=".encode()
    rnd = random.Random(9)
    period = bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16384))  # deflate finds it again 16 KB back
    chunk = period * 64  # 1 MiB
    n_chunks, rest = divmod(size - len(prefix) - 1, len(chunk))
    tail = tar_bytes([Entry("app/after-pax.txt", b"ok\n")])  # a regular entry, then the end blocks
    # the body is 1 GiB exactly (a multiple of 512): the next header starts right after it
    parts = [(head.tobuf(tarfile.USTAR_FORMAT) + prefix, 1), (chunk, n_chunks), (chunk[:rest] + b"\n" + tail, 1)]
    data, diff_id = gzip_members(parts)
    docker_archive(path, [gzip_layer(BASE_ROOTFS), Blob(data, diff_id)])


def _gzip_archive_bomb(path: Path) -> None:
    """A gzip-compressed docker-archive of ~4.2 MB whose tar is 4.2 GB (a zero-filled member first)."""
    pad = 4_200_000_000 // (64 << 20) * (64 << 20)
    inner = docker_archive(None, [gzip_layer([*BASE_ROOTFS, Entry("app/ww", b"x", mode=0o666)])])
    pad_head = tarfile.TarInfo("padding.bin")
    pad_head.size, pad_head.mtime = pad, 0
    zeros = bytes(64 << 20)
    stream, _ = gzip_members([(pad_head.tobuf(tarfile.USTAR_FORMAT), 1), (zeros, pad // len(zeros)), (inner, 1)], digest=False)
    path.write_bytes(stream)


def _yaml_bomb() -> str:
    text = "&a0 [" + ",".join(["lol"] * 9) + "]"
    for k in range(1, 9):
        text = f"&a{k} [{text}" + f",*a{k - 1}" * 8 + "]"
    return "allowed-base-images: " + text + "\n"


# --- hangs ------------------------------------------------------------------------------------

def _hang(summary: str, names: str, **kw: Any) -> Expect:
    return Expect(summary, exit=kw.pop("exit", (2,)), names=names, max_seconds=kw.pop("max_seconds", 10.0), **kw)


def _hang_cases(c: Corpus) -> None:
    d = c.dir("hang-fifo-dockerfile-in-dir")
    (d / "scan").mkdir()
    os.mkfifo(d / "scan" / "Dockerfile")
    c.write("hang-fifo-dockerfile-in-dir", "scan/api/Dockerfile", DOCKERFILE_OK)
    c.add(Case("hang-fifo-dockerfile-in-dir", "hang", "a FIFO named Dockerfile in a scanned folder", ["check", "--no-context", "@CASE@/scan"],
               _hang("a one-line error naming scan/Dockerfile (not a regular file)", "Dockerfile")))

    d = c.dir("hang-fifo-dockerfile-flag")
    os.mkfifo(d / "Dockerfile")
    docker_archive(d / "image.tar", [gzip_layer(BASE_ROOTFS)])
    c.add(Case("hang-fifo-dockerfile-flag", "hang", "--dockerfile FIFO",
               ["image", "docker-archive:@CASE@/image.tar", "--dockerfile", "@CASE@/Dockerfile"],
               _hang("a one-line error naming the --dockerfile path", "Dockerfile")))

    d = c.dir("hang-fifo-config-env")
    os.mkfifo(d / "config.yaml")
    c.write("hang-fifo-config-env", "Dockerfile", DOCKERFILE_OK)
    c.add(Case("hang-fifo-config-env", "hang", "LINTIMG_CONFIG=FIFO", ["check", "--no-context", "@CASE@/Dockerfile"],
               _hang("a one-line error naming config.yaml", "config.yaml"), env={"LINTIMG_CONFIG": "@CASE@/config.yaml"}))

    d = c.dir("hang-fifo-rules-dir")
    (d / "rules").mkdir()
    os.mkfifo(d / "rules" / "evil.py")
    c.write("hang-fifo-rules-dir", "Dockerfile", DOCKERFILE_OK)
    c.add(Case("hang-fifo-rules-dir", "hang", "a *.py FIFO in --rules-dir", ["check", "--no-context", "--rules-dir", "@CASE@/rules", "@CASE@/Dockerfile"],
               _hang("a one-line error naming rules/evil.py", "evil.py")))

    # the two on-disk caches: the build context's (context/*.json) and the secrets scanner's (secrets/**)
    old = 1_600_000_000.0
    c.dir("cache-context")
    c.write("cache-context", "ctx/Dockerfile", "FROM alpine:3.19\nCOPY . /app\nUSER 1000\n", mtime=old)
    c.write("cache-context", "ctx/app.py", "print('hello')\n" * 20, mtime=old)
    c.write("cache-context", "ctx/.dockerignore", "Dockerfile\n", mtime=old)
    for how, issue in (("fifo", "the context cache file replaced by a FIFO"), ("devzero", "the context cache file replaced by a link to /dev/zero")):
        c.add(Case(f"hang-context-cache-{how}", "hang", issue, ["check", "@ROOT@/cache-context/ctx/Dockerfile"],
                   Expect("the cache is ignored (or a one-line error naming it); the lint goes on", exit=(0, 1, 2), names="lintimg/context",
                          max_seconds=10.0), prepare=("warm", f"cache:{how}:context")))
    d = c.dir("cache-secrets")
    big = ("# filler line for the disk cache of big files\n" * 2000).encode()  # 92 KB: over the 64 KiB disk-cache floor
    docker_archive(d / "image.tar", [gzip_layer([*BASE_ROOTFS, Entry("app/big.txt", big)])])
    for how, issue in (("fifo", "a secrets cache entry replaced by a FIFO"), ("devzero", "a secrets cache entry replaced by a link to /dev/zero")):
        c.add(Case(f"hang-secrets-cache-{how}", "hang", issue, ["image", "docker-archive:@ROOT@/cache-secrets/image.tar"],
                   Expect("the cache entry is ignored; the image is checked", exit=(0, 1), max_seconds=10.0),
                   prepare=("warm", f"cache:{how}:secrets")))

    c.dir("hang-registry-drip")
    # the deadline of a small request is cut to 5 s here (LINTIMG_REQUEST_TIMEOUT; 30 s by default) to keep the test short
    c.add(Case("hang-registry-drip", "hang", "a registry sending 1 byte/s (no overall deadline)", ["image", "docker://@REGISTRY@/team/app:1"],
               Expect("a one-line error naming the registry when the request's deadline passes", names="@REGISTRY@", max_seconds=15.0),
               registry="drip", env={"LINTIMG_REQUEST_TIMEOUT": "5"}))


# --- crashes ----------------------------------------------------------------------------------

def _crash(summary: str, names: str = "", **kw: Any) -> Expect:
    return Expect(summary, exit=kw.pop("exit", (2,)), names=names, **kw)


def _config_shapes(c: Corpus) -> None:
    for name, container, issue in (
        ("crash-config-env-type", {"Env": [5, None, {"A": 1}], "User": "1000"}, "config.Env items that are not strings"),
        ("crash-config-labels-type", {"Labels": ["a=b"], "User": "1000"}, "config.Labels a list"),
        ("crash-config-user-type", {"User": 5}, "config.User a number"),
        ("crash-config-healthcheck-type", {"Healthcheck": "CMD true", "User": "1000"}, "config.Healthcheck a string"),
        ("extra-config-cmd-type", {"Cmd": 5, "User": "1000"}, "(found by the fuzzer, not in issue 9) config.Cmd a number"),
    ):
        d = c.dir(name)
        layer = gzip_layer(BASE_ROOTFS)
        docker_archive(d / "image.tar", [layer], config=image_config([layer.diff_id], container=container))
        c.add(Case(name, "crash", issue, ["image", "docker-archive:@CASE@/image.tar"],
                   _crash("an anomaly or a one-line error naming the image, no rule crash", "image.tar", exit=(0, 1, 2))))
    for name, history, issue in (
        ("crash-history-not-objects", ["RUN x", 5], "history items that are not objects"),
        ("crash-created-by-number", [{"created_by": 5}], "created_by a number"),
        ("crash-created-by-list", [{"created_by": ["/bin/sh", "-c", "cd /"]}], "created_by a list"),
    ):
        d = c.dir(name)
        layer = gzip_layer(BASE_ROOTFS)
        docker_archive(d / "image.tar", [layer], config=image_config([layer.diff_id], history=history))
        c.add(Case(name, "crash", issue, ["image", "docker-archive:@CASE@/image.tar"],
                   _crash("an anomaly or a one-line error naming the image, no rule crash", "image.tar", exit=(0, 1, 2))))


def _crash_cases(c: Corpus) -> None:
    c.dir("crash-continuation")
    c.write("crash-continuation", "scan/a/Dockerfile", "FROM a\n\\\n RUN x\n")
    c.write("crash-continuation", "scan/b/Dockerfile", DOCKERFILE_FINDINGS)
    c.add(Case("crash-continuation", "crash", "printf 'FROM a\\n\\\\\\n RUN x\\n' (AssertionError hides the other files)",
               ["check", "--no-context", "--format", "json", "@CASE@/scan"],
               _crash("the other file's findings are reported; this one parses or gets LI001", exit=(1,), output=("b/Dockerfile", "LI"))))

    c.dir("crash-nested-subst-340")
    c.write("crash-nested-subst-340", "Dockerfile", "FROM alpine:3.19\nRUN echo " + '"$(echo ' * 340 + "x" + ')"' * 340 + "\n")
    c.add(Case("crash-nested-subst-340", "crash", "340 nested \"$( (RecursionError in the shell parser)",
               ["check", "--no-context", "@CASE@/Dockerfile"], _crash("findings, no crash", exit=(0, 1))))

    for name, value in (("crash-max-image-size-inf", "inf"), ("crash-max-image-size-1e400", "1e400")):
        c.dir(name)
        c.write(name, "lintimg.yaml", f"max-image-size: {value}\n")
        c.write(name, "Dockerfile", DOCKERFILE_OK)
        c.add(Case(name, "crash", f"max-image-size: {value}", ["check", "--no-context", "--config", "@CASE@/lintimg.yaml", "@CASE@/Dockerfile"],
                   _crash("a one-line error naming the config and the key", "lintimg.yaml", stderr=("max-image-size",))))

    c.dir("crash-plugins-empty")
    c.write("crash-plugins-empty", "lintimg.yaml", 'plugins: [""]\n')
    c.write("crash-plugins-empty", "Dockerfile", DOCKERFILE_OK)
    c.add(Case("crash-plugins-empty", "crash", 'plugins: [""] (given with --config)',
               ["check", "--no-context", "--config", "@CASE@/lintimg.yaml", "@CASE@/Dockerfile"],
               _crash("a one-line error naming the config and 'plugins'", "lintimg.yaml", stderr=("plugins",))))

    d = c.dir("crash-non-utf8-name")
    bad = os.fsencode(d / "scan") + b"/team-\xff\xfe"
    os.makedirs(bad)
    with open(bad + b"/Dockerfile", "w") as f:
        f.write(DOCKERFILE_FINDINGS)
    c.add(Case("crash-non-utf8-name-sarif", "crash", "a non-UTF-8 file name with --format sarif",
               ["check", "--no-context", "--format", "sarif", "@ROOT@/crash-non-utf8-name/scan"],
               _crash("a SARIF report with the name escaped", exit=(1,), valid="json", findings=("LI",))))
    c.add(Case("crash-non-utf8-name-o", "crash", "a non-UTF-8 file name with -o",
               ["check", "--no-context", "-o", "@CASE@/out.txt", "@ROOT@/crash-non-utf8-name/scan"],
               _crash("the report written to out.txt", exit=(1,), findings=("LI",)), outputs=("out.txt",)))

    c.dir("crash-stdout")
    c.write("crash-stdout", "Dockerfile", DOCKERFILE_FINDINGS)
    for how in ("devfull", "closed"):
        c.add(Case(f"crash-stdout-{how}", "crash", f"stdout on {'/dev/full' if how == 'devfull' else 'a closed descriptor'}",
                   ["check", "--no-context", "@ROOT@/crash-stdout/Dockerfile"],
                   _crash("a one-line error that the report cannot be written", stderr=(("stdout", "standard output", "/dev/full", "report"),)),
                   stdout=how))

    deep = 100_000
    d = c.dir("crash-manifest-nested")
    layer = gzip_layer(BASE_ROOTFS)
    docker_archive(d / "image.tar", [layer], manifest_bytes=b"[" * deep + b"]" * deep)
    c.add(Case("crash-manifest-nested", "crash", "manifest.json nested 100k deep", ["image", "docker-archive:@CASE@/image.tar"],
               _crash("a one-line error naming manifest.json", "manifest.json")))
    d = c.dir("crash-config-nested")
    docker_archive(d / "image.tar", [layer], config_bytes=b'{"a":' * deep + b"1" + b"}" * deep)
    c.add(Case("crash-config-nested", "crash", "image config nested 100k deep", ["image", "docker-archive:@CASE@/image.tar"],
               _crash("a one-line error naming the config", "image.tar")))

    _config_shapes(c)

    for name, behaviour, issue, secrets in (
        ("crash-retry-after-nan", "retry-after-nan", "Retry-After: nan", ()),
        ("crash-retry-after-negative", "retry-after-negative", "Retry-After: -5", ()),
        ("crash-location-port-99999", "location-99999", "a Location with port 99999", ()),
        ("crash-token-crlf", "token-crlf", "a token containing CRLF (the message prints the token)", (CRLF_TOKEN,)),
    ):
        c.dir(name)
        c.add(Case(name, "crash", issue, ["image", "docker://@REGISTRY@/team/app:1"],
                   _crash("a one-line error naming the registry", "@REGISTRY@"), registry=behaviour, secrets=secrets))

    c.dir("crash-auths-auth-number")
    c.write("crash-auths-auth-number", "docker/config.json", json.dumps({"auths": {"127.0.0.1:9": {"auth": 5}}}))
    c.add(Case("crash-auths-auth-number", "crash", "auths.*.auth: 5", ["image", "docker://127.0.0.1:9/team/app:1"],
               _crash("a one-line error naming config.json", "config.json"), env={"DOCKER_CONFIG": "@CASE@/docker"}))

    c.add(Case("crash-context-cache-shape", "crash", "a context-cache entry of the wrong shape",
               ["check", "@ROOT@/cache-context/ctx/Dockerfile"],
               _crash("the entry is ignored; the lint goes on", exit=(0, 1)), prepare=("warm", "cache:wrong-shape:context")))

    _sparse_cases(c)
    _pax_number_case(c)

    d = c.dir("extra-gzip-multimember-layer")
    rnd = random.Random(9)
    period = bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16384))
    raw = tar_bytes([*BASE_ROOTFS, Entry("app/data.bin", period * 768), Entry("app/ww", b"x", mode=0o666)])  # 12 MiB file
    step = 2 << 20
    blob = b"".join(gzip.compress(raw[a : a + step], 9, mtime=0) for a in range(0, len(raw), step))  # valid: `cat a.gz b.gz` style
    docker_archive(d / "image.tar", [Blob(blob, sha256(raw))])
    c.add(Case("extra-gzip-multimember-layer", "crash",
               "(found here, not in issue 9) a valid 160 KB multi-member gzip layer (2 MiB members): the reader duplicates input",
               ["image", "--format", "json", "docker-archive:@CASE@/image.tar"],
               _crash("read like any layer: LI801 on /app/ww", exit=(1,), findings=("LI801",), output=("app/ww",),
                      max_seconds=TABLE_SECONDS, max_rss_mb=TABLE_RSS_MB)))


def _pax_number_case(c: Corpus) -> None:
    d = c.dir("extra-pax-sparse-realsize")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        ti = tarfile.TarInfo("app/x")
        ti.mtime, ti.pax_headers = 0, {"GNU.sparse.realsize": "H", "GNU.sparse.name": "app/x"}
        tar.addfile(ti)
    raw = buf.getvalue()
    docker_archive(d / "image.tar", [gzip_layer(BASE_ROOTFS), Blob(raw, sha256(raw))])
    c.add(Case("extra-pax-sparse-realsize", "crash", "(found by the fuzzer, not in issue 9) a PAX record GNU.sparse.realsize=H",
               ["image", "docker-archive:@CASE@/image.tar"],
               _crash("a one-line 'corrupt layer' error naming the archive, or an anomaly", "image.tar", exit=(1, 2))))


def _sparse_cases(c: Corpus) -> None:
    tar = shutil.which("tar")
    for fmt in ("gnu", "posix"):
        name = f"crash-gnu-tar-sparse-{fmt}"
        d = c.dir(name)
        if not tar or b"GNU tar" not in subprocess.run([tar, "--version"], capture_output=True).stdout:
            c.add(Case(name, "crash", "GNU tar --sparse layer", [], Expect("n/a"), skip="GNU tar not installed"))
            continue
        root = d / "rootfs"
        (root / "app").mkdir(parents=True)
        with open(root / "app" / "sparse.txt", "wb") as f:
            f.write(b"head\n")
            f.seek(1 << 20)  # a 1 MiB hole; .txt and under 2 MiB: the secrets analyzer asks for its bytes
            f.write(b"tail\n")
        os.chmod(root / "app" / "sparse.txt", 0o666)
        subprocess.run([tar, "--sparse", f"--format={fmt}", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0",
                        "-cf", str(d / "layer.tar"), "-C", str(root), "app"], check=True)
        shutil.rmtree(root)
        raw = (d / "layer.tar").read_bytes()
        (d / "layer.tar").unlink()
        docker_archive(d / "image.tar", [gzip_layer(BASE_ROOTFS), Blob(raw, sha256(raw))])
        c.add(Case(name, "crash", f"a real GNU `tar --sparse --format={fmt}` layer rejected as corrupt",
                   ["image", "--format", "json", "docker-archive:@CASE@/image.tar"],
                   _crash("read like any layer: LI801 on /app/sparse.txt", exit=(1,), findings=("LI801",), output=("app/sparse.txt",))))
        # beyond issue 9: /etc/passwd stored sparse (a hole, then root::) is still the runtime's /etc/passwd
        name = f"evasion-sparse-passwd-{fmt}"
        d = c.dir(name)
        root = d / "rootfs"
        (root / "etc").mkdir(parents=True)
        with open(root / "etc" / "passwd", "wb") as f:
            f.seek(64 << 10)  # a 64 KiB hole: GNU tar stores only the line after it
            f.write(b"\nroot::0:0:root:/root:/bin/sh\n")
        subprocess.run([tar, "--sparse", f"--format={fmt}", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0",
                        "-cf", str(d / "layer.tar"), "-C", str(root), "etc/passwd"], check=True)
        shutil.rmtree(root)
        raw = (d / "layer.tar").read_bytes()
        (d / "layer.tar").unlink()
        docker_archive(d / "image.tar", [gzip_layer([e for e in BASE_ROOTFS if e.name != "etc/passwd"]), Blob(raw, sha256(raw))])
        c.add(Case(name, "security", f"(beyond issue 9) /etc/passwd with root:: stored sparse by GNU tar --format={fmt}",
                   ["image", "--format", "json", "docker-archive:@CASE@/image.tar"],
                   Expect("LI802 empty password for root in /etc/passwd", exit=(1,), findings=("LI802",), output=("etc/passwd",))))


# --- entry points ---------------------------------------------------------------------------

BUILDERS: tuple[Callable[[Corpus], None], ...] = (
    _secret_format_cases, _forwarding_cases, _symlink_parent_cases, _injection_cases, _code_loading_cases,
    _table_cases, _hang_cases, _crash_cases,
)


def build(out: Path) -> list[Case]:
    """Build every case under ``out`` (created if needed) and return them."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(out)
    for b in BUILDERS:
        b(corpus)
    return corpus.cases


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.hostile.corpus OUT_DIR", file=sys.stderr)
        return 2
    for case in build(Path(argv[0])):
        print(f"{case.group:9} {case.name:40} {case.expect.summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
