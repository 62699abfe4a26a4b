"""LI63x: size from the Dockerfile (rules/size.py) — measured base size, SDK images as the final base, single-stage builds."""
from __future__ import annotations

import fnmatch

import pytest

from tests.clirun import REPO
from tests.dockerengine import DockerEngine
from tests.rulespec import catches, passes

RUNS = 'ENTRYPOINT ["/app"]\n'

# --- LI631 sdk-image-as-final-base ---------------------------------------------------


def test_glob_lists_answer_as_fnmatch_does() -> None:
    """LI631/LI632 test a name against a whole glob list with one compiled pattern: the same answer as
    fnmatchcase against each glob, for every list the rules use."""
    from lintimg.rules.size import TOOLCHAIN_PACKAGES, _globs, builtin_families

    lists = [*TOOLCHAIN_PACKAGES.values(), *(g for f in builtin_families() for g in (f.images, f.sdk_tags, f.runtime_tags)), ()]
    globs = {g for pats in lists for g in pats}
    names = {g.replace("*", fill) for g in globs for fill in ("", "1", "17-jdk", "a/b", "-slim")}
    names |= {"", "GCC", "gcc\n", "gcc-", "golang-1.22-go", "openjdk-17-jdk-headless", "docker.io/library/python", "3.11-slim",
              "8-jre-slim", "development tools", "[x]"}
    for pats in lists:
        for name in names:
            assert bool(_globs(pats).match(name)) == any(fnmatch.fnmatchcase(name, p) for p in pats), (pats, name)


@pytest.mark.parametrize("base", [
    "golang:1.22", "golang:1.22-alpine", "rust:1.79-slim", "maven:3.9-eclipse-temurin-21", "gradle:8-jdk17", "openjdk:17",
    "eclipse-temurin:21-jdk", "eclipse-temurin:21", "mcr.microsoft.com/dotnet/sdk:8.0", "node:20", "node", "node:lts-bookworm",
    "python:3.11", "python:3.11-bookworm", "ruby:3.3", "gcc:13", "buildpack-deps:bookworm", "docker.io/library/golang:1.22",
    "microsoft/dotnet:2.1-sdk",
])
def test_sdk_bases_of_the_final_image_are_caught(base: str) -> None:
    (f,) = catches("LI631", f"FROM {base}\nCOPY app /app\n{RUNS}", line=1)
    assert base in f.message and f.fix and "ship on" in f.fix


@pytest.mark.parametrize("base", [
    "node:20-slim", "node:20-alpine", "python:3.11-slim", "python:3.11-alpine", "eclipse-temurin:21-jre", "openjdk:8-jre-slim",
    "mcr.microsoft.com/dotnet/aspnet:8.0", "debian:12", "gcr.io/distroless/static-debian12", "buildpack-deps:bookworm-curl",
    "microsoft/dotnet:2.1-runtime", "ruby:3.3-slim", "scratch", "mygolang:1",
])
def test_runtime_variants_and_other_images_pass(base: str) -> None:
    passes("LI631", f"FROM {base}\nCOPY app /app\n{RUNS}")


def test_sdk_rule_looks_at_the_shipped_image_only() -> None:
    # the SDK in a builder stage is the right way; through FROM <stage> it is the final image's base
    passes("LI631", f"FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /app /app\n{RUNS}")
    catches("LI631", f"FROM maven:3 AS base\nRUN echo\nFROM base\nCOPY app.jar /app.jar\n{RUNS}", line=1)
    catches("LI631", f"ARG V=3.11\nFROM python:$V\nCOPY . /app\n{RUNS}", message="python:3.11")


