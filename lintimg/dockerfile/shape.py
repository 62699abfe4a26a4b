"""Container shape: does an image run one application, or a system of services under an init?

The vocabulary (init systems, process supervisors, init shims, daemons, keep-alive
commands), the readers of what configures several services (supervisord
``[program:…]`` sections, s6 and runit service folders, shell scripts that start
daemons), and the decision. Sources of evidence — the Dockerfile with its build
context, or an image's config and files — gather :class:`Evidence`; :func:`decide`
turns it into a :class:`Verdict`. How it decides (docs/shape.md says the same):

1. PID 1 is an **init system** (systemd, SysV ``/sbin/init``, OpenRC, runit as
   stage 1, phusion's ``my_init`` unless ``--skip-runit``): a system container.
2. PID 1 is a **process supervisor** (supervisord, s6-svscan or s6-overlay's
   ``/init``, runsvdir): a system container when it runs two or more programs
   (counted from its configuration); one program is an application with a
   supervisor. When the configuration cannot be seen, two or more distinct
   system daemons installed (sshd, cron, syslog) decide; otherwise no verdict.
3. PID 1 is a **shell** (``sh -c "…"`` or a script the build copies in): a
   system container when the script starts two or more services (``service x
   start``, ``/etc/init.d/x start``, daemons run in the background or that
   fork away, and the program left in the foreground unless it is a
   keep-alive such as ``tail -f`` or ``sleep infinity``; a closing ``sh -c`` is read through).
4. Anything else (one program, possibly behind an init shim — tini,
   dumb-init, catatonit, ``docker run --init``'s docker-init — or gosu/su-exec):
   an application container. An sshd-only bastion is one.
5. No PID 1 known (the base image decides): a system container only when an
   init system is installed and two or more services are enabled for it.

Everything else found (packages, host keys, crontabs, enabled units) is shown
as supporting evidence; it never makes the verdict alone.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import TYPE_CHECKING

from lintimg.dockerfile.supervisor import looks_like_supervisor_config
from lintimg.records import record

if TYPE_CHECKING:
    from lintimg.dockerfile.model import Dockerfile, Instruction, Stage

# --- vocabulary -----------------------------------------------------------------------

INIT_SYSTEMS = {
    "systemd": "systemd", "openrc-init": "OpenRC", "runit-init": "runit", "runit": "runit",
    "my_init": "phusion my_init", "upstart": "Upstart", "dinit": "dinit", "busybox-init": "BusyBox init",
}
# Paths that are init systems whatever their basename says (/init is s6-overlay's supervisor, below).
INIT_PATHS = frozenset({"/sbin/init", "/usr/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd", "/bin/systemd", "/usr/bin/systemd",
                        "/sbin/openrc-init", "/sbin/runit-init", "/sbin/my_init", "/usr/local/bin/my_init"})
SUPERVISORS = {"supervisord": "supervisord", "s6-svscan": "s6", "runsvdir": "runit", "circusd": "circus"}
S6_OVERLAY_INIT = "/init"
# Run their operand as the real program: PID 1 is what they start.
INIT_SHIMS = frozenset({"tini", "tini-static", "dumb-init", "catatonit", "docker-init"})
WRAPPERS = frozenset({"exec", "env", "nice", "nohup", "gosu", "su-exec", "setpriv", "chpst", "s6-setuidgid", "runuser", "sudo", "stdbuf", "ionice", "timeout"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})

# Long-running daemons by program name -> the service they are. "Fork away unless" lists the
# switches that keep them in the foreground (sshd -D, cron -f, nginx -g 'daemon off;').
DAEMONS = {
    "sshd": "sshd", "dropbear": "sshd", "cron": "cron", "crond": "cron", "anacron": "cron", "atd": "atd",
    "rsyslogd": "syslog", "syslog-ng": "syslog", "syslogd": "syslog", "nginx": "nginx", "apache2": "apache", "httpd": "apache",
    "apache2ctl": "apache", "apachectl": "apache", "mysqld": "mysql", "mysqld_safe": "mysql", "mariadbd": "mysql", "postgres": "postgres",
    "pg_ctl": "postgres", "pg_ctlcluster": "postgres", "redis-server": "redis", "memcached": "memcached", "php-fpm": "php-fpm",
    "dockerd": "dockerd", "dbus-daemon": "dbus", "postfix": "postfix", "exim": "exim", "dovecot": "dovecot", "named": "bind",
    "cupsd": "cups", "xinetd": "xinetd", "ntpd": "ntp", "chronyd": "ntp", "mongod": "mongodb", "rabbitmq-server": "rabbitmq",
    "supervisord": "supervisord", "haproxy": "haproxy", "varnishd": "varnish", "squid": "squid", "vsftpd": "ftp", "proftpd": "ftp",
    "slapd": "ldap", "collectd": "collectd", "telegraf": "telegraf", "filebeat": "filebeat", "fluentd": "fluentd", "td-agent": "fluentd",
    "Xvfb": "xvfb", "x11vnc": "vnc", "vncserver": "vnc", "tightvncserver": "vnc", "websockify": "websockify", "jenkins": "jenkins",
}
FOREGROUND_SWITCHES = {"sshd": ("D",), "cron": ("f",), "crond": ("f", "n"), "rsyslogd": ("n",), "syslog-ng": ("F", "foreground"),
                       "dropbear": ("F",), "memcached": (), "redis-server": (), "mysqld": (), "postgres": (), "dockerd": ()}
# Daemons that serve the machine rather than an application: the mark of a system container.
SYSTEM_DAEMONS = frozenset({"sshd", "cron", "syslog", "atd", "dbus", "ntp", "xinetd", "postfix", "exim"})
# Packages by service, across apt/apk/dnf names.
DAEMON_PACKAGES = {
    "openssh-server": "sshd", "openssh": "sshd", "dropbear": "sshd", "cron": "cron", "cronie": "cron", "dcron": "cron", "anacron": "cron",
    "cronie-anacron": "cron", "rsyslog": "syslog", "syslog-ng": "syslog", "sysklogd": "syslog", "inetutils-syslogd": "syslog",
}
INIT_PACKAGES = {"systemd": "systemd", "systemd-sysv": "systemd", "sysvinit": "SysV init", "sysvinit-core": "SysV init", "openrc": "OpenRC",
                 "runit": "runit", "runit-init": "runit", "supervisor": "supervisord", "s6": "s6", "s6-overlay": "s6", "upstart": "Upstart"}
# Commands that only keep PID 1 alive.
KEEPALIVE = frozenset({"tail", "sleep", "wait", "read", "pause", "cat"})


@record(frozen=True)
class Evidence:
    """One thing that shows what the container runs, with where it was seen."""

    what: str  # "supervisord runs as PID 1", "openssh-server installed"
    where: str  # "line 7", "/etc/supervisor/conf.d/services.conf:3", "image config Cmd"
    line: int | None = None  # a Dockerfile line, when it is one
    path: str | None = None  # a path in the image, when it is one
    service: str | None = None  # the service it shows will run or is installed


@record
class Pid1:
    """What the container's PID 1 is, after init shims and exec wrappers."""

    kind: str  # init | supervisor | shell | program | none
    name: str  # "systemd", "supervisord", "sh", the program's basename, or ""
    argv: list[str] = field(default_factory=list)  # the command after shims and wrappers
    shim: str = ""  # the init shim in front, if any
    script: str | None = None  # the shell text for ``sh -c``


