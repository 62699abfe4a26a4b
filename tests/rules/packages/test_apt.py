"""Package-manager rules of rules/packages/apt.py, written from what each rule means."""
from __future__ import annotations

import pytest

from tests.rulespec import catches, passes, signature_switch, stage_scope

F = "FROM debian:12\n"


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


def test_apt_get_missing_yes():
    catches("LI302", F + "RUN apt-get install curl\n", line=2)
    for ok in ("-y", "--yes", "--assume-yes", "-qq", "-q -q", "-fmy"):
        passes("LI302", F + f"RUN apt-get install {ok} curl\n")


def test_apt_get_install_recommends():
    catches("LI303", F + "RUN apt-get install -y curl\n")
    passes("LI303", F + "RUN apt-get install -y --no-install-recommends curl\n")
    passes("LI303", F + "RUN apt-get install -y -o APT::Install-Recommends=false curl\n")


# apt-get(8): -y is the configuration item APT::Get::Assume-Yes, and -o/--option sets any item;
# apt.conf(5): /etc/apt/apt.conf.d/* and /etc/apt/apt.conf hold `Item "value";` lines, read before -o;
# item names ignore case; booleans are yes/true/with/on/enable or no/false/without/off/disable, or a number.
YES_CONF = "RUN echo 'APT::Get::Assume-Yes \"true\";' > /etc/apt/apt.conf.d/90yes\n"


def test_apt_options_on_the_command_line():
    for ok in ("-o APT::Get::Assume-Yes=true", "--option=APT::Get::Assume-Yes=1", "-oapt::get::assume-yes=yes"):
        passes("LI302", F + f"RUN apt-get {ok} install curl\n")
    catches("LI302", F + "RUN apt-get -o APT::Get::Assume-Yes=false install curl\n")
    catches("LI302", F + "RUN apt-get -o APT::Get::Assume-Yes install curl\n")  # no value: sets nothing
    for off in ("0", "no", "off", "False"):
        passes("LI303", F + f"RUN apt-get install -y -o APT::Install-Recommends={off} curl\n")
    catches("LI303", F + "RUN apt-get install -y -o APT::Install-Recommends=1 curl\n")


def test_apt_configuration_files_written_earlier():
    passes("LI302", F + YES_CONF + "RUN apt-get install curl\n")
    passes("LI302", F + "RUN printf 'APT::Get::Assume-Yes \"1\";\\n' | tee -a /etc/apt/apt.conf\nRUN apt-get install curl\n")
    passes("LI302", F + "RUN cat > /etc/apt/apt.conf.d/90yes <<EOF\nAPT::Get::Assume-Yes \"true\";\nEOF\nRUN apt-get install curl\n")
    # a stage built FROM the one that wrote it reads the same file
    passes("LI302", "FROM debian:12 AS base\n" + YES_CONF + "FROM base\nRUN apt-get install curl\n")
    # the command line comes after the files: its value wins
    catches("LI302", F + YES_CONF + "RUN apt-get -o APT::Get::Assume-Yes=false install curl\n")
    # written later, elsewhere, or not into apt's configuration: apt-get still asks
    catches("LI302", F + "RUN apt-get install curl\n" + YES_CONF, line=2)
    catches("LI302", "FROM debian:12 AS other\n" + YES_CONF + "FROM debian:12\nRUN apt-get install curl\n")
    catches("LI302", F + "RUN echo 'APT::Get::Assume-Yes \"true\";'\nRUN apt-get install curl\n")
    catches("LI302", F + "RUN echo 'APT::Get::Assume-Yes \"false\";' > /etc/apt/apt.conf.d/90no\nRUN apt-get install curl\n")
    # an ONBUILD trigger runs in another build, where this file may not exist
    catches("LI302", F + YES_CONF + "ONBUILD RUN apt-get install curl\n")
    passes("LI303", F + "RUN echo 'APT::Install-Recommends \"0\";' >> /etc/apt/apt.conf.d/01norecommends\nRUN apt-get install -y curl\n")
    catches("LI303", F + "RUN echo 'APT::Install-Recommends \"true\";' > /etc/apt/apt.conf\nRUN apt-get install -y curl\n")


def test_apt_in_scripts():
    catches("LI304", F + "RUN apt install -y curl\n", line=2)
    passes("LI304", F + "RUN apt-get install -y curl && apt-cache policy curl\n")


def test_package_update_alone():
    # A later install from the index refreshed in an earlier layer is reported where it installs.
    catches("LI305", F + "RUN apt-get update\nRUN apt-get install -y curl\n", line=3, count=1, message="line 2")
    catches("LI305", "FROM alpine:3.19\nRUN apk update\nRUN apk add --no-cache curl\n", line=3, count=1)
    # pacman(8): -Sy alone refreshes the sync database; -Syu alone upgrades, and a later -S installs from that database.
    catches("LI305", "FROM archlinux:base\nRUN pacman -Sy\nRUN pacman -S --noconfirm nginx\n", line=3, count=1)
    catches("LI305", "FROM archlinux:base\nRUN pacman -Syu --noconfirm\nRUN pacman -S --noconfirm nginx\n", line=3, count=1)
    passes("LI305", "FROM archlinux:base\nRUN pacman -Syu --noconfirm nginx\n")
    passes("LI305", "FROM archlinux:base\nRUN pacman -Syu --noconfirm\n")
    passes("LI305", "FROM archlinux:base\nRUN pacman -Ss nginx\n")
    # An upgrade-everything RUN is only reported through a later install; another stage starts afresh.
    catches("LI305", F + "RUN apt-get update && apt-get upgrade -y\nRUN apt-get install -y curl\n", line=3)
    passes("LI305", F + "RUN apt-get update && apt-get upgrade -y\nFROM debian:12\nRUN apt-get install -y curl\n")
    # A lone refresh with nothing installed after it stays where it is, exec form and wrappers included.
    catches("LI305", F + 'RUN ["apt-get", "update"]\n', line=2)
    catches("LI305", F + "RUN nice -n 10 apt-get update\n", line=2)
    catches("LI305", F + "RUN apt-get update\nRUN apt-get install -y a\nRUN apk update\n", count=2)
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
])
def test_signature_switches(rule_id, tool, flag):
    signature_switch(rule_id, tool, flag)


def test_apt_lists_in_a_cache_mount():
    # the lists directory itself, or both apt directories, in a cache mount keep the lists out of the layer
    passes("LI301", F + "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y curl\n")
    passes("LI301", F + "RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update\n")
    catches("LI301", F + "RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl\n")


def test_wrappers_and_exec_form_reach_the_manager():
    catches("LI300", F + "RUN nice -n 10 apt-get install -y --no-install-recommends curl\n")
    catches("LI300", F + "RUN sudo -u root apt-get install -y --no-install-recommends curl\n")
    catches("LI302", F + 'RUN ["sudo", "apt-get", "install", "curl=7.88.1-10"]\n')
    passes("LI300", F + "RUN apt-get install -y -o Dpkg::Options::=--force-confold -t bookworm curl=7.88.1-10\n")


def test_stage_scope():
    # caches and recommends are about the image; a prompt or an unpinned package is about the build
    stage_scope("LI301", "RUN apt-get update && apt-get install -y --no-install-recommends curl=8.5", shipped_only=True)
    stage_scope("LI303", "RUN apt-get install -y curl=8.5", shipped_only=True)
    stage_scope("LI302", "RUN apt-get install --no-install-recommends curl=8.5", shipped_only=False)
    stage_scope("LI300", "RUN apt-get install -y --no-install-recommends curl", shipped_only=False)
