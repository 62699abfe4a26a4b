"""LI2xx: instruction form and syntax."""
import pytest

from tests.rulespec import catches, passes, stage_scope


def test_consistent_instruction_casing_follows_the_majority():
    catches("LI201", "FROM a:1\nRUN x\nrun y\n", line=3, count=1, message="upper case")
    catches("LI201", "from a:1\nrun x\nRUN y\n", line=3, count=1, message="lower case")
    catches("LI201", "FROM a:1\nFrom b:1\n", line=2)
    passes("LI201", "FROM a:1\nRUN x\n")


def test_no_empty_continuation():
    catches("LI202", "FROM a:1\nRUN apk add \\\n\n    curl\n", line=2, message="3")
    passes("LI202", "FROM a:1\nRUN apk add \\\n    curl\n")


def test_legacy_key_value_format():
    catches("LI203", "FROM a:1\nENV PATH /opt/bin:$PATH\n", line=2)
    catches("LI203", "FROM a:1\nLABEL maintainer me\n")
    passes("LI203", "FROM a:1\nENV PATH=/opt/bin:$PATH\n")


def test_invalid_definition_description_is_off_by_default():
    text = "# the Go version\nARG GO_VERSION=1.23\nFROM golang:${GO_VERSION}\n"
    passes("LI204", text)
    on = {"rules": {"LI204": "on"}}
    catches("LI204", text, line=2, config=on)
    catches("LI204", "FROM a:1 AS b\n# builds things\nFROM c:1 AS build\n", line=3, config=on)
    passes("LI204", "# GO_VERSION the Go version\nARG GO_VERSION=1.23\nFROM a:1\n", config=on)
    passes("LI204", "# a plain note\n\nARG GO_VERSION=1.23\nFROM a:1\n", config=on)


def test_maintainer_deprecated():
    catches("LI205", "FROM a:1\nMAINTAINER Jane <jane@example.com>\n", line=2)
    passes("LI205", "FROM a:1\nLABEL org.opencontainers.image.authors=jane@example.com\n")


def test_json_args_recommended():
    catches("LI206", "FROM a:1\nCMD node server.js\n", line=2)
    catches("LI206", "FROM a:1\nENTRYPOINT /entrypoint.sh\n")
    catches("LI206", "FROM a:1\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\n")
    passes("LI206", 'FROM a:1\nCMD ["node", "server.js"]\nHEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n')
    passes("LI206", "FROM a:1\nHEALTHCHECK NONE\n")


def test_repeated_cmd_entrypoint_healthcheck_per_stage():
    # the finding sits on the instruction that has no effect (the overridden one), as BuildKit and KICS place it
    catches("LI207", "FROM a:1\nCMD [\"a\"]\nRUN x\nCMD [\"b\"]\n", line=2, count=1, message="line 4")
    catches("LI207", "FROM a:1\nCMD [\"a\"]\nCMD [\"b\"]\nCMD [\"c\"]\n", count=2)
    passes("LI207", "FROM a:1 AS one\nCMD [\"a\"]\nFROM b:1\nCMD [\"b\"]\n")
    catches("LI208", "FROM a:1\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n", line=2)
    passes("LI208", "FROM a:1\nENTRYPOINT [\"a\"]\n")
    catches("LI209", "FROM a:1\nHEALTHCHECK CMD [\"a\"]\nHEALTHCHECK NONE\n", line=2)
    passes("LI209", "FROM a:1\nHEALTHCHECK CMD [\"a\"]\nFROM b:1\nHEALTHCHECK CMD [\"b\"]\n")


def test_env_self_reference():
    catches("LI210", "FROM a:1\nENV APP=/opt/app BIN=$APP/bin\n", line=2, message="$APP")
    passes("LI210", "FROM a:1\nENV APP=/opt/app\nENV BIN=$APP/bin\n")
    passes("LI210", "FROM a:1\nENV APP=/x\nENV APP=/opt/app BIN=$APP/bin\n")  # refers to the earlier value


def test_onbuild_invalid_trigger():
    catches("LI211", "FROM a:1\nONBUILD FROM debian:12\n", line=2)
    catches("LI211", "FROM a:1\nONBUILD ONBUILD RUN x\n")
    passes("LI211", "FROM a:1\nONBUILD RUN make\n")


