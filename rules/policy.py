"""LI900–LI979: organisation policy — trusted registries, pinned, allowed and denied base images, allowed users, the label schema."""
from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Iterator

from lintimg.dockerfile import Dockerfile, Instruction, Token
from lintimg.dockerfile.labels import FORMATS, key_problem
from lintimg.dockerfile.queries import hit
from lintimg.dockerfile.reference import ImageRef, parse_ref, registry_matches
from lintimg.dockerfile.stages import chain, inherited, last_inherited, leaf_stages
from lintimg.dockerfile.words import expand
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity
from lintimg.rules._common import base_user, external_bases, user_allowed

ID_RANGE = "LI900-LI979"


def _pulled_images(df: Dockerfile) -> Iterator[tuple[Instruction, Token, ImageRef]]:
    """Images the build pulls: external FROM bases and ``COPY --from=<image>``."""
    for st, ref in external_bases(df):
        if not st.base_resolved.startswith("/"):  # registry left to --build-arg
            yield st.from_, st.from_.args[0], ref
    for ins in df.of("COPY"):
        f = ins.flag("from")
        if f is not None and f.value and "$" not in f.value and any(c in f.value for c in ":/@"):
            yield ins, f.token, parse_ref(f.value)


@rule("LI901", "untrusted-registry", Severity.ERROR, tags=("policy", "supply-chain", "security"), peers=("DL3026",), security_severity=6.0)
def untrusted_registry(t: DockerfileTarget) -> Iterator[Hit]:
    """An image comes from a registry outside `trusted-registries`.

    ## What it does
    When `trusted-registries` is configured, flags FROM images and
    `COPY --from=<image>` references whose registry is not in the list.
    Wildcards match subdomains (`*.gcr.io`); an image with no registry is
    from `docker.io`.

    ## Why it matters
    Base images run with full trust inside your build; pulling them only
    from registries you vet is the first supply-chain control.

    ## Example
    ```yaml
    # .lintimg.yaml
    trusted-registries: [registry.example.com]
    ```
    ```dockerfile
    FROM docker.io/library/python:3.12
    ```

    ## Fix
    Mirror the image into a trusted registry and use that reference.
    """
    trusted = t.setting("trusted-registries")
    if not trusted:
        return
    for ins, tok, ref in _pulled_images(t.dockerfile):
        if not registry_matches(ref.domain, trusted):
            yield hit(ins, f"image {ref.text!r} comes from {ref.domain!r}, which is not a trusted registry", token=tok, fix=f"use an image from {', '.join(trusted)}")


@rule("LI902", "base-image-not-pinned-by-digest", Severity.WARNING, tags=("policy", "supply-chain", "security", "reproducibility"), security_severity=4.0)
def base_image_not_pinned_by_digest(t: DockerfileTarget) -> Iterator[Hit]:
    """The base image is not pinned by digest (opt-in policy).

    ## What it does
    With `require-digest: true`, flags FROM images without `@sha256:...`.
    No peer has this check: a tag satisfies all of them.

    ## Why it matters
    Tags are mutable: whoever can push to the repository can change what
    `python:3.12.4` means. A digest names exactly one image, so builds are
    reproducible and a hijacked tag cannot slip in.

    ## Example
    ```dockerfile
    FROM python:3.12.4-slim
    ```

    ## Fix
    `FROM python:3.12.4-slim@sha256:<digest>`, updated by a bot such as
    Renovate or Dependabot. `lintimg pin` writes these digests as the
    registry resolves the tags (it needs the registry, so `--fix` does not).
    """
    if not t.setting("require-digest"):
        return
    for st, ref in external_bases(t.dockerfile):
        if ref.digest is None:
            yield hit(st.from_, f"base image {st.base_resolved!r} is not pinned by digest", token=st.from_.args[0], fix=f"append @sha256:<digest> to {st.base_resolved}")


@rule("LI903", "base-image-not-allowed", Severity.ERROR, tags=("policy", "supply-chain"))
def base_image_not_allowed(t: DockerfileTarget) -> Iterator[Hit]:
    """The base image is not in `allowed-base-images`.

    ## What it does
    With `allowed-base-images` configured, flags FROM images that match
    none of its patterns. A pattern is matched (with `*` wildcards) against
    the name as written and its canonical form, each with and without the
    tag: `debian:12*`, `docker.io/library/*`, `registry.example.com/base/*`.

    ## Why it matters
    Organisations maintain a short list of patched, supported base images;
    an image outside it escapes patching and scanning.

    ## Example
    ```yaml
    allowed-base-images: ["registry.example.com/base/*"]
    ```
    ```dockerfile
    FROM alpine:3.20
    ```

    ## Fix
    Use one of the approved base images.
    """
    patterns = t.setting("allowed-base-images")
    if not patterns:
        return
    for st, ref in external_bases(t.dockerfile):
        if not any(fnmatch.fnmatchcase(f, p) for f in _forms(ref) for p in patterns):
            yield hit(st.from_, f"base image {st.base_resolved!r} is not in allowed-base-images", token=st.from_.args[0], fix="use an approved base image")


