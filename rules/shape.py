"""LI730–LI749: container shape from the Dockerfile (and its build context) — one application, or a system of services."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile.queries import hit
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Severity
from lintimg.rules._common import dockerfile_verdict, evidence_props, evidence_text, one_process_fix

ID_RANGE = "LI730-LI749"

@rule("LI730", "system-container", Severity.WARNING, tags=("shape", "runtime"))
def system_container(t: DockerfileTarget) -> Iterator[Hit]:
    """The image is a system container: an init or supervisor running several services, not one application.

    ## What it does
    Reads, for the image the Dockerfile ships (the final stage and the
    stages it is built `FROM`; builder stages are ignored):

    - PID 1, from ENTRYPOINT and CMD after init shims (`tini`,
      `dumb-init`, `catatonit`, `docker-init`) and exec wrappers (`gosu`,
      `su-exec`, `exec`, `env`);
    - the programs a supervisor runs: `[program:…]` sections of supervisord
      configs copied from the build context, written by a heredoc or by
      RUN, and s6/runit service folders (`/etc/services.d/NAME/run`,
      `/etc/service/NAME/run`);
    - the services a PID 1 shell script starts: `sh -c "…"` in CMD or
      ENTRYPOINT, or an entrypoint script copied from the context
      (`service x start`, `/etc/init.d/x start`, daemons run in the
      background or that fork away, and the program left in the foreground);
    - daemon and init packages installed and kept (openssh-server, cron,
      rsyslog, syslog-ng, systemd, supervisor, s6, runit, openrc), services
      enabled (`systemctl enable`, `rc-update add`, `update-rc.d`, runit
      links), host keys generated, crontabs installed.

    It decides in this order: PID 1 is an init system (systemd,
    `/sbin/init`, OpenRC, runit, `my_init`) → system container; PID 1 is a
    supervisor (supervisord, s6-overlay's `/init`, s6-svscan, runsvdir)
    running two or more programs → system container (one program is an
    application; with its configuration out of sight, two or more of sshd,
    cron and syslog installed decide, else nothing is said); PID 1 is a
    shell that starts two or more services (a keep-alive such as `tail -f`
    or `sleep infinity` is not one) → system container; one program, with
    or without an init shim, is an application (an sshd-only bastion is
    one). No CMD or ENTRYPOINT in the Dockerfile: a system container only
    when an init system is installed and two or more services are enabled
    for it. Packages, keys and crontabs alone never decide; they are listed
    as evidence. Each piece of evidence carries its Dockerfile line or its
    file and line in the build context. With an image, LI780 reads the
    same from the image's config and files.

    ## Why it matters
    A container is meant to be one process whose life is the container's:
    the runtime restarts it when it dies, scales it, collects its output
    and stops it cleanly. A container that runs sshd, cron and syslog
    under a supervisor hides crashes from the orchestrator, keeps logs in
    files nobody collects, needs patching like a server, and offers SSH as
    a second way in.

    ## Example
    ```dockerfile
    FROM debian:12
    RUN apt-get update && apt-get install -y openssh-server cron rsyslog supervisor
    COPY supervisord.conf /etc/supervisor/conf.d/services.conf
    EXPOSE 22
    CMD ["/usr/bin/supervisord", "-n"]
    ```

    ## Fix
    Run one process per container: use `docker exec`/`kubectl exec`
    instead of sshd; run scheduled work as the orchestrator's jobs
    (Kubernetes CronJob, ECS scheduled tasks) starting this image; log to
    stdout/stderr for the runtime's log driver instead of syslog; run other
    services as their own containers (sidecars). Keep `tini` (or
    `docker run --init`) in front of the application if it spawns children.
    """
    df = t.dockerfile
    final = df.final_stage
    if final is None:
        return
    verdict, where = dockerfile_verdict(t, final)
    if verdict is None or not verdict.system:
        return
    ins = next((i for i in df.instructions if i.pos.line == where), final.from_)
    yield hit(ins, f"a system container, not one application: {verdict.reason}; evidence: {evidence_text(verdict)}", fix=one_process_fix(verdict.services),
              key="system-container", services=verdict.services, evidence=evidence_props(verdict.evidence))
