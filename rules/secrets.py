"""LI5xx: secrets — secret-looking ARG/ENV names, credential set-up, secret values in the Dockerfile and in image layers.

The peers have three different name heuristics for row G1 (hadolint DL3064:
known names plus substrings; BuildKit SecretsUsedInArgOrEnv and trivy DS-0031:
whole ``_``-separated words; dockle CIS-DI-0010: substrings of ``KEY=VALUE``
in the image history). They answer one question — does this variable carry a
secret into the image? — so the Dockerfile side is one rule (LI500) with one
heuristic, and the image side (where only dockle looks) is LI551. DS-0031's
other triggers differ in substance and are rules of their own: credential
files under a COPY destination (LI501), cloud CLI log-ins in RUN (LI502).
Secret *values* are found by the detector in :mod:`lintimg.secrets`: in the
Dockerfile text (LI503) and in every image layer and the config (LI550).
"""
from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache
from typing import Iterator

from lintimg.dockerfile import Instruction, Stage
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import image_hit
from lintimg.queries import cmd_hit, hit, run_commands, run_mounts
from lintimg.rule import Subject, rule
from lintimg.secrets import SECRET_FILE_VARS, ImageSecret, SecretHit, SecretScanner, _assignment, secret_name
from lintimg.target import Target

SECURITY = ("security", "secrets")
_HEX = "Hex High Entropy String"
# The Dockerfile is read with detect-secrets' rules for config files (the file
# type comes from the extension): shell and ENV assignments are unquoted.
_AS_CONFIG = "Dockerfile.conf"
_SUDOERS = re.compile(r"NOPASSWD\s*:")


@lru_cache(maxsize=8)
def _scanner(settings_json: str) -> SecretScanner:
    return SecretScanner(json.loads(settings_json))


def scanner_for(t: Target) -> SecretScanner:
    """One scanner per policy for the whole run, so its content cache is shared."""
    return _scanner(json.dumps(t.setting("secrets") or {}, sort_keys=True))


_NAME_PEERS = {
    "DL3064": "hadolint flags any name containing `username` or `private` and a fixed list of known names; "
    "we match whole words (so `TOKENIZERS_PARALLELISM` and `PRIVATE_REGISTRY` pass) plus joined names ending in "
    "password/secret/token (`PGPASSWORD`).",
    "SecretsUsedInArgOrEnv": "BuildKit splits on `_` only and flags `GPG_KEY`, `SSL_KEY_PATH`, `AUTH_URL` and "
    "`DHPARAM_KEY_SIZE`; we also split on `-` and `.`, allow words that say where or what kind the secret is "
    "(`gpg`, `path`, `dir`, `url`, `host`, `port`, `size`, `type`, `provider`, …) like `file`, and add trivy's "
    "`usr`/`psw` words and joined names.",
    "DS-0031": "trivy checks only the final stage; we check every stage and global ARGs, because build args of any "
    "stage are recorded in that stage's history and build cache.",
}