@rule("LI904", "base-image-denied", Severity.ERROR, tags=("policy", "supply-chain", "base-image"))
def base_image_denied(t: DockerfileTarget) -> Iterator[Hit]:
    """An image the organisation denies, with the reason the policy gives.

    ## What it does
    With `denied-base-images` (a map of image pattern to reason), flags FROM
    images and `COPY --from=<image>` references that match a pattern, and
    shows the policy's reason. Patterns match as in `allowed-base-images`:
    `*` wildcards against the name as written and its canonical form
    (`docker.io/library/…`), each with and without the tag or digest.

    ## Why it matters
    Some images are known bad for an organisation — end-of-life
    distributions, unmaintained runtimes, images with a licence problem —
    and a deny list with reasons catches them with the explanation a
    developer needs, where an allow list only says no.

    ## Example
    ```yaml
    denied-base-images:
      "python:2*": Python 2 is end of life; use python:3.12-slim
      "*centos*": CentOS Linux is end of life; use rockylinux or almalinux
    ```
    ```dockerfile
    FROM python:2.7-slim
    ```

    ## Fix
    Follow the reason the finding quotes: move to the replacement the
    policy names.
    """
    denied = t.setting("denied-base-images")
    if not denied:
        return
    for ins, tok, ref in _pulled_images(t.dockerfile):
        forms = _forms(ref)
        pattern = next((p for p in denied if any(fnmatch.fnmatchcase(f, p) for f in forms)), None)
        if pattern is not None:
            yield hit(ins, f"image {ref.text!r} is denied by policy ({pattern}): {denied[pattern]}", token=tok, key=f"denied:{pattern}",
                      fix=denied[pattern], reason=denied[pattern], pattern=pattern)


