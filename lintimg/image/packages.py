"""Which package installed a file, and is the file still as the package shipped it?

A file a package manager installed and nobody changed is the distribution's
or the package's, not the image author's: a secret-looking string in it is
reported as "in package X" at low severity (LI553), never as the user's error.
The package databases say which files each package owns, most of them with a
content hash:

===========  ==============================================  ===================================
manager      database read (in any layer)                    per-file check
===========  ==============================================  ===================================
dpkg         ``var/lib/dpkg/info/*.md5sums``,                MD5 of the content
             ``var/lib/dpkg/status`` conffiles,
             ``var/lib/dpkg/status.d/*`` (distroless)
apk          ``lib/apk/db/installed``                        SHA-1 (``Z:Q1…``) of the content
pip          ``*.dist-info/RECORD``                          SHA-256 of the content
rpm          ``var/lib/rpm/rpmdb.sqlite``,                   the header's file digest (MD5, SHA-1
             ``usr/lib/sysimage/rpm/rpmdb.sqlite``           or SHA-256) of the content
npm          ``node_modules/.package-lock.json`` (npm 7+),   none: npm records a package's
             ``package-lock.json`` next to ``node_modules``  tarball integrity, not its files, so
                                                             a file under a locked package folder
                                                             is attributed, not verified
===========  ==============================================  ===================================

The rpm database is read in memory (sqlite's ``deserialize``, never written to
disk) and each package header is decoded from its documented binary layout;
the older Berkeley DB and NDB databases (RHEL 7/8, SUSE) are not read.

:class:`PackagesAnalyzer` runs while the layers stream and records each
database's entries (a layer result, cached with it); :func:`vendor_index`
merges every layer's entries, and :meth:`VendorIndex.owner` answers for one
file with the digests the secrets analyzer took of it. A file matches when
its content hash equals any version a database recorded for that path (an
upgrade in a later layer records a new one; both were shipped by a package).
"""
from __future__ import annotations

import base64
import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lintimg.image.model import EntryType, Image, LayerEntry, affixed

# (manager, package, path or folder, digest) — digest "" for npm folders
Record = tuple[str, str, str, str]

_DPKG_MD5SUMS = re.compile(r"^var/lib/dpkg/(?:info|status\.d)/([^/]+?)(?::[a-z0-9]+)?\.md5sums$")
_DPKG_STATUS = re.compile(r"^var/lib/dpkg/(?:status|status\.d/[^/]+)$")
_PIP_RECORD = re.compile(r"^(.*)/([^/]+)\.dist-info/RECORD$")
_NPM_LOCKS = re.compile(r"^(?:(.*)/)?(?:node_modules/\.package-lock\.json|package-lock\.json)$")
APK_DB = "lib/apk/db/installed"
RPM_DBS = frozenset({"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"})
# Bump when what the analyzer records changes (it is part of the layer cache key).
VERSION = "2"


# How every database path above ends (or, for dpkg's status.d, starts): one C-level test rules out the
# other files of a layer before any pattern runs. A pattern's "$" also matches before a final newline.
_DB_ENDINGS = tuple(e + nl for e in ("/installed", ".sqlite", ".md5sums", "status", "/RECORD", "package-lock.json") for nl in ("", "\n"))
_DB_START = "var/lib/dpkg/status.d/"


def is_database(path: str) -> bool:
    if not path.endswith(_DB_ENDINGS) and not path.startswith(_DB_START):
        return False
    return bool(path == APK_DB or path in RPM_DBS or _DPKG_MD5SUMS.match(path) or _DPKG_STATUS.match(path)
                or _PIP_RECORD.match(path) or _NPM_LOCKS.match(path))


def parse(path: str, data: bytes) -> list[Record]:
    """The ownership records in one package-database file (``[]`` for anything else or a malformed file)."""
    if path in RPM_DBS:
        return _rpmdb(data)
    text = data.decode("utf-8", "replace")
    if m := _DPKG_MD5SUMS.match(path):
        return _md5sums(m.group(1), text)
    if _DPKG_STATUS.match(path):
        return _conffiles(text)
    if path == APK_DB:
        return _apk(text)
    if m := _PIP_RECORD.match(path):
        return _record(m.group(1), m.group(2), text)
    if m := _NPM_LOCKS.match(path):
        return _npm(m.group(1) or "", text)
    return []


def _md5sums(package: str, text: str) -> list[Record]:
    out = []
    for line in text.splitlines():
        digest, _, rel = line.partition("  ")
        if len(digest) == 32 and rel:
            out.append(("dpkg", package, rel.lstrip("/"), digest.lower()))
    return out


