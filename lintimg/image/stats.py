"""Size facts about an image: wasted bytes, efficiency, package caches and build toolchains.

Waste, as lintimg counts it: a version of a file that some layer holds but the
final image does not show — deleted by a later layer (whiteout, or a deleted
or opaque parent directory) or overwritten by a later version. Those bytes are
shipped and stored for nothing; the surviving version is not waste.

dive (0.13.1) differs on purpose in three ways: it counts *every* copy of a
path that occurs in two or more layers as waste, the surviving one included
(so an overwrite of a 10 MB file by a 10 MB file is 20 MB of "waste"); it
takes "user" bytes to be every layer but layer 0, whatever the base image
really is; and on OCI archives without ``manifest.json`` it can order layers
at random. lintimg counts only removable bytes, takes the base image's layers
from the layer mapping (the layers before the Dockerfile's first matched
history entry), and orders layers by ``rootfs.diff_ids``.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress
from operator import methodcaller
from typing import TYPE_CHECKING

from lintimg.image.model import Action, EntryType, affixed, view_paths

if TYPE_CHECKING:
    from lintimg.image.model import Image


@dataclass(frozen=True)
class WastedFile:
    path: str
    size: int
    added_layer: int
    removed_layer: int | None  # the layer that deleted or overwrote it (None: hidden, layer unknown)
    overwritten: bool


@dataclass
class Waste:
    files: list[WastedFile]
    layer_bytes: list[int]  # regular-file bytes each layer holds

    @property
    def total_bytes(self) -> int:
        return sum(self.layer_bytes)

    @property
    def wasted_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def efficiency(self) -> float:
        """Share of all stored file bytes that the final image shows (1.0 for an empty image)."""
        total = self.total_bytes
        return 1.0 if total == 0 else (total - self.wasted_bytes) / total

    def user_wasted(self, base_layers: Iterable[int]) -> tuple[int, int]:
        """(bytes wasted by non-base layers' own files, bytes those layers hold)."""
        base = set(base_layers)
        wasted = sum(f.size for f in self.files if f.added_layer not in base)
        held = sum(n for i, n in enumerate(self.layer_bytes) if i not in base)
        return wasted, held


def _ancestors(path: str) -> Iterable[str]:
    parts = path.split("/")
    for i in range(len(parts) - 1, 0, -1):
        yield "/".join(parts[:i])


def _removed_by(image: Image, path: str, after: int) -> tuple[int | None, bool]:
    """The first later layer that replaced or deleted ``path`` (directly or via a parent)."""
    for ev in image.history_by_path.get(path, ()):
        if ev.layer > after:
            return ev.layer, ev.action is not Action.DELETED
    found: int | None = None
    for parent in _ancestors(path):
        for ev in image.history_by_path.get(parent, ()):
            if ev.layer > after and (ev.action is Action.DELETED or (ev.entry is not None and ev.entry.type is not EntryType.DIR)):
                found = ev.layer if found is None else min(found, ev.layer)
                break
    for layer in image.layers[after + 1:]:
        if found is not None and layer.index >= found:
            break
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in layer.opaque_dirs):
            return layer.index, False
    return found, False


def waste(image: Image) -> Waste:
    """Every file version that does not survive into the final view (computed once per image)."""
    found = image.memo.get("waste")
    if found is None:
        found = image.memo["waste"] = _waste(image)
    assert isinstance(found, Waste)
    return found


def _waste(image: Image) -> Waste:
    files: list[WastedFile] = []
    hist = image.history_by_path
    # A path with one event was added once and is in the final view from that layer (assemble makes it so): no waste.
    # Only the others are looked at, picked in one C-level pass (an image may hold 300,000 paths, nearly all written once).
    changed = hist.changed  # the paths with more than one event (the others are not stored)
    for path, events in compress(changed.items(), map((1).__lt__, map(len, changed.values()))):
        final = image.files.get(path)
        for ev in events:
            e = ev.entry
            if e is None or e.type is not EntryType.FILE or e.size == 0:
                continue
            if final is not None and final.layer == ev.layer:
                continue
            removed, overwritten = _removed_by(image, path, ev.layer)
            files.append(WastedFile(path, e.size, ev.layer, removed, overwritten))
    files.sort(key=lambda f: (-f.size, f.path, f.added_layer))
    return Waste(files, [layer.content_size for layer in image.layers])


# --- package-manager caches -------------------------------------------------

_HOME = r"(?:root|home/[^/]+)"


@dataclass(frozen=True)
class CacheKind:
    name: str
    pattern: re.Pattern[str]
    fix: str