def test_copy_multi_source_needs_dir_destination():
    catches("LI212", "FROM a:1\nCOPY package.json yarn.lock /app\n", line=2, message="'/app'")
    catches("LI212", 'FROM a:1\nCOPY ["a", "b", "dest"]\n')
    passes("LI212", "FROM a:1\nCOPY package.json yarn.lock /app/\n")
    passes("LI212", "FROM a:1\nCOPY package.json /app\n")


def test_undefined_var_with_scoping_and_suggestion():
    catches("LI213", "FROM a:1\nARG APP_HOME=/app\nCOPY . $APP_HOEM/\n", line=3, message="did you mean 'APP_HOME'?")
    # a global ARG is not visible in a stage until redeclared
    catches("LI213", "ARG DIR=/app\nFROM scratch\nWORKDIR $DIR\n", line=3)
    passes("LI213", "ARG DIR=/app\nFROM scratch\nARG DIR\nWORKDIR $DIR\n")
    # ENV is inherited from the stage built on
    passes("LI213", "FROM a:1 AS base\nENV HOME_DIR=/app\nFROM base\nWORKDIR $HOME_DIR\n")
    # shell-form RUN and CMD are the shell's business; defaults are deliberate; single quotes do not expand
    passes("LI213", "FROM scratch\nRUN echo $UNDEFINED\nCMD echo $ALSO\nWORKDIR ${DIR:-/app}\nLABEL x='$NOT'\nENV PATH=/opt:$PATH\n")
    # an image base may define GOPATH itself: only a near miss of a defined name is reported there
    passes("LI213", "FROM golang:1.23\nWORKDIR $GOPATH/src\n")
    catches("LI213", "FROM scratch\nWORKDIR $GOPATH/src\n")


def test_consecutive_run():
    catches("LI214", "FROM a:1\nRUN apt-get update\n# comment\nRUN apt-get install -y curl\n", line=4)
    passes("LI214", "FROM a:1\nRUN a && b\nRUN c\n")  # already chains commands
    passes("LI214", "FROM a:1\nRUN --mount=type=cache,target=/c a\nRUN b\n")  # different mounts
    passes("LI214", "FROM a:1\nRUN a\nWORKDIR /x\nRUN b\n")


def test_expose_port_range_casing_and_format():
    catches("LI220", "FROM a:1\nEXPOSE 80 65536/tcp\n", count=1, message="65536")
    catches("LI220", "FROM a:1\nEXPOSE 40000-70000\n")
    passes("LI220", "FROM a:1\nEXPOSE 65535 40000-60000/udp 40000-${END}\n")
    catches("LI221", "FROM a:1\nEXPOSE 53/UDP\n", message="'UDP'")
    passes("LI221", "FROM a:1\nEXPOSE 53/udp\n")
    catches("LI222", "FROM a:1\nEXPOSE 8080:80\n")
    catches("LI222", "FROM a:1\nEXPOSE 127.0.0.1:80/tcp\n")
    passes("LI222", "FROM a:1\nEXPOSE 80/tcp\n")


def test_workdir_relative():
    catches("LI230", "FROM a:1\nWORKDIR app\n", line=2)
    passes("LI230", 'FROM a:1\nWORKDIR "/app"\nWORKDIR $HOME/x\nWORKDIR C:\\\\app\n')
    # BuildKit's rule (linter docs): only a relative WORKDIR with no WORKDIR before it in the build of the stage,
    # which is the one resolved against the base image; fixing it fixes every later one
    catches("LI230", "FROM a:1\nWORKDIR app\nWORKDIR src\n", line=2, count=1)
    passes("LI230", "FROM a:1\nWORKDIR /srv\nWORKDIR app\n")
    passes("LI230", "FROM a:1 AS base\nWORKDIR /srv\nFROM base\nWORKDIR app\n")  # inherited through FROM <stage>
    catches("LI230", "FROM a:1 AS one\nWORKDIR /srv\nFROM b:1\nWORKDIR app\n", line=4)  # another stage's does not count
    passes("LI230", "FROM a:1\nWORKDIR /srv\nONBUILD WORKDIR app\n")  # the trigger runs in the image's /srv


