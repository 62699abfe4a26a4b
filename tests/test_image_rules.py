"""Image rules (LI6xx size, LI750+ config, LI8xx file system) on images built in Python."""
from __future__ import annotations

from typing import Any

from lintimg.dockerfile import parse_dockerfile
from lintimg.findings import Finding
from lintimg.imagecheck import check_image, rebuild_dockerfile
from lintimg.imagestats import waste
from tests import rulespec
from tests.imagebuild import layer, make_image

MB = 1_000_000
BASE = layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={"bin/busybox": 900_000, "etc/passwd": 60})


def lint_image(img, dockerfile: str | None = None, config: dict[str, Any] | None = None) -> list[Finding]:
    df = parse_dockerfile(dockerfile, "Dockerfile") if dockerfile else None
    return check_image(rulespec.engine(config), img, df).findings


def catches(rule: str, img, dockerfile: str | None = None, *, config=None, line: int | None = None, count: int | None = None, message: str | None = None) -> list[Finding]:
    found = lint_image(img, dockerfile, config)
    got = [f for f in found if rule in (f.rule_id, f.slug)]
    assert got, f"{rule} did not fire; findings: {[(f.rule_id, f.message) for f in found]}"
    assert not [f for f in found if f.rule_id == "LI002"], [f.message for f in found if f.rule_id == "LI002"]
    if line is not None:
        assert any(f.location.line == line for f in got), [(f.location.line, f.message) for f in got]
    if count is not None:
        assert len(got) == count, [f.message for f in got]
    if message is not None:
        assert any(message in f.message for f in got), [f.message for f in got]
    return got


def passes(rule: str, img, dockerfile: str | None = None, *, config=None) -> None:
    found = lint_image(img, dockerfile, config)
    got = [f for f in found if rule in (f.rule_id, f.slug)]
    assert not got, [f.message for f in got]
    assert not [f for f in found if f.rule_id == "LI002"], [f.message for f in found if f.rule_id == "LI002"]


# --- waste -------------------------------------------------------------------

BIGFILE_DF = "FROM busybox\nCOPY BigFile /BigFile\nRUN rm /BigFile\nCOPY app /app\n"


def _bigfile(size: int = 50 * MB):
    return make_image([
        BASE,
        layer("/bin/sh -c #(nop) COPY file:big in /BigFile ", files={"BigFile": size}),
        layer("/bin/sh -c rm /BigFile", delete=["BigFile"]),
        layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": 2 * MB}),
    ])


def test_waste_counts_removable_bytes_only() -> None:
    img = make_image([
        BASE,
        layer("/bin/sh -c big", files={"big": 10 * MB, "keep": 3 * MB}),
        layer("/bin/sh -c rewrite", files={"keep": 3 * MB}),  # overwrite: the old 3 MB is waste, the new is not
        layer("/bin/sh -c rm -rf /big", delete=["big"]),
    ])
    w = waste(img)
    assert w.wasted_bytes == 13 * MB
    assert {(f.path, f.added_layer, f.removed_layer, f.overwritten) for f in w.files} == {("big", 1, 3, False), ("keep", 1, 2, True)}
    total = 900_060 + 13 * MB + 3 * MB
    assert w.total_bytes == total
    assert abs(w.efficiency - (total - 13 * MB) / total) < 1e-12


def test_files_under_a_deleted_directory_are_waste() -> None:
    img = make_image([BASE, layer("/bin/sh -c build", files={"src/a.o": 2 * MB, "src/b.o": 1 * MB}), layer("/bin/sh -c rm -rf /src", delete=["src"])])
    assert {(f.path, f.removed_layer) for f in waste(img).files} == {("src/a.o", 2), ("src/b.o", 2)}


def test_bigfile_names_both_layers_and_both_lines() -> None:
    (f,) = catches("LI600", _bigfile(), BIGFILE_DF, line=2)
    assert "line 2" in f.message and "line 3" in f.message and "/BigFile (50.0 MB)" in f.message
    assert f.properties["wasted_bytes"] == 50 * MB
    assert (f.properties["added_layer"], f.properties["removed_layer"]) == (1, 2)
    assert f.image.path == "/BigFile" and f.image.layer_index == 1