def test_sdk_rule_leaves_toolboxes_and_builds_to_others() -> None:
    passes("LI631", "FROM golang:1.22\nRUN go install golang.org/x/tools/gopls@latest\n")  # no program to run: a toolbox
    passes("LI631", 'FROM python:3.11\nCMD ["python3"]\n')  # a REPL
    passes("LI631", "FROM maven:3\nCMD bash\n")
    # a builder: its command is the build (from the corpus: mackerel-agent's golang image running ./build.sh)
    passes("LI631", "FROM golang\nCOPY . /src\nCMD ./build.sh\n")
    passes("LI631", 'FROM maven:3\nENTRYPOINT ["mvn", "-B", "package"]\n')
    passes("LI631", 'FROM golang:1.22\nCMD ["go", "test", "./..."]\n')
    catches("LI631", 'FROM golang:1.22\nCMD ["go", "run", "."]\n')  # runs the program, through the SDK
    catches("LI631", 'FROM maven:3\nEXPOSE 8080\nCMD ["mvn", "jetty:run"]\n')  # from the corpus: an app run by its build tool
    catches("LI631", 'FROM rust:1.79\nCMD ["cargo", "run", "--release"]\n')
    catches("LI631", 'FROM python:3.12\nCMD ["python", "build_index.py"]\n')  # only a script named build*.sh is a build
    passes("LI631", 'FROM maven:3\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD /bin/bash\n')  # still a bare shell
    catches("LI631", 'FROM maven:3\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD java -jar /app.jar\n')
    passes("LI631", f"FROM golang:1.22\nRUN go build -o /app .\n{RUNS}")  # LI632 reports it with the split


def test_sdk_images_extend_and_override_the_families() -> None:
    own = {"sdk-images": [{"name": "our JDK", "images": ["registry.example.com/base/jdk"], "runtime-tags": ["*-runtime"],
                           "runtime": ["registry.example.com/base/jre:{version}"]}]}
    (f,) = catches("LI631", f"FROM registry.example.com/base/jdk:21\n{RUNS}", config=own, message="our JDK")
    assert "registry.example.com/base/jre:21" in (f.fix or "")
    passes("LI631", f"FROM registry.example.com/base/jdk:21-runtime\n{RUNS}", config=own)
    relaxed = {"sdk-images": [{"images": ["node"], "runtime-tags": ["*"]}]}  # decides before the built-in node family
    passes("LI631", f"FROM node:20\n{RUNS}", config=relaxed)


def test_sdk_rule_onbuild_triggers_do_not_change_the_verdict() -> None:
    passes("LI631", "FROM node:20-slim\nONBUILD COPY . /app\nONBUILD RUN npm ci\n" + RUNS)
    catches("LI631", "FROM node:20\nONBUILD COPY . /app\n" + RUNS)


# --- LI632 single-stage-toolchain ----------------------------------------------------

KUARD = REPO / "fixtures" / "book" / "kuard"


def test_single_stage_go_build_gets_the_split() -> None:
    text = (KUARD / "Dockerfile").read_text()
    lines = text.splitlines()
    first = next(i for i, s in enumerate(lines, 1) if s.startswith("FROM "))
    build = next(i for i, s in enumerate(lines, 1) if "go build" in s)
    (f,) = catches("LI632", text, line=build)
    assert f"build stage = lines {first}-{build}" in f.message and f"then lines {build + 1}-{len(lines)}" in f.message
    assert "COPY --from=build /usr/local/bin/kuard /usr/local/bin/kuard" in f.message
    assert f.properties["runtime_base"] == "gcr.io/distroless/static-debian12", "CGO_ENABLED=0: a static binary"
    assert f.properties["build_lines"] == [first, build] and f.properties["runtime_lines"] == [build + 1, len(lines)]
    assert f.properties["proposal"].splitlines()[1] == "FROM gcr.io/distroless/static-debian12"


@pytest.mark.parametrize("text, tool, artefact", [
    ("FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\n", "go build", "/src/app"),
    ("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n", "npm run build", "/app/dist"),
    ("FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN yarn install && yarn build:prod\n", "yarn build:prod", "/app/dist"),
    ("FROM maven:3.9-eclipse-temurin-21\nWORKDIR /w\nCOPY . .\nRUN mvn -B clean package -DskipTests\n", "mvn package", "/w/target/*.jar"),
    ("FROM gradle:8-jdk17\nWORKDIR /w\nCOPY . .\nRUN ./gradlew bootJar\n", "gradle build", "/w/build/libs/*.jar"),
    ("FROM rust:1.79\nWORKDIR /w\nCOPY . .\nRUN cargo build --release\n", "cargo build", "/w/target/release/<binary>"),
    ("FROM debian:12\nRUN apt-get update && apt-get install -y gcc\nCOPY main.c /src/\nRUN gcc -O2 -o /usr/bin/hello /src/main.c\n", "gcc", "/usr/bin/hello"),
    ("FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /s\nCOPY . .\nRUN dotnet publish -c Release -o /out\n", "dotnet publish", "/out"),
])
def test_builds_in_the_final_stage_are_caught(text: str, tool: str, artefact: str) -> None:
    (f,) = catches("LI632", text + RUNS)
    assert f"`{tool}`" in f.message and artefact in f.message, f.message


