"""LI550–LI553: secrets in image layers, archives in layers, config and history (rules/image_secrets.py)."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from lintimg.config import Config, config_from_dict
from lintimg.engine.target import Target
from lintimg.image.mapping import LayerOrigin
from lintimg.image.model import EntryType, LayerEntry
from lintimg.image.packages import PackagesAnalyzer
from lintimg.image.secrets import analyzer
from lintimg.secrets.scanner import SecretScanner
from tests.imagebuild import layer, make_image
from tests.rulespec import engine

GHP = "ghp_" + "Zx81Kq2Lm9Np3Rt7Vw4Yb6Cd0Ef5Gh1Jk2Lm3N"[:36]
AWS_ID = "AKIA" + "QX7Z2M4K9R3T6W8Y"
NPM = "npm_" + "Tq7Wm2Xk9Lp4Rz8Vb1Nc6Yd3Hf5Gj0Sa2Qe7"
KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEpAIBAAKCAQEA7b" * 5 + "\n-----END RSA PRIVATE KEY-----\n"
ALL = ("LI550", "LI551", "LI552", "LI553")


def _analysed(specs, settings=None, **kw):
    """An image of ``specs`` with the analyzers' results, as the reader would leave them."""
    img = make_image(specs, **kw)
    analyzers = [analyzer(SecretScanner(settings)), PackagesAnalyzer()]
    for i, spec in enumerate(specs):
        for path, data in spec.content.items():
            entry = LayerEntry(path, EntryType.FILE, len(data), 0o644, 0, 0)
            for a in analyzers:
                if a.wants(entry):
                    img.analysis.setdefault(a.name, []).extend(a.analyse(i, entry, data))
    return img


def _run(img, rules=ALL, settings=None, base_layers=0, dockerfile=None):
    config = config_from_dict({"secrets": settings}) if settings else Config()
    eng = engine({"secrets": settings} if settings else None)
    layer_map = {i: LayerOrigin(i, i, la.created_by, None, base=i < base_layers) for i, la in enumerate(img.layers)}
    t = Target(path="image", config=config, image=img, dockerfile=dockerfile, layer_map=layer_map)
    return [f for f in eng.run(t) if f.rule_id in rules]


def _no_values(findings, *values):
    for f in findings:
        text = json.dumps([f.message, f.properties, f.key, f.image.__dict__ if f.image else None])
        for v in values:
            assert v not in text, f.message


def test_li550_deleted_overwritten_trail_and_config_places():
    specs = [
        layer("ADD file:base in /", content={"etc/os-release": b"ID=debian\n"}),
        layer("COPY id_rsa /root/.ssh/id_rsa", content={"root/.ssh/id_rsa": KEY.encode()}),
        layer("RUN rm /root/.ssh/id_rsa", delete=["root/.ssh/id_rsa"]),
        layer("COPY creds /app/creds", content={"app/creds": f"aws_access_key_id = {AWS_ID}\n".encode()}),
        layer("RUN chmod 600 /app/creds", content={"app/creds": f"aws_access_key_id = {AWS_ID}\n".encode()}),
        layer("RUN echo x > /app/creds", content={"app/creds": b"nothing secret here at all\n"}),
    ]
    img = _analysed(specs, config={"Env": [f"API_TOKEN={GHP}", "PATH=/usr/bin"], "Labels": {"com.acme.deploy-token": GHP}},
                    empty_history=[(6, f"|1 NPM_TOKEN={GHP} /bin/sh -c npm ci"), (6, f"|1 NPM_TOKEN={GHP} /bin/sh -c npm test")])
    got = _run(img, ("LI550",))
    by_path = {f.image.path: f for f in got if f.image and f.image.path}
    key = by_path["/root/.ssh/id_rsa"]
    assert key.image.layer_index == 1 and "deleted in layer 2, still extractable from layer 1" in key.message
    creds = by_path["/app/creds"]  # one finding for the file, although layers 3 and 4 both hold the key
    assert creds.image.layer_index == 3 and "also in layers 4" in creds.message and "overwritten in layer 4" in creds.message
    assert len([f for f in got if f.image and f.image.path == "/app/creds"]) == 1
    assert any("ENV API_TOKEN of the image config" in f.message for f in got)
    assert any("LABEL com.acme.deploy-token" in f.message for f in got)
    args = [f for f in got if "build argument NPM_TOKEN" in f.message]
    assert len(args) == 1 and "entries 6, 7" in args[0].message
    _no_values(got, GHP, AWS_ID, "MIIEpAIB")
    assert all(f.key and len(f.key) == 64 for f in got)


def test_clean_image_and_checksums_in_layers():
    sha = hashlib.sha256(b"x").hexdigest()
    specs = [layer("ADD file:base in /", content={
        "etc/os-release": b'NAME="Debian"\nID=debian\n', "etc/nsswitch.conf": b"passwd: files\ngroup: files\n",
        "usr/local/bin/install.sh": f'NODE_SHA256="{sha}"\necho "{sha}  node.tgz" | sha256sum -c -\n'.encode(),
        "app/package-lock.json": json.dumps({"packages": {"node_modules/a": {"integrity": "sha512-" + "Qk" * 43 + "=="}}}).encode(),
        "dl/node.tar.gz.sha256": f"{sha}  node.tar.gz\n".encode()})]
    assert _run(_analysed(specs, config={"Env": ["PATH=/usr/bin", f"NODE_SHA256={sha}"]})) == []


