"""The packages an image has installed, read from its package databases (dpkg's status file, apk's
installed database) while its layers stream: what ``--fix --unsafe-fixes`` pins apt/apk installs to."""
from __future__ import annotations

from lintimg.errors import LintimgError
from lintimg.image.model import CapturePaths

DPKG_STATUS = "var/lib/dpkg/status"
APK_INSTALLED = "lib/apk/db/installed"
MAX_DB = 32 << 20  # a package database is a few MB even for large images


def parse_dpkg_status(text: str) -> dict[str, str]:
    """``{package: version}`` of the packages dpkg lists as installed (``Status: install ok installed``)."""
    out: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line[:1] not in (" ", "\t") and ":" in line:
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
        if fields.get("Status", "").endswith(" installed") and fields.get("Package") and fields.get("Version"):
            out[fields["Package"]] = fields["Version"]
    return out


def parse_apk_installed(text: str) -> dict[str, str]:
    """``{package: version}`` from apk's installed database (``P:`` and ``V:`` lines per package)."""
    out: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith("P:"):
            name = line[2:].strip()
        elif line.startswith("V:") and name:
            out[name] = line[2:].strip()
        elif not line.strip():
            name = ""
    return out


def installed_packages(ref: str) -> dict[str, dict[str, str]]:
    """``{"dpkg": {...}, "apk": {...}}`` for an image the local engine holds (``docker-daemon:``);
    raises :class:`LintimgError` when the engine does not have it or it cannot be read."""
    from lintimg.image import daemon, open_image
    from lintimg.image.reader import Limits

    if not daemon.has_image(ref):
        raise LintimgError(f"{ref}: not in the local engine")
    img = open_image(f"docker-daemon:{ref}", want_content=CapturePaths(frozenset((DPKG_STATUS, APK_INSTALLED))), limits=Limits(max_content=MAX_DB))
    out: dict[str, dict[str, str]] = {}
    for key, path, parse in (("dpkg", DPKG_STATUS, parse_dpkg_status), ("apk", APK_INSTALLED, parse_apk_installed)):
        data = img.content(path)
        if data is not None:
            out[key] = parse(data.decode("utf-8", "replace"))
    return out
