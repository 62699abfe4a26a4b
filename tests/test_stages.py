"""Which stages ship, from Docker's multi-stage build documentation.

- "Stop at a specific build stage": any stage can be built alone with
  `docker build --target <stage>`; without --target the last stage is built.
- "Differences between legacy builder and BuildKit": the legacy builder
  (`DOCKER_BUILDKIT=0`) processes every stage up to the target, BuildKit only
  the stages the target depends on.
- "Use a previous stage as a new stage": `FROM <stage>` starts from that
  stage's filesystem, so what it holds ships with the new stage.
- `COPY --from=<stage>` (by name or by index) copies only named paths out of a
  stage; `COPY --from=<image>` names an image, not a stage. `RUN
  --mount=from=<stage>` mounts a stage while one RUN runs. In both the stage is
  a builder: only what is copied out of it reaches the image.
- ONBUILD triggers run in the build of an image that starts FROM this one.
"""
from __future__ import annotations

from lintimg.dockerfile import parse_dockerfile
from lintimg.dockerfile.stages import runs, shipped_stages, ships, tagged_stages

# The docs' own example: a Go program built in one stage and copied into scratch.
DOCS_EXAMPLE = """\
FROM golang:1.23 AS build
WORKDIR /src
COPY main.go .
RUN go build -o /bin/hello ./main.go

FROM scratch
COPY --from=build /bin/hello /bin/hello
CMD ["/bin/hello"]
"""


def shipped(text: str) -> set[int]:
    return set(shipped_stages(parse_dockerfile(text)))


def test_a_stage_only_copied_from_does_not_ship():
    assert shipped(DOCS_EXAMPLE) == {1}
    # the docs also number stages: COPY --from=0 is the first one
    assert shipped(DOCS_EXAMPLE.replace("--from=build", "--from=0")) == {1}
    # an alias is matched case-insensitively, as Docker does
    assert shipped(DOCS_EXAMPLE.replace("--from=build", "--from=Build")) == {1}


def test_copy_from_an_image_names_no_stage():
    text = "FROM alpine:3.20 AS tools\nRUN apk add --no-cache curl\nFROM scratch\nCOPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf\n"
    assert shipped(text) == {0, 1}  # `tools` is used by nothing: a --target of its own


def test_a_stage_mounted_by_a_run_does_not_ship():
    text = "FROM golang:1.23 AS build\nRUN go build -o /out/app .\nFROM alpine:3.20\nRUN --mount=type=bind,from=build,source=/out,target=/mnt cp /mnt/app /app\n"
    assert shipped(text) == {1}


def test_a_stage_built_upon_ships_with_its_child():
    # "Use a previous stage as a new stage"
    text = "FROM alpine:3.20 AS builder\nRUN apk add --no-cache git\nFROM builder AS build1\nCOPY source1.cpp source.cpp\n" \
           "FROM builder AS build2\nCOPY source2.cpp source.cpp\n"
    # build2 is the default target, build1 is a --target of its own, and both start from builder
    assert shipped(text) == {0, 1, 2}


def test_a_stage_that_is_both_copied_from_and_built_upon_ships():
    text = "FROM debian:12 AS base\nRUN make\nFROM base\nCOPY --from=base /out /opt/out\n"
    assert shipped(text) == {0, 1}


def test_the_bases_of_a_builder_are_builders_too():
    text = "FROM node:20 AS deps\nRUN npm ci\nFROM deps AS build\nRUN npm run build\nFROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html\n"
    assert shipped(text) == {2}


def test_alternate_targets_ship():
    # the --target example: a test stage nothing else uses is built on its own
    text = "FROM golang:1.23 AS base\nRUN go mod download\nFROM base AS test\nRUN go test ./...\n" \
           "FROM base AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n"
    assert shipped(text) == {0, 1, 3}  # base ships under test; build is only copied from


