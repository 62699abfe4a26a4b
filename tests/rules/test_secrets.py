"""LI5xx secret rules, written from each rule's meaning (peer oracle cases are measured separately)."""
from __future__ import annotations

import pytest

from tests.rulespec import catches, passes

GHP = "ghp_" + "Zx81Kq2Lm9Np3Rt7Vw4Yb6Cd0Ef5Gh1Jk2Lm3N"[:36]
AWS_ID = "AKIA" + "QX7Z2M4K9R3T6W8Y"


# LI500 secret-in-arg-or-env -------------------------------------------------

@pytest.mark.parametrize("decl", ["ARG GITHUB_TOKEN", "ENV DB_PASSWORD=x", "ARG openai_api_key", "ENV PGPASSWORD=x",
                                  "ARG ARTIFACTORY_PSW", "ENV app.secret=x", "ARG npm-auth"])
def test_li500_catches_secret_names(decl):
    catches("LI500", f"FROM alpine:3.20\n{decl}\n", line=2)


@pytest.mark.parametrize("decl", ["ENV PUBLIC_KEY=x", "ARG KEY_FILE", "ENV TOKENIZERS_PARALLELISM=false", "ENV GPG_KEY=ABCDEF",
                                  "ARG NODE_VERSION=20", "ENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json",
                                  "ENV MONKEY=banana", "ARG SSL_KEY_PATH=/etc/ssl/k.pem", "ENV OS_AUTH_URL=https://keystone:5000",
                                  "ENV DHPARAM_KEY_SIZE=2048"])
def test_li500_passes_public_or_reference_names(decl):
    passes("LI500", f"FROM alpine:3.20\n{decl}\n")


def test_li500_global_arg_and_every_pair():
    catches("LI500", "ARG AWS_SECRET_ACCESS_KEY\nFROM alpine:3.20\n", line=1)
    catches("LI500", "FROM alpine:3.20\nENV A=1 API_TOKEN=2 B=3\n", count=1, message="API_TOKEN")


def test_li500_honours_hadolint_pragma():
    passes("LI500", "FROM alpine:3.20\n# hadolint ignore=DL3064\nARG GITHUB_TOKEN\n")


# LI501 secret-file-copied-into-image -----------------------------------------

def test_li501_env_under_copy_destination():
    catches("LI501", "FROM python:3.12\nCOPY src /app/\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\n", line=3, message="line 2")
    catches("LI501", "FROM python:3.12\nCOPY . .\nARG AWS_CONFIG_FILE=./aws/config\n", line=3)


def test_li501_copy_to_the_variable():
    catches("LI501", "FROM python:3.12\nCOPY ./config ${AWS_CONFIG_FILE}\n", line=2)


def test_li501_passes_when_not_copied_or_not_final():
    passes("LI501", "FROM python:3.12\nENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json\n")
    passes("LI501", "FROM python:3.12\nCOPY src /src\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\n")
    passes("LI501", "FROM python:3.12 AS build\nCOPY . /app\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\nFROM python:3.12\nCOPY --from=build /app/dist /dist\n")


# LI502 cloud-credentials-in-run -----------------------------------------------

@pytest.mark.parametrize("cmd", [
    'aws configure set aws_secret_access_key "$KEY"',
    "gcloud auth activate-service-account --key-file=/tmp/k.json",
    "az login --service-principal -u app -p \"$PW\" --tenant t",
    "doctl auth init -t $DO_TOKEN",
])
def test_li502_catches_cli_logins(cmd):
    catches("LI502", f"FROM alpine:3.20\nRUN apk add --no-cache curl && \\\n    {cmd}\n", line=3)


def test_li502_passes_with_secret_mount_or_harmless_commands():
    passes("LI502", "FROM alpine:3.20\nRUN --mount=type=secret,id=aws aws configure set aws_secret_access_key $(cat /run/secrets/aws)\n")
    passes("LI502", "FROM alpine:3.20\nRUN aws configure set region eu-west-1 && az login --identity && gcloud auth list\n")


# LI503 secret-in-dockerfile ---------------------------------------------------