def _strip(argv: list[str]) -> tuple[list[str], str]:
    """Drop init shims and exec wrappers with their own switches; return (argv, the shim)."""
    shim = ""
    rest = list(argv)
    for _ in range(8):
        name = posixpath.basename(rest[0]) if rest else ""
        if name in INIT_SHIMS:
            shim = shim or name
        elif name not in WRAPPERS:
            break
        rest = rest[1:]
        while rest and (rest[0].startswith("-") or (name == "env" and "=" in rest[0])):
            rest = rest[1:]
        if name in ("gosu", "su-exec", "s6-setuidgid", "runuser", "timeout", "chpst") and rest:
            rest = rest[1:]  # the user, or the duration
    return rest, shim


def classify_pid1(argv: list[str]) -> Pid1:
    """What kind of program ``argv`` (ENTRYPOINT + CMD, exec form) starts as PID 1."""
    rest, shim = _strip(argv)
    if not rest:
        return Pid1("none", "", rest, shim)
    first = rest[0]
    name = posixpath.basename(first)
    if name == "my_init" and "--skip-runit" in rest:
        # phusion's my_init without runit only reaps zombies for the command after its options: an init shim
        after = rest[rest.index("--") + 1:] if "--" in rest else rest[1:]
        while after and after[0].startswith("-"):
            after = after[1:]
        inner = classify_pid1(after)
        return Pid1(inner.kind, inner.name, inner.argv, inner.shim or "my_init --skip-runit", inner.script)
    if name in SHELLS and len(rest) >= 3 and rest[1].startswith("-") and "c" in rest[1][1:]:
        return Pid1("shell", name, rest, shim, script=rest[2])
    if first in INIT_PATHS:
        return Pid1("init", first if name == "init" else INIT_SYSTEMS.get(name, name), rest, shim)  # /sbin/init: SysV, or systemd behind a link
    if name in INIT_SYSTEMS:
        return Pid1("init", INIT_SYSTEMS[name], rest, shim)
    if first == S6_OVERLAY_INIT:
        return Pid1("supervisor", "s6-overlay", rest, shim)
    if name in SUPERVISORS:
        return Pid1("supervisor", name, rest, shim)
    if name in SHELLS and len(rest) >= 2 and not rest[1].startswith("-"):
        return Pid1("script", rest[1], rest[1:], shim)  # sh /start.sh: the script decides
    if name.endswith(".sh"):
        return Pid1("script", first, rest, shim)
    return Pid1("program", name, rest, shim)


