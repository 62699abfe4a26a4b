"""LI1xx: base images and stages."""
from tests.rulespec import catches, engine, lint, passes


def test_untagged_base_image():
    catches("LI101", "FROM debian\n", line=1, message="no tag")
    catches("LI101", "ARG TAG\nFROM alpine$TAG\n", line=2)  # empty default leaves "alpine"
    catches("LI101", "FROM registry.example.com:5000/team/app\n")  # the port is not a tag
    passes("LI101", "FROM debian:12\n")
    passes("LI101", "FROM debian@sha256:" + "a" * 64 + "\n")
    passes("LI101", "FROM scratch\n")
    passes("LI101", "FROM golang:1.23 AS build\nFROM build\n")  # a stage, not an image
    passes("LI101", "ARG TAG\nFROM foo:${TAG}\n")  # tag chosen with --build-arg


def test_latest_tag():
    catches("LI102", "FROM node:latest\n", line=1)
    catches("LI102", 'ARG TAG="latest"\nFROM foo:${TAG}\n', line=2)
    passes("LI102", "FROM node:22\n")
    passes("LI102", "FROM node:latest@sha256:" + "b" * 64 + "\n")


def test_platform_flag():
    catches("LI103", "FROM --platform=linux/amd64 debian:12\n", line=1)
    catches("LI103", "FROM --platform=$TARGETOS debian:12\n")
    passes("LI103", "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\n")
    passes("LI103", "FROM --platform=$TARGETPLATFORM debian:12\n")  # LI105's case


def test_platform_flag_constant():
    catches("LI104", "FROM --platform=linux/amd64 alpine:3.20 AS build\n")
    passes("LI104", "FROM --platform=linux/arm64 alpine:3.20 AS build-arm64\n")  # stage is for that arch
    passes("LI104", "FROM --platform=$BUILDPLATFORM alpine:3.20\n")


def test_redundant_target_platform():
    catches("LI105", "FROM --platform=${TARGETPLATFORM} alpine:3.20\n", line=1)
    passes("LI105", "FROM --platform=$BUILDPLATFORM alpine:3.20\n")


def test_undefined_arg_in_from_suggests_a_name():
    catches("LI106", "ARG VERSION=3.20\nFROM alpine:${VERSOIN}\n", line=2, message="did you mean 'VERSION'?")
    passes("LI106", "ARG VERSION=3.20\nFROM alpine:${VERSION}\n")
    passes("LI106", "FROM --platform=$BUILDPLATFORM alpine:3.20\n")  # predefined


def test_invalid_default_arg_in_from():
    catches("LI107", "ARG TAG\nFROM alpine:${TAG}\n", message="bad tag")
    catches("LI107", "ARG IMAGE\nFROM $IMAGE\n", message="empty")
    catches("LI107", "ARG IMAGE=My/Image\nFROM $IMAGE\n")  # upper case is not a valid repository
    passes("LI107", "ARG TAG=3.20\nFROM alpine:${TAG}\n")
    passes("LI107", "FROM alpine:3.20\n")


def test_instruction_before_from():
    catches("LI108", "LABEL a=b\nFROM alpine:3.20\n", line=1, count=1)
    passes("LI108", "# syntax=docker/dockerfile:1\nARG A=B\nFROM alpine:3.20\n")


def test_duplicate_stage_name_is_case_insensitive():
    catches("LI110", "FROM a:1 AS build\nFROM b:1 AS Build\n", line=2)
    passes("LI110", "FROM a:1 AS build\nFROM b:1 AS test\n")


def test_reserved_stage_name():
    catches("LI111", "FROM a:1 AS context\n")
    catches("LI111", "FROM a:1 AS scratch\n")
    passes("LI111", "FROM a:1 AS contexts\n")


def test_stage_name_casing():
    catches("LI112", "FROM a:1 AS Builder\n", message="'builder'")
    passes("LI112", "FROM a:1 AS builder\n")


