"""LI700–LI729: runtime shape from the Dockerfile — user, health check, ports, volumes."""
from __future__ import annotations

import re
from collections.abc import Iterator

from lintimg.dockerfile import Instruction
from lintimg.dockerfile.queries import hit
from lintimg.dockerfile.stages import chain, last_inherited, runs
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity
from lintimg.rules._common import base_config, base_lookup, base_user, path_under, runs_app

ID_RANGE = "LI700-LI729"

_ROOT = re.compile(r"^(root|0+)(:.*)?$")
_PER_STAGE = "hadolint checks every stage; lintimg checks the image the build ships (the final stage, with what it inherits from the stages it builds on), since builder stages are discarded"


def _user_of(ins: Instruction) -> str:
    return ins.args[0].value if ins.args else ""


@rule(
    "LI701", "final-user-root", Severity.WARNING, tags=("user", "security"),
    peers=("DL3002", "DS-0002", "CKV_DOCKER_8", "CIS-DI-0001", "KICS-67fd0c4a"),
    security_severity=7.0,
    divergences={"DL3002": _PER_STAGE},
)
def final_user_root(t: DockerfileTarget) -> Iterator[Hit]:
    """The image runs as root.

    ## What it does
    Flags the last `USER` that applies to the final image when it is `root`
    or UID `0` (with or without a group), or empty. A `USER root` in a
    stage the final one builds on counts; one in a discarded builder stage
    does not. A final image with no USER at all is LI702.

    ## Why it matters
    A process running as root in the container is root on the host's
    kernel: a breakout or a writable host mount gives an attacker full
    control.

    ## Example
    ```dockerfile
    FROM debian:12
    USER root
    CMD ["/app"]
    ```

    ## Fix
    Switch to an unprivileged user at the end: `USER 10001:10001`.
    """
    df = t.dockerfile
    if df.final_stage is None:
        return
    last = last_inherited(df, df.final_stage, "USER")
    if last is not None and (not _user_of(last) or _ROOT.match(_user_of(last))):
        yield hit(last, f"the image's last USER is {_user_of(last) or '(empty)'!r}: the container runs as root", fix="end with USER <non-root uid>")


@rule(
    "LI702", "missing-user", Severity.WARNING, tags=("user", "security"),
    peers=("DS-0002", "CKV_DOCKER_3", "CIS-DI-0001", "KICS-fd54f200"),
    security_severity=7.0,
    divergences={"CKV_DOCKER_3": "checkov accepts a USER in any stage; lintimg requires it in the final image, since a builder stage's USER does not reach it"},
)
def missing_user(t: DockerfileTarget) -> Iterator[Hit]:
    """The image never sets a USER, so it runs as its base image's user.

    ## What it does
    Flags the final stage when neither it nor a stage it builds on has a
    `USER` instruction, judged by what the base image itself runs as:

    - known to run as a non-root user: nothing is reported. Known from the
      base image's config when lintimg reads it (with `base-image-lookup:
      local`, from the local engine and the cache; with `registry`, from the
      registry too), or from image names whose convention says so: a
      `nonroot` tag or variant (distroless, Chainguard), Windows
      `nanoserver` (`ContainerUser`);
    - known to run as root (`scratch`, or a base config with no or a root
      `User`): a warning, or style when the image runs no program of its own
      (no CMD/ENTRYPOINT beyond a shell, no EXPOSE: a base or toolbox image
      whose users set USER);
    - the base image's user not known (no lookup, or the image is not at
      hand): style, saying it could not be checked instead of claiming root.

    ## Why it matters
    A process running as root in the container is root on the host's
    kernel too: a container escape or a writable host mount goes further.

    ## Example
    ```dockerfile
    FROM node:22
    COPY . /app
    CMD ["node", "/app/server.js"]
    ```

    ## Fix
    Add `USER node` (or a numeric UID) before CMD.
    """
    df = t.dockerfile
    final = df.final_stage
    if final is None or last_inherited(df, final, "USER") is not None:
        return
    root = chain(df, final)[-1]
    user, where = base_user(t, root)
    fix = "add USER <non-root uid> to the final stage"
    if user is None:
        if _non_root_by_name(root.base_resolved):
            return
        if base_lookup(t, root) is None:
            where += "; base-image-lookup: local lets lintimg read it from the local engine"
        yield hit(final.from_, f"no USER instruction: the container runs as the user of {root.base_resolved or 'its base image'}, "
                  f"which lintimg could not check ({where})", fix=fix, severity=Severity.STYLE)
    elif user in ROOT_USERS:
        soft = None if runs_app(df, final) else Severity.STYLE
        what = "" if soft is None else "; it runs no program of its own (a base or toolbox image)"
        yield hit(final.from_, f"no USER instruction: the container runs as root ({where}){what}", fix=fix, severity=soft)