# --- shell scripts -----------------------------------------------------------------------


@record
class ScriptShape:
    """The services a shell script (PID 1) leaves running."""

    started: list[tuple[str, int, str]] = field(default_factory=list)  # (service, 0-based row, the command as written)
    foreground: tuple[str, int, str] | None = None  # the program the script ends in, if it is a service
    keepalive: tuple[int, str] | None = None  # (row, text) of a keep-alive ending
    execs: str | None = None  # "$@" when the script execs its arguments

    @property
    def services(self) -> list[str]:
        names = [s for s, _, _ in self.started]
        if self.foreground is not None:
            names.append(self.foreground[0])
        return list(dict.fromkeys(names))


def daemon_of(argv: list[str]) -> str | None:
    name = posixpath.basename(argv[0]) if argv else ""
    name = re.sub(r"[0-9.]+$", "", name) if name.startswith(("php-fpm", "postgres")) else name
    return DAEMONS.get(name)


def _forks(argv: list[str]) -> bool:
    """A daemon started this way detaches (sshd without -D, cron without -f, nginx without daemon off)."""
    name = posixpath.basename(argv[0])
    if name == "nginx":
        return "daemon off;" not in " ".join(argv) and "-g" not in argv
    if name in ("apache2ctl", "apachectl"):
        return "start" in argv or "-k" in argv and "start" in argv
    if name in ("pg_ctl", "pg_ctlcluster", "mysqld_safe"):
        return True
    switches = FOREGROUND_SWITCHES.get(name)
    if switches is None:
        return False
    return bool(switches) and not any(a.lstrip("-") in switches or (a.startswith("-") and not a.startswith("--") and any(c in switches for c in a[1:])) for a in argv[1:])