def test_installed_compilers_kept_in_an_app_image_are_caught() -> None:
    (f,) = catches("LI632", f"FROM debian:12\nRUN apt-get update && apt-get install -y build-essential libpq-dev\nRUN pip install psycopg2\n{RUNS}", line=2)
    assert "installs build-essential" in f.message
    catches("LI632", f"FROM alpine:3.20\nRUN apk add --no-cache gcc musl-dev && make -C /src install\n{RUNS}")
    # installed but never used while building: there for the running program (a workbench, bcc, DKMS)
    passes("LI632", f"FROM alpine:3.20\nRUN apk add --no-cache gcc musl-dev\n{RUNS}")
    passes("LI632", "FROM debian:12\nRUN pip install jupyter\nRUN apt-get install -y build-essential\nCMD [\"jupyter\", \"lab\"]\n")


def test_removed_toolchains_and_builder_stages_pass() -> None:
    passes("LI632", f"FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev && make && apk del .build-deps\n{RUNS}")
    passes("LI632", f"FROM debian:12\nRUN apt-get install -y gcc && gcc -o /app a.c && apt-get purge -y gcc\n{RUNS}")
    passes("LI632", f"FROM node:20-slim\nCOPY . .\nRUN npm ci && npm run build && npm prune --omit=dev\n{RUNS}")
    passes("LI632", f"FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n{RUNS}")
    passes("LI632", "FROM debian:12\nRUN apt-get install -y gcc\n")  # a toolbox: runs nothing
    # a workbench: its notebook ports are EXPOSEd, but it starts a bare shell (from the corpus: pose-extractor)
    workbench = "FROM ubuntu:16.04\nRUN apt-get install -y build-essential && make -C /src\nEXPOSE 6006 8888\n"
    passes("LI632", workbench + 'CMD ["/bin/bash"]\n')
    catches("LI632", workbench, line=2)  # no command of its own: the EXPOSE says a server runs
    catches("LI632", workbench + 'CMD ["/src/serve"]\n', line=2)
    passes("LI632", f"FROM debian:12\nRUN go version && npm run test\n{RUNS}")


def test_onbuild_builds_are_left_to_the_child_image() -> None:
    passes("LI632", f"FROM golang:1.22\nONBUILD COPY . /src\nONBUILD RUN go build -o /app /src\n{RUNS}")


def test_multi_stage_kuard_passes() -> None:
    text = (KUARD / "Dockerfile.multistage").read_text()
    passes("LI632", text)
    passes("LI631", text)


# --- LI630 base-image-too-large, on the local engine -----------------------------------------


@pytest.mark.engine
def test_base_size_is_measured_from_the_engine(docker: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    base = docker.base_image()
    size = int(docker.run("image", "inspect", "-f", "{{.Size}}", base).stdout)
    text = f"FROM {base}\n{RUNS}"
    (f,) = catches("LI630", text, config={"max-base-image-size": size - 1}, line=1)
    assert f.properties["bytes"] == size and f.properties["source"] == "engine" and "measured from the engine" in f.message
    passes("LI630", text, config={"max-base-image-size": size})
    passes("LI630", text)  # no policy, no lookup
    # the final stage only, unless all-stages
    multi = f"FROM {base} AS build\nRUN x\nFROM scratch\nCOPY --from=build /x /x\n{RUNS}"
    passes("LI630", multi, config={"max-base-image-size": "1kB"})
    catches("LI630", multi, config={"max-base-image-size": {"size": "1kB", "all-stages": True}}, line=1)


def test_base_size_that_cannot_be_measured_says_why_and_assumes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    (f,) = catches("LI630", f"FROM example.invalid/team/base:1\n{RUNS}", config={"max-base-image-size": "100MB"})
    assert "could not be measured" in f.message and "registry lookups are off" in f.message and f.properties["measured"] is False
    assert "bytes" not in f.properties
    (f,) = catches("LI630", f"FROM example.invalid/team/base:1\n{RUNS}", config={"max-base-image-size": "100MB", "base-image-lookup": "off"})
    assert "lookups are off" in f.message
    (f,) = catches("LI630", f"ARG TAG\nFROM example.invalid/team/base:$TAG\n{RUNS}", config={"max-base-image-size": "100MB"})
    assert "build argument with no default" in f.message, "a tag left to --build-arg cannot be measured, and says so"