def _forms(ref: ImageRef) -> set[str]:
    """The name as written and canonical, each with and without its tag or digest (what image patterns match)."""
    suffix = (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")
    return {ref.name, ref.full_name, ref.name + suffix, ref.full_name + suffix}


@rule("LI905", "user-not-allowed", Severity.ERROR, tags=("policy", "user", "security"), security_severity=6.0)
def user_not_allowed(t: DockerfileTarget) -> Iterator[Hit]:
    """The image runs as a user the policy does not allow.

    ## What it does
    With `allowed-users` (user names, UIDs and UID ranges such as
    `10000-65535`), reads the user the final image runs as: the last
    `USER` of the final stage and the stages it is built `FROM`. Without
    one, the base image decides: its configured user is looked up like
    base-image sizes (cache and local engine; the registry with
    `base-image-lookup: registry`), and when it cannot be, the finding says
    so rather than assuming root. Root (`root`, `0`, empty) is allowed only
    when listed. A name checked against UID ranges alone is reported: the
    policy cannot be verified without the numeric UID. Users from build
    arguments without a default are not judged.

    ## Why it matters
    Platforms enforce who containers run as (Kubernetes `runAsUser`,
    `runAsNonRoot`, OpenShift's UID ranges); an image that runs as another
    user is refused at deploy time, or worse, runs with more rights than
    the platform team expects.

    ## Example
    ```yaml
    allowed-users: ["10000-65535", nobody]
    ```
    ```dockerfile
    FROM debian:12
    USER 1000
    ```

    ## Fix
    End the final stage with `USER <uid>` using a UID from the allowed
    range (create it with `useradd -u <uid>` if files need an owner).
    """
    allowed = t.setting("allowed-users")
    df = t.dockerfile
    final = df.final_stage
    if not allowed or final is None:
        return
    last = last_inherited(df, final, "USER")
    if last is not None:
        raw = last.args[0].value if last.args else ""
        user = expand(raw, df.env_at(last))
        if "$" in raw and (not user.split(":")[0] or "$" in user):
            return  # left to a build argument with no default
        verdict = user_allowed(user, allowed)
        if verdict is None:
            yield hit(last, f"USER {user} is a name, and allowed-users lists only UIDs: the policy cannot check it", token=last.args[0] if last.args else None,
                      fix="use the numeric UID", key="user")
        elif not verdict:
            yield hit(last, f"the image runs as {user or 'root'!r}, which allowed-users ({', '.join(map(str, allowed))}) does not list",
                      token=last.args[0] if last.args else None, fix="end the final stage with USER <an allowed UID>", key="user", user=user)
        return
    root = chain(df, final)[-1]
    base, where = base_user(t, root)
    if base is None:
        yield hit(root.from_, f"no USER in the Dockerfile, and the user of base image {root.base_resolved!r} could not be looked up: {where}",
                  fix="add USER <an allowed UID> to the final stage", key="user")
        return
    if user_allowed(base, allowed) is not True:
        yield hit(root.from_, f"no USER in the Dockerfile: the image runs as {base or 'root'!r} from {where}, which allowed-users does not list",
                  fix="add USER <an allowed UID> to the final stage", key="user", user=base)


def _labels(df: Dockerfile) -> Iterator[tuple[Instruction, str, str, Token]]:
    for ins in df.of("LABEL"):
        for key, value, tok in ins.key_values():
            yield ins, key, value or "", tok


@rule("LI910", "invalid-label-key", Severity.STYLE, tags=("labels",), peers=("DL3048",))
def invalid_label_key(t: DockerfileTarget) -> Iterator[Hit]:
    """A label key breaks Docker's key conventions.

    ## What it does
    Flags label keys in Docker's reserved namespaces (`com.docker.*`,
    `io.docker.*`, `org.dockerproject.*`) and keys that do not start with a
    lower-case letter, hold upper-case letters or other characters, end with
    a separator, or repeat separators.

    ## Why it matters
    Tools that query labels (`docker ps --filter label=`, registries,
    policy engines) rely on the convention; reserved namespaces belong to
    Docker itself.

    ## Example
    ```dockerfile
    LABEL Version=1.0 com.docker.thing=x
    ```

    ## Fix
    Use reverse-DNS keys in lower case: `LABEL org.example.version=1.0`.
    """
    for ins, key, _, tok in _labels(t.dockerfile):
        problem = key_problem(key)
        if problem:
            yield hit(ins, f"label key {key!r}: {problem}", token=tok, fix="use a lower-case reverse-DNS key such as org.example.name")


def _schema(t: DockerfileTarget) -> dict[str, str]:
    return t.setting("label-schema") or {}


@rule("LI911", "required-label-missing", Severity.INFO, tags=("labels", "policy"), peers=("DL3049",))
def required_label_missing(t: DockerfileTarget) -> Iterator[Hit]:
    """A label the label schema requires is missing.

    ## What it does
    For each label in `label-schema`, flags every stage that produces an
    image (one no later stage builds on or copies from) when neither it nor
    a stage it builds on sets that label.

    ## Why it matters
    Labels carry provenance (source, revision, licence, owner) that
    registries, scanners and incident responders read.

    ## Example
    ```yaml
    label-schema: {org.opencontainers.image.source: url}
    ```
    ```dockerfile
    FROM alpine:3.20
    ```

    ## Fix
    `LABEL org.opencontainers.image.source=https://github.com/org/repo`.
    """
    schema = _schema(t)
    if not schema:
        return
    df = t.dockerfile
    for st in leaf_stages(df):
        have = {key for ins in inherited(df, st, "LABEL") for key, _, _ in ins.key_values()}
        for name in schema:
            if name not in have:
                yield hit(st.from_, f"label {name!r} required by the label schema is missing", fix=f"add LABEL {name}=<value>")


@rule("LI912", "label-not-in-schema", Severity.INFO, tags=("labels", "policy"), peers=("DL3050",))
def label_not_in_schema(t: DockerfileTarget) -> Iterator[Hit]:
    """A label outside the label schema (strict labels).

    ## What it does
    With `strict-labels: true`, flags labels whose key is not in
    `label-schema`.

    ## Why it matters
    A fixed vocabulary keeps labels queryable; typos in keys
    (`org.opencontainers.image.revison`) otherwise go unnoticed.

    ## Example
    ```dockerfile
    LABEL team=payments
    ```

    ## Fix
    Add the key to the schema, or remove or rename the label.
    """
    schema = _schema(t)
    if not t.setting("strict-labels"):
        return
    for ins, key, _, tok in _labels(t.dockerfile):
        if key not in schema:
            yield hit(ins, f"label {key!r} is not in the label schema", token=tok, fix="add it to label-schema or remove it")


@rule("LI913", "label-empty", Severity.WARNING, tags=("labels", "policy"), peers=("DL3051",))
def label_empty(t: DockerfileTarget) -> Iterator[Hit]:
    """A label from the label schema is empty.

    ## What it does
    Flags labels named in `label-schema` whose value is empty.

    ## Why it matters
    An empty label satisfies the letter of the schema and none of its
    purpose.

    ## Example
    ```dockerfile
    LABEL org.opencontainers.image.revision=""
    ```

    ## Fix
    Fill it in, e.g. from a build argument: `ARG REVISION` and
    `LABEL org.opencontainers.image.revision=$REVISION`.
    """
    schema = _schema(t)
    for ins, key, value, tok in _labels(t.dockerfile):
        if key in schema and not value.strip():
            yield hit(ins, f"label {key!r} is empty", token=tok, fix=f"give {key} a value")


def _format_hits(t: DockerfileTarget, kind: str) -> Iterator[Hit]:
    """Hits on schema labels of type ``kind`` whose value does not have that format."""
    valid, expected = FORMATS[kind]
    schema = _schema(t)
    for ins, key, value, tok in _labels(t.dockerfile):
        if schema.get(key) == kind and value and "$" not in value and not valid(value):
            yield hit(ins, f"label {key!r} is {value!r}, not {expected}", token=tok, fix=f"set {key} to {expected}")


_FORMAT_SECTIONS = """

## Why it matters
Consumers parse typed labels (SBOM tools read licences, deploy tools read
revisions and versions); a malformed value breaks them quietly. Values
with variables are not judged.

## Fix
Set the label to a value of the schema's type, or correct the schema.
"""


def _format_rule_doc(func):
    """The six format rules share their last two doc sections."""
    func.__doc__ = inspect.cleandoc(func.__doc__ or "") + _FORMAT_SECTIONS
    return func


@rule("LI914", "label-not-url", Severity.WARNING, tags=("labels", "policy"), peers=("DL3052",))
@_format_rule_doc
def label_not_url(t: DockerfileTarget) -> Iterator[Hit]:
    """A label of schema type `url` is not a URL.

    ## What it does
    Flags labels typed `url` in `label-schema` whose value has no scheme
    (`https:`, `git:`, `mailto:` ...) or contains spaces.

    ## Example
    ```dockerfile
    LABEL org.opencontainers.image.source=github.com/org/repo
    ```
    """
    yield from _format_hits(t, "url")


@rule("LI915", "label-not-rfc3339", Severity.WARNING, tags=("labels", "policy"), peers=("DL3053",))
@_format_rule_doc
def label_not_rfc3339(t: DockerfileTarget) -> Iterator[Hit]:
    """A label of schema type `rfc3339` is not an RFC 3339 timestamp.

    ## What it does
    Flags labels typed `rfc3339` whose value is not a full timestamp with
    `T` and a zone, such as `2024-05-01T12:00:00Z`.

    ## Example
    ```dockerfile
    LABEL org.opencontainers.image.created=2024-05-01
    ```
    """
    yield from _format_hits(t, "rfc3339")


@rule("LI916", "label-not-spdx", Severity.WARNING, tags=("labels", "policy"), peers=("DL3054",))
@_format_rule_doc
def label_not_spdx(t: DockerfileTarget) -> Iterator[Hit]:
    """A label of schema type `spdx` is not an SPDX license id.

    ## What it does
    Flags labels typed `spdx` whose value is not an id from the SPDX license
    list (case-sensitive, one id; expressions with `OR`/`AND` are not
    accepted, as in hadolint).

    ## Example
    ```dockerfile
    LABEL org.opencontainers.image.licenses="Apache 2"
    ```
    """
    yield from _format_hits(t, "spdx")


@rule("LI917", "label-not-git-hash", Severity.WARNING, tags=("labels", "policy"), peers=("DL3055",))
@_format_rule_doc
def label_not_git_hash(t: DockerfileTarget) -> Iterator[Hit]:
    """A label of schema type `hash` is not a git commit hash.

    ## What it does
    Flags labels typed `hash` whose value is not 7 to 40 lower-case hex
    digits.

    ## Example
    ```dockerfile
    LABEL org.opencontainers.image.revision=main
    ```
    """
    yield from _format_hits(t, "hash")


@rule("LI918", "label-not-semver", Severity.WARNING, tags=("labels", "policy"), peers=("DL3056",))
@_format_rule_doc
def label_not_semver(t: DockerfileTarget) -> Iterator[Hit]:
    """A label of schema type `semver` is not a semantic version.

    ## What it does
    Flags labels typed `semver` whose value is not `MAJOR.MINOR.PATCH` with
    optional pre-release and build parts (no leading `v`).

    ## Example
    ```dockerfile
    LABEL org.opencontainers.image.version=v1.2
    ```
    """
    yield from _format_hits(t, "semver")


@rule("LI919", "label-not-email", Severity.WARNING, tags=("labels", "policy"), peers=("DL3058",))
@_format_rule_doc
def label_not_email(t: DockerfileTarget) -> Iterator[Hit]:
    """A label of schema type `email` is not an email address.

    ## What it does
    Flags labels typed `email` whose value is not a bare `local@domain`
    address (a display name such as `Jane <jane@example.com>` is not one).

    ## Example
    ```dockerfile
    LABEL maintainer="Jane Doe"
    ```
    """
    yield from _format_hits(t, "email")

