"""One version grammar per package manager (rules/_versions.py), each case from the manager's own docs."""
from __future__ import annotations

import pytest

from lintimg.rules._versions import apk_spec, apt_spec, gem_spec, go_spec, npm_spec, pinned, pip_spec, rpm_spec, zypper_spec
from tests.rulespec import catches, passes


@pytest.mark.parametrize("grammar,word,is_pinned", [
    # apt-get(8): pkg=version, pkg/release, a local .deb
    (apt_spec, "curl=7.88.1-10", True), (apt_spec, "curl/bookworm-backports", True), (apt_spec, "./x.deb", True),
    (apt_spec, "curl", False), (apt_spec, "curl=", False),
    # apk-world(5): name[@tag][op version], op one of = < > <= >= ~ =~ >~ <~; @tag is a repository
    (apk_spec, "curl=8.5.0-r0", True), (apk_spec, "curl>=8.5", True), (apk_spec, "curl<9", True), (apk_spec, "curl>8", True),
    (apk_spec, "curl~8.5", True), (apk_spec, "curl=~8.5", True), (apk_spec, "curl>~8.5", True), (apk_spec, "curl<~9", True),
    (apk_spec, "curl@edge", False), (apk_spec, "curl@edge=8.5.0-r0", True), (apk_spec, "./x.apk", True), (apk_spec, "curl", False),
    # rpm NEVRA and dnf(8) "Specifying packages"; dnf modules name:stream
    (rpm_spec, "httpd-2.4.6", True), (rpm_spec, "httpd-2.4.6-97.el7.x86_64", True), (rpm_spec, "tito >= 0.5", True),
    (rpm_spec, "./x.rpm", True), (rpm_spec, "httpd", False), (rpm_spec, "httpd-${V}", False),
    # zypper(8): name[op version]
    (zypper_spec, "curl=8.0.1", True), (zypper_spec, "curl>=8", True), (zypper_spec, "curl<9", True), (zypper_spec, "curl", False),
    # PEP 440 / PEP 508
    (pip_spec, "flask==3.0.0", True), (pip_spec, "flask~=3.0", True), (pip_spec, "flask===3.0.0", True),
    (pip_spec, "flask!=2.0,==3.0.0", True), (pip_spec, "flask >= 3, < 4", True), (pip_spec, "flask[async]==3.0.0", True),
    (pip_spec, "flask==3.0.0; python_version >= '3.8'", True),
    (pip_spec, "flask; python_version >= '3.8'", False),  # the >= is in the marker, not a version
    (pip_spec, "flask[async]", False), (pip_spec, "flask", False),
    (pip_spec, "flask @ https://files.example/flask-3.0.0.tar.gz", True),  # direct reference
    (pip_spec, "git+https://github.com/a/b.git@v1.0#egg=b", True), (pip_spec, "git+https://github.com/a/b.git", False),
    (pip_spec, ".", True), (pip_spec, "./pkg", True), (pip_spec, ".[deploy]", True), (pip_spec, "dist/x-1.0-py3-none-any.whl", True),
    # npm install: ranges and dist-tags after @, aliases, scoped names, git with #ref, tarballs, folders
    (npm_spec, "express@4.19.2", True), (npm_spec, "express@^4.19.0", True), (npm_spec, "express@>=4 <5", True),
    (npm_spec, "express@latest", True), (npm_spec, "@angular/cli@17.3.0", True), (npm_spec, "@angular/cli", False),
    (npm_spec, "express@npm:express@4.19.2", True), (npm_spec, "github:expressjs/express", False),
    (npm_spec, "expressjs/express#v4.19.2", True), (npm_spec, "git+https://github.com/npm/cli.git#v9.0.0", True),
    (npm_spec, "git://github.com/npm/cli.git", False), (npm_spec, "./local", True), (npm_spec, "pkg.tgz", True), (npm_spec, "express", False),
    # gem help install: NAME[:REQUIREMENT], local .gem
    (gem_spec, "rails:7.1.3", True), (gem_spec, "rails:~> 7.1", True), (gem_spec, "./x.gem", True), (gem_spec, "rails", False),
    # go help install: path@version; @latest/@upgrade/@patch are queries
    (go_spec, "example.com/tool@v1.2.3", True), (go_spec, "example.com/tool@latest", False), (go_spec, "example.com/tool@upgrade", False),
    (go_spec, "example.com/tool", False), (go_spec, "./cmd/tool", True),
])
def test_grammar(grammar, word, is_pinned):
    assert pinned(grammar, word) is is_pinned, grammar(word)


def test_gem_version_option_pins_only_a_single_gem():
    # RubyGems refuses --version with several gems, so -v pins nothing then.
    passes("LI335", "FROM ruby:3.3\nRUN gem install rails -v 7.1.3\n")
    catches("LI335", "FROM ruby:3.3\nRUN gem install grpc -v 1.2 blunder\n", message="grpc, blunder")
    catches("LI335", "FROM ruby:3.3\nRUN gem install rails:7.1.3 rake\n", message="rake")
    passes("LI335", "FROM ruby:3.3\nRUN gem install 'rails:~> 7.1' 'rake:13.1.0'\n")
    passes("LI335", "FROM ruby:3.3\nRUN gem install bundler:2.0.1 -- --use-system-libraries=true\n")  # after -- : build flags


def test_variables_are_judged_with_what_the_command_sees():
    # ARG in scope with a value: expanded; an ARG of another stage is not in scope (alpine sets only PATH): empty
    passes("LI310", "FROM alpine:3.19\nARG V=8.5.0-r0\nRUN apk add --no-cache curl=$V\n")
    catches("LI310", "FROM alpine:3.19 AS a\nARG V=8.5.0-r0\nFROM alpine:3.19\nRUN apk add --no-cache curl=$V\n")
    # an ARG without a default is filled in by --build-arg; a base image that may set it leaves it as written
    passes("LI310", "FROM alpine:3.19\nARG V\nRUN apk add --no-cache curl=$V\n")
    passes("LI310", "FROM nginx:1.25-alpine\nRUN apk add --no-cache nginx-mod-http-geoip=${NGINX_VERSION}-r1\n")
    passes("LI310", "FROM alpine:3.19\nRUN V=8.5.0-r0 && apk add --no-cache curl=$V\n".replace("V=8.5.0-r0 &&", "export V=8.5.0-r0 &&"))
