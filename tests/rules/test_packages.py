"""Package-manager rules LI300–LI338, written from what each rule means."""
from __future__ import annotations

import pytest

from lintimg.shell import parse_script
from tests.rulespec import catches, passes

F = "FROM debian:12\n"


# ---- the shared vocabulary these rules stand on


def test_without_flags_drops_flag_and_its_value():
    cmd = parse_script("apt-get -t bookworm-backports install --target-release=x -y curl").commands[0]
    assert cmd.without_flags("t", "target-release").argv == ["apt-get", "install", "-y", "curl"]


def test_flag_count_counts_clustered_flags():
    cmd = parse_script("apt-get -qq install -q curl").commands[0]
    assert cmd.flag_count("q") == 3


def test_after_and_before_split_a_script_at_a_command():
    s = parse_script("a && b; c | d")
    b = s.commands[1]
    assert [c.name for c in s.before(b)] == ["a"]
    assert [c.name for c in s.after(b)] == ["c", "d"]


# ---- apt


def test_apt_get_pin_versions():
    catches("LI300", F + "RUN apt-get install -y curl=7.88 git\n", line=2, message="git")
    passes("LI300", F + "RUN apt-get install -y curl=7.88 git/bookworm ./local.deb\n")
    # the value of -t is a release, not a package
    passes("LI300", F + "RUN apt-get -t bookworm-backports install -y curl=7.88\n")


def test_apt_lists_not_removed():
    catches("LI301", F + "RUN apt-get update && apt-get install -y curl=7.88\n", line=2)
    passes("LI301", F + "RUN apt-get update && apt-get install -y curl=7.88 && rm -rf /var/lib/apt/lists/*\n")
    # removing the lists before updating does not help
    catches("LI301", F + "RUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y curl=7.88\n")
    passes("LI301", "FROM debian:13\nRUN apt-get update && apt-get install -y curl=8.14 && apt-get distclean\n")
    passes("LI301", F + "RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update\n")


def test_apt_lists_only_matter_in_stages_that_reach_the_image():
    passes("LI301", "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc=12\nFROM scratch\nCOPY --from=build /x /x\n")
    catches("LI301", "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y gcc=12\nFROM base\n", line=2)


def test_apt_get_missing_yes():
    catches("LI302", F + "RUN apt-get install curl\n", line=2)
    for ok in ("-y", "--yes", "--assume-yes", "-qq", "-q -q", "-fmy"):
        passes("LI302", F + f"RUN apt-get install {ok} curl\n")


def test_apt_get_install_recommends():
    catches("LI303", F + "RUN apt-get install -y curl\n")
    passes("LI303", F + "RUN apt-get install -y --no-install-recommends curl\n")
    passes("LI303", F + "RUN apt-get install -y -o APT::Install-Recommends=false curl\n")


def test_apt_in_scripts():
    catches("LI304", F + "RUN apt install -y curl\n", line=2)
    passes("LI304", F + "RUN apt-get install -y curl && apt-cache policy curl\n")


def test_package_update_alone():
    catches("LI305", F + "RUN apt-get update\nRUN apt-get install -y curl\n", line=2, count=1)
    catches("LI305", "FROM alpine:3.19\nRUN apk update\n")
    catches("LI305", "FROM fedora:40\nRUN dnf update -y\n")
    passes("LI305", F + "RUN apt-get update && apt-get install -y curl\n")
    passes("LI305", F + "RUN apt-get update && apt-get upgrade -y\n")
    passes("LI305", "FROM fedora:40\nRUN dnf update -y && dnf install -y make-4.4\n")


def test_apt_dist_upgrade():
    catches("LI306", F + "RUN apt-get update && apt-get -q dist-upgrade -y\n")
    catches("LI306", F + "RUN apt-get update && apt-get full-upgrade -y\n")
    passes("LI306", F + "RUN apt-get update && apt-get upgrade -y\n")


@pytest.mark.parametrize("rule_id,tool,flag", [
    ("LI307", "apt-get", "--allow-unauthenticated"),
    ("LI308", "apt-get", "--force-yes"),
    ("LI312", "apk", "--allow-untrusted"),
    ("LI326", "dnf", "--nogpgcheck"),
    ("LI326", "tdnf", "--nogpgcheck"),
])
def test_signature_switches(rule_id, tool, flag):
    sub = "add" if tool == "apk" else "install"
    catches(rule_id, F + f"RUN {tool} {sub} -y {flag} python3\n", message=flag.lstrip("-"))
    catches(rule_id, F + f"RUN {tool} {flag} {sub} -y python3\n")
    passes(rule_id, F + f"RUN {tool} {sub} -y python3\n")
    # the text of the switch as data is not the switch
    passes(rule_id, F + f"RUN {tool} {sub} -y python3 && echo '{flag}'\n")