def _service_start(argv: list[str]) -> str | None:
    """``service x start``, ``/etc/init.d/x start``, ``rc-service x start``, ``systemctl start x``: the service name."""
    name = posixpath.basename(argv[0]) if argv else ""
    args = [a for a in argv[1:] if not a.startswith("-")]
    if name in ("service", "rc-service", "invoke-rc.d") and len(args) >= 2 and args[1] in ("start", "restart", "reload", "force-reload"):
        return args[0]
    if argv and argv[0].startswith("/etc/init.d/") and args[:1] and args[0] in ("start", "restart"):
        return posixpath.basename(argv[0])
    if name == "systemctl" and args[:1] in (["start"], ["restart"]) and len(args) >= 2:
        return args[1].removesuffix(".service")
    return None


_SLEEP_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _keepalive(argv: list[str]) -> bool:
    name = posixpath.basename(argv[0]) if argv else ""
    if name == "tail":  # -f, -F, --follow, and clusters such as -100f or -qF
        return any(a.startswith("--follow") or re.fullmatch(r"-\d*[a-zA-Z]*[fF][a-zA-Z]*", a) for a in argv[1:])
    if name == "sleep":  # infinity, or an hour or more: 3600, 365d, 24h
        return any(a in ("infinity", "inf") or ((m := re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", a)) is not None
                                               and float(m[1]) * _SLEEP_UNITS[m[2]] >= 3600) for a in argv[1:])
    if name == "cat":
        return len(argv) == 1
    return name in ("wait", "pause", "read")


# Last commands that are not a service: the script ends without leaving a program running.
_NOT_PROGRAMS = frozenset({"echo", "printf", "true", "false", "exit", "return", "set", "export", "cd", "test", "[", "ls", "chmod", "chown",
                           "mkdir", "rm", "cp", "mv", "ln", "touch", "sed", "envsubst", "source", ".", "trap", "ulimit", "umask"})


def script_shape(text: str, args: list[str] | None = None) -> ScriptShape:
    """Services a PID 1 shell script leaves running, from its commands (tree-sitter-bash, as RUN scripts are read).

    ``args`` are the script's arguments (the CMD after an ENTRYPOINT script): an ``exec "$@"`` runs them.
    """
    from lintimg.dockerfile.shell import parse_script

    script = parse_script(text)
    shape = ScriptShape()
    cmds = [c for c in script.commands if c.argv and not c.substituted]
    lines = text.splitlines()
    for i, cmd in enumerate(cmds):
        argv = cmd.argv
        row_text = " ".join(argv)
        svc = _service_start(argv)
        if svc is not None:
            shape.started.append((_service_name(svc), cmd.row, row_text))
            continue
        last = i == len(cmds) - 1 or "exec" in cmd.wrapped_by
        if argv[0] in ('$@', '${@}', '$*'):
            shape.execs = "$@"
            if args:
                run = classify_pid1(args)
                name = daemon_of(run.argv) or run.name
                if name and not _keepalive(run.argv):
                    shape.foreground = (name, cmd.row, row_text)
            continue
        daemon = daemon_of(argv)
        if daemon is not None:
            if cmd.operator == "&" or _forks(argv):
                shape.started.append((daemon, cmd.row, row_text))
            elif last:
                shape.foreground = (daemon, cmd.row, row_text)
            continue
        if not last:
            continue
        nested = classify_pid1(argv)
        if nested.script is not None:  # the script ends in `sh -c "…"`: what that script leaves running
            inner = script_shape(nested.script)
            shape.started += [(svc, cmd.row, text) for svc, _, text in inner.started]  # the inner command, on the outer line
            if inner.foreground is not None:
                shape.foreground = (inner.foreground[0], cmd.row, inner.foreground[2])
            elif inner.keepalive is not None:
                shape.keepalive = (cmd.row, row_text)
            continue
        if _keepalive(argv) or (posixpath.basename(argv[0]) in SHELLS and not [a for a in argv[1:] if not a.startswith("-")]):
            shape.keepalive = (cmd.row, row_text)  # an interactive shell keeps PID 1 alive; it serves nothing
        elif posixpath.basename(argv[0]) not in _NOT_PROGRAMS and cmd.operator != "&" and shape.foreground is None:
            shape.foreground = (posixpath.basename(argv[0]), cmd.row, row_text)
    if cmds and shape.keepalive is None and posixpath.basename(cmds[-1].argv[0]) == "sleep" and re.search(r"\bwhile\s+(true|:|\[\s*1\s*\])", text):
        # `while true; do sleep 60; done`: a keep-alive loop
        tail = cmds[-1]
        shape.keepalive = (tail.row, lines[tail.row].strip() if tail.row < len(lines) else " ".join(tail.argv))
        if shape.foreground is not None and shape.foreground[0] == "sleep":
            shape.foreground = None
    return shape


def _service_name(name: str) -> str:
    """``ssh`` (Debian's unit) and ``sshd`` are one service; ``rsyslog`` is syslog."""
    n = name.removesuffix(".service")
    return {"ssh": "sshd", "openssh": "sshd", "rsyslog": "syslog", "syslog-ng": "syslog", "crond": "cron", "cronie": "cron",
            "apache2": "apache", "httpd": "apache", "mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres"}.get(n, n)


# --- supervisor configurations -------------------------------------------------------------


@record(frozen=True)
class Program:
    name: str
    command: str
    line: int  # 1-based line of the [program:name] header in its file


def supervisor_programs(text: str) -> list[Program] | None:
    """The ``[program:x]`` sections of a supervisord config that start (``autostart=false`` left out); None when unreadable."""
    import configparser  # only when a supervisor config is read

    parser = configparser.RawConfigParser(strict=False, interpolation=None, comment_prefixes=(";", "#"), inline_comment_prefixes=(" ;",))
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    header = {m.group(1).strip(): i for i, line in enumerate(text.splitlines(), 1) if (m := re.match(r"^\s*\[program:([^\]]+)\]", line))}
    out = []
    for section in parser.sections():
        if not section.startswith("program:"):
            continue
        name = section.split(":", 1)[1].strip()
        opts = parser[section]
        if opts.get("autostart", "true").strip().lower() in ("false", "0", "no", "off"):
            continue
        out.append(Program(name, " ".join(opts.get("command", "").split()), header.get(name, 1)))
    return out


_S6 = re.compile(r"^/?(?:etc/services\.d|etc/s6/services|run/s6/services|etc/s6-overlay/s6-rc\.d)/([^/]+)/run$")
_RUNIT = re.compile(r"^/?(?:etc/service|etc/sv|service|var/service)/([^/]+)/run$")
_NOT_SERVICES = frozenset({"user", "user2", "base", ".s6-svscan", "s6-rc-oneshot-runner", "s6rc-oneshot-runner", "s6rc-fdholder", "fix-attrs", "legacy-services"})


def service_dir(path: str) -> tuple[str, str] | None:
    """``(manager, service)`` for an s6 or runit service's ``run`` script path."""
    m = _S6.match(path)
    if m and m.group(1) not in _NOT_SERVICES:
        return "s6", m.group(1)
    m = _RUNIT.match(path)
    if m:
        return "runit", m.group(1)
    return None


# --- the decision -------------------------------------------------------------------------


@record
class Findings:
    """Evidence gathered about one image (from a Dockerfile with its context, or from an image)."""

    pid1: Pid1 | None = None  # None: not known (the base image decides)
    pid1_where: Evidence | None = None
    programs: list[Evidence] = field(default_factory=list)  # programs a supervisor runs (one per service)
    programs_known: bool = False  # a supervisor configuration was seen
    script: ScriptShape | None = None  # the PID 1 script's shape, when it could be read
    script_where: str = ""
    installed: list[Evidence] = field(default_factory=list)  # daemon and init packages or binaries
    enabled: list[Evidence] = field(default_factory=list)  # services enabled for an init (systemctl enable, rc-update add, links)
    supporting: list[Evidence] = field(default_factory=list)  # host keys, crontabs, services started at build time

    def installed_services(self) -> list[str]:
        return list(dict.fromkeys(e.service for e in self.installed if e.service is not None and e.service in SYSTEM_DAEMONS))

    def installed_init(self) -> list[str]:
        return list(dict.fromkeys(e.service for e in self.installed if e.service is not None and e.service in INIT_PACKAGES.values()))


@record
class Verdict:
    system: bool
    reason: str  # one clause: how it decided
    services: list[str]
    evidence: list[Evidence]


def decide(f: Findings) -> Verdict | None:
    """System or application container, from what was found; None when nothing decides (no PID 1 known, no init)."""
    pid1 = f.pid1
    support = [*f.installed, *f.enabled, *f.supporting]
    head = [f.pid1_where] if f.pid1_where is not None else []
    if pid1 is None or pid1.kind == "none":
        inits = f.installed_init()
        units = list(dict.fromkeys(e.service for e in f.enabled if e.service))
        if any(i in ("systemd", "SysV init", "OpenRC") for i in inits) and len(units) >= 2:
            return Verdict(True, f"{inits[0]} is installed and {len(units)} services are enabled for it ({', '.join(units)}); no CMD or ENTRYPOINT replaces the init",
                           units, [*f.enabled, *f.installed, *f.supporting])
        return None
    if pid1.kind == "init":
        units = list(dict.fromkeys(e.service for e in f.enabled if e.service))
        enabled = f" with {len(units)} service{'s' if len(units) != 1 else ''} enabled" if units else ""
        return Verdict(True, f"PID 1 is an init system ({pid1.name}){enabled}",
                       units, [*head, *support])
    if pid1.kind == "supervisor":
        services = list(dict.fromkeys(e.service or e.what for e in f.programs))
        if f.programs_known:
            if len(services) >= 2:
                return Verdict(True, f"PID 1 is a process supervisor ({pid1.name}) running {len(services)} programs", services, [*head, *f.programs, *support])
            return Verdict(False, f"{pid1.name} runs {len(services) or 'no'} program{'s' if len(services) != 1 else ''}", services, [*head, *f.programs])
        daemons = f.installed_services()
        if len(daemons) >= 2:
            return Verdict(True, f"PID 1 is a process supervisor ({pid1.name}) and {len(daemons)} system daemons are installed ({', '.join(daemons)}); its configuration is not visible",
                           daemons, [*head, *support])
        return None
    if pid1.kind in ("shell", "script") and f.script is not None:
        sh = f.script
        services = sh.services
        if len(services) >= 2:
            ending = f", then keeps PID 1 alive with `{sh.keepalive[1]}`" if sh.keepalive else ""
            return Verdict(True, f"PID 1 is a shell that starts {len(services)} services ({', '.join(services)}){ending}", services, [*head, *support])
        return Verdict(False, f"the PID 1 script starts {len(services) or 'no'} service{'s' if len(services) != 1 else ''}", services, head)
    if pid1.kind == "program":
        return Verdict(False, f"PID 1 is one program ({pid1.name})" + (f" behind the init shim {pid1.shim}" if pid1.shim else ""), [pid1.name], head)
    return None


# --- from a Dockerfile ----------------------------------------------------------------------


@record(frozen=True)
class Copied:
    """A file a COPY/ADD puts in the image: where it lands, where it comes from, and its text when read."""

    dest: str  # absolute path in the image
    origin: str  # "supervisord.conf (line 9)": the context path or heredoc, and the COPY line
    line: int  # the COPY line
    text: Callable[[], str | None]  # read on demand (bounded by the caller); None when unreadable


def _at(line: int) -> str:
    return f"line {line}"


def _script_line(ins: Instruction, row: int) -> int:
    return min(ins.pos.line + row, ins.pos.end_line)


_PROGRAM_IN_RUN = re.compile(r"\[program:([A-Za-z0-9_.@-]+)\]")


def _enabled(argv: list[str]) -> list[str]:
    """Services a RUN command enables for an init: systemctl enable, rc-update add, update-rc.d, chkconfig, runit links."""
    name = posixpath.basename(argv[0]) if argv else ""
    args = [a for a in argv[1:] if not a.startswith("-")]
    if name == "systemctl" and args[:1] == ["enable"]:
        return [a.removesuffix(".service") for a in args[1:] if not a.endswith((".target", ".socket", ".timer"))]
    if name == "rc-update" and args[:1] == ["add"] and len(args) >= 2:
        return [args[1]]
    if name == "update-rc.d" and len(args) >= 2 and args[1] in ("defaults", "enable"):
        return [args[0]]
    if name == "chkconfig" and len(args) >= 2 and args[1] == "on":
        return [args[0]]
    if name == "ln" and len(args) >= 2 and re.match(r"^/etc/(sv|runit/sv)/[^/]+/?$", args[-2]) and args[-1].rstrip("/").endswith("service"):
        return [posixpath.basename(args[-2].rstrip("/"))]
    return []


def dockerfile_findings(df: Dockerfile, stage: Stage, copied: Mapping[str, Copied], packages: list[tuple[int, str]]) -> Findings:
    """Evidence about ``stage``'s image from the Dockerfile: its PID 1, what RUN enables and starts, the ``packages``
    installed (line, name) that stay, and the ``copied`` files (by image path) the build context or heredocs provide."""
    from lintimg.dockerfile.queries import container_command, run_commands, workdir_at
    from lintimg.dockerfile.stages import chain

    f = Findings()
    stages = {st.index for st in chain(df, stage)}
    cc = container_command(df, stage)
    if cc.argv:
        shown = cc.cmd or cc.entrypoint
        assert shown is not None
        f.pid1 = classify_pid1(cc.argv)
        keyword = "ENTRYPOINT" if cc.entrypoint is not None else "CMD"
        where = cc.entrypoint or shown
        f.pid1_where = Evidence(pid1_text(f.pid1), f"{keyword} on {_at(where.pos.line)}", line=where.pos.line)
        if f.pid1.kind == "shell" and f.pid1.script is not None:
            f.script = script_shape(f.pid1.script)
            f.script_where = keyword
            ins = cc.entrypoint if cc.entrypoint is not None and cc.entrypoint.json_args is None else shown
            f.supporting += script_evidence(f.script, lambda row: _at(_script_line(ins, row)), lambda row: _script_line(ins, row))
        elif f.pid1.kind == "script":
            path = f.pid1.argv[0] if f.pid1.argv[0].startswith("/") else posixpath.join(workdir_at(df, where), f.pid1.argv[0])
            src = copied.get(posixpath.normpath(path))
            text = src.text() if src is not None else None
            if src is not None and text is not None:
                f.script = script_shape(text, f.pid1.argv[1:])
                f.script_where = src.origin
                f.supporting += script_evidence(f.script, lambda row: f"{src.origin.split(' (')[0]}:{row + 1}", lambda row: None)
    # supervisor programs and service folders copied in, or written by RUN
    for dest, c in sorted(copied.items()):
        sdir = service_dir(dest)
        if sdir is not None:
            f.programs.append(Evidence(f"{sdir[0]} service {sdir[1]}", f"{c.origin}", line=c.line, path=dest, service=_service_name(sdir[1])))
            f.programs_known = f.programs_known or (f.pid1 is not None and f.pid1.name in ("s6-overlay", "s6-svscan", "runsvdir", "runit"))
            continue
        if not dest.endswith((".conf", ".ini")):
            continue
        named = f.pid1 is not None and f.pid1.kind == "supervisor" and dest in _config_args(f.pid1.argv)
        text = c.text() if "supervisor" in dest.lower() or "supervisor" in c.origin.lower() or named else None
        if text is None or not looks_like_supervisor_config(dest, text):
            continue
        progs = supervisor_programs(text) or []
        f.programs_known = True
        name = c.origin.split(" (")[0]
        f.programs += [Evidence(f"supervisord program {p.name}: {p.command}" if p.command else f"supervisord program {p.name}",
                                f"{name}:{p.line}, copied to {dest} on {_at(c.line)}", line=c.line, path=dest,
                                service=daemon_of(p.command.split()) or p.name if p.command else p.name) for p in progs]
    for ins in df.instructions:
        if ins.stage_index not in stages or ins.keyword != "RUN":
            continue
        for m in _PROGRAM_IN_RUN.finditer(ins.args_text + "".join(h.content for h in ins.heredocs)):
            f.programs_known = True
            f.programs.append(Evidence(f"supervisord program {m.group(1)} written by RUN", _at(ins.pos.line), line=ins.pos.line, service=m.group(1)))
    for ins, cmd in run_commands(df, include_onbuild=False):
        if ins.stage_index not in stages:
            continue
        for unit in _enabled(cmd.argv):
            f.enabled.append(Evidence(f"{unit} enabled ({' '.join(cmd.argv[:2])})", _at(ins.pos.line), line=ins.pos.line, service=_service_name(unit)))
        started = _service_start(cmd.argv)
        if started is not None:
            f.supporting.append(Evidence(f"{started} started at build time ({' '.join(cmd.argv[:3])})", _at(ins.pos.line), line=ins.pos.line))
        if cmd.name == "ssh-keygen" and (cmd.has_flag("A") or any("ssh_host_" in a for a in cmd.args)):
            f.supporting.append(Evidence("sshd host keys generated into the image", _at(ins.pos.line), line=ins.pos.line, service="sshd"))
        if cmd.name == "crontab" and cmd.args and not cmd.has_flag("l", "r", "e"):
            f.supporting.append(Evidence("a crontab installed", _at(ins.pos.line), line=ins.pos.line, service="cron"))
    for line, pkg in packages:
        base = pkg.split("=")[0].lower()
        provides = DAEMON_PACKAGES.get(base) or INIT_PACKAGES.get(base)
        if provides is not None:
            f.installed.append(Evidence(f"{pkg} installed", _at(line), line=line, service=provides))
    for dest, c in copied.items():
        if dest.startswith(("/etc/cron.d/", "/var/spool/cron/", "/etc/crontabs/")) or dest == "/etc/crontab":
            f.supporting.append(Evidence(f"cron table {dest}", c.origin, line=c.line, path=dest, service="cron"))
    return f


def _config_args(argv: list[str]) -> set[str]:
    """The configuration files a supervisor's command line names (``-c FILE``, ``--configuration=FILE``)."""
    out = set()
    for i, a in enumerate(argv):
        if a in ("-c", "--configuration") and i + 1 < len(argv):
            out.add(posixpath.normpath(argv[i + 1]))
        elif a.startswith("--configuration="):
            out.add(posixpath.normpath(a.split("=", 1)[1]))
    return out


def pid1_text(p: Pid1) -> str:
    shim = f" (behind {p.shim})" if p.shim else ""
    if p.kind == "init":
        return f"the init system {p.name} runs as PID 1{shim}"
    if p.kind == "supervisor":
        return f"the process supervisor {p.name} runs as PID 1{shim}"
    if p.kind == "shell":
        return f"a {p.name} -c script runs as PID 1{shim}"
    if p.kind == "script":
        return f"the script {p.name} runs as PID 1{shim}"
    return f"{p.name} runs as PID 1{shim}"


def script_evidence(sh: ScriptShape, where: Callable[[int], str], line: Callable[[int], int | None]) -> list[Evidence]:
    out = [Evidence(f"starts {svc}: {text}", where(row), line=line(row), service=svc) for svc, row, text in sh.started]
    if sh.foreground is not None:
        svc, row, text = sh.foreground
        out.append(Evidence(f"runs {svc} in the foreground: {text}", where(row), line=line(row), service=svc))
    if sh.keepalive is not None:
        out.append(Evidence(f"keeps PID 1 alive: {sh.keepalive[1]}", where(sh.keepalive[0]), line=line(sh.keepalive[0])))
    return out
