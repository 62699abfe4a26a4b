"""Package-manager rules of rules/packages/languages.py, written from what each rule means."""
from __future__ import annotations

from tests.rulespec import catches, passes, stage_scope

F = "FROM debian:12\n"


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


def test_nothing_pinned_is_off_by_default():
    on = {"rules": {"LI338": "on"}}
    text = F + "RUN apt-get update && apt-get install -y curl git\nRUN pip install --no-cache-dir flask\n"
    passes("LI338", text)
    catches("LI338", text, count=1, line=2, config=on)
    passes("LI338", F + "RUN apt-get install -y curl=7.88 git\nRUN pip install --no-cache-dir flask\n", config=on)
    passes("LI338", F + "RUN apt-get install -y curl\nRUN pip install --no-cache-dir -r requirements.txt\n", config=on)
    passes("LI338", F + "RUN echo no installs here\n", config=on)


def test_package_cache_mount_is_off_by_default_and_suggests_a_mount():
    text = F + "RUN apt-get update && apt-get install -y curl=7.88 && rm -rf /var/lib/apt/lists/*\n"
    passes("LI339", text)
    on = {"rules": {"LI339": "on"}}
    catches("LI339", text, config=on, message="/var/cache/apt")
    catches("LI339", "FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0\n", config=on)
    # the cache is kept (nothing to reuse is thrown away) or already mounted
    passes("LI339", F + "RUN apt-get update && apt-get install -y curl=7.88\n", config=on)
    passes("LI339", F + "RUN --mount=type=cache,target=/var/cache/apt apt-get install -y curl=7.88 && apt-get clean\n", config=on)


def test_stage_scope():
    stage_scope("LI331", "RUN pip install requests==2.32.3", shipped_only=True, base="python:3.12")
    stage_scope("LI337", "RUN yarn install --frozen-lockfile", shipped_only=True, base="node:20")
    stage_scope("LI330", "RUN pip install --no-cache-dir requests", shipped_only=False, base="python:3.12")
    stage_scope("LI333", "RUN npm install express", shipped_only=False, base="node:20")