def test_li503_value_in_env_run_heredoc_label():
    got = catches("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", line=2, message="GitHub token")
    assert GHP not in got[0].message and GHP[:4] in got[0].message
    assert got[0].location.column == 11  # at the value, so excerpts keep the name and hide the value
    catches("LI503", f"FROM alpine:3.20\nRUN <<EOF\nexport K={AWS_ID}\nEOF\n", line=3, message="AWS access key id")
    catches("LI503", "FROM alpine:3.20\nRUN git clone https://ci:Xr7pQ2wL9zK4@git.acme-corp.com/r.git\n", line=2, message="password in a URL")
    catches("LI503", 'FROM alpine:3.20\nLABEL signing_key="Zq8X2mP9vL4nR7tK1wY6bH3cJ5dF0gS8aE2uI"\n', line=2, message="secret-named value")
    catches("LI503", "FROM alpine:3.20\nENV DB_PASSWORD Zq8X2mP9vL4nR7tK1wY6b\n", line=2)


def test_li503_passes_references_placeholders_pragmas_and_allowlist():
    passes("LI503", "FROM alpine:3.20\nARG GITHUB_TOKEN\nRUN --mount=type=secret,id=t GITHUB_TOKEN=$(cat /run/secrets/t) make\n")
    passes("LI503", 'FROM alpine:3.20\nENV PASSWORD="${DB_PASSWORD}"\n')
    passes("LI503", "FROM alpine:3.20\nENV API_KEY=<your-api-key-here>\nLABEL maintainer=ops@example.com authors=team\n")
    passes("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}  # pragma: allowlist secret\n")
    passes("LI503", f"FROM alpine:3.20\n# pragma: allowlist nextline secret\nENV TOKEN={GHP}\n")
    fp = catches("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n")[0].key
    passes("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", config={"secrets": {"allowlist": [fp]}})
    passes("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", config={"secrets": {"allowlist": ["^ghp_"]}})
    # a detector turned off: the generic one still sees a secret-named value; off too, nothing
    catches("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", config={"secrets": {"detectors": {"github-token": "off"}}}, message="secret-named value")
    passes("LI503", f"FROM alpine:3.20\nENV TOKEN={GHP}\n", config={"secrets": {"detectors": {"github-token": "off", "generic-assignment": "off"}}})


def test_li503_checksums_are_not_secrets():
    sha = "e3f745a645fa7a4bf6629914b967e24e1522f65ea17c07d9d16d8d2223fc03c5"
    passes("LI503", f"FROM alpine:3.20\nENV H2O_SHA256 {sha}\nRUN echo \"{sha}  h2o.tgz\" | sha256sum -c -\n")
    passes("LI503", f"FROM php:8\nENV PHP_SHA256={sha} PHP_ASC_URL=https://www.php.net/x.asc GPG_KEYS=1198C0117593497A5EC5C199286AF1F9897469DC\n")
    passes("LI503", f"FROM golang:1.22\nARG GO_CHECKSUM={sha}\nRUN curl -fsSLO https://go.dev/dl/go.tgz && echo \"$GO_CHECKSUM go.tgz\" | sha256sum -c\n")


def test_li503_unquoted_shell_assignments_and_sudoers():
    catches("LI503", 'FROM alpine:3.20\nRUN echo "aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYzz12kXq9aB3d" > /root/.aws/credentials\n', line=2)
    passes("LI503", "FROM alpine:3.20\nRUN echo 'app ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers\n")


def test_li503_one_finding_per_env_value():
    catches("LI503", "FROM alpine:3.20\nENV A=1 \\\n    DB_PASSWORD=s3cr3tHunter2xQ9zLk \\\n    B=2\n", line=3, count=1)


def test_li503_prose_in_comments_and_placeholder_answers_are_not_secrets():
    # the gold set's false alarms: a commented /etc/passwd line, debconf's 'unused' answer while a package installs
    passes("LI503", "FROM alpine:3.10\n#   /etc/passwd:22:postgres:x:70:70::/var/lib/postgresql:/bin/sh\nRUN true\n")
    debconf = "FROM debian:12\nRUN {{ \\\n  echo \"mariadb-server-$V\" mysql-server/root_password password '{}'; \\\n  }} | debconf-set-selections\n"
    passes("LI503", debconf.format("unused"))
    # a known token format still counts in a comment
    catches("LI503", f"FROM alpine:3.20\n# token {GHP}\nRUN true\n", line=2, message="GitHub token")


# LI550 / LI551 on images built in Python -----------------------------------------


# A real image: secrets in a file deleted later, in ENV, and in a build arg -----