CACHES = (
    CacheKind("apt package lists", re.compile(r"^var/lib/apt/lists/(?!lock$|partial(?:/|$)|auxfiles(?:/|$))."),
              "end the RUN that runs `apt-get update` with `rm -rf /var/lib/apt/lists/*`"),
    CacheKind("apt package archives", re.compile(r"^var/cache/apt/(?:archives/[^/]+\.deb|[^/]+\.bin)$"),
              "run `apt-get clean` in the same RUN as `apt-get install`"),
    CacheKind("apk cache", re.compile(r"^(?:var/cache/apk|etc/apk/cache)/."), "use `apk add --no-cache`"),
    CacheKind("yum cache", re.compile(r"^var/cache/yum/."), "end the RUN with `yum clean all && rm -rf /var/cache/yum`"),
    CacheKind("dnf cache", re.compile(r"^var/cache/(?:dnf|libdnf5)/."), "end the RUN with `dnf clean all`"),
    CacheKind("zypper cache", re.compile(r"^var/cache/zypp/."), "end the RUN with `zypper clean -a`"),
    CacheKind("pip cache", re.compile(rf"^{_HOME}/\.cache/pip/."), "use `pip install --no-cache-dir`"),
    CacheKind("npm cache", re.compile(rf"^{_HOME}/\.npm/_cacache/."), "run `npm cache clean --force` in the same RUN, or use a cache mount"),
    CacheKind("yarn cache", re.compile(rf"^(?:usr/local/share/\.cache/yarn|{_HOME}/\.cache/yarn)/."), "run `yarn cache clean` in the same RUN"),
    CacheKind("Go build cache", re.compile(rf"^{_HOME}/\.cache/go-build/."), "build in a separate stage, or use `RUN --mount=type=cache,target=/root/.cache/go-build`"),
    CacheKind("Go module download cache", re.compile(rf"^(?:go|{_HOME}/go)/pkg/mod/cache/download/."), "build in a separate stage, or use a cache mount for /go/pkg/mod"),
)


# Where every cache above lives (their patterns start so): the paths of a layer elsewhere are ruled out at once.
_CACHE_PLACES = ("var/lib/apt/lists/", "var/cache/", "etc/apk/cache/", "root/", "home/", "usr/local/share/.cache/", "go/")


def cache_bytes(image: Image) -> dict[tuple[int, str], int]:
    """Bytes each layer holds in each package-manager cache: ``{(layer, cache name): bytes}``."""
    out: dict[tuple[int, str], int] = {}
    for layer in image.layers:
        for i in affixed(layer.entries.searched(), starts=_CACHE_PLACES):
            e = layer.entries[i]
            if e.type is not EntryType.FILE or not e.size:
                continue
            for kind in CACHES:
                if kind.pattern.match(e.path):
                    out[(layer.index, kind.name)] = out.get((layer.index, kind.name), 0) + e.size
                    break
    return out


# --- build toolchains ---------------------------------------------------------


@dataclass(frozen=True)
class ToolchainKind:
    name: str
    marker: re.Pattern[str]  # a file that proves the toolchain is there
    roots: tuple[str, ...]  # files, directories (``…/``) or globs it occupies; format strings over the marker's groups
    split: str  # the multi-stage split to recommend
    runtime_commands: frozenset[str] = frozenset()  # if the image's command starts one, it is a runtime


TOOLCHAINS = (
    ToolchainKind("Go toolchain", re.compile(r"^usr/local/go/bin/go$"), ("usr/local/go/",),
                  "build in a `golang` stage and copy only the binary into a runtime stage (`scratch` or a distroless/static image for a static binary)"),
    ToolchainKind("Go toolchain", re.compile(r"^usr/lib/(go-[^/]+|go)/bin/go$"), ("usr/lib/{0}/", "usr/share/{0}/"),
                  "build in a `golang` stage and copy only the binary into a runtime stage (`scratch` or a distroless/static image for a static binary)"),
    ToolchainKind("C compiler (gcc)", re.compile(r"^usr/(lib|libexec)/gcc/([^/]+)/([^/]+)/cc1(?:plus)?$"), ("usr/{0}/gcc/{1}/{2}/",),
                  "compile in a builder stage that has the compiler and copy the built files into a runtime stage without it"),
    ToolchainKind("Rust toolchain", re.compile(r"^(usr/local/rustup/toolchains/[^/]+|usr/local|usr)/bin/rustc$"), ("{0}/lib/rustlib/",),
                  "build in a `rust` stage and copy the binary into a slim runtime stage"),
    ToolchainKind("JDK", re.compile(r"^(.+)/bin/javac$"), ("{0}/",),
                  "build in a JDK stage (maven/gradle) and run on a JRE-only runtime stage"),
    ToolchainKind("Node.js", re.compile(r"^(usr|usr/local)/bin/node$"), ("{0}/bin/node", "{0}/lib/node_modules/", "{0}/include/node/", "usr/share/nodejs/", "usr/lib/*/libnode.so*"),
                  "build the front end in a `node` stage and copy only its output (e.g. `dist/`) into the runtime stage",
                  frozenset({"node", "nodejs", "npm", "npx", "yarn", "pnpm"})),
    ToolchainKind("JavaScript build tools in node_modules",
                  re.compile(r"^((?:.*/)?node_modules)/(typescript|webpack|@babel/core|eslint|jest|vite|esbuild|ts-node|rollup|parcel)/package\.json$"),
                  ("{0}/{1}/",),
                  "install production dependencies only (`npm ci --omit=dev`) in the runtime stage, or build in a separate stage"),
)


