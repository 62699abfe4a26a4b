"""LI550–LI599: secrets in images — values in any layer (deleted and overwritten files and archives in
layers included) and the config, and secret-named variables in the config and history.

Values are found by the secret engine while the image is read
(:mod:`lintimg.image.secrets`); names by LI500's heuristic
(:func:`lintimg.secrets.redact.secret_name`). Every secret is reported once
per place — a file path, an archive member, an ``Env`` or label key, a build
argument, a history line — at the layer where it first appears, with the
later layers that still hold it. Where it came from decides the rule:

- a file a package manager installed and nobody changed (dpkg, apk, rpm,
  pip verified by hash; npm attributed by folder): LI553, "in package X",
  style (below the default failure threshold);
- a layer of the base image (known when the Dockerfile is given): LI552,
  or under policy ``secrets: base-layers: ignore|error`` nothing or LI550;
- everything else — the layers your Dockerfile made, the config, the
  history: LI550.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lintimg.engine.rule import rule
from lintimg.engine.target import ImageTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import describe_layer, image_hit
from lintimg.image.packages import Owner, vendor_index
from lintimg.image.secrets import ImageSecret, scan_config
from lintimg.secrets.redact import secret_name
from lintimg.secrets.scanner import shared_scanner

ID_RANGE = "LI550-LI599"
SECURITY = ("security", "secrets")
BASE_POLICIES = ("report", "ignore", "error")


@dataclass
class Place:
    """One secret in one place, with every layer (or history entry) that holds it."""

    first: ImageSecret
    trail: list[int] = field(default_factory=list)  # layers (files) or history entries (config), in order
    owner: Owner | None = None
    base: bool = False


def _places(t: ImageTarget) -> list[Place]:
    """The image's secrets grouped by place and value, classified (memoised per image, policy and base layers)."""
    bases = tuple(sorted(i for i, o in t.layer_map.items() if o.base))
    policy = (repr(sorted((t.setting("secrets") or {}).items())), bases)
    memo = t.image.memo.setdefault("secret-places", {})
    if policy in memo:
        return list(memo[policy])
    image = t.image
    found: list[ImageSecret] = list(image.analysis.get("secrets", []))
    config = scan_config(shared_scanner(t.setting("secrets")), image.config)
    places: dict[tuple[str, str, str], Place] = {}
    for s in sorted(found, key=lambda s: s.layer or 0) + config:
        where = s.place if s.source == "file" else f"{s.source}:{s.key}" if s.key else s.source
        key = (s.source, where, s.hit.fingerprint)
        step = s.layer if s.source == "file" else s.history
        if key in places:
            if step is not None and step not in places[key].trail:
                places[key].trail.append(step)
            continue
        place = places[key] = Place(s, [step] if step is not None else [])
        if s.source == "file" and s.layer is not None:
            place.owner = vendor_index(image).owner(s.path, s.digests)  # built at the first file secret: most images have none
            origin = t.layer_map.get(s.layer)
            place.base = bool(origin is not None and origin.base)
    out = list(places.values())
    # a value the config holds is reported there, not again for the ENV/LABEL line of the history
    in_config = {p.first.hit.fingerprint for p in out if p.first.source in ("env", "label")}
    out = [p for p in out if not (p.first.source == "history" and p.first.hit.fingerprint in in_config)]
    memo[policy] = out
    return out


def _fate(t: ImageTarget, s: ImageSecret) -> str:
    """'' when the file survives as written, else what a later layer did to it."""
    for ev in (t.image.history_by_path.get(s.path) or []):
        if ev.layer > (s.layer or 0) and ev.action.value in ("deleted", "modified"):
            verb = "deleted" if ev.action.value == "deleted" else "overwritten"
            return f"; {verb} in layer {ev.layer}, still extractable from layer {s.layer}"
    return ""


def _also(trail: list[int], what: str) -> str:
    rest = trail[1:]
    return f"; also in {what} {', '.join(map(str, rest))}" if rest else ""


def _config_line(t: ImageTarget, keyword: str, key: str) -> tuple[int, int] | None:
    """The Dockerfile line (and column) of the last ENV/LABEL of the final stage's chain that sets ``key``."""
    df = t.dockerfile
    if df is None or df.final_stage is None:
        return None
    from lintimg.dockerfile.stages import chain  # with a Dockerfile only: an image alone loads no Dockerfile model

    at = None
    for stage in reversed(chain(df, df.final_stage)):
        for ins in stage.of(keyword):
            for k, _, token in ins.key_values():
                if k == key:
                    at = (token.pos.line, token.pos.column)
    return at


def _file_hit(t: ImageTarget, p: Place, why: str = "") -> Hit:
    s, h = p.first, p.first.hit
    where = "/" + s.place.lstrip("/")
    msg = f"{h.title} in {where} ({describe_layer(t, s.layer or 0)}, line {h.line} of the file){why}: {h.redacted}"
    return image_hit(t, msg + _fate(t, s) + _also(p.trail, "layers"), layer=s.layer, path=s.path, key=h.fingerprint,
                     detector=h.detector, place=where)


