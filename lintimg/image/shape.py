"""Container shape read from an image: PID 1 from its config, and the files that configure or betray several services.

:func:`wants` selects the small files whose bytes the reader captures while the
layers stream (supervisord configs, crontabs, likely PID 1 scripts);
:func:`image_findings` gathers the evidence :func:`lintimg.dockerfile.shape.decide` judges:

- PID 1 from ``Entrypoint`` + ``Cmd`` (a ``sh -c`` text, or a script in the image, is read for the services it starts);
- ``[program:…]`` sections of supervisord configs (``/etc/supervisor/…``, ``/etc/supervisord.conf``, ``/etc/supervisord.d/``);
- s6 and runit service folders (``/etc/services.d/NAME/run``, ``/etc/service/NAME/run``);
- systemd units enabled in ``/etc/systemd/system/*.wants/``;
- daemon and init binaries (sshd, cron, rsyslogd, syslog-ng, systemd, supervisord, s6-svscan, runsvdir);
- sshd host keys baked into the image, and crontabs.
"""
from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from lintimg.dockerfile.supervisor import looks_like_supervisor_config
from lintimg.image.model import GATED, EntryType, LayerEntry, affixed, joined_chunks, view_paths

if TYPE_CHECKING:
    from lintimg.dockerfile.shape import Findings
    from lintimg.image.model import Image

MAX_CAPTURE = 64 * 1024  # bytes of one captured config or script
_CRON_DIRS = ("etc/cron.d/", "var/spool/cron/crontabs/", "var/spool/cron/", "etc/crontabs/")
_SCRIPT_DIRS = ("usr/local/bin/", "usr/local/sbin/", "usr/bin/", "sbin/", "bin/")
_SCRIPT_NAME = re.compile(r"(entrypoint|start|run|init|boot|launch|supervise|services?)[\w.-]*$|\.sh$")
_UNIT_WANTS = re.compile(r"^etc/systemd/system/[^/]+\.wants/([^/]+)\.service$")
_SLASHES = methodcaller("count", "/")
_EVIDENCE_PLACES = ("etc/", *_CRON_DIRS)  # supervisord configs, systemd units, sshd host keys, crontabs
# Binaries that show a daemon or an init system is installed, by path in the image.
BINARIES = {
    "usr/sbin/sshd": "sshd", "usr/sbin/dropbear": "sshd", "usr/sbin/cron": "cron", "usr/sbin/crond": "cron", "usr/sbin/anacron": "cron",
    "usr/sbin/rsyslogd": "syslog", "usr/sbin/syslog-ng": "syslog", "lib/systemd/systemd": "systemd", "usr/lib/systemd/systemd": "systemd",
    "usr/bin/supervisord": "supervisord", "usr/local/bin/supervisord": "supervisord", "usr/bin/s6-svscan": "s6", "command/s6-svscan": "s6",
    "usr/bin/runsvdir": "runit", "sbin/runit": "runit", "sbin/openrc": "OpenRC", "sbin/openrc-init": "OpenRC",
}


def _image_supervisor_config(path: str) -> bool:
    """A supervisord config where supervisord looks for one in an image: ``/etc/supervisord.conf``, ``/etc/supervisor/…``,
    ``/etc/supervisord.d/``."""
    return path.startswith("etc/supervisor") and path.endswith((".conf", ".ini"))


