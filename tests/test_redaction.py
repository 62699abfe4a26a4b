"""The redaction layer: no planted secret in any format, error line or note, and no raw control character.

Values are planted in every subject a report shows (Dockerfile lines, ADD URLs, image
history, config Env and Labels, layer file names, image references, config paths) and
every output is searched: each report format the engine offers (plugins' too), stderr.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.secrets import planted_secrets
from lintimg.config import Config
from lintimg.engine import Engine
from lintimg.redaction import Redactor, display, mask
from lintimg.secrets.spans import secret_spans
from tests.clirun import lintimg
from tests.hostile import corpus as hc

TOKEN = "ghp_" + "Q7wErTy2UiOp9AsDfGh4JkLz8XcVbNm3Po5I"
URL_PW = "Zt9-planted-UrlPw-271828"
CURL_PW = "Zt9-planted-CurlPw-314159"
HEADER_TOKEN = "Zt9plantedHeaderTok161803"
ENV_PW = "Zt9-planted-EnvPw-141421"
REF_PW = "Zt9-planted-RefPw-173205"
PLANTED = (TOKEN, URL_PW, CURL_PW, HEADER_TOKEN, ENV_PW, REF_PW)

DOCKERFILE = f"""FROM alpine:3.19
ADD https://admin:{URL_PW}@downloads.example.com/app.tgz /app/
ADD https://downloads.example.com/b.tgz?access_token={TOKEN} /b/
RUN curl -fsSL -u deploy:{CURL_PW} https://example.com/x -o /x && echo {TOKEN} > /t
RUN curl -H "Authorization: Bearer {HEADER_TOKEN}" https://example.com/y
ENV DB_PASSWORD={ENV_PW}
"""


def formats() -> list[str]:
    return sorted(Engine(Config()).report_formats())


# --- the mechanism ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["ab", "abcdefgh", TOKEN, "x" * 1000])
def test_a_mask_keeps_the_length_and_at_most_a_quarter_of_the_value(value: str) -> None:
    text = f"say {value} twice: {value}"
    out = mask(text, [(4, 4 + len(value)), (len(text) - len(value), len(text))])
    assert len(out) == len(text) and value not in out
    shown = out[4 : 4 + len(value)].rstrip("*")
    assert len(shown) <= max(0, min(4, len(value) // 4))


def test_display_makes_every_control_character_visible_and_keeps_the_length() -> None:
    text = "a\x1b]0;title\x07b\nc\rd\x9b31me\u202eu\udcff\tz"
    out = display(text)
    assert len(out) == len(text) and "\t" in out
    assert not any(ord(c) < 0x20 and c != "\t" or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 or c == "\u202e" for c in out)
    assert out.startswith("a\u241b]0;title\u2407b\u240ac")
    assert display("plain text") == "plain text"


def test_a_long_value_found_in_one_text_is_masked_in_all() -> None:
    found = Redactor([lambda texts: [[(5, 5 + len(TOKEN))] if t.startswith("key: ") else [] for t in texts]])
    out = found.masked([f"key: {TOKEN}", f"message quoting {TOKEN}"])
    assert all(TOKEN not in t for t in out)


@pytest.mark.parametrize("text, value", [
    (f"ADD https://admin:{URL_PW}@h.example/x /x", URL_PW),
    (f"'admin:{REF_PW}@127.0.0.1:9/team/app:1': invalid image reference", REF_PW),
    (f"https://example.com/a.tgz?sig=abc&token={TOKEN}", TOKEN),
    (f"https://s3.example.com/o?X-Amz-Signature={HEADER_TOKEN}", HEADER_TOKEN),
    (f"curl -u deploy:{CURL_PW} https://x", CURL_PW),
    (f"curl --user='deploy:{CURL_PW}' https://x", CURL_PW),
    (f'curl -H "Authorization: Bearer {HEADER_TOKEN}" https://x', HEADER_TOKEN),
    (f"docker login --password {CURL_PW} registry.example.com", CURL_PW),
    (f"ENV DB_PASSWORD={ENV_PW}", ENV_PW),
    (f"--build-arg NPM_TOKEN={ENV_PW}", ENV_PW),
    (f"echo {TOKEN} > /t", TOKEN),
    (f"https://{TOKEN}@github.com/org/repo.git", TOKEN),
])
def test_the_built_in_finder_finds_credentials(text: str, value: str) -> None:
    spans = secret_spans(text)
    at = text.index(value)
    assert any(a <= at and at + len(value) <= b for a, b in spans), spans


@pytest.mark.parametrize("text", [
    "curl -u $USER:$PASSWORD https://x", "docker run -u 1000:1000 app", "RUN --mount=type=secret,id=npm_token npm ci",
    "docker build --secret id=npm,env=NPM_TOKEN .", "git clone https://git@github.com/org/repo.git", "TOKEN=${TOKEN}",
    'echo "3f786850e387550fdab836ed7e6dc881de23001b  app.tgz" | sha1sum -c', "docker login --password-stdin < /run/pw",
])
def test_the_built_in_finder_leaves_references_and_ids_alone(text: str) -> None:
    assert secret_spans(text) == []


def test_the_built_in_finder_finds_every_planted_secret_kind() -> None:
    for p in planted_secrets():
        text = p.content.decode()
        spans = secret_spans(text)
        out = mask(text, spans)
        assert p.value not in out, p.kind


# --- every output of real runs --------------------------------------------------------------------

def _image(tmp_path: Path) -> Path:
    layer = hc.gzip_layer([*hc.BASE_ROOTFS, hc.Entry(f"app/{TOKEN}.sh", b"#!/bin/sh\n", mode=0o666)])
    history = [{"created_by": "/bin/sh -c #(nop) ADD file:0123abcd in / "},
               {"created_by": f"/bin/sh -c curl -fsSL -u deploy:{CURL_PW} https://example.com/x -o /x && cd / && echo {TOKEN}"}]
    layers = [layer, hc.gzip_layer([hc.Entry("app/x", b"x\n")])]
    config = hc.image_config([b.diff_id for b in layers], history=history,
                             container={"Env": [f"DB_PASSWORD={ENV_PW}", "PATH=/bin"], "Labels": {"token": TOKEN}})
    path = tmp_path / "image.tar"
    hc.docker_archive(path, layers, config=config)
    return path


def _leaks(text: str) -> list[str]:
    return [p for p in PLANTED if p in text]


@pytest.mark.parametrize("fmt", formats())
def test_no_format_shows_a_planted_secret(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    checked = lintimg("check", "--no-context", "--format", fmt, "Dockerfile", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr
    assert "LI351" in checked.stdout and "LI503" in checked.stdout  # the findings are there, their values are not
    image = lintimg("image", "--format", fmt, f"docker-archive:{_image(tmp_path)}", cwd=tmp_path)
    assert image.returncode == 1, image.stderr
    assert "LI801" in image.stdout and "LI550" in image.stdout
    for proc in (checked, image):
        assert _leaks(proc.stdout + proc.stderr) == []
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in proc.stdout), "a raw control character"
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(image.stdout)


def test_no_error_line_shows_a_planted_secret(tmp_path: Path) -> None:
    for args in (["image", f"docker://admin:{REF_PW}@127.0.0.1:9/team/app:1"],
                 ["check", "--config", f"cfg-{TOKEN}.yaml", "Dockerfile"],
                 ["image", f"docker-archive:{tmp_path}/missing-{TOKEN}.tar"]):
        proc = lintimg(*args, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.startswith("lintimg: ")
        assert _leaks(proc.stderr) == [], proc.stderr


def test_excerpts_mask_values_not_lines(tmp_path: Path) -> None:
    """A value the finders find is masked in place, the rest of its line shown; a line a context rule points at
    (a COPY sending a key file) holds no value and shows as written; a value only a Dockerfile secret rule
    sees (``doctl auth init -t`` takes it by a short flag no finder knows) is masked from the finding's column."""
    value, token = "s3cr3t-Pa55w0rd-value", "plainvalue12345678"
    (tmp_path / ".env").write_text(f"DB_PASSWORD={value}\n")
    (tmp_path / "Dockerfile").write_text(f"FROM alpine:3.19\nCOPY . /app\nENV LEGACY_PASSWORD {value}\nRUN doctl auth init -t {token}\n")
    assert secret_spans(f"RUN doctl auth init -t {token}") == []  # the finders miss it: only the rule's column hides it
    for fmt in formats():
        proc = lintimg("check", "--no-color", "--format", fmt, "Dockerfile", cwd=tmp_path)
        assert proc.returncode == 1 and value not in proc.stdout and token not in proc.stdout, (fmt, proc.stdout)
    text = lintimg("check", "--no-color", "Dockerfile", cwd=tmp_path).stdout
    assert all(r in text for r in ("LI402", "LI500", "LI502"))
    assert "   2 | COPY . /app\n" in text and "   3 | ENV LEGACY_PASSWORD s3cr***" in text
    assert "   4 | RUN ****" in text  # LI502 points at the whole RUN