def _conffiles(text: str) -> list[Record]:
    """``Conffiles:`` of each stanza of a dpkg status file: `` /etc/x <md5>[ obsolete]``."""
    out: list[Record] = []
    package = ""
    in_conffiles = False
    for line in text.splitlines():
        if line.startswith("Package:"):
            package = line.split(":", 1)[1].strip()
            in_conffiles = False
        elif line.startswith("Conffiles:"):
            in_conffiles = True
        elif in_conffiles and line.startswith(" "):
            parts = line.split()
            if len(parts) >= 2 and len(parts[1]) == 32 and package:
                out.append(("dpkg", package, parts[0].lstrip("/"), parts[1].lower()))
        else:
            in_conffiles = False
    return out


def _apk(text: str) -> list[Record]:
    out: list[Record] = []
    package = folder = current = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "P":
            package, folder, current = value, "", ""
        elif key == "F":
            folder = value
        elif key == "R":
            current = posixpath.join(folder, value)
        elif key == "Z" and current and value.startswith("Q1"):
            out.append(("apk", package, current, value[2:]))
            current = ""
    return out


def _record(site: str, dist: str, text: str) -> list[Record]:
    name = dist.rsplit("-", 1)[0] if "-" in dist else dist
    out = []
    for line in text.splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) == 3 and parts[1].startswith("sha256="):
            rel = posixpath.normpath(posixpath.join(site, parts[0].strip('"')))
            if not rel.startswith("../"):
                out.append(("pip", name, rel, parts[1][7:].rstrip("=")))
    return out


def _npm(root: str, text: str) -> list[Record]:
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, dict):
        return []
    # keys ("node_modules/express") are relative to the project folder, which holds both lockfiles' node_modules
    base = root
    out = []
    for key, meta in packages.items():
        if not key or "node_modules/" not in f"{key}" or not isinstance(meta, dict) or meta.get("link"):
            continue
        name = key.rsplit("node_modules/", 1)[1]
        version = str(meta.get("version") or "")
        out.append(("npm", f"{name}@{version}" if version else name, posixpath.join(base, key) if base else key, ""))
    return out


# rpm header tags and types (rpm's published header format) used here
_RPM_NAME, _RPM_VERSION, _RPM_RELEASE = 1000, 1001, 1002
_RPM_FILEDIGESTS, _RPM_DIRINDEXES, _RPM_BASENAMES, _RPM_DIRNAMES, _RPM_DIGESTALGO = 1035, 1116, 1117, 1118, 5011
_RPM_INT32, _RPM_STRING, _RPM_STRING_ARRAY = 4, 6, 8
# rpm's file digest algorithms (OpenPGP hash ids; none recorded means MD5) -> the FileDigests field they compare with
_RPM_ALGOS = {1: "md5", 2: "sha1", 8: "sha256"}


def _rpmdb(data: bytes) -> list[Record]:
    """Every installed file with its digest, from an rpm sqlite database held in memory."""
    import sqlite3

    if len(data) < 512 or not data.startswith(b"SQLite format 3\0"):
        return []
    out: list[Record] = []
    steps = [0]

    def budget() -> int:  # a hostile database (a view, a huge table) is cut off, not waited for
        steps[0] += 1
        return int(steps[0] > 20_000)

    try:
        db = sqlite3.connect(":memory:")
        try:
            if data[18:20] == b"\x02\x02":  # WAL mode (rpm's default), which an in-memory copy cannot open: read it as rollback-journal
                data = data[:18] + b"\x01\x01" + data[20:]
            deserialize = getattr(db, "deserialize", None)  # Python 3.11+: on 3.10 rpm files stay unattributed
            if deserialize is None:
                return []
            deserialize(data)
            db.set_progress_handler(budget, 1000)
            if db.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone() != ("table",):
                return []
            rows = db.execute("SELECT blob FROM Packages").fetchall()
        finally:
            db.close()
    except (sqlite3.Error, ValueError, OverflowError, MemoryError):
        return []
    for (blob,) in rows:
        if isinstance(blob, bytes):
            out += _rpm_header(blob)
    return out


def _rpm_header(blob: bytes) -> list[Record]:
    """One package header: ``il`` and ``dl`` (big-endian int32), ``il`` index entries (tag, type, offset,
    count), then ``dl`` bytes of data. Anything out of bounds ends the package quietly (``[]``)."""
    import struct

    if len(blob) < 8:
        return []
    il, dl = struct.unpack_from(">II", blob, 0)
    store = 8 + 16 * il
    if il > 100_000 or store + dl > len(blob):
        return []
    tags: dict[int, tuple[int, int, int]] = {}
    for i in range(il):
        tag, kind, offset, count = struct.unpack_from(">IIII", blob, 8 + 16 * i)
        tags[tag] = (kind, offset, count)
    data = blob[store:store + dl]

    def strings(tag: int) -> list[str]:
        kind, offset, count = tags.get(tag, (0, 0, 0))
        if kind not in (_RPM_STRING, _RPM_STRING_ARRAY) or offset >= len(data):
            return []
        parts = data[offset:].split(b"\0", count)[:count]
        return [p.decode("utf-8", "replace") for p in parts] if len(parts) == count else []

    def ints(tag: int) -> list[int]:
        kind, offset, count = tags.get(tag, (0, 0, 0))
        if kind != _RPM_INT32 or offset + 4 * count > len(data):
            return []
        return list(struct.unpack_from(f">{count}i", data, offset))

    name = (strings(_RPM_NAME) or [""])[0]
    algo = _RPM_ALGOS.get((ints(_RPM_DIGESTALGO) or [1])[0])
    dirs, bases, index, digests = strings(_RPM_DIRNAMES), strings(_RPM_BASENAMES), ints(_RPM_DIRINDEXES), strings(_RPM_FILEDIGESTS)
    if not name or algo is None or not (len(bases) == len(index) == len(digests)):
        return []
    version = "-".join(x for x in ((strings(_RPM_VERSION) or [""])[0], (strings(_RPM_RELEASE) or [""])[0]) if x)
    package = f"{name}-{version}" if version else name
    out: list[Record] = []
    for base, d, digest in zip(bases, index, digests):
        if digest and 0 <= d < len(dirs):  # directories, links and ghosts have no digest
            out.append(("rpm", package, (dirs[d] + base).lstrip("/"), f"{algo}:{_as_field(algo, digest)}"))
    return out


