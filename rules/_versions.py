"""One version grammar per package manager: what a package word names and whether it fixes a version.

Each ``*_spec(word)`` reads one operand of an install, after the shell removed
quotes and the builder's variables were expanded, as the manager's own
documentation defines it, and returns a :class:`Spec`. A rule asks
:func:`pinned`.

Sources: apt-get(8) (``pkg=version``, ``pkg/release``), apk-world(5) and
apk-add(8) (``name[@tag][op version]`` with ``= < > <= >= ~ =~ >~ <~``), rpm's
NEVRA and dnf(8) "Specifying packages" (``name-version[-release]``,
``name-epoch:version``, ``'name >= 1.2'``), zypper(8) (``name[op version]``),
PEP 508 / PEP 440 for pip (extras, specifier lists, ``@ URL`` direct references,
``; marker``), npm-package-arg / ``npm help install`` (``name@version|range|tag``,
``alias@npm:name@range``, git URLs and shorthands with ``#ref``, tarballs, folders),
``gem help install`` (``NAME[:REQUIREMENT]``; ``-v`` only with one gem) and
``go help install`` (``path@version``; ``@latest``/``@upgrade``/``@patch`` are queries).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from lintimg.records import record


@record(frozen=True)
class Spec:
    """A package word read by its manager's grammar."""

    name: str
    version: str | None = None  # the constraint as written (``>=1.2``, ``=1.2-r0``, ``#v1.0``)
    kind: str = "name"  # name | file | url | vcs | path

    @property
    def pinned(self) -> bool:
        """Fixed or bounded to a version, or not from an index at all (a local file, folder or archive URL)."""
        return self.kind in ("file", "path", "url") or bool(self.version)


def pinned(grammar: Callable[[str], Spec], word: str) -> bool:
    """``word`` read by ``grammar`` is pinned. A ``$VAR`` nothing resolved is judged as written, as
    hadolint does: ``curl=$V`` has a version, ``httpd-$V`` does not read as NEVRA."""
    return grammar(word).pinned


def apt_spec(word: str) -> Spec:
    """``pkg``, ``pkg=version``, ``pkg/release``, ``pkg:arch=version``, ``./local.deb``."""
    if word.endswith(".deb"):
        return Spec(word, kind="file")
    name, eq, version = word.partition("=")
    if eq:
        return Spec(name, version or None)
    name, slash, release = word.partition("/")
    if slash:
        return Spec(name, release or None)
    return Spec(word)


_APK = re.compile(r"^(?P<name>[^=<>~@]+)(?:@(?P<tag>[^=<>~]*))?(?:(?P<op>=~|>~|<~|>=|<=|[=<>~])(?P<version>.*))?$")


def apk_spec(word: str) -> Spec:
    """apk-world(5): ``name[@tag][op version]``; ``@tag`` picks a repository, not a version."""
    if word.endswith(".apk"):
        return Spec(word, kind="file")
    m = _APK.match(word)
    if m is None:
        return Spec(word)
    if m.group("op"):
        return Spec(m.group("name"), m.group("op") + m.group("version") if m.group("version") else None)
    return Spec(m.group("name"))


_RPM_VERSION = re.compile(r"-\d")
_RPM_OP = re.compile(r"\s*(>=|<=|=|<|>)\s*\S")


def rpm_spec(word: str, epoch_or_stream: bool = False) -> Spec:
    """yum/dnf: NEVRA (``name-version[-release][.arch]``), a quoted ``name >= version``, a local ``.rpm``.

    ``epoch_or_stream``: for dnf, ``name:stream`` (modules) and ``name-epoch:version`` count.
    A name that itself holds ``-<digit>`` (``java-1.8.0-openjdk``) reads as versioned, as rpm itself reads it.
    """
    if word.endswith(".rpm"):
        return Spec(word, kind="file")
    m = _RPM_OP.search(word)
    if m:
        return Spec(word[: m.start()], word[m.start():].strip())
    v = _RPM_VERSION.search(word)
    if v:
        return Spec(word[: v.start()], word[v.start() + 1:])
    if epoch_or_stream and ":" in word:
        name, _, version = word.partition(":")
        return Spec(name, version or None)
    return Spec(word)


