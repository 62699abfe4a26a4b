"""Shell-use rules LI360–LI366, written from what each rule means."""
from __future__ import annotations

import pytest

from lintimg.dockerfile.shell import parse_script
from tests.rulespec import catches, passes, stage_scope

F = "FROM debian:12\n"


def test_substituted_commands_are_marked():
    s = parse_script("T=$(cat /run/secrets/t) tool login; sh <(curl -s https://x)")
    by_name = {c.name: c for c in s.commands}
    assert by_name["cat"].substituted and by_name["curl"].substituted
    assert not by_name["tool"].substituted and not by_name["sh"].substituted


def test_cd_instead_of_workdir():
    catches("LI360", F + "RUN cd /usr/src && make\n", line=2)
    passes("LI360", F + "WORKDIR /usr/src\nRUN make\nCMD cd /srv && ./run\n")


def test_sudo_in_run():
    catches("LI361", F + "RUN apt-get update && sudo apt-get install -y curl\n")
    passes("LI361", F + "RUN apt-get install -y sudo\n")


def test_useradd_long_uid():
    catches("LI362", F + "RUN useradd -u 1234567 app\n", message="1234567")
    catches("LI362", F + "RUN useradd --uid=1234567 app\n")
    passes("LI362", F + "RUN useradd -l -u 1234567 app\n")
    passes("LI362", F + "RUN useradd -u 10001 app\n")


def test_chpasswd_in_run():
    catches("LI363", F + "RUN echo 'root:root' | chpasswd\n", line=2)
    passes("LI363", F + "RUN chgrp root /etc/passwd\n")


def test_pipe_without_pipefail():
    catches("LI364", F + "RUN curl -fsSL https://x/a.tgz | tar xz\n", line=2)
    passes("LI364", F + 'SHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN curl -fsSL https://x/a.tgz | tar xz\n')
    passes("LI364", F + "RUN set -euo pipefail; curl -fsSL https://x/a.tgz | tar xz\n")
    passes("LI364", F + "RUN curl -fsSLO https://x/a.tgz && tar xzf a.tgz\n")
    # PowerShell pipes are not sh pipes
    passes("LI364", F + 'SHELL ["pwsh", "-c"]\nRUN Get-Item x | Select-Object Name\n')
    passes("LI364", "# hadolint shell=powershell\n" + F + "RUN Get-Item x | Select-Object Name\n")


def test_yes_into_a_pipe_needs_no_pipefail():
    # `yes` writes until its reader closes the pipe and then dies of SIGPIPE (status 141): under pipefail
    # (bash manual: the status of the rightmost command that failed) `yes | cmd` fails, without it the status is cmd's
    passes("LI364", F + "RUN yes | apt-get install foo=1\n")
    passes("LI364", F + "RUN yes | /usr/bin/license-accept && yes y | sdkmanager tools\n")
    catches("LI364", F + "RUN yes | apt-get install foo=1 && curl -fsSL https://x/a.tgz | tar xz\n", line=2)
    catches("LI364", F + "RUN yes | head -n 3 | sort\n")  # head's status is hidden too
    catches("LI364", F + "RUN (yes; false) | cmd\n")


def test_a_pipe_between_tests_is_a_pipe_too():
    # the pipeline holds no simple command: the finding is on the RUN itself
    catches("LI364", F + "RUN [[ -f a ]] | [[ -f b ]]\n", line=2)
    passes("LI364", F + "RUN set -o pipefail; [[ -f a ]] | [[ -f b ]]\n")
    passes("LI364", 'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN [[ -f a ]] | [[ -f b ]]\n')


def test_pipefail_set_after_the_pipe_does_not_count():
    catches("LI364", F + "RUN curl -fsSL https://x/a.tgz | tar xz; set -o pipefail\n")


def test_pipefail_in_a_sibling_stage_does_not_count():
    text = 'FROM debian:12 AS a\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nFROM debian:12 AS b\nRUN ls | wc -l\n'
    catches("LI364", text, line=4)


def test_shell_changed_in_run():
    catches("LI365", F + "RUN ln -sf /bin/bash /bin/sh\n")
    passes("LI365", F + "RUN ln -sf /bin/true /sbin/initctl && echo /bin/sh\n")


