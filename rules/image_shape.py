"""LI780–LI799: container shape read from an image — its config's PID 1 and the files that configure several services."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile.shape import decide
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget, ImageTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import image_hit
from lintimg.image.shape import image_findings
from lintimg.rules._common import dockerfile_verdict, evidence_props, evidence_text, one_process_fix

ID_RANGE = "LI780-LI799"


@rule("LI780", "image-system-container", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "shape", "runtime"))
def image_system_container(t: ImageTarget) -> Iterator[Hit]:
    """The image is a system container: its PID 1 is an init or supervisor running several services.

    ## What it does
    Reads PID 1 from the image config (`Entrypoint` + `Cmd`, after init
    shims such as tini, dumb-init, catatonit and docker-init), then the
    files that say what it runs: `[program:…]` sections of supervisord
    configs in `/etc/supervisor/`, `/etc/supervisord*` or the file its
    `-c` names, s6 and runit service folders (`/etc/services.d/NAME/run`,
    `/etc/service/NAME/run`) when s6 or runit is PID 1,
    the services a PID 1 shell command or script starts, and systemd units
    enabled in `/etc/systemd/system/*.wants/`. Installed daemons (sshd,
    cron, rsyslogd, syslog-ng), sshd host keys baked into the image and
    crontabs are listed as evidence, each with its path and layer. It
    decides exactly as LI730 does (docs/shape.md). With the Dockerfile,
    LI730 reports what the Dockerfile shows; this rule then adds only what
    the image alone reveals (a base image that brings the init or the
    supervisor and its configuration).

    ## Why it matters
    A container whose PID 1 is an init or a supervisor of sshd, cron and
    syslog hides its services' crashes and logs from the orchestrator,
    must be patched like a server, and offers more ways in than the one
    application it exists for.

    ## Example
    An image whose config says `"Cmd": ["/usr/bin/supervisord", "-n"]` and
    whose `/etc/supervisor/conf.d/services.conf` has `[program:sshd]`,
    `[program:cron]` and `[program:rsyslog]`.

    ## Fix
    Split it: one process per container, `docker exec`/`kubectl exec`
    instead of sshd, the orchestrator's scheduled jobs (Kubernetes CronJob)
    instead of cron, stdout/stderr instead of syslog, sidecars for the
    other services; keep `tini` in front of the application if needed.
    """
    if t.dockerfile is not None and t.dockerfile.final_stage is not None:
        df_verdict, _ = dockerfile_verdict(DockerfileTarget(t.target, t.dockerfile), t.dockerfile.final_stage)
        if df_verdict is not None and df_verdict.system:
            return  # LI730 reports it at the Dockerfile's lines
    verdict = decide(image_findings(t.image))
    if verdict is None or not verdict.system:
        return
    path = next((e.path.lstrip("/") for e in verdict.evidence if e.path and e.path.lstrip("/") in t.image.files), None)
    layer = t.image.files[path].layer if path is not None else None
    yield image_hit(t, f"a system container, not one application: {verdict.reason}; evidence: {evidence_text(verdict)}", layer=layer, path=path,
                    fix=one_process_fix(verdict.services), key="system-container", services=verdict.services, evidence=evidence_props(verdict.evidence))