def _config_hit(t: ImageTarget, p: Place) -> Hit:
    s, h = p.first, p.first.hit
    layer_of_history = {layer.history_index: layer.index for layer in t.image.layers if layer.history_index is not None}
    if s.source in ("env", "label"):
        keyword = "ENV" if s.source == "env" else "LABEL"
        msg = f"{h.title} in {keyword} {s.key} of the image config: {h.redacted}"
        at = _config_line(t, keyword, s.key)
        if at is not None:
            return Hit(msg, line=at[0], column=at[1], key=h.fingerprint, properties={"detector": h.detector, "place": f"{keyword} {s.key}"})
        return image_hit(t, msg, key=h.fingerprint, detector=h.detector, place=f"{keyword} {s.key}")
    entries = ", ".join(map(str, p.trail))
    first = p.trail[0] if p.trail else None
    layer = layer_of_history.get(first) if first is not None else None
    if s.source == "build-arg":
        msg = f"{h.title} in build argument {s.key}, recorded in the image history (entries {entries}): {h.redacted}"
        place = f"build-arg {s.key}"
    else:
        msg = f"{h.title} in the image history (entries {entries}): {h.redacted}"
        place = "history"
    return image_hit(t, msg, layer=layer, key=h.fingerprint, detector=h.detector, place=place)


def _base_policy(t: ImageTarget) -> str:
    value = (t.setting("secrets") or {}).get("base-layers", "report")
    return value if value in BASE_POLICIES else "report"


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
    """A secret is stored in a layer your image added, or in the image config or history.

    ## What it does
    Reports each secret the engine finds — in files of every layer (files a
    later layer deleted or overwrote, and files inside tar, zip, jar and
    wheel archives, included), in each config `Env` entry and label (named
    by key), and in the history: build arguments (named) and commands.
    One finding per secret per place, at the Dockerfile line of the layer
    where it first appears, listing the later layers that still hold it and
    saying when a later layer deleted it ("still extractable"). Files a
    package manager installed unchanged are LI553; base-image layers are
    LI552 (policy `secrets: base-layers: error` reports them here).

    ## Why it matters
    An image is a stack of tar files: anyone who can pull it can extract any
    layer and read its config, so a key removed by a later `RUN rm` or
    overwritten by a later ENV is still there.

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
    stage, and `.dockerignore` for files in the context. An accepted value
    goes in `secrets.allowlist` by fingerprint (the finding's key).
    """
    base = _base_policy(t)
    for p in _places(t):
        if p.first.source != "file":
            yield _config_hit(t, p)
        elif p.owner is None and (not p.base or base == "error"):
            yield _file_hit(t, p, " (base image layer)" if p.base else "")


@rule(
    "LI552",
    "secret-in-base-image",
    Severity.WARNING,
    subject=Subject.IMAGE,
    tags=SECURITY,
    peers=(),
    security_severity=6.0,
)
def secret_in_base_image(t: ImageTarget) -> Iterator[Hit]:
    """A secret is stored in a layer of the base image.

    ## What it does
    With the Dockerfile known (`lintimg image --dockerfile`, `lintimg
    build`), reports secrets in the layers that came with the `FROM` image,
    apart from files a package manager installed unchanged (LI553). The
    finding points at the `FROM` line. `secrets: base-layers: ignore` turns
    these off; `error` reports them as LI550 instead.

    ## Why it matters
    Base layers ship with your image: whoever can pull it can extract them.
    The secret is not yours to fix in your Dockerfile, but it is yours to
    notice — the base image leaks it, and you publish it again.

    ## Example
    ```dockerfile
    FROM registry.example.com/team/base:1   # its layer 2 holds /root/.netrc
    COPY app /app
    ```

    ## Fix
    Tell the base image's owners and move to a fixed base image; until then,
    a later layer cannot remove it (a deletion only hides it).
    """
    if _base_policy(t) != "report":
        return
    for p in _places(t):
        if p.first.source == "file" and p.owner is None and p.base:
            yield _file_hit(t, p, " (base image layer)")


@rule(
    "LI553",
    "secret-in-package-file",
    Severity.STYLE,  # below the default failure threshold (info): a package's own file never fails a gate
    subject=Subject.IMAGE,
    tags=SECURITY,
    peers=(),
    security_severity=2.0,
)
def secret_in_package_file(t: ImageTarget) -> Iterator[Hit]:
    """A secret-looking value sits in a file a package manager installed and nobody changed.

    ## What it does
    Reports, at the lowest severity (style, so the default failure threshold
    does not fail on it), secrets found in files that the dpkg, apk, rpm or
    pip database lists with exactly this content (npm: a file inside a
    package folder its lockfile lists; npm records no per-file hashes, so
    those are attributed, not verified), naming the package.

    ## Why it matters
    Such a value was published by the package's authors — usually a test
    fixture or a documentation example, sometimes a real leaked token. It is
    not a secret your build put there, and rotating it is not in your hands,
    but an image that ships it ships it.

    ## Example
    A `tests/` folder inside an npm package with a sample API key.

    ## Fix
    Nothing in your Dockerfile, usually. If the value is live, tell the
    package's authors; leave out test and example folders of installed
    packages (`npm ci --omit=dev`, deleting `tests/` in the same RUN) to
    ship less.
    """
    for p in _places(t):
        if p.first.source == "file" and p.owner is not None:
            yield _file_hit(t, p, f" (a file of {p.owner.describe()})")


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