def test_bigfile_without_dockerfile_points_at_the_synthetic_path() -> None:
    (f,) = catches("LI600", _bigfile())
    assert f.location.path == "app/BigFile" and "layer 1" in f.message and "layer 2" in f.message


def test_small_churn_is_not_listed() -> None:
    img = make_image([BASE, layer("/bin/sh -c apt-get install", files={"var/lib/dpkg/status": 200_000}),
                      layer("/bin/sh -c apt-get install y", files={"var/lib/dpkg/status": 210_000})])
    passes("LI600", img)


def test_efficiency_policy() -> None:
    img = _bigfile()
    catches("LI601", img, BIGFILE_DF, message="min-efficiency")
    catches("LI601", img, BIGFILE_DF, message="max-wasted-percent")
    catches("LI601", img, BIGFILE_DF, config={"max-wasted-bytes": "10MB"}, message="max-wasted-bytes")
    passes("LI601", img, BIGFILE_DF, config={"min-efficiency": 0.0, "max-wasted-percent": 1.0})
    passes("LI601", make_image([BASE, layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": 2 * MB})]))


def test_user_waste_percent_leaves_the_base_out() -> None:
    # 20 MB of waste inside the base image, 1 MB of clean own bytes: not the user's waste
    img = make_image([BASE, layer("/bin/sh -c #(nop) ADD file:x in /opt ", files={"opt/big": 20 * MB}),
                      layer("/bin/sh -c rm /opt/big", delete=["opt/big"]), layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": MB})])
    df = "FROM base\nCOPY app /app\n"
    passes("LI601", img, df, config={"min-efficiency": 0.0})
    catches("LI601", img, config={"min-efficiency": 0.0}, message="max-wasted-percent")


# --- caches ------------------------------------------------------------------


def test_package_caches_are_measured_per_layer() -> None:
    img = make_image([BASE, layer("/bin/sh -c apt-get update && apt-get install -y curl", files={
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4": 9 * MB,
        "var/lib/apt/lists/lock": 0, "var/cache/apt/pkgcache.bin": 30 * MB, "usr/bin/curl": 300_000}),
        layer("/bin/sh -c pip install flask", files={"root/.cache/pip/http/a/b": 2 * MB, "usr/lib/python3/flask/__init__.py": 2000})])
    got = catches("LI602", img, count=3)
    msgs = " | ".join(f.message for f in got)
    assert "9.0 MB of apt package lists" in msgs and "30.0 MB of apt package archives" in msgs and "2.0 MB of pip cache" in msgs


def test_clean_layers_and_base_caches_pass() -> None:
    base_with_lists = make_image([layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={"var/lib/apt/lists/x_Packages": 5 * MB}),
                                  layer("/bin/sh -c apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*", files={"usr/bin/curl": 300_000})])
    passes("LI602", base_with_lists, "FROM debian\nRUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n")
    catches("LI602", base_with_lists)  # without the Dockerfile, the base cannot be told apart


# --- toolchains ----------------------------------------------------------------

KUARD_DF = 'FROM golang-node\nWORKDIR /src\nCOPY . .\nRUN node web/build.js && go build -o /usr/local/bin/kuard .\nENTRYPOINT ["/usr/local/bin/kuard"]\n'


def _single_stage():
    return make_image([
        layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={
            "usr/lib/go-1.19/bin/go": 15 * MB, "usr/lib/go-1.19/pkg/tool/linux_amd64/compile": 20 * MB,
            "usr/share/go-1.19/src/net/http/server.go": 100_000, "usr/bin/node": 80_000,
            "usr/lib/x86_64-linux-gnu/libnode.so.108": 70 * MB, "bin/sh": 100_000}),
        layer("/bin/sh -c #(nop) WORKDIR /src", dirs={"src": 0o755}),
        layer("/bin/sh -c #(nop) COPY dir:abc in . ", files={"src/main.go": 2000}),
        layer("/bin/sh -c node web/build.js && go build -o /usr/local/bin/kuard .", files={"usr/local/bin/kuard": 8 * MB}),
    ], config={"Entrypoint": ["/usr/local/bin/kuard"]}, empty_history=[(4, '/bin/sh -c #(nop)  ENTRYPOINT ["/usr/local/bin/kuard"]')])


def test_single_stage_ships_go_and_node_toolchains() -> None:
    got = catches("LI603", _single_stage(), KUARD_DF, count=2, line=1)
    go = next(f for f in got if "Go toolchain" in f.message)
    assert "/usr/lib/go-1.19, /usr/share/go-1.19" in go.message and "35.1 MB" in go.message
    assert "golang" in go.fix
    node = next(f for f in got if "Node.js" in f.message)
    assert node.properties["bytes"] == 70 * MB + 80_000 and "`node` stage" in node.fix


def test_node_that_the_image_runs_is_not_a_toolchain() -> None:
    img = make_image([layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={"usr/local/bin/node": 80 * MB}),
                      layer("/bin/sh -c #(nop) COPY file:s in /srv/server.js ", files={"srv/server.js": 100})],
                     config={"Cmd": ["node", "/srv/server.js"]})
    passes("LI603", img)


def test_runtime_image_with_only_the_binary_passes() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) COPY file:k in /kuard ", files={"kuard": 8 * MB})], config={"Entrypoint": ["/kuard"]})
    passes("LI603", img)


def test_js_build_tools_and_compilers() -> None:
    img = make_image([BASE, layer("/bin/sh -c npm install", files={
        "app/node_modules/typescript/package.json": 100, "app/node_modules/typescript/lib/tsc.js": 9 * MB,
        "usr/lib/gcc/x86_64-linux-gnu/12/cc1": 30 * MB})])
    got = catches("LI603", img, count=2)
    assert any("JavaScript build tools" in f.message and "--omit=dev" in f.fix for f in got)
    assert any("C compiler" in f.message for f in got)


# --- size policy ---------------------------------------------------------------


def test_image_and_layer_size_limits() -> None:
    img = _single_stage()
    (f,) = catches("LI604", img, KUARD_DF, config={"max-image-size": "100MB"})
    assert "113.3 MB" in f.message and "biggest layers: layer 0" in f.message
    passes("LI604", img, KUARD_DF, config={"max-image-size": "1GB"})
    passes("LI604", img, KUARD_DF)  # no limit, no finding
    got = catches("LI605", img, KUARD_DF, config={"max-layer-size": "5MB"}, count=2)  # the base and the build layer
    assert sorted(f.location.line for f in got) == [1, 4]
    passes("LI605", img, KUARD_DF, config={"max-layer-size": "200MB"})


# --- config ----------------------------------------------------------------------


def test_config_rules_fire_only_without_a_dockerfile() -> None:
    img = make_image([BASE], config={"User": "", "Volumes": {"/proc/x": {}, "/data": {}}})
    catches("LI750", img, message="no User is set")
    catches("LI751", img)
    catches("LI752", img, count=1, message="/proc/x")
    df = "FROM busybox\nVOLUME /proc/x\n"
    for rid in ("LI750", "LI751", "LI752"):
        passes(rid, img, df)


def test_config_rules_pass_on_a_well_shaped_image() -> None:
    img = make_image([BASE], config={"User": "1000:1000", "Healthcheck": {"Test": ["CMD", "/kuard", "-ping"]}, "Volumes": {"/data": {}}})
    for rid in ("LI750", "LI751", "LI752"):
        passes(rid, img)
    catches("LI750", make_image([BASE], config={"User": "0:0"}))
    catches("LI751", make_image([BASE], config={"User": "1", "Healthcheck": {"Test": ["NONE"]}}))


# --- file system -------------------------------------------------------------------


def test_setuid_and_world_writable() -> None:
    img = make_image([BASE, layer("/bin/sh -c chmod", files={"usr/bin/passwd": (60_000, 0o4755), "usr/bin/wall": (20_000, 0o2755),
                                                               "app/run.sh": (100, 0o777), "app/ok.sh": (100, 0o755)},
                                  dirs={"tmp": 0o1777, "app/shared": 0o777})])
    got = catches("LI800", img, count=2)
    assert {f.image.path for f in got} == {"/usr/bin/passwd", "/usr/bin/wall"}
    got = catches("LI801", img, count=2)
    assert {f.image.path for f in got} == {"/app/run.sh", "/app/shared"}
    clean = make_image([BASE, layer("/bin/sh -c true", files={"app/ok": (1, 0o755)}, dirs={"tmp": 0o1777})])
    passes("LI800", clean)
    passes("LI801", clean)


def test_accounts_empty_password_and_duplicate_ids() -> None:
    passwd = b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"
    group = b"root:x:0:\napp:x:1000:\nstaff:x:1000:\n"
    shadow = b"root:*:19000:0:99999:7:::\napp::19000:0:99999:7:::\n"
    img = make_image([BASE, layer("/bin/sh -c useradd", content={"etc/passwd": passwd, "etc/group": group, "etc/shadow": shadow})])
    (f,) = catches("LI802", img)
    assert "'app'" in f.message and f.image.path == "/etc/shadow"
    got = sorted(f.message for f in catches("LI803", img, count=2))
    assert got == ["GID 1000 is shared by app, staff in /etc/group", "UID 0 is shared by root, toor in /etc/passwd"]
    ok = make_image([BASE, layer("/bin/sh -c useradd", content={"etc/passwd": b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
                                                                "etc/group": b"root:x:0:\napp:x:1000:\n",
                                                                "etc/shadow": b"root:!:1::::::\napp:*:1::::::\n"})])
    passes("LI802", ok)
    passes("LI803", ok)


def test_credential_files_in_any_layer() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) COPY dir:x in /root ", files={"root/.ssh/id_rsa": 1700, "app/vpn.ovpn": 500,
                                                                                  "usr/lib/python3/site-packages/x/settings.py": 10}),
                      layer("/bin/sh -c rm /root/.ssh/id_rsa", delete=["root/.ssh/id_rsa"])])
    got = catches("LI804", img, count=2)
    rsa = next(f for f in got if "id_rsa" in f.message)
    assert "deleted in layer 2" in rsa.message and rsa.image.layer_index == 1
    passes("LI804", make_image([BASE, layer("/bin/sh -c x", files={"app/main.py": 10})]))