def test_pointless_command():
    catches("LI366", F + "RUN service nginx start\n", message="service")
    passes("LI366", F + "RUN apt-get install -y openssh-client ssh\n")


def test_pipefail_needs_a_shell_that_has_it():
    # /bin/sh is whatever the image links there (dash on Debian): -o pipefail there is not a pipefail shell
    catches("LI364", 'FROM alpine:3.19\nSHELL ["/bin/sh", "-o", "pipefail", "-c"]\nRUN wget -qO- x | tar -x\n', line=3)
    passes("LI364", 'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -s x | tar -x\n')
    passes("LI364", 'FROM alpine:3.19 AS base\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nFROM base\nRUN wget -qO- x | tar -x\n')
    passes("LI364", 'FROM debian:12\nRUN ["/bin/bash", "./a", "|", "./b"]\n')  # exec form: "|" is an argument


def test_lookups_are_not_commands():
    passes("LI366", "FROM debian:12\nRUN if ! command -v ps > /dev/null; then apt-get install -y procps; fi\n")
    catches("LI366", "FROM debian:12\nRUN ps aux\n")
    # `command -v`/`-V` looks a program up without running it (6 gold-set files test for ps this way)
    passes("LI366", F + "RUN command -v ps > /dev/null || apt-get install -y procps\n")
    passes("LI366", F + "RUN if command -V vim; then echo found; fi\n")


def test_stage_scope():
    stage_scope("LI362", "RUN useradd -u 123456 app", shipped_only=True)
    stage_scope("LI364", "RUN wget -O - https://example.com | tar xz", shipped_only=False)


@pytest.mark.engine
def test_the_shell_a_base_image_was_built_with_counts_when_lookups_are_on(docker, tmp_path, monkeypatch):
    """Real images in the engine, each built with a SHELL instruction that its config keeps for images built on it."""
    monkeypatch.delenv("LINTIMG_BASE_IMAGE_LOOKUP", raising=False)
    base = docker.base_image()
    for name, shell in (("pipefail", '["/bin/bash", "-o", "pipefail", "-c"]'), ("plain-sh", '["/bin/sh", "-c"]'),
                        ("pwsh", '["pwsh", "-Command"]')):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "Dockerfile").write_text(f"FROM {base}\nSHELL {shell}\n")
        docker.build(folder, f"lintimg-test/base-shell-{name}:1")
    local = {"base-image-lookup": "local"}
    piped, shell_cmd = "\nRUN ls / | wc -l\n", "\nCMD node server.js\n"
    # bash with pipefail in the base: the piped RUN is covered; without lookups the Dockerfile alone decides
    passes("LI364", f"FROM lintimg-test/base-shell-pipefail:1{piped}", config=local)
    catches("LI364", f"FROM lintimg-test/base-shell-pipefail:1{piped}", line=2)
    # through a stage of this file, too
    passes("LI364", f"FROM lintimg-test/base-shell-pipefail:1 AS b\nFROM b{piped}", config=local)
    # a SHELL of the base without pipefail does not cover it; a non-POSIX one runs no sh pipe
    catches("LI364", f"FROM lintimg-test/base-shell-plain-sh:1{piped}", config=local, line=2)
    passes("LI364", f"FROM lintimg-test/base-shell-pwsh:1{piped}", config=local)
    # a base with no SHELL of its own: as before
    catches("LI364", f"FROM {base}{piped}", config=local, line=2)
    # any SHELL the base was built with makes a shell-form CMD deliberate, as one in this file does
    passes("LI206", f"FROM lintimg-test/base-shell-plain-sh:1{shell_cmd}", config=local)
    catches("LI206", f"FROM lintimg-test/base-shell-plain-sh:1{shell_cmd}", line=2)
    catches("LI206", f"FROM {base}{shell_cmd}", config=local, line=2)
    # a SHELL in this file wins over the base's: bash without pipefail here, pipefail in the base
    catches("LI364", f'FROM lintimg-test/base-shell-pipefail:1\nSHELL ["/bin/bash", "-c"]{piped}', config=local, line=3)
