"""LI6xx: image size, layers and toolchains (rules/image_size.py), on images built in Python."""
from __future__ import annotations

from tests.imagebuild import layer, make_image
from tests.imagespec import BASE, BIGFILE_DF, MB, bigfile, catches, passes


def test_bigfile_names_both_layers_and_both_lines() -> None:
    (f,) = catches("LI600", bigfile(), BIGFILE_DF, line=2)
    assert "line 2" in f.message and "line 3" in f.message and "/BigFile (50.0 MB)" in f.message
    assert f.properties["wasted_bytes"] == 50 * MB
    assert (f.properties["added_layer"], f.properties["removed_layer"]) == (1, 2)
    assert f.image.path == "/BigFile" and f.image.layer_index == 1


def test_bigfile_without_dockerfile_points_at_the_synthetic_path() -> None:
    (f,) = catches("LI600", bigfile())
    assert f.location.path == "app/BigFile" and "layer 1" in f.message and "layer 2" in f.message


def test_small_churn_is_not_listed() -> None:
    img = make_image([BASE, layer("/bin/sh -c apt-get install", files={"var/lib/dpkg/status": 200_000}),
                      layer("/bin/sh -c apt-get install y", files={"var/lib/dpkg/status": 210_000})])
    passes("LI600", img)


def test_efficiency_policy() -> None:
    img = bigfile()
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


def test_image_and_layer_size_limits() -> None:
    img = _single_stage()
    (f,) = catches("LI604", img, KUARD_DF, config={"max-image-size": "100MB"})
    assert "113.3 MB" in f.message and "biggest layers: layer 0" in f.message
    passes("LI604", img, KUARD_DF, config={"max-image-size": "1GB"})
    passes("LI604", img, KUARD_DF)  # no limit, no finding
    got = catches("LI605", img, KUARD_DF, config={"max-layer-size": "5MB"}, count=2)  # the base and the build layer
    assert sorted(f.location.line for f in got) == [1, 4]
    passes("LI605", img, KUARD_DF, config={"max-layer-size": "200MB"})


def test_a_toolchain_symlink_alone_is_not_a_toolchain() -> None:
    img = make_image([BASE, layer("/bin/sh -c apt-get install -y default-jdk", files={"usr/lib/jvm/java-17/bin/javac": 20_000, "usr/lib/jvm/java-17/lib/modules": 40 * MB,
                                                                                      "usr/share/big": 90 * MB},
                                  symlinks={"usr/bin/javac": "/usr/lib/jvm/java-17/bin/javac"})])
    (f,) = catches("LI603", img)
    assert "/usr/lib/jvm/java-17," in f.message and f.properties["bytes"] == 40 * MB + 20_000


def test_deleting_a_base_file_is_reported_at_the_deleting_line() -> None:
    img = make_image([layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={"opt/sdk/big": 30 * MB, "bin/sh": 1000}),
                      layer("/bin/sh -c rm -rf /opt/sdk", delete=["opt/sdk"])])
    (f,) = catches("LI600", img, "FROM sdk-image\nRUN rm -rf /opt/sdk\n", line=2)
    assert "base image, line 1" in f.message and "line 2" in f.message