def test_workdir_relative_chained():
    # hadolint DL3000 / trivy DS-0009 / checkov CKV_DOCKER_10 report every relative WORKDIR: LI230 the first, LI233 the rest
    catches("LI233", "FROM a:1\nWORKDIR /srv\nWORKDIR app\n", line=3, message="relative to an earlier WORKDIR")
    catches("LI233", "FROM a:1\nWORKDIR app\nWORKDIR src\n", line=3, count=1)
    catches("LI233", "FROM a:1 AS base\nWORKDIR /srv\nFROM base\nWORKDIR app\n", line=4)
    passes("LI233", "FROM a:1\nWORKDIR app\n")
    passes("LI233", "FROM a:1 AS one\nWORKDIR /srv\nFROM b:1\nWORKDIR app\n")
    passes("LI233", "FROM a:1\nWORKDIR /srv\nWORKDIR /srv/app\nWORKDIR $X\n")
    catches("LI233", "FROM a:1\nWORKDIR /srv\nONBUILD WORKDIR app\n", line=3)
    catches("LI233", "FROM a:1\nONBUILD WORKDIR /srv\nONBUILD WORKDIR app\n", line=3)


def test_copy_relative_dest_without_workdir():
    catches("LI231", "FROM node:22\nCOPY package.json .\n", line=2)
    catches("LI231", "FROM a:1 AS one\nWORKDIR /app\nFROM b:1\nCOPY x y\n", line=4)  # other stage's WORKDIR does not count
    passes("LI231", "FROM a:1 AS base\nWORKDIR /app\nFROM base\nCOPY x y\n")  # inherited
    passes("LI231", "FROM a:1\nCOPY x /abs/y\n")
    # Windows: a drive root is absolute too (7 nanoserver files of the gold set copy to C:)
    passes("LI231", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY hello.txt C:\n")
    passes("LI231", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY app C:/app/\n")
    catches("LI231", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY hello.txt C\n")


def test_workdir_system_dir():
    catches("LI232", "FROM a:1\nWORKDIR /proc/self/fd/1\n")
    catches("LI232", "FROM a:1\nWORKDIR /dev\n")
    passes("LI232", "FROM a:1\nWORKDIR /development\n")


def test_onbuild_bodies_are_checked():
    catches("LI230", "FROM a:1\nONBUILD WORKDIR app\n", line=2)
    catches("LI212", "FROM a:1\nONBUILD COPY a b c\n")


def test_consecutive_copy_to_one_destination():
    catches("LI215", "FROM a:1\nCOPY README.md ./\nCOPY package.json ./\nCOPY gulpfile.js .\n", line=2, count=1, message="line 3, 4")
    catches("LI215", "FROM a:1\nADD a.txt /srv/\nADD b.txt /srv\n", line=2)
    passes("LI215", "FROM a:1\nCOPY a ./one\nCOPY b ./two\n")  # different destinations
    passes("LI215", "FROM a:1\nCOPY a ./\nADD b ./\n")  # COPY and ADD differ
    passes("LI215", "FROM a:1 AS b\nCOPY a /x/\nCOPY --from=b /y /x/\n")  # different flags
    passes("LI215", "FROM a:1\nCOPY a ./\nRUN make\nCOPY b ./\n")  # not consecutive
    # a builder stage that only COPY --from reads never ships its layers
    passes("LI215", "FROM a:1 AS build\nCOPY a /src/\nCOPY b /src/\nFROM b:1\nCOPY --from=build /src/out /out\n")


def test_state_across_instructions_and_stages():
    # Dockerfile reference, ONBUILD: triggers run in order in the child build, after the parent's WORKDIR
    passes("LI231", "FROM a:1\nONBUILD WORKDIR /app\nONBUILD COPY . .\n")
    passes("LI231", "FROM a:1\nWORKDIR /app\nONBUILD COPY . .\n")
    catches("LI231", "FROM a:1\nONBUILD COPY . .\n")
    # a drive letter is absolute on Windows (the drive root included)
    passes("LI231", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY hello.txt C:\n")
    # SHELL (own or inherited through FROM <stage>) makes shell form a deliberate use of that shell (BuildKit)
    passes("LI206", 'FROM a:1\nSHELL ["/bin/bash", "-c"]\nCMD echo hi\n')
    passes("LI206", 'FROM a:1 AS base\nSHELL ["/usr/bin/customshell"]\nFROM base\nENTRYPOINT mycommand\n')
    catches("LI206", 'FROM a:1 AS base\nSHELL ["/bin/bash", "-c"]\nFROM b:1\nCMD echo hi\n', line=4)


def test_undefined_var_on_bases_whose_variables_are_known():
    # alpine's config sets only PATH: every undefined name is reported, a near name of PATH suggested
    catches("LI213", "FROM alpine:3.19\nENV PATH=$PAHT:/opt/bin\n", line=2, message="did you mean 'PATH'?")
    catches("LI213", "FROM alpine:3.19\nCOPY $foo .\nARG foo=bar\n", line=2, message="line 3")
    passes("LI213", "FROM alpine:3.19\nENV PATH=$PATH:/opt/bin\n")
    # unknown bases set their own variables: python's PYTHON_VERSION, golang's GOPATH
    passes("LI213", "FROM python:3.12\nARG VERSION=$PYTHON_VERSION\n")
    passes("LI213", "FROM golang:1.23\nWORKDIR $GOPATH/src\n")


@pytest.mark.engine
def test_undefined_var_reads_the_base_images_env_when_lookups_are_on(docker, tmp_path, monkeypatch):
    # BuildKit reads the base image's config: its Env names are defined, every other name is not
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    (tmp_path / "Dockerfile").write_text(f"FROM {docker.base_image()}\nENV APP_HOME=/srv/app PATH=/bin\n")
    docker.build(tmp_path, "lintimg-test/undefined-var-env:1")
    base, local = "FROM lintimg-test/undefined-var-env:1\n", {"base-image-lookup": "local"}
    passes("LI213", base + "COPY . $APP_HOME/\n", config=local)
    passes("LI213", base + "ONBUILD COPY . $DEST/\n", config=local)  # a trigger expands in the child build, on its variables
    catches("LI213", base + "COPY . $DEST/\n", config=local, line=2, message="$DEST")
    catches("LI213", base + "WORKDIR $APP_HOME\nCOPY . $APP_HOEM/\n", config=local, line=3, message="did you mean 'APP_HOME'?")
    # a near name the base image defines is no typo: without the lookup it looks like one
    near = base + "ARG APP_HOMES=/x\nCOPY . $APP_HOME/\n"
    passes("LI213", near, config=local)
    catches("LI213", near, line=3, message="did you mean 'APP_HOMES'?")
    # without lookups, or with a base the engine does not hold, only likely typos are reported
    passes("LI213", base + "COPY . $DEST/\n")
    passes("LI213", "FROM example.invalid/team/base:1\nCOPY . $DEST/\n", config=local)
    passes("LI213", base + "COPY . $DEST/\n", config={"base-image-lookup": "off"})
    # the Env reaches the stages built on that base, not a stage on another one
    passes("LI213", base + "RUN true\nFROM lintimg-test/undefined-var-env:1 AS two\nFROM two\nWORKDIR $APP_HOME\n", config=local)
    catches("LI213", base + "FROM scratch\nWORKDIR $APP_HOME\n", config=local, line=3)
    # the environment variable alone asks for lookups too, as it does for LI702/LI705 (docs/configuration.md)
    monkeypatch.setenv("LINTIMG_BASE_IMAGE_LOOKUP", "local")
    catches("LI213", base + "COPY . $DEST/\n", line=2, message="$DEST")


def test_legacy_arg_form():
    catches("LI203", "FROM a:1\nARG foo bar\n", line=2)
    passes("LI203", "FROM a:1\nARG foo=bar\nARG baz\n")


def test_stage_scope():
    # runtime configuration and layer counts only matter in a stage that ships
    stage_scope("LI206", "CMD node server.js", shipped_only=True, runs_only=True)
    stage_scope("LI207", 'CMD ["a"]\nCMD ["b"]', shipped_only=True, onbuild=False)
    stage_scope("LI208", 'ENTRYPOINT ["a"]\nENTRYPOINT ["b"]', shipped_only=True, onbuild=False)
    stage_scope("LI209", 'HEALTHCHECK CMD ["a"]\nHEALTHCHECK CMD ["b"]', shipped_only=True, onbuild=False)
    stage_scope("LI214", "RUN make\nRUN make install", shipped_only=True, onbuild=False)
    stage_scope("LI215", "COPY a /x/\nCOPY b /x/", shipped_only=True, onbuild=False)