def _dpkg(package: str, files: dict[str, bytes]) -> dict[str, bytes]:
    md5sums = "".join(f"{hashlib.md5(data).hexdigest()}  {path}\n" for path, data in files.items())
    return {f"var/lib/dpkg/info/{package}.md5sums": md5sums.encode()}


def test_files_a_package_installed_unchanged_are_li553_and_changed_ones_li550():
    sample = f"EXAMPLE_TOKEN = '{GHP}'\n".encode()
    pip_file = f"TOKEN = '{GHP}'\n".encode()
    digest = __import__("base64").urlsafe_b64encode(hashlib.sha256(pip_file).digest()).decode().rstrip("=")
    specs = [
        layer("ADD file:base in /", content={"usr/share/perl5/Net/Util.pm": sample, **_dpkg("libnet-perl", {"usr/share/perl5/Net/Util.pm": sample})}),
        layer("RUN pip install x", content={
            "usr/lib/python3/site-packages/x/conf.py": pip_file,
            "usr/lib/python3/site-packages/x-1.0.dist-info/RECORD": f"x/conf.py,sha256={digest},{len(pip_file)}\n".encode()}),
        layer("COPY node_modules /app/node_modules", content={
            "app/node_modules/debug/.coveralls.yml": f"repo_token: {GHP}\n".encode(),
            "app/node_modules/.package-lock.json": json.dumps({"packages": {"node_modules/debug": {"version": "2.6.9"}}}).encode()}),
        # an edit that adds a value of the user's: that one is the user's; the package's stays the package's
        layer("RUN echo >> /usr/lib/python3/site-packages/x/conf.py", content={"usr/lib/python3/site-packages/x/conf.py": pip_file + f"AWS = '{AWS_ID}'\n".encode()}),
    ]
    got = _run(_analysed(specs))
    li553 = {f.image.path: f.message for f in got if f.rule_id == "LI553"}
    assert "dpkg package libnet-perl (unchanged)" in li553["/usr/share/perl5/Net/Util.pm"]
    assert "npm package debug@2.6.9 (attributed by folder, not verified per file)" in li553["/app/node_modules/debug/.coveralls.yml"]
    assert "pip package x (unchanged)" in li553["/usr/lib/python3/site-packages/x/conf.py"]  # the version pip installed
    assert "also in layers 3" in li553["/usr/lib/python3/site-packages/x/conf.py"]
    mine = [f for f in got if f.rule_id == "LI550"]
    assert [(f.image.path, f.image.layer_index, "AWS access key id" in f.message) for f in mine] == [("/usr/lib/python3/site-packages/x/conf.py", 3, True)]
    assert all(f.severity.name == "STYLE" for f in got if f.rule_id == "LI553")
    _no_values(got, GHP, AWS_ID)


def test_apk_database_attributes_alpine_files():
    data = f"password = '{GHP}'\n".encode()
    sha1 = __import__("base64").b64encode(hashlib.sha1(data).digest()).decode()
    db = f"P:busybox\nV:1.36\nF:etc\nR:app.conf\nZ:Q1{sha1}\n\n".encode()
    got = _run(_analysed([layer("ADD file:alpine in /", content={"etc/app.conf": data, "lib/apk/db/installed": db})]))
    assert [(f.rule_id, "apk package busybox (unchanged)" in f.message) for f in got] == [("LI553", True)]


def _sqlite(*statements: str) -> bytes:
    import sqlite3

    db = sqlite3.connect(":memory:")
    for sql in statements:
        db.execute(sql)
    db.commit()
    return db.serialize()


@pytest.mark.parametrize("data", [
    b"",
    b"SQLite format 3\0" + b"\xff" * 600,  # a header, then garbage
    _sqlite("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
            "INSERT INTO Packages VALUES (1, x'0000000500000100')",  # 5 index entries promised, none there
            "INSERT INTO Packages VALUES (2, x'7fffffff7fffffff')"),
    # a view that would never end: cut off by the step budget
    _sqlite("CREATE VIEW Packages AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT zeroblob(8) AS blob FROM n"),
], ids=["empty", "garbage", "truncated-headers", "endless-view"])
def test_a_damaged_or_hostile_rpm_database_attributes_nothing(data):
    """(The real database, written by rpm itself, is read in tests/test_image_secrets_real.py.)"""
    from lintimg.image.packages import parse

    assert parse("var/lib/rpm/rpmdb.sqlite", data) == []