class ShapeFiles:
    """The files whose bytes the shape rules read, captured while the layers stream (a ContentRequest):
    supervisord configs and likely PID 1 scripts, small regular files only, secret-named values masked."""

    key = "shape:1"  # part of the layer cache key: bump when what is captured or kept changes

    def wants(self, entry: LayerEntry) -> bool:
        p, etype, size = entry[:3]
        if etype is not EntryType.FILE or size > MAX_CAPTURE:
            return False
        # wider than what is read: the config supervisord's -c names may be anywhere (its ending first: one slice, not the whole path)
        if p[-5:].lower().endswith((".conf", ".ini")) and looks_like_supervisor_config("/" + p):
            return True
        # the place first: most files of an image are deeper than any script PID 1 runs, and a search costs more
        depth = p.count("/")
        return (depth <= 1 or depth <= 3 and p.startswith(_SCRIPT_DIRS)) and bool(_SCRIPT_NAME.search(p.rpartition("/")[2]))

    def prefilter(self, paths: Sequence[str], largest: int) -> Iterable[int]:
        """The indices of ``paths`` ending like a config (``.conf``, ``.ini``, any case) or in a place of scripts:
        at most one folder deep, or under a ``bin`` folder PID 1 runs from (see ``LayerAnalyzer``)."""
        chunks = joined_chunks(paths)  # each path between two NULs (the texts affixed searches: made once for a Paths)
        if _shallow(chunks, paths):  # a path one folder deep
            return range(len(paths))
        found = set(affixed(paths, starts=_SCRIPT_DIRS))
        for text, _ in chunks:
            low = text.lower()  # the lowercase of each path is in it, each followed by a NUL
            if ".conf\0" in low or ".ini\0" in low:
                found.update(i for i, p in enumerate(paths) if p.lower().endswith((".conf", ".ini")))
                break
        return found

    def keep(self, path: str, data: bytes) -> bytes:
        """Scripts and configs may set tokens: what the rules keep (and the layer cache stores) has them masked."""
        from lintimg.secrets.redact import scrub

        return scrub(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


SHAPE_FILES = ShapeFiles()


@lru_cache(maxsize=1)
def _one_folder_deep() -> Any:
    from lintimg import rx

    return rx.compile("\\x{0}[^/\\x{0}]*(?:/[^/\\x{0}]*)?\\x{0}")


def _shallow(chunks: list[tuple[str, bytes | None]], paths: Sequence[str]) -> bool:
    """Whether one of ``paths`` (``chunks``: them joined, as :func:`joined_chunks` makes them) is at most one folder
    deep: one RE2 pass over each chunk's text when they are many and all ASCII (a NUL in a path can only add a
    match), else a count of each path's slashes."""
    if len(paths) >= GATED and all(data is not None for _, data in chunks):
        return any(_one_folder_deep().search(data) is not None for _, data in chunks)
    return min(map(_SLASHES, paths), default=2) < 2


def _text(image: Image, path: str) -> str | None:
    data = image.content(path)
    if data is None or b"\0" in data:
        return None
    return data.decode("utf-8", "replace")


def _where(image: Image, path: str) -> str:
    f = image.files.get(path)
    return f"/{path} (layer {f.layer})" if f is not None else f"/{path}"


def image_findings(image: Image) -> Findings:
    """Evidence about the image's shape from its config and files."""
    # the classifier loads with the shape rules; every image read imports this module for SHAPE_FILES
    from lintimg.dockerfile.shape import (
        Evidence,
        Findings,
        classify_pid1,
        daemon_of,
        pid1_text,
        script_evidence,
        script_shape,
        service_dir,
        supervisor_programs,
    )

    cfg = image.container_config
    argv = [str(a) for a in (cfg.get("Entrypoint") or [])] + [str(a) for a in (cfg.get("Cmd") or [])]
    f = Findings()
    if argv:
        f.pid1 = classify_pid1(argv)
        f.pid1_where = Evidence(pid1_text(f.pid1), f"image config Entrypoint/Cmd {json.dumps(argv)[:200]}")
        if f.pid1.kind == "shell" and f.pid1.script is not None:
            f.script = script_shape(f.pid1.script)
            f.script_where = "image config"
            f.supporting += script_evidence(f.script, lambda row: "image config Cmd", lambda row: None)
        elif f.pid1.kind == "script":
            rel = posixpath.normpath(posixpath.join(str(cfg.get("WorkingDir") or "/"), f.pid1.argv[0])).lstrip("/")
            text = _text(image, rel)
            if text is not None:
                f.script = script_shape(text, f.pid1.argv[1:])
                f.script_where = "/" + rel
                f.supporting += script_evidence(f.script, lambda row: f"/{rel}:{row + 1}", lambda row: None)
    # supervisord reads /etc/supervisor*, or the file its -c names; s6 and runit folders count when PID 1 runs them
    # (Debian's openssh-server ships /etc/sv/ssh for runit users; the supervisor package ships test configs)
    named = None
    if f.pid1 is not None and f.pid1.name == "supervisord" and "-c" in f.pid1.argv[:-1]:
        named = posixpath.normpath(posixpath.join(str(cfg.get("WorkingDir") or "/"), f.pid1.argv[f.pid1.argv.index("-c") + 1])).lstrip("/")
    service_pid1 = f.pid1 is not None and (f.pid1.kind == "init" or f.pid1.name in ("s6-overlay", "s6-svscan", "runsvdir"))
    # Only paths one of the branches below can take, sorted: of 300,000 files, the few under etc/ and the like
    # (a service's run script ends in "/run", before a final newline too: its patterns end in "$").
    paths = view_paths(image)
    places = [paths[i] for i in affixed(paths, starts=_EVIDENCE_PLACES, ends=("/run", "/run\n"), names=[*BINARIES, *([named] if named else [])])]
    for path in sorted(places):
        entry = image.files[path].entry
        if (sdir := service_dir(path)) is not None:
            if service_pid1:
                f.programs.append(Evidence(f"{sdir[0]} service {sdir[1]}", _where(image, path), path="/" + path, service=sdir[1]))
                f.programs_known = f.programs_known or (f.pid1 is not None and f.pid1.kind == "supervisor")
        elif (path == named or _image_supervisor_config(path)) and (text := _text(image, path)) is not None:
            progs = supervisor_programs(text) or []
            f.programs_known = True
            f.programs += [Evidence(f"supervisord program {p.name}: {p.command}" if p.command else f"supervisord program {p.name}",
                                    f"/{path}:{p.line}", path="/" + path, service=(daemon_of(p.command.split()) if p.command else None) or p.name) for p in progs]
        elif (m := _UNIT_WANTS.match(path)) is not None:
            f.enabled.append(Evidence(f"systemd unit {m.group(1)} enabled", _where(image, path), path="/" + path, service=m.group(1)))
        elif path in BINARIES and entry.type in (EntryType.FILE, EntryType.SYMLINK, EntryType.HARDLINK):
            f.installed.append(Evidence(f"{BINARIES[path]} installed", _where(image, path), path="/" + path, service=BINARIES[path]))
        elif path.startswith("etc/ssh/ssh_host_") and path.endswith("_key"):
            f.supporting.append(Evidence("sshd host key baked into the image", _where(image, path), path="/" + path, service="sshd"))
        elif path.startswith(_CRON_DIRS) and entry.type is EntryType.FILE and not posixpath.basename(path).startswith("."):
            f.supporting.append(Evidence("crontab", _where(image, path), path="/" + path, service="cron"))
    return f