# Users that are root: none set, the name, uid 0 with or without a group, Windows' administrator.
ROOT_USERS = frozenset({"", "root", "0", "0:0", "root:root", "ContainerAdministrator"})


def _non_root_by_name(ref: str) -> bool:
    """Image names whose convention is a non-root user: a ``nonroot`` tag or variant (distroless, Chainguard),
    Windows nanoserver (``ContainerUser``)."""
    ref = ref.lower()
    last = ref.rsplit("/", 1)[-1]
    name, tag = (ref.rsplit(":", 1) if ":" in last else (ref, ""))
    return "nonroot" in tag or name.endswith("-nonroot") or name.endswith(("windows/nanoserver", "microsoft/nanoserver"))


# trivy's DS-0004, checkov's CKV_DOCKER_1 and hadolint's DL3066 read every stage of the file; LI703 and LI706 only
# the stages that can run as a container.
_EVERY_STAGE = ("This peer checks every stage. lintimg checks the stages that can run as a container: a builder stage "
                "that later stages only copy files from never runs, nor does a stage no build can tag (one without an "
                "`AS` name that no other stage uses and that is not the last: only the classic builder builds it, as an "
                "image with no name).")


@rule("LI703", "user-not-numeric", Severity.INFO, tags=("user",), peers=("DL3066",), divergences={"DL3066": _EVERY_STAGE})
def user_not_numeric(t: DockerfileTarget) -> Iterator[Hit]:
    """USER should be a numeric UID.

    ## What it does
    Flags `USER name` and `USER name:group` unless both parts are numeric
    or come from a variable. A stage that never runs as a container is
    not checked: one only copied from, or one no build can tag (no `AS`
    name, not the last, used by no other stage).

    ## Why it matters
    A name is resolved inside the image's `/etc/passwd`; platforms that
    enforce "run as non-root" (Kubernetes `runAsNonRoot`) cannot check a
    name, and the host sees an opaque UID anyway.

    ## Example
    ```dockerfile
    USER app
    ```

    ## Fix
    `USER 10001:10001` (the UID you created the user with).
    """
    df = t.dockerfile
    for ins in df.of("USER"):
        user = _user_of(ins)
        if runs(df, ins) and user and "$" not in user and not all(p.isdigit() for p in user.split(":")):
            yield hit(ins, f"USER {user} is not a numeric UID", token=ins.args[0], fix="use the numeric UID[:GID]")


@rule("LI704", "copy-chown-flag", Severity.INFO, tags=("user", "copy"), peers=("KICS-aa93e17f",))
def copy_chown_flag(t: DockerfileTarget) -> Iterator[Hit]:
    """COPY/ADD `--chown` makes the files writable by the runtime user.

    ## What it does
    Flags `--chown` on COPY and ADD. A stage that never runs as a
    container is not checked: one only copied from, or one no build can
    tag (no `AS` name, not the last, used by no other stage).

    ## Why it matters
    Files owned by the user the container runs as can be modified by a
    compromised process; application code is safer owned by root and only
    readable by the runtime user.

    ## Example
    ```dockerfile
    COPY --chown=app:app . /app
    ```

    ## Fix
    Drop `--chown` (use `--chmod` for permissions) and give the runtime
    user write access only to the directories it must write.
    """
    df = t.dockerfile
    for ins in df.of("COPY", "ADD"):
        f = ins.flag("chown")
        if f is not None and runs(df, ins):
            yield hit(ins, f"{ins.keyword} --chown={f.value} gives the copied files to that user", token=f.token, fix="copy as root-owned files; grant write access only where needed")


