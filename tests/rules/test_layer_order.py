"""LI406: dependency installs after a COPY of the whole source (rules/layer_order.py), with and without a context."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.rulespec import catches, ctx_lint, only, passes


@pytest.mark.parametrize(
    "body, line",
    [
        ("COPY . .\nRUN npm ci\n", 3),
        ("COPY . /app\nRUN pip install --no-cache-dir -r requirements.txt\n", 3),
        ("COPY . .\nRUN python -m pip install -r requirements.txt\n", 3),
        ("COPY ./ ./\nRUN apk add git && \\\n    go build -o /app .\n", 4),
        ("COPY . .\nRUN bundle install\n", 3),
        ("COPY . .\nRUN yarn\n", 3),
        ("COPY . .\nRUN composer install\n", 3),
    ],
)
def test_li406_catches_installs_after_the_whole_source(body: str, line: int) -> None:
    catches("LI406", "FROM base:1\n" + body, line=line)


@pytest.mark.parametrize(
    "body",
    [
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nRUN pip install --no-deps .\n",
        "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build ./...\n",
        "COPY . .\nRUN npm install -g serve\n",  # a named tool, not the manifest's dependencies
        "COPY . .\nFROM base:1\nRUN npm ci\n",  # another stage
    ],
)
def test_li406_passes_manifest_first_and_unrelated(body: str) -> None:
    passes("LI406", "FROM base:1\n" + body)


def test_li406_with_context_a_source_folder_counts_and_the_fix_names_manifests(tmp_path: Path) -> None:
    files = {"app/package.json": "{}", "app/package-lock.json": "{}", "app/server.js": "x"}
    f = only(ctx_lint(tmp_path, "FROM node:20\nCOPY app/ /app/\nRUN cd /app && npm ci\n", files, rule="LI406"))
    assert f.location.line == 3 and "COPY package*.json ./" in f.fix


def test_li406_with_context_and_no_manifest_stays_quiet(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM golang:1.22\nCOPY . .\nRUN go build -o /x main.go\n", {"main.go": "package main\n"}, rule="LI406")