@pytest.mark.parametrize("path", [
    "lib/apk/db/installed", "var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/dpkg/info/bash.md5sums",
    "var/lib/dpkg/info/libc6:amd64.md5sums", "var/lib/dpkg/status", "var/lib/dpkg/status.d/base", "var/lib/dpkg/status.d/base.md5sums",
    "usr/lib/python3/site-packages/x-1.0.dist-info/RECORD", "package-lock.json", "app/node_modules/.package-lock.json",
    # a pattern's "$" matches before a final newline: such a name is a database too
    "var/lib/dpkg/status\n", "var/lib/dpkg/info/bash.md5sums\n", "x/y-1.dist-info/RECORD\n", "app/package-lock.json\n",
])
def test_every_package_database_path_passes_the_endings_test(path):
    """The reader asks the packages analyzer about every file of a layer; a test of the path's ending rules
    out the others before any pattern runs, and must let every database through."""
    from lintimg.image.packages import is_database

    assert is_database(path)
    assert not any(map(is_database, ["data/d1/f1", "var/lib/dpkg/statusx", "lib/apk/db/installed.bak", "app/package-lock.json.orig"]))


@pytest.mark.parametrize("policy, rule", [(None, "LI552"), ("report", "LI552"), ("error", "LI550"), ("ignore", None)])
def test_base_layers_follow_the_base_layers_policy(policy, rule):
    specs = [layer("ADD file:base in /", content={"root/.netrc": f"machine git.acme.io login ci password {GHP}\n".encode()}),
             layer("COPY app /app", content={"app/main.py": b"print('hi')\n"})]
    settings = {"base-layers": policy} if policy else None
    got = _run(_analysed(specs, settings), settings=settings, base_layers=1)
    assert [f.rule_id for f in got] == ([rule] if rule else [])
    if rule:
        assert "base image layer" in got[0].message


def test_archives_in_layers_name_the_member_and_the_layer_file():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        data = f"STRIPE_KEY=sk_live_{'4eC39HqLyjWDarjtT1zdp7dc'}\n".encode()
        info = tarfile.TarInfo("config/.env")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    got = _run(_analysed([layer("COPY bundle.tgz /opt/", content={"opt/bundle.tgz": buf.getvalue()})]), ("LI550",))
    assert len(got) == 1 and "/opt/bundle.tgz!/config/.env" in got[0].message and got[0].image.path == "/opt/bundle.tgz"


def test_li551_config_and_history_names():
    img = make_image([layer("ADD file:base in /")], config={"Env": ["DB_PASSWORD=hunter2", "PATH=/bin", "GPG_KEY=ABCD"]},
                     empty_history=[(1, "/bin/sh -c #(nop)  ENV API_TOKEN=abc")])
    got = _run(img, ("LI551",))
    assert sorted(f.key for f in got) == ["API_TOKEN", "DB_PASSWORD"]
    img2 = make_image([layer("ADD file:base in /")], config={"Env": ["DB_PASSWORD=", "PATH=/bin"]})
    assert _run(img2, ("LI551",)) == []


@pytest.mark.engine
def test_li550_on_a_real_image_in_every_format(docker, tmp_path):
    import json as _json

    from tests.clirun import lintimg

    base = docker.base_image()
    key_body = "MIIEowIBAAKCAQEAzR8" + "q7Xw2Lp9Kd4Mn6Bv3Cx1Zs" * 3
    (tmp_path / "id_rsa").write_text(f"-----BEGIN RSA PRIVATE KEY-----\n{key_body}\n-----END RSA PRIVATE KEY-----\n")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base}\n"
        "COPY id_rsa /root/.ssh/id_rsa\n"
        "RUN rm /root/.ssh/id_rsa\n"
        f"ENV API_TOKEN={GHP}\n"
        "ARG NPM_TOKEN\n"
        "RUN echo built > /built\n"
    )
    tag = "lintimg-test/secrets:1"
    docker.build(tmp_path, tag, None, "--build-arg", f"NPM_TOKEN={NPM}")
    archive = tmp_path / "img.tar"
    docker.run("save", "-o", str(archive), tag)
    outputs = {fmt: lintimg("image", f"docker-archive:{archive}", "--format", fmt) for fmt in ("text", "json", "sarif")}
    for fmt, proc in outputs.items():
        assert proc.returncode == 1, (fmt, proc.stderr)
        for secret in (GHP, key_body[:24], NPM):
            assert secret not in proc.stdout, f"{fmt} output prints a secret whole"
    findings = [f for f in _json.loads(outputs["json"].stdout)["findings"] if f["rule"] == "LI550"]
    key = next(f for f in findings if (f.get("image") or {}).get("path") == "/root/.ssh/id_rsa")
    assert "private key" in key["message"] and "deleted in layer" in key["message"]
    assert key["image"]["layer_digest"].startswith("sha256:")
    assert any("GitHub token in ENV API_TOKEN" in f["message"] for f in findings)
    assert any("build argument NPM_TOKEN" in f["message"] for f in findings), [f["message"] for f in findings]
    # with the Dockerfile, the layer's finding points at the COPY that made it
    mapped = lintimg("image", f"docker-archive:{archive}", "--dockerfile", str(tmp_path / "Dockerfile"), "--format", "json")
    key = next(f for f in _json.loads(mapped.stdout)["findings"] if f["rule"] == "LI550" and (f.get("image") or {}).get("path") == "/root/.ssh/id_rsa")
    assert key["line"] == 2 and key["file"].endswith("Dockerfile")