def test_rpm_signature_check_off():
    for flag in ("--nodigest", "--nosignature", "--noverify", "--nofiledigest"):
        catches("LI327", F + f"RUN rpm -i {flag} tool.rpm\n")
    passes("LI327", F + "RUN rpm -i tool.rpm && rpm -V tool\n")


# ---- apk


def test_apk_pin_versions():
    catches("LI310", "FROM alpine:3.19\nRUN apk add --no-cache curl git=2.43.0-r0\n", message="curl")
    passes("LI310", "FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0 git~2.43 ./local.apk\n")
    # the name given to --virtual is not a package
    passes("LI310", "FROM alpine:3.19\nRUN apk add --no-cache --virtual .build gcc=13.2.1-r0\n")


def test_apk_add_cache():
    catches("LI311", "FROM alpine:3.19\nRUN apk add curl=8.5.0-r0\n")
    passes("LI311", "FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0\n")
    passes("LI311", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/apk apk add curl=8.5.0-r0\n")
    catches("LI311", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/other apk add curl=8.5.0-r0\n")


# ---- yum / dnf / microdnf / zypper


@pytest.mark.parametrize("rule_id,tool", [("LI315", "yum"), ("LI318", "dnf"), ("LI318", "microdnf")])
def test_rpm_family_missing_yes(rule_id, tool):
    catches(rule_id, f"FROM fedora:40\nRUN {tool} install httpd-2.4.58 && {tool} clean all\n")
    passes(rule_id, f"FROM fedora:40\nRUN {tool} install -y httpd-2.4.58 && {tool} clean all\n")
    passes(rule_id, f"FROM fedora:40\nRUN {tool} --assumeyes install httpd-2.4.58 && {tool} clean all\n")


@pytest.mark.parametrize("rule_id,tool,clean", [
    ("LI316", "yum", "yum clean all"),
    ("LI319", "dnf", "dnf clean all"),
    ("LI321", "microdnf", "microdnf clean all"),
    ("LI324", "zypper", "zypper clean"),
])
def test_cache_cleaned_after_install(rule_id, tool, clean):
    catches(rule_id, f"FROM fedora:40\nRUN {tool} install -y httpd=2.4.58\n", line=2)
    passes(rule_id, f"FROM fedora:40\nRUN {tool} install -y httpd=2.4.58 && {clean}\n")
    # cleaning before installing leaves the install's cache
    catches(rule_id, f"FROM fedora:40\nRUN {clean} && {tool} install -y httpd=2.4.58\n")


def test_dnf_cache_mount_counts_as_clean():
    passes("LI319", "FROM fedora:40\nRUN --mount=type=cache,target=/var/cache/libdnf5 dnf install -y httpd-2.4.58\n")


def test_yum_and_dnf_pin_versions():
    catches("LI317", "FROM centos:7\nRUN yum install -y httpd && yum clean all\n", message="httpd")
    passes("LI317", "FROM centos:7\nRUN yum install -y httpd-2.4.6 ./x.rpm && yum clean all\n")
    catches("LI320", "FROM fedora:40\nRUN dnf install -y rpm-sign && dnf clean all\n", message="rpm-sign")
    passes("LI320", "FROM fedora:40\nRUN dnf install -y openssl-1:3.1.1 && dnf clean all\n")
    # a version held in an ENV of the same stage counts
    passes("LI320", "FROM fedora:40\nENV V=2.45.0-1.fc40\nRUN dnf install -y git-core-${V} && dnf clean all\n")


def test_zypper_rules():
    catches("LI322", "FROM opensuse/leap:15\nRUN zypper install httpd=2.4 && zypper clean\n")
    passes("LI322", "FROM opensuse/leap:15\nRUN zypper -n install httpd=2.4 && zypper clean\n")
    catches("LI323", "FROM opensuse/leap:15\nRUN zypper dup -y\n")
    passes("LI323", "FROM opensuse/leap:15\nRUN zypper up -y httpd=2.4 && zypper clean\n")
    catches("LI325", "FROM opensuse/leap:15\nRUN zypper install -y tomcat && zypper clean\n")
    passes("LI325", "FROM opensuse/leap:15\nRUN zypper install -y 'tomcat>=9.0' && zypper clean\n")


# ---- language package managers


def test_pip_pin_versions():
    catches("LI330", F + "RUN pip install --no-cache-dir requests\n", message="requests")
    catches("LI330", F + "RUN python3 -m pip install --no-cache-dir requests\n")
    catches("LI330", F + "RUN pip install --no-cache-dir git+https://github.com/x/y.git\n")
    passes("LI330", F + "RUN pip install --no-cache-dir 'requests>=2.31' git+https://github.com/x/y.git@v1.0 ./pkg -r req.txt\n")
    # the index URL is the value of a flag, not a package
    passes("LI330", F + "RUN pip install --no-cache-dir --index-url https://mirror/simple requests==2.32.3\n")


def test_pip_cache_dir():
    catches("LI331", F + "RUN pip install requests==2.32.3\n")
    passes("LI331", F + "RUN pip install --no-cache-dir requests==2.32.3\n")
    passes("LI331", F + "ENV PIP_NO_CACHE_DIR=1\nRUN pip install requests==2.32.3\n")
    passes("LI331", F + "RUN export PIP_NO_CACHE_DIR=yes && pip install requests==2.32.3\n")
    passes("LI331", F + "RUN export PIP_NO_CACHE_DIR='true'; pip install requests==2.32.3\n")
    # a prefix of an earlier command does not reach this one
    catches("LI331", F + "RUN PIP_NO_CACHE_DIR=1 true && pip install requests==2.32.3\n")
    catches("LI331", F + "RUN PIP_NO_CACHE_DIR=false pip install requests==2.32.3\n")


def test_npm_pin_versions():
    catches("LI333", F + "RUN npm install -g express sax@1.2.4\n", message="express")
    passes("LI333", F + "RUN npm install -g express@4.19.2 @org/pkg@1.0.0 ./local.tgz\n")
    passes("LI333", F + "RUN npm install && npm ci\n")
    catches("LI333", F + "RUN npm install --registry https://r.example.com express\n", message="express")


def test_gem_pin_versions():
    catches("LI335", F + "RUN gem install bundler\n")
    passes("LI335", F + "RUN gem install bundler:2.5.11\n")
    passes("LI335", F + "RUN gem install bundler -v 2.5.11\n")


def test_go_install_version():
    catches("LI336", F + "RUN go install golang.org/x/tools/gopls@latest\n")
    catches("LI336", F + "RUN go get example.com/pkg\n")
    passes("LI336", F + "RUN go install golang.org/x/tools/gopls@v0.16.1\n")
    passes("LI336", F + "RUN go install ./cmd/... && go run . --flag value\n")


def test_yarn_cache_clean():
    catches("LI337", "FROM node:20\nRUN yarn install --frozen-lockfile\n")
    passes("LI337", "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n")
    passes("LI337", "FROM node:20 AS deps\nRUN yarn install\nFROM node:20-slim\nCOPY --from=deps /app /app\n")


def test_nothing_pinned():
    text = F + "RUN apt-get update && apt-get install -y curl git\nRUN pip install --no-cache-dir flask\n"
    catches("LI338", text, count=1, line=2)
    passes("LI338", F + "RUN apt-get install -y curl=7.88 git\nRUN pip install --no-cache-dir flask\n")
    passes("LI338", F + "RUN apt-get install -y curl\nRUN pip install --no-cache-dir -r requirements.txt\n")
    passes("LI338", F + "RUN echo no installs here\n")


def test_package_cache_mount_is_off_by_default_and_suggests_a_mount():
    text = F + "RUN apt-get update && apt-get install -y curl=7.88 && rm -rf /var/lib/apt/lists/*\n"
    passes("LI339", text)
    on = {"rules": {"LI339": "on"}}
    catches("LI339", text, config=on, message="/var/cache/apt")
    catches("LI339", "FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0\n", config=on)
    # the cache is kept (nothing to reuse is thrown away) or already mounted
    passes("LI339", F + "RUN apt-get update && apt-get install -y curl=7.88\n", config=on)
    passes("LI339", F + "RUN --mount=type=cache,target=/var/cache/apt apt-get install -y curl=7.88 && apt-get clean\n", config=on)