def test_unneeded_files_one_finding_per_directory() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) COPY dir:x in /app ", files={
        "app/.git/HEAD": 20, "app/.git/objects/ab/cd": 5000, "app/Dockerfile": 100, "app/node_modules/x/.git/HEAD": 20,
        "root/.cache/pip/http/a": 5000, "app/main.go": 100})])
    got = catches("LI805", img, count=2)
    assert {f.image.path for f in got} == {"/app/.git", "/app/Dockerfile"}
    assert any("2 files" in f.message for f in got)
    passes("LI805", make_image([BASE, layer("/bin/sh -c x", files={"app/main.go": 1})]))


# --- history-based Dockerfile rules without a Dockerfile -------------------------------


def test_history_is_rebuilt_as_a_dockerfile() -> None:
    img = make_image([BASE, layer("/bin/sh -c sudo apt-get update", files={"x": 1}), layer("COPY . /src # buildkit", files={"src/a": 1})],
                     empty_history=[(3, "EXPOSE map[8080/tcp:{}]")])
    text, at = rebuild_dockerfile(img)
    lines = text.splitlines()
    assert lines[0] == "FROM scratch" and lines[at[0] - 1].startswith("# ")  # the base rootfs ADD is no finding
    assert lines[at[1] - 1] == "RUN sudo apt-get update"
    assert lines[at[2] - 1] == "COPY . /src"
    assert lines[at[3] - 1] == "EXPOSE 8080/tcp"