@rule(
    "LI500",
    "secret-in-arg-or-env",
    Severity.WARNING,
    tags=SECURITY,
    peers=("DL3064", "SecretsUsedInArgOrEnv", "DS-0031"),
    security_severity=7.5,
    divergences=_NAME_PEERS,
)
def secret_in_arg_or_env(t: Target) -> Iterator[Hit]:
    """An ARG or ENV name says it carries a secret.

    ## What it does
    Flags `ARG` and `ENV` variables whose name, split into words on `_`, `-`
    and `.`, contains a secret word (`password`, `passwd`, `pword`, `secret`,
    `token`, `key`, `apikey`, `auth`, `credential(s)`, `usr`, `psw`) or is a
    joined word ending in one (`PGPASSWORD`, `NPMTOKEN`) — unless a word
    marks it as public, a reference or a property of the secret (`public`,
    `file`, `version`, `gpg`, `pgp`, `path`, `dir`, `url`, `uri`,
    `endpoint`, `host`, `server`, `port`, `size`, `length`, `bits`, `type`,
    `mode`, `method`, `algorithm`, `provider`). Every stage is checked, and
    ARGs before the first FROM.

    ## Why it matters
    ENV values are stored in the image config, readable by anyone who can
    pull the image. Build-arg values (`--build-arg TOKEN=…`) are recorded in
    the image history of every RUN that sees them and in the build cache.
    Either way the secret ships with the image.

    ## Example
    ```dockerfile
    FROM node:20
    ARG NPM_TOKEN
    RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci
    ```

    ## Fix
    Pass the secret as a build secret, which is mounted for one RUN and never
    stored: `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci`, built
    with `docker build --secret id=npm_token,env=NPM_TOKEN .`. For runtime
    secrets, give them to the container when it starts (an orchestrator
    secret, or `docker run -e`), not in the image.
    """
    df = t.dockerfile
    for ins in df.of("ARG", "ENV"):
        for key, _, token in ins.key_values():
            if secret_name(key):
                kind = "build argument" if ins.keyword == "ARG" else "ENV variable"
                where = "is recorded in the image history" if ins.keyword == "ARG" else "is stored in the image config"
                yield hit(
                    ins,
                    f"{kind} {key} looks like a secret: its value {where}",
                    token=token,
                    fix=f"use a build secret: RUN --mount=type=secret,id={key.lower()},env={key} …",
                    key=key,
                )


def _norm(p: str) -> str:
    """A path compared the way DS-0031 does: unquoted, normalised, without a leading ``/`` or ``./``."""
    p = posixpath.normpath(p.strip("\"'"))
    return "" if p == "." else p.lstrip("/")


def _under(path: str, dest: str) -> bool:
    return dest == "" or path == dest or path.startswith(dest.rstrip("/") + "/")


def _copy_dests(stage: Stage) -> list[tuple[Instruction, str]]:
    return [(ins, ins.args[-1].value) for ins in stage.of("COPY", "ADD") if len(ins.args) >= 2 and not ins.is_json] + [
        (ins, ins.json_args[-1]) for ins in stage.of("COPY", "ADD") if ins.is_json and len(ins.json_args or []) >= 2
    ]


@rule(
    "LI501",
    "secret-file-copied-into-image",
    Severity.ERROR,
    tags=SECURITY,
    peers=("DS-0031",),
    security_severity=8.0,
    divergences={"DS-0031": "trivy knows AWS_CONFIG_FILE, HF_TOKEN_PATH and GOOGLE_APPLICATION_CREDENTIALS; "
                 "we add AWS_SHARED_CREDENTIALS_FILE."},
)
def secret_file_copied_into_image(t: Target) -> Iterator[Hit]:
    """A credentials-file variable points at a path the final stage copies in.

    ## What it does
    In the final stage, flags an `ENV`/`ARG` of a credentials-file variable
    (`GOOGLE_APPLICATION_CREDENTIALS`, `AWS_CONFIG_FILE`,
    `AWS_SHARED_CREDENTIALS_FILE`, `HF_TOKEN_PATH`) whose value lies under
    the destination of a `COPY`/`ADD`, and a `COPY`/`ADD` whose destination
    is such a variable.

    ## Why it matters
    The credentials file then sits in an image layer. Deleting it later does
    not help: every layer can be extracted from the image.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    COPY . /app
    ENV GOOGLE_APPLICATION_CREDENTIALS=/app/service-account.json
    ```

    ## Fix
    Mount the file at run time (a volume or an orchestrator secret) and
    point the variable there; for build steps use
    `RUN --mount=type=secret,id=gcp,target=/run/secrets/gcp.json`. Add the
    file to `.dockerignore`.
    """
    stage = t.dockerfile.final_stage
    if stage is None:
        return
    dests = _copy_dests(stage)
    for ins in stage.of("ENV", "ARG"):
        for key, value, token in ins.key_values():
            if key in SECRET_FILE_VARS and value:
                under = next((c for c, d in dests if _under(_norm(value), _norm(d))), None)
                if under is not None:
                    yield hit(ins, f"{key} points at {value}, which the {under.keyword} on line {under.line} puts in the image", token=token, key=key)
    for ins, dest in dests:
        m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", dest.strip("\"'"))
        if m and m.group(1) in SECRET_FILE_VARS:
            yield hit(ins, f"{ins.keyword} writes a credentials file to ${m.group(1)} inside the image", key=m.group(1))


