"""Download, ADD, TLS-switch and secret-mount rules LI340–LI354, written from what each rule means."""
from __future__ import annotations

import pytest

from tests.rulespec import catches, lint, passes, stage_scope

F = "FROM debian:12\n"


def test_wget_and_curl():
    catches("LI340", F + "RUN wget -q https://x/a\nRUN curl -fsSLO https://x/b\n", line=3, count=1)
    passes("LI340", F + "RUN curl -fsSLO https://x/a\nRUN curl -fsSLO https://x/b\n")
    # one tool per stage is fine even if stages differ
    passes("LI340", "FROM alpine:3.19\nRUN wget -q https://x/a\nFROM debian:12\nRUN curl -fsSLO https://x/b\n")


def test_wget_progress():
    catches("LI341", F + "RUN wget https://x/a.tgz\n")
    for ok in ("-q", "--progress=dot:giga", "-nv", "-o /tmp/log"):
        passes("LI341", F + f"RUN wget {ok} https://x/a.tgz\n")


def test_curl_insecure():
    catches("LI342", F + "RUN curl -Lkv https://x\n")
    catches("LI342", F + "RUN curl --insecure https://x\n")
    passes("LI342", F + "RUN curl -fsSL https://x | grep -k y\n")


def test_wget_no_check_certificate():
    catches("LI343", F + "RUN wget -q --no-check-certificate https://x\n")
    passes("LI343", F + "RUN wget -q https://x && echo --no-check-certificate\n")


@pytest.mark.parametrize("rule_id,name,bad,good", [
    ("LI344", "GIT_SSL_NO_VERIFY", "0", None),  # git ignores the value: set is off
    ("LI345", "PIP_TRUSTED_HOST", "pypi.org", None),
    ("LI346", "NPM_CONFIG_STRICT_SSL", "false", "true"),
    ("LI346", "npm_config_strict_ssl", "false", "true"),
    ("LI347", "NODE_TLS_REJECT_UNAUTHORIZED", "0", "1"),
    ("LI348", "PYTHONHTTPSVERIFY", "0", "1"),
])
def test_tls_environment_switches(rule_id, name, bad, good):
    catches(rule_id, F + f"ENV {name}={bad}\n", line=2)
    catches(rule_id, F + f"ARG {name}='{bad}'\n", line=2)
    catches(rule_id, F + f"RUN {name}={bad} make\n", line=2)
    catches(rule_id, F + f"RUN echo hi && export {name}={bad} && make\n")
    catches(rule_id, F + f'RUN export A=1 {name}="{bad}" && make\n')
    if good is not None:
        passes(rule_id, F + f"ENV {name}={good}\nRUN {name}={good} make\n")
    # a longer name that merely contains it is something else
    passes(rule_id, F + f"ENV X{name}={bad}\nRUN {name}X={bad} make\n")


def test_tls_switch_in_tool_config():
    catches("LI344", F + "RUN git config --global http.sslVerify false\n")
    catches("LI345", F + "RUN pip install --trusted-host pypi.org requests==2.32.3\n")
    catches("LI346", F + "RUN npm config set strict-ssl false\n")
    catches("LI346", F + "RUN yarn config set strict-ssl=false\n")
    passes("LI346", F + "RUN npm config set strict-ssl true || false\nRUN npm install strict-ssl@1.0.0\n")


def test_yum_sslverify_off():
    catches("LI349", "FROM centos:7\nRUN yum-config-manager --save --setopt=epel.sslverify=0\n")
    catches("LI349", "FROM fedora:40\nRUN dnf config-manager --save --setopt=sslverify=false\n")
    passes("LI349", "FROM centos:7\nRUN yum-config-manager --save --setopt=sslverify=1 --setopt=notsslverifyx=0\n")


def test_add_instead_of_copy():
    catches("LI350", F + "ADD app.jar /opt/app/\n", line=2, message="app.jar")
    passes("LI350", F + "ADD app.tar.gz /opt/app/\nADD https://x/a.txt /a.txt\nCOPY app.jar /opt/\n")
    # an archive added under a file name ADD would make a folder of
    catches("LI350", F + "ADD app.tar.gz app.jar\n")


def test_add_remote_url():
    catches("LI351", F + "ADD https://example.com/tool.tgz /opt/\n", message="tool.tgz")
    passes("LI351", F + "ADD --checksum=sha256:0123abcd https://example.com/tool.tgz /opt/\nADD local.tgz /opt/\n")


def test_copy_archive_then_extract():
    catches("LI352", F + "COPY app.tar.gz /usr/src/\nRUN tar -xzf /usr/src/app.tar.gz -C /usr/src\n", line=2)
    passes("LI352", F + "COPY app.tar.gz /usr/src/\nRUN tar -czf /out.tgz /usr/src\n")
    passes("LI352", F + "COPY app.tar.gz /usr/src/\nFROM debian:12\nRUN tar -xzf /usr/src/app.tar.gz\n")


def test_pipe_download_to_shell():
    catches("LI353", F + "RUN curl -fsSL https://x/install.sh | sh\n", line=2)
    catches("LI353", F + "RUN wget -qO- https://x/install.sh | tee /tmp/log | sudo bash -s -- --yes\n")
    catches("LI353", F + 'RUN sh -c "$(curl -fsSL https://x/install.sh)"\n')
    passes("LI353", F + "RUN curl -fsSL https://x/data.json | python3 -c 'import json,sys; json.load(sys.stdin)'\n")
    passes("LI353", F + "RUN curl -fsSLo /tmp/i.sh https://x/i.sh && sha256sum -c sums && sh /tmp/i.sh\n")
    passes("LI353", F + "RUN curl -fsSL https://x/a.tgz | tar xz\n")


def test_secret_mount_leaked():
    catches("LI354", F + "RUN --mount=type=secret,id=npmrc cp /run/secrets/npmrc /root/.npmrc && npm ci\n", message="/run/secrets/npmrc")
    catches("LI354", F + "RUN --mount=type=secret,id=tok,target=/tmp/tok cat /tmp/tok > /app/token\n")
    passes("LI354", F + "RUN --mount=type=secret,id=tok TOKEN=$(cat /run/secrets/tok) ./login\n")
    passes("LI354", F + "RUN --mount=type=secret,id=tok cat /run/secrets/tok | docker login --password-stdin\n")
    # the same commands without a secret mount are someone else's business
    passes("LI354", F + "RUN cp /run/secrets/npmrc /root/.npmrc\n")


def test_env_switch_finding_points_at_the_variable():
    got = [f for f in lint(F + "ENV NODE_TLS_REJECT_UNAUTHORIZED=0\n") if f.rule_id == "LI347"]
    assert got and got[0].location.column == 5


def test_copied_archive_extracted_with_windows_paths():
    # with `# escape=`` the backslash is a path separator, as on the Windows images that use it
    catches("LI352", "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY app.tar.gz C:\\temp\\\nRUN tar -xf C:\\temp\\app.tar.gz\n", line=3)
    catches("LI352", "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN [\"tar\", \"-xzf\", \"/tmp/app.tar.gz\"]\n", line=2)
    passes("LI352", "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN tar -tzf /tmp/app.tar.gz\n")


def test_stage_scope():
    stage_scope("LI340", "RUN wget -q https://example.com/a.tgz\nRUN curl -fsSLO https://example.com/b.tgz", shipped_only=True)
    stage_scope("LI352", "COPY app.tar.gz /src/\nRUN tar -xzf /src/app.tar.gz -C /src", shipped_only=True, onbuild=False)
