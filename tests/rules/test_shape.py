"""LI730 system-container (rules/shape.py): the verdict from the Dockerfile, with its build context when there is one."""
from __future__ import annotations

from pathlib import Path

import pytest

from lintimg.dockerfile.shape import classify_pid1, script_shape, supervisor_programs
from tests.rulespec import catches, ctx_lint, passes

SUPERVISOR_CONF = """\
[supervisord]
nodaemon=true

[program:sshd]
command=/usr/sbin/sshd -D

[program:cron]
command=/usr/sbin/cron -f

[program:rsyslog]
command=/usr/sbin/rsyslogd -n
"""
ONE_PROGRAM = "[program:app]\ncommand=/app --port 8080\n"
SUPERVISED = """\
FROM debian:12
RUN apt-get update && apt-get install -y openssh-server cron rsyslog supervisor
COPY services.conf /etc/supervisor/conf.d/services.conf
EXPOSE 22
CMD ["/usr/bin/supervisord", "-n"]
"""

# --- the vocabulary -------------------------------------------------------------------


@pytest.mark.parametrize("argv, kind, name", [
    (["/sbin/init"], "init", "/sbin/init"), (["/lib/systemd/systemd"], "init", "systemd"), (["/usr/sbin/init"], "init", "/usr/sbin/init"),
    (["/sbin/my_init"], "init", "phusion my_init"), (["supervisord", "-n"], "supervisor", "supervisord"), (["/init"], "supervisor", "s6-overlay"),
    (["runsvdir", "-P", "/etc/service"], "supervisor", "runsvdir"), (["s6-svscan", "/etc/s6"], "supervisor", "s6-svscan"),
    (["tini", "--", "/app"], "program", "app"), (["/usr/bin/dumb-init", "--single-child", "node", "server.js"], "program", "node"),
    (["catatonit", "--", "supervisord"], "supervisor", "supervisord"), (["gosu", "app", "/usr/sbin/sshd", "-D"], "program", "sshd"),
    (["/bin/sh", "-c", "x && y"], "shell", "sh"), (["bash", "/start.sh"], "script", "/start.sh"), (["/docker-entrypoint.sh", "nginx"], "script", "/docker-entrypoint.sh"),
    (["init"], "program", "init"),  # a bare "init" names nothing for sure
    (["/my_init", "--skip-runit", "/entrypoint.sh"], "script", "/entrypoint.sh"),  # without runit, my_init is an init shim
    (["/sbin/my_init", "--skip-runit", "--quiet", "--", "node", "app.js"], "program", "node"),
])
def test_pid1_is_classified_after_shims_and_wrappers(argv: list[str], kind: str, name: str) -> None:
    p = classify_pid1(argv)
    assert (p.kind, p.name) == (kind, name), p


@pytest.mark.parametrize("script, services", [
    ("service ssh start && service cron start && tail -f /dev/null", ["sshd", "cron"]),
    ("/etc/init.d/nginx start; /etc/init.d/php7.4-fpm start; sleep infinity", ["nginx", "php7.4-fpm"]),
    ("cron && nginx -g 'daemon off;'", ["cron", "nginx"]),
    ("/usr/sbin/sshd && exec python app.py", ["sshd", "python"]),
    ("redis-server & exec gunicorn app:app", ["redis", "gunicorn"]),
    ("set -e; envsubst < a.tpl > a.conf; exec nginx -g 'daemon off;'", ["nginx"]),
    ("service nginx start && tail -f /var/log/nginx/access.log", ["nginx"]),
    ("python manage.py migrate && python manage.py runserver 0.0.0.0:8000", ["python"]),
    ("/usr/sbin/sshd -D", ["sshd"]),
    ("service ssh restart && bash", ["sshd"]),  # an interactive shell is no service
    ("service ssh start && exec /bin/bash -l", ["sshd"]),
    ("while true; do sleep 60; done", []),
    # keep-alive endings as the corpus writes them (td-agent, alfresco, selenium images)
    ("service td-agent start && tail -100f /var/log/td-agent/td-agent.log", ["td-agent"]),
    ('service alfresco start && /bin/sh -c "while true;do sleep 1;done"', ["alfresco"]),
    ("redis-server & sleep 365d", ["redis"]),
    ("redis-server & sleep 30", ["redis", "sleep"]),  # a short sleep is the program, not a keep-alive
    ("tail -n 5 /var/log/app.log", ["tail"]),
    ('service ssh start && sh -c "cron -f"', ["sshd", "cron"]),  # a nested script's services count
])
def test_services_a_pid1_script_leaves_running(script: str, services: list[str]) -> None:
    assert script_shape(script).services == services