def _as_field(algo: str, hexdigest: str) -> str:
    """An rpm hex digest in the form :class:`FileDigests` keeps that algorithm's hash."""
    if algo == "md5":
        return hexdigest.lower()
    try:
        raw = bytes.fromhex(hexdigest)
    except ValueError:
        return ""
    return base64.b64encode(raw).decode() if algo == "sha1" else base64.urlsafe_b64encode(raw).decode().rstrip("=")


class PackagesAnalyzer:
    """Records package-database entries while layers stream: ``Image.analysis["packages"]``."""

    name = "packages"
    key = f"packages:{VERSION}"

    def wants(self, entry: LayerEntry) -> bool:
        path = entry.path
        # is_database's first test, here: a call per file of a layer is most of what this costs
        return (path.endswith(_DB_ENDINGS) or path.startswith(_DB_START)) and entry.type is EntryType.FILE and is_database(path)

    def prefilter(self, paths: Sequence[str], largest: int) -> Iterable[int]:
        """The indices of ``paths`` shaped like a database's (see ``LayerAnalyzer``)."""
        return affixed(paths, ends=_DB_ENDINGS, starts=(_DB_START,))

    def analyse(self, layer: int, entry: LayerEntry, data: bytes) -> list[Any]:
        return parse(entry.path, data)

    def dump(self, items: list[Any]) -> Any:
        return [list(r) for r in items]

    def load(self, data: Any, layer: int) -> list[Any]:
        return [(str(m), str(p), str(path), str(d)) for m, p, path, d in data]


@dataclass(frozen=True)
class Owner:
    manager: str  # "dpkg", "apk", "rpm", "pip", "npm"
    package: str
    verified: bool  # the content matches the database's hash (never for npm)

    def describe(self) -> str:
        how = "unchanged" if self.verified else "attributed by folder, not verified per file"
        return f"{self.manager} package {self.package} ({how})"


@dataclass(frozen=True)
class FileDigests:
    """Content hashes of a file, in the forms the databases store them."""

    md5: str  # hex
    sha1: str  # base64
    sha256: str  # urlsafe base64 without padding

    @classmethod
    def of(cls, data: bytes) -> FileDigests:
        import hashlib

        return cls(hashlib.md5(data, usedforsecurity=False).hexdigest(), base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode(),
                   base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("="))


class VendorIndex:
    """Ownership of paths by package, from every layer's database entries."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.files: dict[str, list[tuple[str, str, str]]] = {}
        self.folders: dict[str, str] = {}
        for manager, package, path, digest in records:
            if manager == "npm":
                self.folders[path] = package
            else:
                self.files.setdefault(path, []).append((manager, package, digest))

    def owner(self, path: str, digests: FileDigests | None) -> Owner | None:
        """The package that shipped ``path`` with exactly this content; for npm, the package whose folder holds it."""
        for manager, package, digest in self.files.get(path, ()):
            if digests is None:
                break
            if manager == "rpm":
                algo, _, digest = digest.partition(":")
                manager_digest = {"md5": digests.md5, "sha1": digests.sha1, "sha256": digests.sha256}.get(algo)
            else:
                manager_digest = {"dpkg": digests.md5, "apk": digests.sha1, "pip": digests.sha256}.get(manager)
            if digest and digest == manager_digest:
                return Owner(manager, package, True)
        folder = path
        while "/node_modules/" in f"/{folder}":
            folder = posixpath.dirname(folder)
            locked = self.folders.get(folder)
            if locked is not None:
                return Owner("npm", locked, False)
        return None


def vendor_index(image: Image) -> VendorIndex:
    """The image's vendor index (built once per image and kept in ``image.memo``)."""
    found = image.memo.get("vendor-index")
    if not isinstance(found, VendorIndex):
        found = image.memo["vendor-index"] = VendorIndex(image.analysis.get("packages", []))
    return found