# Every marker at once: one match per file rules out nearly all of them.
_ANY_MARKER = re.compile("|".join(f"(?:{k.marker.pattern})" for k in TOOLCHAINS))
# How every marker ends ("$" matches before a final newline too): the files that end otherwise are ruled out first.
_MARKER_ENDS = tuple(e + nl for e in ("/bin/go", "/cc1", "/cc1plus", "/bin/rustc", "/bin/javac", "/bin/node", "/package.json") for nl in ("", "\n"))


@dataclass
class ToolchainHit:
    kind: ToolchainKind
    marker: str
    layer: int  # the layer that wrote the marker's surviving version
    roots: list[str] = field(default_factory=list)
    size: int = 0


def image_command(image: Image) -> list[str]:
    cfg = image.container_config
    return list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])


def _runs(command: list[str], names: frozenset[str]) -> bool:
    words = " ".join(command).replace(";", " ").replace("&&", " ").split()
    return any(w.rsplit("/", 1)[-1] in names for w in words)


def _under(path: str, root: str) -> bool:
    """``root`` is a file, a directory (``…/``) or a glob (``usr/lib/*/libnode.so*``)."""
    if "*" in root:
        return fnmatch.fnmatchcase(path, root)
    return path == root or (root.endswith("/") and path.startswith(root))


def toolchains(image: Image) -> list[ToolchainHit]:
    """Build toolchains present in the final view (one hit per toolchain root)."""
    found: dict[tuple[str, ...], ToolchainHit] = {}
    command = image_command(image)
    paths = view_paths(image)
    for path in filter(_ANY_MARKER.match, [paths[i] for i in affixed(paths, ends=_MARKER_ENDS)]):
        f = image.files[path]
        if f.entry.type is not EntryType.FILE:
            continue  # a symlink such as /usr/bin/javac -> … would make its own folder the root
        for kind in TOOLCHAINS:
            m = kind.marker.match(path)
            if not m:
                continue
            if kind.runtime_commands and _runs(command, kind.runtime_commands):
                continue
            roots = tuple(r.format(*m.groups()) for r in kind.roots)
            if roots not in found:
                found[roots] = ToolchainHit(kind, path, f.layer, list(roots))
    hits = sorted(found.values(), key=lambda h: h.marker)
    for h in hits:
        per_root = {r: 0 for r in h.roots}
        shown = {r: r for r in h.roots}  # a glob root is shown as the file it matched
        # the paths that may be under a root, found by C-level passes (a root's files are few of an image's)
        plain = tuple(r for r in h.roots if "*" not in r)
        near = set(filter(methodcaller("startswith", plain), paths)) if plain else set()
        for glob in (r for r in h.roots if "*" in r):
            near.update(fnmatch.filter(paths, glob))  # (fnmatchcase on POSIX, as _under)
        for p in compress(paths, map(near.__contains__, paths)):  # in the view's order
            f = image.files[p]
            if f.entry.type is EntryType.FILE:
                for r in h.roots:
                    if _under(p, r):
                        per_root[r] += f.entry.size
                        if "*" in r:
                            shown[r] = p
                        break
        h.roots = [shown[r] for r in h.roots if per_root[r]]
        h.size = sum(per_root.values())
    return hits


def layer_sizes(image: Image) -> list[int]:
    """Uncompressed size of each layer (tar bytes when the reader measured them, else file bytes)."""
    return [layer.uncompressed_size or layer.content_size for layer in image.layers]


def human(n: float) -> str:
    """1234567 -> ``1.2 MB`` (SI units, like ``docker images``)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
