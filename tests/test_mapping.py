"""Layers -> history -> Dockerfile lines, for both builders' history formats."""
from __future__ import annotations

import pytest

from lintimg.config import Config
from lintimg.dockerfile import parse_dockerfile
from lintimg.engine.target import Target
from lintimg.image.mapping import image_hit, map_layers, parse_created_by, synthetic_path
from tests.imagebuild import layer, make_image


@pytest.mark.parametrize("created_by, keyword, text", [
    ("/bin/sh -c #(nop)  COPY file:4a1b2c in /app ", "COPY", "file:4a1b2c in /app"),
    ("/bin/sh -c #(nop) ADD file:9f8e in / ", "ADD", "file:9f8e in /"),
    ("/bin/sh -c #(nop)  ENV PATH=/usr/local/bin", "ENV", "PATH=/usr/local/bin"),
    ("/bin/sh -c #(nop)  CMD [\"sh\"]", "CMD", '["sh"]'),
    ("/bin/bash -o pipefail -c #(nop)  USER app", "USER", "app"),
    ("/bin/sh -c apt-get update && apt-get install -y curl", "RUN", "apt-get update && apt-get install -y curl"),
    ("|2 VERSION=1.2 MODE=prod /bin/sh -c make VERSION=$VERSION", "RUN", "make VERSION=$VERSION"),
    ("RUN /bin/sh -c go build -o /app . # buildkit", "RUN", "go build -o /app ."),
    ("RUN |1 TOKEN=x /bin/sh -c echo $TOKEN # buildkit", "RUN", "echo $TOKEN"),
    ("COPY . /src # buildkit", "COPY", ". /src"),
    ("WORKDIR /src", "WORKDIR", "/src"),
    ("ENV A=b", "ENV", "A=b"),
    ("EXPOSE map[8080/tcp:{}]", "EXPOSE", "map[8080/tcp:{}]"),
    ("Imported from -", "", "Imported from -"),
    ("", "", ""),
])
def test_created_by_is_read_as_the_instruction(created_by: str, keyword: str, text: str) -> None:
    step = parse_created_by(created_by)
    assert (step.keyword, step.text) == (keyword, text)


DOCKERFILE = """\
FROM debian:12
WORKDIR /app
ENV MODE=prod
COPY app.tar /app/
RUN tar xf app.tar && rm app.tar
CMD ["/app/run"]
"""


def _classic_image():
    # base: one ADD layer and a CMD; then this Dockerfile as the classic builder records it
    return make_image(
        [
            layer("/bin/sh -c #(nop) ADD file:abc in / ", files={"bin/sh": 1000}),
            layer("/bin/sh -c #(nop) WORKDIR /app", dirs={"app": 0o755}),
            layer("/bin/sh -c #(nop) COPY file:def in /app/ ", files={"app/app.tar": 5000}),
            layer("/bin/sh -c tar xf app.tar && rm app.tar", files={"app/run": 4000}, delete=["app/app.tar"]),
        ],
        empty_history=[(1, '/bin/sh -c #(nop)  CMD ["bash"]'), (2, "/bin/sh -c #(nop)  ENV MODE=prod"), (4, '/bin/sh -c #(nop)  CMD ["/app/run"]')],
    )


def test_classic_layers_map_to_their_lines_and_base_layers_to_from() -> None:
    df = parse_dockerfile(DOCKERFILE)
    m = map_layers(_classic_image(), df)
    assert m.problem is None
    got = {i: (o.instruction.line if o.instruction else None, o.base) for i, o in m.layers.items()}
    assert got == {0: (1, True), 1: (2, False), 2: (4, False), 3: (5, False)}
    assert m.layers[3].created_by.startswith("/bin/sh -c tar")