def _cloud_login(argv: list[str]) -> str | None:
    """What a command does when it stores cloud CLI credentials (None when it does not)."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    args = argv[1:]
    words = [a for a in args if not a.startswith("-")]
    flags = {a.split("=", 1)[0] for a in args if a.startswith("-")}
    if name == "aws" and words[:2] == ["configure", "set"] and len(words) > 2 and words[2] in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
        return f"aws configure set {words[2]}"
    if name == "gcloud" and words[:2] == ["auth", "activate-service-account"]:
        return "gcloud auth activate-service-account"
    if name == "az" and words[:1] == ["login"] and flags & {"-p", "--password", "--federated-token"}:
        return "az login with a password or token"
    if name == "doctl" and words[:2] == ["auth", "init"] and flags & {"-t", "--access-token"}:
        return "doctl auth init with a token"
    return None


@rule(
    "LI502",
    "cloud-credentials-in-run",
    Severity.ERROR,
    tags=SECURITY,
    peers=("DS-0031",),
    security_severity=8.0,
    divergences={"DS-0031": "trivy checks only the final stage; we check every stage, since the credentials file "
                 "is written into that stage's layer and build cache."},
)
def cloud_credentials_in_run(t: Target) -> Iterator[Hit]:
    """A RUN logs a cloud CLI in without a secret mount.

    ## What it does
    Flags `aws configure set aws_access_key_id|aws_secret_access_key|aws_session_token`,
    `gcloud auth activate-service-account`, `az login` with `-p`/`--password`/`--federated-token`
    and `doctl auth init` with `-t`/`--access-token` in a `RUN` that has no
    `--mount=type=secret`.

    ## Why it matters
    These commands write the credentials into the CLI's config files
    (`~/.aws/credentials`, `~/.config/gcloud`, …), which become part of the
    layer; the key usually also arrives as a build arg, recorded in history.

    ## Example
    ```dockerfile
    FROM amazon/aws-cli
    ARG AWS_SECRET_ACCESS_KEY
    RUN aws configure set aws_secret_access_key "$AWS_SECRET_ACCESS_KEY" && aws s3 cp s3://bucket/model /model
    ```

    ## Fix
    Give the step the credentials as a build secret and let the CLI read
    them from the environment for that one RUN:
    `RUN --mount=type=secret,id=aws,env=AWS_SECRET_ACCESS_KEY aws s3 cp …`.
    """
    for ins, cmd in run_commands(t.dockerfile):
        what = _cloud_login(cmd.argv)
        if what and not any(m.get("type") == "secret" for m in run_mounts(ins)):
            yield cmd_hit(ins, cmd, f"{what} stores credentials in the layer", fix="use RUN --mount=type=secret for the credentials")


def dockerfile_secrets(t: Target) -> Iterator[tuple[int, str, str, str]]:
    """(line, detector, redacted, fingerprint) for secret values in the Dockerfile text and its ENV/ARG/LABEL values.

    ENV/ARG/LABEL values are scanned one assignment at a time (quoted, so the
    keyword and entropy plugins see them whole); the other lines as text.
    """
    df = t.dockerfile
    sc = scanner_for(t)
    found: list[tuple[int, SecretHit]] = []
    assignment_lines: set[int] = set()
    for ins in df.of("ENV", "ARG", "LABEL"):
        assignment_lines.update(range(ins.pos.line, ins.pos.end_line + 1))
        for key, value, token in ins.key_values():
            if value:
                named = secret_name(key)
                found += [(token.pos.line, h) for h in sc.scan_text(_assignment(f"{key}={value}"), "") if named or h.detector != _HEX]
    for h in sc.scan_text(df.text, _AS_CONFIG):
        # hex strings here are checksums, key fingerprints and commits; NOPASSWD is a sudoers tag
        if h.line not in assignment_lines and h.detector != _HEX and not _SUDOERS.search(df.source_line(h.line)):
            found.append((h.line, h))
    seen: set[tuple[int, str]] = set()
    for line, h in sorted(found, key=lambda lh: lh[0]):
        if (line, h.fingerprint) not in seen:
            seen.add((line, h.fingerprint))
            yield line, h.detector, h.redacted, h.fingerprint


@rule(
    "LI503",
    "secret-in-dockerfile",
    Severity.ERROR,
    tags=SECURITY,
    # checkov runs detect-secrets over Dockerfiles too; these are its checks for the detectors we share.
    peers=("CKV_SECRET_2", "CKV_SECRET_4", "CKV_SECRET_6", "CKV_SECRET_9", "CKV_SECRET_13", "CKV_SECRET_14", "CKV_SECRET_17"),
    security_severity=9.0,
)
def secret_in_dockerfile(t: Target) -> Iterator[Hit]:
    """A secret value is written in the Dockerfile.

    ## What it does
    Runs the secret detector (detect-secrets plugins: cloud and vendor
    tokens, private keys, JWTs, passwords in URLs, `password = "…"`
    assignments, high-entropy quoted strings) over the Dockerfile text —
    RUN commands, heredoc bodies, ENV/ARG defaults and LABEL values — and
    reports each value with its detector, redacted. The text is read with
    detect-secrets' config-file rules (assignments need no quotes), ENV/ARG/
    LABEL values one assignment at a time. Hex strings count only as the
    value of a secret-looking name: elsewhere in a Dockerfile they are
    download checksums, GPG key fingerprints and commit ids; sudoers
    `NOPASSWD:` tags are not passwords.

    ## Why it matters
    The value is in the repository for everyone with read access, and the
    instruction puts it in the image config, its history or a layer.

    ## Example
    ```dockerfile
    FROM alpine:3.20
    ENV GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB
    ```

    ## Fix
    Revoke the secret, remove it from the file (and the repository
    history), and pass it as a build secret
    (`RUN --mount=type=secret,…`) or at run time. If the value is not a
    secret, add its fingerprint (shown in JSON/SARIF output as the key) to
    `secrets.allowlist` in `.lintimg.yaml`.
    """
    for line, detector, redacted, fp in dockerfile_secrets(t):
        yield Hit(f"{detector} in the Dockerfile: {redacted}", line=line, column=1, key=fp, fix="revoke it and pass it as a build secret")


def _fate(t: Target, s: ImageSecret) -> str:
    """'' when the file survives as written, else what a later layer did to it."""
    for ev in (t.image.history_by_path.get(s.path) or []):
        if ev.layer > (s.layer or 0):
            verb = ev.action.value
            if verb in ("deleted", "modified"):
                return f"; {'deleted' if verb == 'deleted' else 'overwritten'} in layer {ev.layer}, but still extractable from layer {s.layer}"
    return ""


_CONFIG_WHERE = {"env": "the image config Env", "label": "the image config Labels", "history": "the image history"}


@rule(
    "LI550",
    "secret-in-image",
    Severity.ERROR,
    subject=Subject.IMAGE,
    tags=SECURITY,
    peers=(),
    security_severity=9.0,
)
def secret_in_image(t: Target) -> Iterator[Hit]:
    """A secret is stored in an image layer or the image config.

    ## What it does
    Reports every secret the detector finds while the layers stream: in
    every layer, base-image layers included, and in files a later layer
    deleted or overwrote (the message says so), plus the config `Env`,
    `Labels` and the history `created_by` lines, where build-arg values
    appear. Each finding gives the path in the image, the layer index and
    digest, the detector and the redacted value, and the Dockerfile line of
    the layer when the Dockerfile is known.

    ## Why it matters
    An image is a stack of tar files: anyone who can pull it can extract any
    layer, so a key removed in a later `RUN rm` is still there. trivy skips
    the layers it guesses belong to the base image; a leaked key in a base
    image is still a leaked key.

    ## Example
    ```dockerfile
    FROM debian:12
    COPY id_rsa /root/.ssh/id_rsa
    RUN git clone git@example.com:org/repo.git && rm /root/.ssh/id_rsa
    ```

    ## Fix
    Revoke the secret. Rebuild so that it never enters a layer: build
    secrets (`RUN --mount=type=secret` / `--mount=type=ssh`) for build
    steps, multi-stage builds so that only the artefacts reach the final
    stage, and `.dockerignore` for files in the context.
    """
    image = t.image
    found: list[ImageSecret] = list(image.analysis.get("secrets", []))
    found += scanner_for(t).scan_config(image.config)
    layer_of_history = {layer.history_index: layer.index for layer in image.layers if layer.history_index is not None}
    for s in found:
        h = s.hit
        if s.source == "file":
            msg = f"{h.detector} in /{s.path.lstrip('/')} (layer {s.layer}, line {h.line} of the file): {h.redacted}{_fate(t, s)}"
            yield image_hit(t, msg, layer=s.layer, path=s.path, key=h.fingerprint)
        else:
            layer = layer_of_history.get(int(s.path[8:-1])) if s.source == "history" else None
            yield image_hit(t, f"{h.detector} in {_CONFIG_WHERE[s.source]} ({s.path}): {h.redacted}", layer=layer, key=h.fingerprint)


@rule(
    "LI551",
    "secret-named-env-in-image",
    Severity.WARNING,
    subject=Subject.IMAGE,
    tags=SECURITY,
    peers=("CIS-DI-0010",),
    security_severity=7.0,
    divergences={"CIS-DI-0010": "dockle matches substrings (PASS, SECRET, KEY, ACCESS, TOKEN) so `KEYCLOAK_URL` and "
                 "`ACCESS_LOG` count; we use LI500's word heuristic. Its credential-file part is an image "
                 "filesystem rule (LI8xx). Without a Dockerfile only: with one, LI500 reports the line."},
)
def secret_named_env_in_image(t: Target) -> Iterator[Hit]:
    """The image config or history sets a secret-looking variable to a value.

    ## What it does
    For an image checked without its Dockerfile, flags `config.Env` entries
    and `KEY=VALUE` words in history `created_by` lines (ENV, and the build
    args the classic builder records as `|N KEY=VALUE`) whose key looks
    secret by LI500's heuristic and whose value is not empty.

    ## Why it matters
    Whoever can pull the image can read its config and history.

    ## Example
    An image built with `docker build --build-arg DB_PASSWORD=… .` from a
    Dockerfile that declares `ARG DB_PASSWORD` and uses it in a RUN.

    ## Fix
    Rebuild with build secrets (`RUN --mount=type=secret`) instead of
    build args or ENV, and pass runtime secrets when the container starts.
    """
    if t.dockerfile is not None:
        return
    image = t.image
    env = image.container_config.get("Env") or []
    seen: set[str] = set()
    for kv in env:
        key, eq, value = kv.partition("=")
        if eq and value and secret_name(key) and key not in seen:
            seen.add(key)
            yield image_hit(t, f"the image config sets {key}, which looks like a secret", key=key)
    layer_of_history = {layer.history_index: layer.index for layer in image.layers if layer.history_index is not None}
    for i, h in enumerate(image.history):
        for key, value in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=(\S+)", h.get("created_by") or ""):
            if value.strip("\"'") and secret_name(key) and key not in seen:
                seen.add(key)
                yield image_hit(t, f"history entry {i} sets {key}, which looks like a secret", layer=layer_of_history.get(i), key=key)
