"""Package-manager rules of rules/packages/rpm.py, written from what each rule means."""
from __future__ import annotations

import pytest

from tests.rulespec import catches, passes, signature_switch, stage_scope

F = "FROM debian:12\n"


def test_rpm_signature_check_off():
    for flag in ("--nodigest", "--nosignature", "--noverify", "--nofiledigest"):
        catches("LI327", F + f"RUN rpm -i {flag} tool.rpm\n")
    passes("LI327", F + "RUN rpm -i tool.rpm && rpm -V tool\n")


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


@pytest.mark.parametrize("rule_id,tool,flag", [
    ("LI326", "dnf", "--nogpgcheck"),
    ("LI326", "tdnf", "--nogpgcheck"),
])
def test_signature_switches(rule_id, tool, flag):
    signature_switch(rule_id, tool, flag)


def test_stage_scope():
    for rule_id, body in (("LI316", "RUN yum install -y httpd-2.4.6"), ("LI319", "RUN dnf install -y httpd-2.4.6"),
                          ("LI321", "RUN microdnf install -y nginx-1.20.1"), ("LI324", "RUN zypper install -y mariadb=10.4")):
        stage_scope(rule_id, body, shipped_only=True, base="fedora:40")
    # zypper, yum and dnf stop at a prompt in any stage that is built, a builder stage included
    for rule_id, body in (("LI315", "RUN yum install httpd-2.4.6 && yum clean all"), ("LI318", "RUN dnf install httpd-2.4.6 && dnf clean all"),
                          ("LI322", "RUN zypper install httpd=2.4 && zypper clean"), ("LI317", "RUN yum install -y httpd && yum clean all")):
        stage_scope(rule_id, body, shipped_only=False, base="fedora:40")
