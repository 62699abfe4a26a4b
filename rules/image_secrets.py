"""LI550–LI599: secrets in images — values in any layer (deleted and overwritten files included) and
the config, and secret-named variables in the config and history.

Values are found by the detector in :mod:`lintimg.secrets` while the image is
read (:mod:`lintimg.image.secrets`); names by LI500's heuristic
(:func:`lintimg.secrets.redact.secret_name`).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from lintimg.engine.rule import rule
from lintimg.engine.target import ImageTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import image_hit
from lintimg.image.secrets import ImageSecret, scan_config
from lintimg.rules._common import scanner_for
from lintimg.secrets.redact import secret_name

ID_RANGE = "LI550-LI599"
SECURITY = ("security", "secrets")


def _fate(t: ImageTarget, s: ImageSecret) -> str:
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
def secret_in_image(t: ImageTarget) -> Iterator[Hit]:
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
    found += scan_config(scanner_for(t), image.config)
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
def secret_named_env_in_image(t: ImageTarget) -> Iterator[Hit]:
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