_ZYPPER_OP = re.compile(r"(>=|<=|=|<|>)")


def zypper_spec(word: str) -> Spec:
    """zypper(8): ``name[.arch][op version]`` with ``= < > <= >=``, or a local ``.rpm``."""
    if word.endswith(".rpm"):
        return Spec(word, kind="file")
    m = _ZYPPER_OP.search(word)
    if m:
        return Spec(word[: m.start()].strip(), word[m.start():].strip() if word[m.end():].strip() else None)
    return Spec(word)


_PEP440_OP = re.compile(r"(===|==|~=|!=|<=|>=|<|>)")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
_PEP508_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", re.S)


def pip_spec(word: str) -> Spec:
    """PEP 508 requirement, or what pip also takes: a path, an archive, a URL, a VCS URL.

    ``name[extras] specifiers ; marker`` — the marker is cut off first, so a ``>=``
    inside it is not a version. ``name @ URL`` is a direct reference (pinned). A VCS
    URL (``git+https://…``) is pinned only by an ``@revision``.
    """
    req = word.split(";", 1)[0].strip()
    direct = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*(\S.*)$", req)
    if direct and not direct.group(2).startswith(("git+", "hg+", "svn+", "bzr+")):
        return Spec(direct.group(1), direct.group(2), "url")
    vcs = re.match(r"^(?:[A-Za-z0-9._-]+\s*@\s*)?((?:git|hg|svn|bzr)\+\S+)$", req)
    if vcs:
        url = vcs.group(1).split("#", 1)[0]
        path = url.split("://", 1)[-1]
        rev = path.rsplit("/", 1)[-1].partition("@")[2] if "/" in path else ""
        return Spec(url, rev or None, "vcs")
    if "://" in req and "@" not in req.split("://", 1)[0]:
        return Spec(req, kind="url")
    if req.startswith((".", "/", "~")) or req.endswith(_ARCHIVE) or ("/" in req and "@" not in req and not _PEP440_OP.search(req)):
        return Spec(req, kind="path")
    m = _PEP508_NAME.match(req)
    if m is None:
        return Spec(req)
    name, rest = m.group(1), m.group(3).strip()
    if _PEP440_OP.match(rest) or rest.startswith(("(", "$")):  # `name${SPEC}`: a variable holds the specifier
        return Spec(name, rest)
    return Spec(name)


_NPM_GIT = re.compile(r"^(?:git\+\S+|git://\S+|(?:github|gitlab|bitbucket|gist):\S+|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:#\S*)?)$")


def npm_spec(word: str) -> Spec:
    """npm package spec: ``[@scope/]name[@version|range|tag]``, ``alias@npm:spec``, git, tarball, folder.

    Any ``@`` part after the name counts (ranges and dist-tags are what the user
    asked for); a git URL or a ``user/repo`` shorthand needs ``#ref``.
    """
    if word.startswith(("/", ".", "~", "file:")) or word.endswith((".tgz", ".tar.gz", ".tar")):
        return Spec(word, kind="path")
    if "://" in word and not word.startswith(("git", "ssh")):
        return Spec(word, kind="url")
    if _NPM_GIT.match(word):
        url, _, ref = word.partition("#")
        return Spec(url, ref or None, "vcs")
    body = word[1:] if word.startswith("@") else word
    name, at, version = body.partition("@")
    name = ("@" if word.startswith("@") else "") + name
    return Spec(name, version or None) if at else Spec(name)


def gem_spec(word: str) -> Spec:
    """``gem install NAME[:REQUIREMENT]`` or a local ``.gem`` file (``-v`` is handled by the caller)."""
    if word.endswith(".gem"):
        return Spec(word, kind="file")
    name, colon, req = word.partition(":")
    if colon:
        return Spec(name, req or None)
    return Spec(word)


_GO_QUERIES = frozenset({"latest", "upgrade", "patch"})


def go_spec(word: str) -> Spec:
    """``go install path@version``: local packages and files need none; ``@latest`` is a query, not a version."""
    if word.startswith((".", "/", "$")) or word.endswith(".go"):
        return Spec(word, kind="path")
    path, at, version = word.partition("@")
    if not at:
        return Spec(path)
    return Spec(path, None if version in _GO_QUERIES or not version else version)