def test_an_entrypoint_that_execs_its_arguments_runs_them() -> None:
    shape = script_shape("#!/bin/sh\nset -e\ncron\nexec \"$@\"\n", ["gunicorn", "app:app"])
    assert shape.services == ["cron", "gunicorn"] and shape.execs == "$@"
    assert script_shape("#!/bin/sh\nset -e\nexec \"$@\"\n", ["gunicorn"]).services == ["gunicorn"]


def test_supervisor_programs_skip_those_that_do_not_start() -> None:
    progs = supervisor_programs(SUPERVISOR_CONF + "\n[program:debug]\ncommand=/bin/sleep 1\nautostart=false\n")
    assert progs is not None and [(p.name, p.line) for p in progs] == [("sshd", 4), ("cron", 7), ("rsyslog", 10)]
    assert supervisor_programs("[program:x\nbroken") is None


# --- from the Dockerfile alone ------------------------------------------------------------


def test_systemd_as_init_is_caught_at_its_cmd() -> None:
    (f,) = catches("LI730", 'FROM debian:12\nRUN apt-get install -y systemd && systemctl enable nginx cron\nCMD ["/lib/systemd/systemd"]\n', line=3)
    assert "init system (systemd)" in f.message and "line 2" in f.message
    assert {e["service"] for e in f.properties["evidence"] if "service" in e} >= {"nginx", "cron"}


def test_a_script_that_ends_in_sh_c_is_read_through() -> None:
    # from the corpus (selfoss): ENTRYPOINT in shell form running bash -c
    (f,) = catches("LI730", 'FROM php:7-apache\nRUN apt-get install -y cron\nENTRYPOINT /bin/bash -c "cron && apache2-foreground"\n', line=3)
    assert "2 services (cron, apache2-foreground)" in f.message
    assert "starts cron: cron (line 3)" in f.message and "runs apache2-foreground in the foreground: apache2-foreground (line 3)" in f.message
    passes("LI730", 'FROM debian:12\nCMD service alfresco start && /bin/sh -c "while true; do sleep 1; done"\n')


def test_a_service_chain_ending_in_a_keepalive_is_caught() -> None:
    (f,) = catches("LI730", "FROM debian:12\nCMD service nginx start && service cron start && tail -f /dev/null\n", line=2)
    assert "2 services (nginx, cron)" in f.message and "`tail -f /dev/null`" in f.message
    catches("LI730", 'FROM debian:12\nENTRYPOINT ["/bin/bash", "-c", "/usr/sbin/sshd && cron && sleep infinity"]\n', message="sshd, cron")


def test_the_base_decides_nothing_without_an_init() -> None:
    passes("LI730", "FROM debian:12\nRUN apt-get install -y openssh-server cron rsyslog\n")  # packages alone never decide
    catches("LI730", "FROM debian:12\nRUN apt-get install -y systemd && systemctl enable nginx cron\n", line=1)  # the init runs them
    passes("LI730", "FROM debian:12\nRUN apt-get install -y systemd && systemctl enable nginx\n")
    catches("LI730", 'FROM debian:12\nRUN systemctl enable nginx\nCMD ["/sbin/init"]\n', message="init system (/sbin/init) with 1 service enabled")


def test_application_containers_pass() -> None:
    passes("LI730", 'FROM alpine:3.20\nRUN apk add --no-cache tini\nENTRYPOINT ["/sbin/tini", "--"]\nCMD ["/app"]\n')
    passes("LI730", 'FROM alpine:3.20\nRUN apk add --no-cache openssh-server\nEXPOSE 22\nCMD ["/usr/sbin/sshd", "-D", "-e"]\n')  # a bastion
    passes("LI730", 'FROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]\n')
    passes("LI730", "FROM python:3.12\nCMD python manage.py migrate && gunicorn app:app\n")


