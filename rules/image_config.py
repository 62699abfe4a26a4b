"""LI750–LI779: the runtime shape an image's config declares (user, health check, volumes), and its reference.

The config rules run only when no Dockerfile is given: with
the Dockerfile, its own rules (LI7xx, D5) report the same thing at the line
that causes it, and a second report would be noise.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from lintimg.dockerfile.reference import parse_docker_ref
from lintimg.engine.rule import rule
from lintimg.engine.target import ImageTarget, Subject
from lintimg.errors import LintimgError
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import image_hit, parse_created_by
from lintimg.image.transport import parse_source

ID_RANGE = "LI750-LI779"

SENSITIVE_DIRS = ("/sys", "/dev", "/proc")


def _config_only(t: ImageTarget) -> dict | None:
    """The container config when the Dockerfile is unknown, else None."""
    return None if t.dockerfile is not None else t.image.container_config


@rule("LI750", "image-runs-as-root", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "security", "user"),
      peers=("CIS-DI-0001",), security_severity=5.5,
      divergences={"CIS-DI-0001": "dockle misses `User: 0` and `0:0`; lintimg treats UID 0 as root too."})
def image_runs_as_root(t: ImageTarget) -> Iterator[Hit]:
    """The image's config runs the container as root (no user, `root` or UID 0).

    ## What it does
    Reads `config.User` of an image checked without its Dockerfile and
    reports when it is empty, `root`, or UID 0 (with any group).

    ## Why it matters
    A process running as root in the container is root on the host's kernel
    interfaces; a container escape or a writable host mount then has root's
    reach.

    ## Example
    An image whose last stage has no `USER` line: `docker inspect` shows
    `"User": ""`.

    ## Fix
    Add `USER <uid>` (a numeric, non-zero UID) to the final stage of the
    Dockerfile and rebuild.
    """
    cfg = _config_only(t)
    if cfg is None:
        return
    user = (cfg.get("User") or "").strip()
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        shown = f"User is {user!r}" if user else "no User is set"
        yield image_hit(t, f"the container runs as root: {shown} in the image config", key="user", fix="set a non-root numeric USER in the final stage")


@rule("LI751", "image-no-healthcheck", Severity.INFO, subject=Subject.IMAGE, tags=("image", "healthcheck"),
      peers=("CIS-DI-0006",))
def image_no_healthcheck(t: ImageTarget) -> Iterator[Hit]:
    """The image's config declares no health check.

    ## What it does
    Reads `config.Healthcheck` of an image checked without its Dockerfile and
    reports when it is absent or disabled (`NONE`).

    ## Why it matters
    Without a health check the engine only knows whether the process runs,
    not whether it serves; a hung server stays "up".

    ## Example
    An image built from a Dockerfile with no `HEALTHCHECK` line.

    ## Fix
    Add `HEALTHCHECK CMD …` to the final stage (or rely on the orchestrator's
    probes and turn this rule off).
    """
    cfg = _config_only(t)
    if cfg is None:
        return
    test = (cfg.get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] == "NONE":
        yield image_hit(t, "the image config has no HEALTHCHECK", key="healthcheck", fix="add a HEALTHCHECK to the final stage")


@rule("LI752", "image-sensitive-volume", Severity.ERROR, subject=Subject.IMAGE, tags=("image", "security", "volume"),
      peers=("DKL-DI-0002",), security_severity=7.0)
def image_sensitive_volume(t: ImageTarget) -> Iterator[Hit]:
    """The image's config declares a VOLUME on a kernel file system (`/sys`, `/dev`, `/proc`).

    ## What it does
    Reads `config.Volumes` of an image checked without its Dockerfile and
    reports volumes at or under `/sys`, `/dev` or `/proc`.

    ## Why it matters
    Those paths are the kernel's interfaces; a volume there invites mounting
    the host's version into the container.

    ## Example
    `VOLUME /proc` in the Dockerfile the image came from.

    ## Fix
    Remove the VOLUME; mount what the application needs at run time.
    """
    cfg = _config_only(t)
    if cfg is None:
        return
    for vol in sorted(cfg.get("Volumes") or {}):
        norm = "/" + vol.strip("/")
        if any(norm == d or norm.startswith(d + "/") for d in SENSITIVE_DIRS):
            yield image_hit(t, f"VOLUME {vol} is a kernel file system path", key=f"volume:{norm}", fix="remove the VOLUME")


_IMAGE_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")


@rule("LI753", "image-reference-latest", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "pinning"),
      peers=("DKL-DI-0006",))
def image_reference_latest(t: ImageTarget) -> Iterator[Hit]:
    """The image was named by the `latest` tag, written or implied.

    ## What it does
    Reads the reference the image was checked by (`docker://`,
    `docker-daemon:` or a bare reference) and reports a tag of `latest`, or
    no tag and no digest, which means `latest`. Archives and layouts, image
    ids and digests are not references to a moving tag and pass.

    ## Why it matters
    `latest` moves: what was checked today is not what a deployment pulls
    tomorrow, so the result of the check says nothing about what runs.

    ## Example
    `lintimg image docker://registry.example.com/team/app` (no tag).

    ## Fix
    Check and deploy by a version tag or, better, by digest
    (`app@sha256:…`).
    """
    src = parse_source(t.image.reference)
    if src.transport not in ("docker", "docker-daemon", "") or _IMAGE_ID.match(src.selector):
        return
    try:
        ref = parse_docker_ref(src.selector)
    except LintimgError:
        return  # the reader accepted it, so it is a form this check does not judge
    if ref.digest is None and ref.tag == "latest":
        written = "latest" if src.selector.rsplit("/", 1)[-1].endswith(":latest") else "no tag, which means latest"
        yield image_hit(t, f"the image is referenced as {src.selector!r} ({written}); the check does not pin what will run",
                        key="latest", fix="refer to the image by a version tag or a digest")


@rule("LI754", "image-add-in-history", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "add"),
      peers=("CIS-DI-0009",),
      divergences={"CIS-DI-0009": "the same check; with the Dockerfile known, add-instead-of-copy reports it at the ADD line instead (and exempts archives and URLs)."})
def image_add_in_history(t: ImageTarget) -> Iterator[Hit]:
    """The image's history shows ADD used after the base file system (checked without a Dockerfile).

    ## What it does
    Reads `history[].created_by` of an image checked without its Dockerfile
    and reports every ADD except the earliest, which is how a base image
    puts its root file system in place. Both builders' forms are read
    (`#(nop) ADD file:… in /dst` and `ADD src /dst # buildkit`).

    ## Why it matters
    ADD fetches URLs and unpacks archives on its own; COPY does only what it
    says. The classic builder records ADD sources as content hashes, so the
    history is all there is to go on without the Dockerfile.

    ## Example
    History entry `/bin/sh -c #(nop) ADD file:3f2a… in /app/config.json`.

    ## Fix
    Use COPY in the Dockerfile (or check the image together with its
    Dockerfile to see the exact line).
    """
    if t.dockerfile is not None:
        return
    adds = [layer for layer in t.image.layers if parse_created_by(layer.created_by).keyword == "ADD"]
    for layer in adds[1:]:
        text = parse_created_by(layer.created_by).text
        yield image_hit(t, f"layer {layer.index} was made by ADD ({text.split(' in ')[-1].strip() or text})", layer=layer.index,
                        key=f"add:{layer.index}", fix="use COPY unless the archive must be unpacked or the URL fetched")
