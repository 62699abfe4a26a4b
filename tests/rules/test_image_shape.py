"""LI780 image-system-container (rules/image_shape.py), on images built in Python."""
from __future__ import annotations

from tests.imagebuild import layer, make_image
from tests.imagespec import BASE, catches, passes
from tests.rules.test_shape import ONE_PROGRAM, SUPERVISOR_CONF

SUPERVISORD = {"Cmd": ["/usr/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]}


def supervised(conf: str, *more):
    return make_image([
        BASE,
        layer("/bin/sh -c apt-get install -y openssh-server cron rsyslog supervisor",
              files={"usr/sbin/sshd": 900_000, "usr/sbin/cron": 60_000, "usr/sbin/rsyslogd": 700_000, "usr/bin/supervisord": 1_000,
                     "etc/ssh/ssh_host_ed25519_key": 400}),
        layer("/bin/sh -c #(nop) COPY file:abc in /etc/supervisor/conf.d/services.conf ", content={"etc/supervisor/conf.d/services.conf": conf.encode()}),
        *more,
    ], config=SUPERVISORD)


def test_supervisord_with_three_programs_in_the_image() -> None:
    (f,) = catches("LI780", supervised(SUPERVISOR_CONF))
    assert "running 3 programs" in f.message
    assert "/etc/supervisor/conf.d/services.conf:4" in f.message and "/etc/ssh/ssh_host_ed25519_key (layer 1)" in f.message
    assert f.location.path == "app/etc/supervisor/conf.d/services.conf" and f.image.layer_index == 2


def test_supervisord_with_one_program_passes() -> None:
    passes("LI780", supervised(ONE_PROGRAM))


# What Debian's supervisor and openssh-server packages ship (seen on the real debian-supervisord image):
# the supervisor package's own test configs, and a runit service folder for runit users.
PACKAGE_FILES = layer("/bin/sh -c apt-get install -y supervisor openssh-server", content={
    "usr/lib/python3/dist-packages/supervisor/tests/fixtures/issue-1054.conf": b"[program:cat]\ncommand=/bin/cat\n",
    "usr/lib/python3/dist-packages/supervisor/tests/fixtures/issue-565.conf": b"[program:hello]\ncommand=python hello.py\n",
    "etc/sv/ssh/run": b"#!/bin/sh\nexec /usr/sbin/sshd -D\n",
})


def test_only_the_configs_supervisord_reads_count() -> None:
    (f,) = catches("LI780", supervised(SUPERVISOR_CONF, PACKAGE_FILES))
    assert "running 3 programs" in f.message and "fixtures" not in f.message and "/etc/sv/ssh" not in f.message
    passes("LI780", supervised(ONE_PROGRAM, PACKAGE_FILES))
    # the file -c names counts wherever it is
    named = make_image([BASE, layer("/bin/sh -c #(nop) COPY file:abc in /srv/app.conf ", content={"srv/app-supervisor.conf": SUPERVISOR_CONF.encode()})],
                       config={"Cmd": ["supervisord", "-n", "-c", "/srv/app-supervisor.conf"]})
    assert "running 3 programs" in catches("LI780", named)[0].message


def test_systemd_as_pid1_with_enabled_units() -> None:
    img = make_image([BASE, layer("/bin/sh -c systemctl enable nginx cron", files={"lib/systemd/systemd": 1_000_000},
                                  symlinks={"etc/systemd/system/multi-user.target.wants/nginx.service": "/lib/systemd/system/nginx.service",
                                            "etc/systemd/system/multi-user.target.wants/cron.service": "/lib/systemd/system/cron.service"})],
                     config={"Cmd": ["/lib/systemd/systemd"]})
    (f,) = catches("LI780", img, message="init system (systemd) with 2 services enabled")
    assert "systemd unit cron enabled (/etc/systemd/system/multi-user.target.wants/cron.service (layer 1))" in f.message


def test_a_shell_chain_in_the_config() -> None:
    img = make_image([BASE], config={"Cmd": ["/bin/sh", "-c", "service nginx start && service cron start && tail -f /dev/null"]})
    catches("LI780", img, message="2 services (nginx, cron)")


def test_an_entrypoint_script_in_the_image_is_read() -> None:
    script = b"#!/bin/sh\nset -e\n/usr/sbin/sshd\ncron\nexec \"$@\"\n"
    img = make_image([BASE, layer("/bin/sh -c #(nop) COPY file:x in /entrypoint.sh ", content={"entrypoint.sh": script})],
                     config={"Entrypoint": ["/entrypoint.sh"], "Cmd": ["node", "server.js"]})
    (f,) = catches("LI780", img, message="3 services (sshd, cron, node)")
    assert "/entrypoint.sh:3" in f.message


def test_application_images_pass() -> None:
    passes("LI780", make_image([BASE, layer("/bin/sh -c #(nop) COPY file:t in /sbin/tini ", files={"sbin/tini": 20_000, "app": 5_000})],
                               config={"Entrypoint": ["/sbin/tini", "--"], "Cmd": ["/app"]}))
    bastion = make_image([BASE, layer("/bin/sh -c apk add openssh-server", files={"usr/sbin/sshd": 900_000, "etc/ssh/ssh_host_ed25519_key": 400})],
                         config={"Cmd": ["/usr/sbin/sshd", "-D", "-e"], "ExposedPorts": {"22/tcp": {}}})
    passes("LI780", bastion)
    passes("LI780", make_image([BASE, layer("/bin/sh -c apt-get install -y cron rsyslog openssh-server",
                                            files={"usr/sbin/sshd": 1, "usr/sbin/cron": 1, "usr/sbin/rsyslogd": 1})],
                               config={"Cmd": ["python3", "app.py"]}))  # installed daemons alone never decide


def test_with_the_dockerfile_the_image_adds_only_what_the_dockerfile_cannot_show() -> None:
    img = supervised(SUPERVISOR_CONF)
    df = ("FROM debian:12\nRUN apt-get install -y openssh-server cron rsyslog supervisor\n"
          "COPY services.conf /etc/supervisor/conf.d/services.conf\nCMD [\"/usr/bin/supervisord\", \"-n\", \"-c\", \"/etc/supervisor/supervisord.conf\"]\n")
    passes("LI780", img, df)  # LI730 reports it from the Dockerfile's lines
    # the base image brings supervisord, its configuration and its CMD: only the image shows it
    img = supervised(SUPERVISOR_CONF, layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": 1000}))
    (f,) = catches("LI780", img, "FROM registry.example.com/base/supervised:1\nCOPY app /app\n")
    assert f.location.line == 1 and "running 3 programs" in f.message
