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
Dockerfile text (LI503) here, in every image layer and the config in
:mod:`.image_secrets` (LI550, LI551).
"""
from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator

from lintimg.dockerfile import Instruction, Stage
from lintimg.dockerfile.queries import cmd_hit, hit, run_commands, run_mounts
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity
from lintimg.secrets.cache import remembered
from lintimg.secrets.redact import SECRET_FILE_VARS, secret_name

ID_RANGE = "LI500-LI539"
SECURITY = ("security", "secrets")


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
def secret_in_arg_or_env(t: DockerfileTarget) -> Iterator[Hit]:
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
        (ins, args[-1]) for ins in stage.of("COPY", "ADD") if (args := ins.json_args) is not None and len(args) >= 2
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
def secret_file_copied_into_image(t: DockerfileTarget) -> Iterator[Hit]:
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
def cloud_credentials_in_run(t: DockerfileTarget) -> Iterator[Hit]:
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


# Bump when what dockerfile_secrets() returns for a text changes: cached results are keyed by it.
_DOCKERFILE_SCAN = 2


def dockerfile_secrets(t: DockerfileTarget) -> Iterator[tuple[int, int, str, str, str]]:
    """(line, column, title, redacted, fingerprint) for secret values in the Dockerfile text, remembered
    on disk per text and policy (never the values themselves).

    A text in which no detector trigger occurs is settled without loading the
    engine (:func:`lintimg.secrets.triggers.may_match`): most Dockerfiles.
    """
    from lintimg.secrets.scanner import shared_scanner
    from lintimg.secrets.triggers import may_match

    text = t.dockerfile.text
    if not may_match(text.encode("utf-8", "surrogatepass")):
        return
    key = f"{_DOCKERFILE_SCAN}\0{json.dumps(t.setting('secrets') or {}, sort_keys=True, default=str)}\0{text}"
    rows = remembered("dockerfile", key, lambda: [[h.line, h.column, h.title, h.redacted, h.fingerprint] for h in shared_scanner(t.setting("secrets")).scan_text(text)])
    for line, column, title, redacted, fp in rows:
        yield int(line), int(column), str(title), str(redacted), str(fp)


@rule(
    "LI503",
    "secret-in-dockerfile",
    Severity.ERROR,
    tags=SECURITY,
    # checkov runs detect-secrets over Dockerfiles too; these are its checks for the kinds of secret we find.
    # KICS's common "Passwords And Secrets" query (KICS-a88baa34) looks for the same thing in any file it scans.
    peers=("CKV_SECRET_2", "CKV_SECRET_4", "CKV_SECRET_6", "CKV_SECRET_9", "CKV_SECRET_13", "CKV_SECRET_14", "CKV_SECRET_17",
           "KICS-a88baa34"),
    security_severity=9.0,
)
def secret_in_dockerfile(t: DockerfileTarget) -> Iterator[Hit]:
    """A secret value is written in the Dockerfile.

    ## What it does
    Runs the secret engine over the Dockerfile text — RUN commands, heredoc
    bodies, ENV/ARG defaults and LABEL values — and reports each value with
    what it is, redacted: cloud, source-hosting, registry, chat, payment and
    AI-service tokens by their published formats, private keys, JWTs,
    passwords in URLs and on curl command lines, and secret-named
    assignments (`DB_PASSWORD=…`, `ENV API_KEY …`) whose value looks
    generated. Checksums are not secrets: `*_SHA256`/`*_CHECKSUM` values,
    `sha256sum -c` lines and hash-labelled values (`sha512-…`) are skipped,
    and so are placeholders (`${TOKEN}`, `<your-key>`, `changeme`).
    `# pragma: allowlist secret` on the line allowlists it.

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
    for line, column, title, redacted, fp in dockerfile_secrets(t):
        yield Hit(f"{title} in the Dockerfile: {redacted}", line=line, column=column, key=fp, fix="revoke it and pass it as a build secret")