def test_an_unnamed_stage_nothing_uses_ships_but_no_build_tags_it():
    # "Differences between legacy builder and BuildKit": the legacy builder processes every stage up to the
    # target, BuildKit only those the target needs. An unnamed stage no other stage uses and that is not the
    # last is therefore built by the legacy builder (an image of its own, with no name) and by no BuildKit build:
    # what it holds ships there; --target takes the name given with AS, so no build tags it to run it
    text = "FROM alpine:3.20\nRUN apk add curl\nFROM alpine:3.20\nRUN true\n"
    df = parse_dockerfile(text)
    assert shipped(text) == {0, 1} and tagged_stages(df) == {1}
    assert not runs(df, df.instructions[1]) and ships(df, df.instructions[1]) and runs(df, df.instructions[3])
    named = parse_dockerfile(text.replace("FROM alpine:3.20\nRUN apk", "FROM alpine:3.20 AS tools\nRUN apk", 1))
    assert shipped_stages(named) == tagged_stages(named) == {0, 1}
    # the last stage is the default target, named or not
    assert tagged_stages(parse_dockerfile("FROM alpine:3.20 AS tools\nRUN true\nFROM alpine:3.20\nRUN true\n")) == {0, 1}
    # a stage it is built FROM ships with it, and is tagged only when something tagged holds it
    df = parse_dockerfile("FROM alpine:3.20 AS base\nFROM base\nRUN x\nFROM alpine:3.20\n")
    assert shipped_stages(df) == {0, 1, 2} and tagged_stages(df) == {2}
    # ONBUILD triggers count wherever they are, as hadolint counts them (they run in the builds FROM the image)
    df = parse_dockerfile("FROM alpine:3.20\nONBUILD RUN apk add curl\nFROM alpine:3.20\nRUN true\n")
    assert runs(df, df.instructions[1]) and not runs(df, df.instructions[0])
    # an unnamed stage can still be copied from by its index: then it is a builder, as a named one is
    assert shipped("FROM golang:1.23\nRUN go build -o /app .\nFROM scratch\nCOPY --from=0 /app /app\n") == {1}


def test_one_stage_and_no_stage():
    assert shipped("FROM alpine:3.20\nRUN true\n") == {0}
    assert shipped("# nothing\n") == set()


def test_ships_per_instruction():
    df = parse_dockerfile("ARG V=1\nFROM debian:12 AS build\nRUN make\nONBUILD RUN make\nFROM scratch\nCOPY --from=build /out /out\n")
    arg, _, run, onbuild, _, copy = df.instructions
    assert not ships(df, run)
    assert ships(df, copy)
    assert ships(df, arg)  # before the first FROM: not part of any stage
    # an ONBUILD trigger is for the images built FROM this one, whatever happens to this stage
    assert ships(df, onbuild)
    assert onbuild.onbuild is not None and ships(df, onbuild.onbuild)


def test_a_stage_whose_root_is_copied_ships_whole():
    # COPY --from=<stage> / /dest takes every file of the stage, its caches included
    text = "FROM debian:12 AS rootfs\nRUN apt-get update\nFROM scratch\nCOPY --from=rootfs / /\n"
    assert shipped(text) == {0, 1}
    assert shipped(text.replace("COPY --from=rootfs / /", "COPY --from=rootfs . /")) == {0, 1}
    assert shipped(text.replace("COPY --from=rootfs / /", "COPY --from=rootfs /usr/bin/tool /")) == {1}


def test_a_build_argument_can_pick_the_stage():
    # FROM and --from expand build arguments; each stage whose name fits may be the one picked
    text = "ARG V=16\nFROM ubuntu:16.04 AS tools-16\nRUN make\nFROM ubuntu:18.04 AS tools-18\nRUN make\n" \
           "FROM tools-${V} AS build\nRUN make install\nFROM scratch\nCOPY --from=build /out /out\n"
    assert shipped(text) == {3}
    text = "ARG BASE\nFROM alpine:3.20 AS alpine-base\nFROM debian:12 AS debian-base\nFROM ${BASE}-base\nRUN true\n"
    assert shipped(text) == {0, 1, 2}
    # an argument has one value per build: the value must name a stage in every reference that uses it, so
    # `${BASE}-base` picks fpm-base or debian-base, not the builders' bases (BASE=fpm-ext would fit it alone)
    text = "ARG BASE=fpm\nFROM php:8-fpm AS fpm-ext-base\nRUN make\nFROM php:8-apache AS debian-ext-base\nRUN make\n" \
           "FROM ${BASE}-ext-base AS ext-gd\nRUN make gd\nFROM php:8-fpm AS fpm-base\nFROM php:8-apache AS debian-base\n" \
           "FROM ${BASE}-base\nCOPY --from=ext-gd /gd.so /gd.so\n"
    assert shipped(text) == {3, 4, 5}
    # references that cannot agree leave every value either allows
    assert shipped("FROM a:1 AS x-1\nFROM a:1 AS y-2\nFROM x-${V} AS x\nFROM y-${V}\n") == {0, 1, 2, 3}
    # a reference that is only a variable names an image as often as a stage: it picks no stage
    text = "ARG IMG=python:3.12\nFROM python:3.12 AS test\nRUN pytest\nFROM $IMG AS build\nFROM scratch\nCOPY --from=build /a /a\n"
    assert shipped(text) == {0, 2}