def test_buildkit_history_without_arg_entries_still_maps() -> None:
    text = "FROM alpine:3.20\nARG V=1\nRUN echo $V > /v\nCOPY run.sh /run.sh\nUSER 1000\n"
    img = make_image(
        [layer("ADD alpine-minirootfs.tar.gz / # buildkit", files={"bin/busybox": 800_000}),
         layer("RUN |1 V=1 /bin/sh -c echo $V > /v # buildkit", files={"v": 2}),
         layer("COPY run.sh /run.sh # buildkit", files={"run.sh": 30})],
        empty_history=[(1, 'CMD ["/bin/sh"]'), (3, "USER 1000")],
    )
    m = map_layers(img, parse_dockerfile(text))
    assert m.problem is None
    assert [m.layers[i].instruction.line for i in range(3)] == [1, 3, 4]
    assert m.layers[0].base and not m.layers[1].base


def test_multi_stage_maps_only_the_final_stage_and_its_from() -> None:
    text = "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM debian:12\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n"
    img = make_image(
        [layer("/bin/sh -c #(nop) ADD file:deb in / ", files={"bin/sh": 1000}),
         layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": 9000})],
        empty_history=[(2, '/bin/sh -c #(nop)  ENTRYPOINT ["/app"]')],
    )
    m = map_layers(img, parse_dockerfile(text))
    assert m.layers[0].instruction.line == 3 and m.layers[0].base
    assert m.layers[1].instruction.line == 4 and not m.layers[1].base


def test_final_stage_built_from_an_earlier_stage_includes_that_stages_layers() -> None:
    text = "FROM debian:12 AS common\nRUN useradd app\nFROM common\nCOPY app /app\n"
    img = make_image(
        [layer("/bin/sh -c #(nop) ADD file:deb in / ", files={"bin/sh": 1000}),
         layer("/bin/sh -c useradd app", files={"etc/passwd": 100}),
         layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": 9000})],
    )
    m = map_layers(img, parse_dockerfile(text))
    assert [m.layers[i].instruction.line for i in range(3)] == [1, 2, 4]
    assert [m.layers[i].base for i in range(3)] == [True, False, False]


def test_a_dockerfile_that_did_not_build_the_image_is_a_problem_not_a_guess() -> None:
    text = "FROM debian:12\nRUN make\nRUN make install\nCOPY x /x\n"
    img = make_image([layer("/bin/sh -c #(nop) ADD file:deb in / ", files={"a": 1}),
                      layer("/bin/sh -c #(nop) COPY file:x in /x ", files={"x": 1})])
    m = map_layers(img, parse_dockerfile(text))
    assert m.problem and "line 3" in m.problem
    assert all(o.instruction is None and not o.base for o in m.layers.values())


def test_history_shorter_than_layers_aligns_from_the_end() -> None:
    img = make_image([layer("a", files={"a": 1}), layer("/bin/sh -c touch /b", files={"b": 1})])
    img.config["history"] = img.config["history"][1:]
    m = map_layers(img)
    assert m.layers[0].history_index is None and m.layers[1].history_index == 0


def test_synthetic_paths_are_stable_and_colon_free() -> None:
    assert synthetic_path("127.0.0.1:5000/team/kuard", "/usr/lib/go-1.19/bin/go") == "kuard/usr/lib/go-1.19/bin/go"
    assert synthetic_path("kuard@sha256:abc", "") == "kuard"
    assert ":" not in synthetic_path("registry.example.com:443/a/b:1.0", "/C:/x y")


def test_image_hits_point_at_the_dockerfile_line_or_the_synthetic_path() -> None:
    img = _classic_image()
    df = parse_dockerfile(DOCKERFILE, "app/Dockerfile")
    with_df = Target("app/Dockerfile", Config(), dockerfile=df, image=img, layer_map=map_layers(img, df).layers)
    h = image_hit(with_df, "msg", layer=3, path="app/run")
    assert (h.path, h.line) == (None, 5)
    assert h.image.layer_index == 3 and h.image.path == "/app/run" and h.image.layer_digest == img.layers[3].diff_id
    alone = Target("app", Config(), image=img, layer_map=map_layers(img).layers)
    h = image_hit(alone, "msg", layer=3, path="app/run")
    assert (h.path, h.line) == ("app/app/run", 1)
