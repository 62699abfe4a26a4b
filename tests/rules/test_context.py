"""LI4xx context rules and LI540, each written from the rule's meaning on small real contexts."""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.rulespec import ctx_lint, only

FAKE_KEY_HEADER = "-----BEGIN " + "OPENSSH PRIVATE" + " KEY-----"


APP = {"package.json": '{"name": "x"}\n', "server.js": "console.log(1)\n"}


# LI400 invalid-dockerignore ---------------------------------------------------

def test_li400_reports_the_bad_line_in_the_ignore_file(tmp_path: Path) -> None:
    f = only(ctx_lint(tmp_path, "FROM scratch\nCOPY . /x\n", {".dockerignore": "node_modules\n[abc\n", **APP}, rule="LI400"))
    assert f.location.path.endswith(".dockerignore") and f.location.line == 2
    assert "fails the build" in f.message


def test_li400_passes_valid_patterns(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM scratch\nCOPY . /x\n", {".dockerignore": "node_modules\n\\[abc\n!x\n", **APP}, rule="LI400")


def test_li400_ignore_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()
    f = only(ctx_lint(tmp_path, "FROM scratch\nCOPY . /x\n", APP, rule="LI400"))
    assert "not a regular file" in f.message


# LI401 missing-dockerignore ---------------------------------------------------

def test_li401_counts_files_and_names_unwanted_entries(tmp_path: Path) -> None:
    files = {**APP, ".git/HEAD": "ref: refs/heads/main\n", "node_modules/express/index.js": "x" * 2000, ".env": "A=1\n", ".DS_Store": "x"}
    f = only(ctx_lint(tmp_path, "FROM node:20\nWORKDIR /app\nCOPY . .\n", files, rule="LI401"))
    assert f.location.line == 3
    assert "7 files" in f.message  # the six above and the Dockerfile
    for name in (".git/", "node_modules/", ".env", ".DS_Store"):
        assert name in f.message
    assert f.message.index("node_modules") < f.message.index(".git/")  # largest first


def test_li401_passes_without_a_broad_copy(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM node:20\nCOPY package.json ./\n", APP, rule="LI401")


def test_li401_passes_with_an_ignore_file(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM node:20\nCOPY . .\n", {**APP, ".dockerignore": ".git\n"}, rule="LI401")


def test_li401_dockerfile_specific_ignore_counts_as_an_ignore_file(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM node:20\nCOPY . .\n", {**APP, "Dockerfile.dockerignore": ".git\n"}, rule="LI401")


# LI411 weak-dockerignore -----------------------------------------------------

def test_li411_names_what_a_thin_ignore_file_lets_through(tmp_path: Path) -> None:
    files = {**APP, ".dockerignore": "*.log\n", "node_modules/express/index.js": "x" * 3000, "dist/app.js": "y" * 10, ".git/HEAD": "ref\n"}
    f = only(ctx_lint(tmp_path, "FROM node:20\nWORKDIR /app\nCOPY . .\n", files, rule="LI411"))
    assert f.location.line == 3
    assert "node_modules/ (installed npm packages, 1 file, 3.0 kB)" in f.message and "dist/" in f.message
    assert ".git" not in f.message  # LI402 reports it
    assert "node_modules" in f.fix and ".dockerignore" in f.fix


def test_li411_passes_when_the_ignore_file_covers_them(tmp_path: Path) -> None:
    files = {**APP, ".dockerignore": "node_modules\ndist\n", "node_modules/express/index.js": "x", "dist/app.js": "y"}
    assert not ctx_lint(tmp_path, "FROM node:20\nCOPY . .\n", files, rule="LI411")


def test_li411_leaves_a_missing_ignore_file_and_narrow_copies_alone(tmp_path: Path) -> None:
    files = {**APP, "node_modules/express/index.js": "x"}
    assert not ctx_lint(tmp_path, "FROM node:20\nCOPY . .\n", files, rule="LI411")  # LI401's case
    (tmp_path / ".dockerignore").write_text("*.log\n")
    assert not ctx_lint(tmp_path, "FROM node:20\nCOPY package.json server.js ./\n", files, rule="LI411")


# LI402 copy-sensitive-file ----------------------------------------------------

@pytest.mark.parametrize(
    "rel, content",
    [
        ("deploy/id_rsa", "x"),
        ("certs/server.key", FAKE_KEY_HEADER + "\nabc\n"),
        (".env", "A=1\n"),
        (".env.production", "A=1\n"),
        (".npmrc", "//registry.npmjs.org/:_authToken=${NPM}\n"),
        (".aws/credentials", "[default]\n"),
        ("ops/prod.tfstate", "{}"),
        ("kube/.kube/config", "apiVersion: v1\n"),
        ("gcp-service-account.json", '{"type": "service_account", "private_key": "x"}'),
    ],
)
def test_li402_catches_sensitive_files_at_the_copy_source(tmp_path: Path, rel: str, content: str) -> None:
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", {**APP, ".dockerignore": "node_modules\n", rel: content}, rule="LI402"))
    assert f.location.line == 2 and f.location.column == 6
    assert rel in f.message


@pytest.mark.parametrize(
    "rel, content",
    [
        (".env.example", "A=\n"),
        (".npmrc", "registry=https://registry.npmjs.org/\n"),
        ("certs/ca.pem", "-----BEGIN CERTIFICATE-----\nabc\n"),
        ("id_rsa.pub", "ssh-ed25519 AAAA x\n"),
    ],
)
def test_li402_passes_harmless_lookalikes(tmp_path: Path, rel: str, content: str) -> None:
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", {**APP, ".dockerignore": "x\n", rel: content}, rule="LI402")


def test_li402_passes_when_the_ignore_file_excludes_it(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", {**APP, ".dockerignore": "**/id_rsa\n", "a/b/id_rsa": "x"}, rule="LI402")


def test_li402_reports_a_git_directory_once(tmp_path: Path) -> None:
    files = {**APP, ".dockerignore": "node_modules\n", ".git/HEAD": "x", ".git/config": "x", ".git/objects/ab/cd": "x"}
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", files, rule="LI402"))
    assert ".git/" in f.message


def test_li402_only_what_the_copy_sends(tmp_path: Path) -> None:
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY server.js /app/\n", {**APP, ".env": "A=1\n"}, rule="LI402")


# LI403 copy-ignored-file ------------------------------------------------------

def test_li403_names_the_ignore_line(tmp_path: Path) -> None:
    files = {".dockerignore": "*.md\nconfig\n", "config/app.yaml": "a: 1\n"}
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY config/app.yaml /etc/app/\n", files, rule="LI403"))
    assert f.location.line == 2 and "line 2 (config)" in f.message and "build fails" in f.message


def test_li403_passes_with_an_exception(tmp_path: Path) -> None:
    files = {".dockerignore": "config\n!config/app.yaml\n", "config/app.yaml": "a: 1\n"}
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY config/app.yaml /etc/app/\n", files, rule="LI403")


def test_li403_excluded_dockerfile(tmp_path: Path) -> None:
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY Dockerfile /\n", {".dockerignore": "Dockerfile\n"}, rule="LI403"))
    assert "Dockerfile" in f.message


# LI404 copy-missing-source ----------------------------------------------------

def test_li404_missing_source_at_its_token(tmp_path: Path) -> None:
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY package.json requirements.txt /app/\n", APP, rule="LI404"))
    assert f.location.column == 19 and "requirements.txt" in f.message


def test_li404_outside_and_unmatched_wildcards(tmp_path: Path) -> None:
    found = ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY ../secret /x\nCOPY *.py /app/\n", APP, rule="LI404")
    assert [(f.location.line, "outside" in f.message or "matches" in f.message) for f in found] == [(2, True), (3, True)]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM alpine:3.20\nCOPY package.json yarn.lock* /app/\n",  # an optional file next to a present one
        "FROM alpine:3.20\nCOPY --from=builder /missing /x\n",
        "FROM alpine:3.20\nARG SRC\nCOPY $SRC /x\n",  # unknown until build time
        "FROM alpine:3.20\nCOPY <<EOF /etc/motd\nhello\nEOF\n",
        "FROM alpine:3.20\nADD https://example.com/x.tgz /x\n",
        "FROM alpine:3.20\nARG F=server.js\nCOPY ${F} ./lib/ /app/\n",
        'FROM alpine:3.20\nCOPY ["server.js", "/app/"]\n',
    ],
)
def test_li404_passes(tmp_path: Path, dockerfile: str) -> None:
    assert not ctx_lint(tmp_path, dockerfile, {**APP, "lib/a.js": "x"}, rule="LI404")


def test_li404_symlinked_source_resolves_inside_the_context(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text("x")
    (tmp_path / "alias").symlink_to("/real")  # absolute: Docker reads it from the context root
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY alias/a.txt /x\n", rule="LI404")


# LI405 copy-large-file --------------------------------------------------------

def test_li405_uses_max_copy_size(tmp_path: Path) -> None:
    files = {**APP, "data/dump.sql": b"x" * 5000}
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", files, config={"max-copy-size": "4KB"}, rule="LI405"))
    assert "data/dump.sql" in f.message and "5.0 kB" in f.message
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", files, config={"max-copy-size": "6KB"}, rule="LI405")


# LI406 dependencies-after-source-copy ------------------------------------------


# LI407 expensive-step-after-churning-copy and LI408 copy-rebuild-cost ----------

def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "deps.txt").write_text("stable\n")
    (tmp_path / "src").mkdir()
    for i in range(6):
        (tmp_path / "src" / "main.py").write_text(f"print({i})\n")
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", f"change {i}")
    return tmp_path


def test_li407_install_after_often_changed_files(repo: Path) -> None:
    df = "FROM debian:12\nCOPY src/ /app/src/\nRUN apt-get update && apt-get install -y gcc\n"
    f = only(ctx_lint(repo, df, rule="LI407"))
    assert f.location.line == 3 and "6 of the last 6 commits" in f.message and "src/main.py 6×" in f.message


def test_li407_passes_when_the_install_comes_first_or_files_are_stable(repo: Path) -> None:
    assert not ctx_lint(repo, "FROM debian:12\nRUN apt-get install -y gcc\nCOPY src/ /app/src/\n", rule="LI407")
    assert not ctx_lint(repo, "FROM debian:12\nCOPY deps.txt /\nRUN apt-get install -y gcc\n", rule="LI407")


def test_li407_respects_history_depth(repo: Path) -> None:
    df = "FROM debian:12\nCOPY src/ /app/src/\nRUN apt-get install -y gcc\n"
    assert not ctx_lint(repo, df, config={"git-history-depth": 0}, rule="LI407")


def test_li408_counts_later_layers_including_dependent_stages(tmp_path: Path) -> None:
    df = (
        "FROM node:20 AS build\nCOPY package.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n"
        "FROM nginx:1 AS web\nCOPY --from=build /dist /usr/share/nginx/html\nRUN nginx -t\n"
    )
    found = ctx_lint(tmp_path, df, APP, config={"rules": {"LI408": "on"}}, rule="LI408")
    by_line = {f.location.line: f.properties["rebuilt_layers"] for f in found}
    assert by_line == {2: 5, 4: 3}
    assert not ctx_lint(tmp_path, df, APP, rule="LI408")  # off by default


# LI409 dockerignore-builder-difference ------------------------------------------

def test_li409_wildcard_exception_inside_excluded_directory(tmp_path: Path) -> None:
    files = {".dockerignore": "data\n!data/**/*.keep\n", "data/top.keep": "x", "data/a/b/deep.keep": "x"}
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /x\n", files, rule="LI409"))
    assert "data/a/b/deep.keep" in f.message and "data/top.keep" not in f.message


def test_li409_passes_when_both_builders_agree(tmp_path: Path) -> None:
    files = {".dockerignore": "data\n!data/**/*.keep\n", "data/top.keep": "x", "data/other": "x"}
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /x\n", files, rule="LI409")


def test_li409_dockerfile_specific_ignore_file(tmp_path: Path) -> None:
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /x\n", {"Dockerfile.dockerignore": "x\n"}, rule="LI409"))
    assert "only by BuildKit" in f.message


# LI410 copy-broken-entry ----------------------------------------------------------

def test_li410_link_out_of_context_loop_fifo_and_socket(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "cfg").symlink_to("/etc/passwd")
    (tmp_path / "app" / "up").symlink_to("../../x")
    (tmp_path / "loop").symlink_to("loop")
    os.mkfifo(tmp_path / "app" / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "app" / "sock"))
    try:
        found = ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY app/ /app/\nCOPY loop /x\n", rule="LI410")
    finally:
        sock.close()
    messages = "\n".join(f.message for f in found)
    assert len(found) == 5, messages
    for needle in ("app/cfg is a symlink to /etc/passwd", "app/up is a symlink", "app/pipe is a FIFO", "app/sock is a socket", "symlink loop"):
        assert needle in messages


def test_li410_passes_links_inside_the_context(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a").write_text("x")
    (tmp_path / "app" / "b").symlink_to("a")
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY app/ /app/\n", rule="LI410")


# LI540 secret-in-copied-file ------------------------------------------------------


def test_li410_source_that_is_a_link_out_of_the_context(tmp_path: Path) -> None:
    (tmp_path / "passwd").symlink_to("/etc/passwd")
    f = only(ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY passwd /x\n", rule="LI410"))
    assert "symlink to /etc/passwd" in f.message and "build fails" in f.message
    assert not ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY passwd /x\n", rule="LI404")


def test_li402_many_files_are_capped_with_a_count_of_the_rest(tmp_path: Path) -> None:
    files = {f"svc{i:02d}/.env": "A=1\n" for i in range(14)}
    found = ctx_lint(tmp_path, "FROM alpine:3.20\nCOPY . /app\n", {**files, ".dockerignore": "x\n"}, rule="LI402")
    assert len(found) == 11
    assert sum("svc" in f.message for f in found) == 10
    assert [f.message for f in found if "svc" not in f.message] == ["COPY sends 4 more sensitive files not listed here"]


def test_li403_a_source_whose_every_file_is_excluded(tmp_path: Path) -> None:
    # .dockerignore "*" leaves nothing of the context root to send, so `COPY . .` copies nothing
    got = ctx_lint(tmp_path, "FROM scratch\nCOPY . .\n", {".dockerignore": "*\n", "app.py": "x"}, rule="LI403")
    assert len(got) == 1 and "copies nothing" in got[0].message
    # ".*" excludes only dot files: the rest of the root is sent
    assert ctx_lint(tmp_path / "b", "FROM scratch\nCOPY . .\n", {".dockerignore": ".*\n", "app.py": "x"}, rule="LI403") == []