def _rule_with_peer(peer: str) -> str:
    return next(r.id for r in rulespec.engine().rules if peer in r.peers and r.subject.value == "dockerfile")


def test_history_checks_run_without_a_dockerfile_and_not_twice_with_one() -> None:
    img = make_image([BASE, layer("/bin/sh -c sudo chown -R app /srv", files={"srv/x": 1}),
                      layer("/bin/sh -c apt-get update && apt-get install -y curl", files={"var/lib/apt/lists/x_Packages": 5 * MB})],
                     config={"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}})
    sudo = _rule_with_peer("DKL-DI-0001")
    (f,) = catches(sudo, img, line=3)
    assert f.location.path == "app/history.Dockerfile"
    assert f.image.layer_index == 1 and f.image.created_by == "/bin/sh -c sudo chown -R app /srv"
    # apt lists: measured by package-cache-in-layer, not guessed a second time from history
    found = lint_image(img)
    apt_lists = [f for f in found if "DKL-DI-0005" in rulespec.engine().rule(f.rule_id).peers]
    assert [f.rule_id for f in apt_lists] == ["LI602"]
    with_df = lint_image(img, "FROM base\nRUN sudo chown -R app /srv\nRUN apt-get update && apt-get install -y curl\n")
    assert not [f for f in with_df if f.location.path.endswith("history.Dockerfile")]
    assert [f.location.line for f in with_df if f.rule_id == sudo] == [2]


def test_latest_reference() -> None:
    for ref in ("docker://registry.example.com/team/app", "docker-daemon:team/app:latest", "team/app"):
        catches("LI753", make_image([BASE], reference=ref), message="latest")
    for ref in ("docker://registry.example.com/team/app:1.2", "docker-archive:app.tar", "docker-daemon:sha256:" + "a" * 64,
                "docker://team/app@sha256:" + "b" * 64):
        passes("LI753", make_image([BASE], reference=ref))


def test_add_in_history_is_reported_except_the_base_rootfs() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) ADD file:c0ffee in /app/config.json ", files={"app/config.json": 10})],
                     config={"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}})
    text, at = rebuild_dockerfile(img)
    assert text.splitlines()[at[1] - 1] == "ADD file:c0ffee /app/config.json"
    (f,) = catches("LI754", img)  # the base rootfs ADD of layer 0 is not reported
    assert f.image.layer_index == 1 and "/app/config.json" in f.message
    passes("LI754", img, "FROM busybox\nADD config.json /app/config.json\n")  # the Dockerfile rules report it at its line
    passes("LI754", make_image([BASE, layer("COPY config.json /app/ # buildkit", files={"app/config.json": 1})]))


def test_a_toolchain_symlink_alone_is_not_a_toolchain() -> None:
    img = make_image([BASE, layer("/bin/sh -c apt-get install -y default-jdk", files={"usr/lib/jvm/java-17/bin/javac": 20_000, "usr/lib/jvm/java-17/lib/modules": 40 * MB,
                                                                                      "usr/share/big": 90 * MB},
                                  symlinks={"usr/bin/javac": "/usr/lib/jvm/java-17/bin/javac"})])
    (f,) = catches("LI603", img)
    assert "/usr/lib/jvm/java-17," in f.message and f.properties["bytes"] == 40 * MB + 20_000


def test_a_dockerfile_that_did_not_build_the_image_gives_a_note_not_wrong_lines() -> None:
    from lintimg.imagecheck import check_image

    run = check_image(rulespec.engine(), _bigfile(), parse_dockerfile("FROM busybox\nRUN make\nRUN make install\nRUN make test\n", "Dockerfile"))
    assert any("does not match image" in n for n in run.notes), run.notes
    (waste,) = [f for f in run.findings if f.rule_id == "LI600"]
    assert waste.location.path == "app/BigFile"


def test_deleting_a_base_file_is_reported_at_the_deleting_line() -> None:
    img = make_image([layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={"opt/sdk/big": 30 * MB, "bin/sh": 1000}),
                      layer("/bin/sh -c rm -rf /opt/sdk", delete=["opt/sdk"])])
    (f,) = catches("LI600", img, "FROM sdk-image\nRUN rm -rf /opt/sdk\n", line=2)
    assert "base image, line 1" in f.message and "line 2" in f.message