def test_from_as_casing():
    catches("LI113", "FROM a:1 as build\n")
    catches("LI113", "from a:1 AS build\n")
    passes("LI113", "FROM a:1 AS build\n")
    passes("LI113", "from a:1 as build\n")


def test_copy_from_current_stage():
    catches("LI114", "FROM golang:1.23 AS Build\nCOPY --from=build /a /b\n", line=2)
    catches("LI114", "FROM golang:1.23\nCOPY --from=0 /a /b\n")
    passes("LI114", "FROM golang:1.23 AS build\nFROM alpine:3.20\nCOPY --from=build /a /b\n")


def test_copy_from_undefined_stage():
    catches("LI115", "FROM a:1 AS build\nFROM b:1\nCOPY --from=biuld /a /b\n", line=3, message="did you mean 'build'?")
    catches("LI115", "FROM a:1\nCOPY --from=2 /a /b\n")
    passes("LI115", "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /a /b\n")
    passes("LI115", "FROM b:1\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n")  # an image


def test_stage_referenced_by_index():
    catches("LI116", "FROM a:1\nFROM b:1\nCOPY --from=0 /a /b\n", line=3)
    passes("LI116", "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /a /b\n")


def test_copy_whole_stage():
    catches("LI117", "FROM a:1 AS build\nFROM b:1\nCOPY --from=build / /\n", line=3)
    passes("LI117", "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /out /\n")
    passes("LI117", "FROM a:1 AS build\nFROM b:1\nCOPY --from=build . .\n")


def test_stage_never_built():
    # `docker build` builds the last stage, `--target` a named one (never an index), each with the stages it needs
    catches("LI118", "FROM a:1\nRUN make test\nFROM b:1\nCMD x\n", line=1, count=1, message="is never built")
    catches("LI118", "FROM a:1 AS base\nFROM base\nRUN pytest\nFROM base\nCMD x\n", line=2, count=1)
    # a stage only a never-built stage copies from is never built either
    catches("LI118", "FROM a:1\nFROM b:1\nCOPY --from=0 /x /x\nFROM c:1\n", count=2)
    passes("LI118", "FROM a:1\nRUN x\n")
    passes("LI118", "FROM a:1 AS dev\nRUN x\nFROM b:1\n")  # a --target
    passes("LI118", "FROM a:1\nRUN make\nFROM b:1\nCOPY --from=0 /out /out\n")
    passes("LI118", "FROM a:1\nRUN make\nFROM b:1 AS test\nRUN --mount=from=0,target=/src make check\nFROM c:1\n")
    passes("LI118", "ARG FROM_STAGE=0\nFROM a:1\nFROM b:1\nCOPY --from=${FROM_STAGE} /x /x\n")  # the build picks it


BROKEN = [
    "this is not a dockerfile\n",
    "",
    "FROM\nCOPY --from= \nEXPOSE\nUSER\nLABEL\nONBUILD\nWORKDIR\n",
    "ARG A=${\nFROM $A AS\nENV =x\nRUN <<EOF\nnever closed\n",
]
ALL_ON = {"rules": {"LI004": "on", "LI204": "on"}, "label-schema": {"a": "url"}, "strict-labels": True,
          "trusted-registries": ["x.io"], "require-digest": True, "allowed-base-images": ["x.io/*"]}


def test_every_rule_of_these_families_tolerates_broken_files():
    ids = [r.id for r in engine(ALL_ON).rules if r.id[:3] in ("LI1", "LI2", "LI9") or r.id[:4] == "LI70" or r.id == "LI004"]
    assert len(ids) >= 50  # the families are loaded, so the crash check below covers them
    for text in BROKEN:
        found = {f.rule_id for f in lint(text, ALL_ON)}
        assert "LI002" not in found, text
    # rules about something missing stay quiet when there is no stage at all
    for rid in ("LI702", "LI705", "LI911"):
        passes(rid, "this is not a dockerfile\n", config=ALL_ON)