@rule(
    "LI705", "missing-healthcheck", Severity.INFO, tags=("healthcheck",), enabled_by_default=False,
    peers=("DL3057", "DS-0026", "CKV_DOCKER_2", "CIS-DI-0006", "KICS-b03a748a"),
    divergences={
        "DL3057": "hadolint checks every stage; lintimg checks the final image",
        "DS-0026": "trivy accepts a HEALTHCHECK in any stage; lintimg requires it in the final image",
        "CKV_DOCKER_2": "checkov accepts a HEALTHCHECK in any stage; lintimg requires it in the final image",
    },
)
def missing_healthcheck(t: DockerfileTarget) -> Iterator[Hit]:
    """The image defines no HEALTHCHECK.

    ## What it does
    Flags the final stage when neither it nor a stage it builds on has a
    `HEALTHCHECK` (`HEALTHCHECK NONE` counts as a decision and passes), and
    the base image defines none (known when lintimg reads its config:
    `base-image-lookup`). Off by default, as in hadolint: most images are probed by their
    platform (Kubernetes probes, load-balancer checks) rather than by a
    HEALTHCHECK (docs/defaults.md); turn it on where Docker's own health
    status matters (`rules: {LI705: on}`).

    ## Why it matters
    Without a health check the engine only knows whether the process is
    alive, not whether it answers; orchestrators keep routing traffic to a
    hung container.

    ## Example
    ```dockerfile
    FROM nginx:1.27
    COPY site /usr/share/nginx/html
    ```

    ## Fix
    `HEALTHCHECK CMD ["curl", "-fsS", "http://localhost/"]`, or
    `HEALTHCHECK NONE` where the platform probes the service itself.
    """
    df = t.dockerfile
    final = df.final_stage
    if final is None or last_inherited(df, final, "HEALTHCHECK") is not None:
        return
    config = base_config(t, chain(df, final)[-1])
    if config and config.get("Healthcheck"):
        return  # the base image defines one (or NONE), and the image inherits it
    yield hit(final.from_, "the image has no HEALTHCHECK", fix='add HEALTHCHECK CMD ["<probe>"] (or HEALTHCHECK NONE)')


@rule(
    "LI706", "expose-ssh-port", Severity.WARNING, tags=("expose", "security"),
    peers=("DS-0004", "CKV_DOCKER_1", "KICS-5907595b"), security_severity=5.0,
    divergences={peer: _EVERY_STAGE for peer in ("DS-0004", "CKV_DOCKER_1")},
)
def expose_ssh_port(t: DockerfileTarget) -> Iterator[Hit]:
    """The image exposes port 22 (SSH).

    ## What it does
    Flags `EXPOSE 22`, `22/tcp` and `22/udp`. A stage that never runs as
    a container is not checked: one only copied from, or one no build can
    tag (no `AS` name, not the last, used by no other stage).

    ## Why it matters
    An SSH server in a container is a second entry point with its own keys
    and passwords to manage; `docker exec` already gives shell access to
    those who should have it.

    ## Example
    ```dockerfile
    EXPOSE 22
    ```

    ## Fix
    Remove the SSH server and the EXPOSE; use `docker exec` or
    `kubectl exec` for debugging.
    """
    df = t.dockerfile
    for ins in df.of("EXPOSE"):
        if not runs(df, ins):
            continue
        for tok in ins.args:
            port, _, proto = tok.value.partition("/")
            if port == "22" and proto.lower() in ("", "tcp", "udp"):
                yield hit(ins, f"EXPOSE {tok.value} opens SSH", token=tok, fix="remove the SSH server and this port")


_SENSITIVE_DIRS = ("/sys", "/dev", "/proc")


@rule("LI707", "volume-sensitive-dir", Severity.ERROR, tags=("volume", "security"), peers=("DKL-DI-0002",), security_severity=7.5)
def volume_sensitive_dir(t: DockerfileTarget) -> Iterator[Hit]:
    """VOLUME on `/sys`, `/dev` or `/proc`.

    ## What it does
    Flags `VOLUME` entries at or under `/sys`, `/dev` or `/proc`, in shell
    or JSON form. A stage that never runs as a container is not checked:
    one only copied from, or one no build can tag (no `AS` name, not the
    last, used by no other stage).

    ## Why it matters
    These paths are the kernel's interfaces; a volume there invites mounting
    the host's own, which gives the container control of host devices and
    kernel settings.

    ## Example
    ```dockerfile
    VOLUME /dev
    ```

    ## Fix
    Remove the path from VOLUME; keep volumes to application data.
    """
    df = t.dockerfile
    for ins in df.of("VOLUME"):
        if not runs(df, ins):
            continue
        for tok in ins.args:
            if path_under(tok.value, _SENSITIVE_DIRS):
                yield hit(ins, f"VOLUME {tok.value} is a kernel interface directory", token=tok, fix="keep volumes to application data directories")