def test_supervisord_is_judged_by_its_programs(tmp_path: Path) -> None:
    (f,) = ctx_lint(tmp_path / "three", SUPERVISED, {"services.conf": SUPERVISOR_CONF}, rule="LI730")
    assert f.location.line == 5 and "running 3 programs" in f.message
    assert "services.conf:4, copied to /etc/supervisor/conf.d/services.conf on line 3" in f.message
    assert {"sshd", "cron", "syslog"} <= set(f.properties["services"])
    assert "CronJob" in (f.fix or "") and "docker exec" in (f.fix or "") and "stdout" in (f.fix or "")
    assert ctx_lint(tmp_path / "one", SUPERVISED.replace("openssh-server cron rsyslog ", ""), {"services.conf": ONE_PROGRAM}, rule="LI730") == []


def test_supervisord_without_its_config_in_sight(tmp_path: Path) -> None:
    # no context: the installed daemons decide
    catches("LI730", SUPERVISED, message="3 system daemons are installed (sshd, cron, syslog)")
    passes("LI730", 'FROM debian:12\nRUN apt-get install -y supervisor\nCMD ["supervisord", "-n"]\n')
    # a heredoc is seen without any context; so is a config written by RUN
    catches("LI730", 'FROM debian:12\nCOPY <<EOF /etc/supervisor/conf.d/x.conf\n' + SUPERVISOR_CONF + 'EOF\nCMD ["supervisord", "-n"]\n', message="running 3 programs")
    catches("LI730", "FROM debian:12\nRUN printf '[program:sshd]\\ncommand=/usr/sbin/sshd -D\\n[program:cron]\\ncommand=cron -f\\n' > /etc/supervisord.conf\n"
            'CMD ["supervisord"]\n', message="running 2 programs")


def test_an_entrypoint_script_from_the_context_is_read(tmp_path: Path) -> None:
    df = 'FROM debian:12\nCOPY start.sh /usr/local/bin/start.sh\nENTRYPOINT ["/usr/local/bin/start.sh"]\nCMD ["gunicorn", "app:app"]\n'
    (f,) = ctx_lint(tmp_path / "a", df, {"start.sh": "#!/bin/sh\nset -e\ncron\nservice rsyslog start\nexec \"$@\"\n"}, rule="LI730")
    assert "start.sh:3" in f.message and "start.sh:4" in f.message and set(f.properties["services"]) == {"cron", "syslog", "gunicorn"}
    assert ctx_lint(tmp_path / "b", df, {"start.sh": "#!/bin/sh\nset -e\nexec \"$@\"\n"}, rule="LI730") == []


def test_s6_services_copied_in_are_counted(tmp_path: Path) -> None:
    df = 'FROM alpine:3.20\nCOPY rootfs/ /\nENTRYPOINT ["/init"]\n'
    files = {"rootfs/etc/services.d/nginx/run": "#!/bin/sh\nexec nginx\n", "rootfs/etc/services.d/php-fpm/run": "#!/bin/sh\nexec php-fpm\n"}
    (f,) = ctx_lint(tmp_path / "s6", df, files, rule="LI730")
    assert "s6-overlay" in f.message and "2 programs" in f.message
    one = {"rootfs/etc/services.d/nginx/run": "#!/bin/sh\nexec nginx\n"}
    assert ctx_lint(tmp_path / "s6one", df, one, rule="LI730") == []


def test_builder_stages_do_not_count() -> None:
    passes("LI730", 'FROM debian:12 AS build\nRUN apt-get install -y openssh-server cron rsyslog supervisor\nCMD ["supervisord"]\n'
                    'FROM debian:12\nCOPY --from=build /etc/os-release /x\nCMD ["/app"]\n')
    catches("LI730", 'FROM debian:12 AS base\nCMD ["/sbin/init"]\nFROM base\nRUN echo\n', line=2)  # inherited through FROM <stage>


def test_onbuild_triggers_do_not_change_the_verdict() -> None:
    passes("LI730", 'FROM debian:12\nONBUILD RUN apt-get install -y openssh-server cron rsyslog\nONBUILD RUN systemctl enable ssh cron\nCMD ["/app"]\n')
    catches("LI730", 'FROM debian:12\nONBUILD COPY . /app\nCMD ["/sbin/init"]\n', line=3)
