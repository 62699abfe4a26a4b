"""The image model every image source produces and every image rule reads.

Layers are streamed once and never extracted: each layer keeps every tar
entry's metadata; the merged view applies whiteouts; each path keeps its
history across layers. File *contents* are kept only for the small set of
files a consumer asked for while the layers streamed (see ``ContentRequest``).
"""
from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import compress, count, repeat
from operator import methodcaller
from typing import Any, NamedTuple, Protocol, overload


class EntryType(enum.Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"


class LayerEntry(NamedTuple):
    """One tar entry of a layer. ``path`` is normalised: no leading ``/`` or ``./``, never ``..``.

    Tuples, not dataclasses: an image holds one per tar entry (hundreds of thousands),
    and a tuple is built several times faster and takes a third of the memory.
    """

    path: str
    type: EntryType
    size: int
    mode: int  # permission bits incl. setuid/setgid/sticky
    uid: int
    gid: int
    linkname: str = ""


_new = tuple.__new__  # a tuple of a NamedTuple class without its Python-level __new__
_ENTRY = partial(_new, LayerEntry)


class Entries(Sequence[LayerEntry]):
    """A layer's entries, held by column: a list per :class:`LayerEntry` field.

    A layer may hold hundreds of thousands of entries, and most of the work on them is by column (the merge takes
    the paths, the layer cache stores each column as one text, a rule searches the joined paths): the columns are
    built and read at C speed, and a :class:`LayerEntry` is made only for an entry asked for (``entries[i]``, or
    each in turn when iterated). The columns are public and read-only to everyone but the reader.
    """

    __slots__ = ("paths", "types", "sizes", "modes", "uids", "gids", "links", "_searched")

    def __init__(self, entries: Iterable[LayerEntry] = ()) -> None:
        self._searched: Paths | None = None  # the paths as searched (joined once), until an entry is added
        self.paths: list[str] = []
        self.types: list[EntryType] = []
        self.sizes: list[int] = []
        self.modes: list[int] = []
        self.uids: list[int] = []
        self.gids: list[int] = []
        self.links: list[str] = []
        self.extend(entries)

    @classmethod
    def of_columns(cls, paths: list[str], types: list[EntryType], sizes: list[int], modes: list[int], uids: list[int],
                   gids: list[int], links: list[str]) -> Entries:
        """Entries made of these columns (taken, not copied), which must be of one length."""
        if not len(paths) == len(types) == len(sizes) == len(modes) == len(uids) == len(gids) == len(links):
            raise ValueError("entry columns of different lengths")
        self = cls()
        self.paths, self.types, self.sizes, self.modes, self.uids, self.gids, self.links = paths, types, sizes, modes, uids, gids, links
        return self

    def searched(self) -> Paths:
        """The paths column as :class:`Paths`, kept until an entry is added: every search of the layer's paths
        (:func:`affixed`) joins them once."""
        if self._searched is None:
            self._searched = Paths(self.paths)
        return self._searched

    def columns(self) -> tuple[list[str], list[EntryType], list[int], list[int], list[int], list[int], list[str]]:
        """The columns in :class:`LayerEntry`'s order."""
        return self.paths, self.types, self.sizes, self.modes, self.uids, self.gids, self.links

    def _any(self) -> tuple[list[Any], ...]:
        return self.columns()

    def extend(self, entries: Iterable[LayerEntry]) -> None:
        rows = entries if isinstance(entries, (list, tuple)) else list(entries)
        self._searched = None
        if rows:
            for column, values in zip(self._any(), zip(*rows)):
                column += values

    def append(self, entry: LayerEntry) -> None:
        self._searched = None
        for column, value in zip(self._any(), entry):
            column.append(value)

    def add(self, paths: Sequence[str], types: Iterable[EntryType], sizes: Iterable[int], modes: Iterable[int], uids: Iterable[int],
            gids: Iterable[int], links: Iterable[str]) -> None:
        """Add entries by column (each as long as ``paths``)."""
        self._searched = None
        n = len(self.paths)
        for column, values in zip(self._any(), (paths, types, sizes, modes, uids, gids, links)):
            column += values
        if not len(self.paths) == len(self.types) == len(self.sizes) == len(self.modes) == len(self.uids) == len(self.gids) == len(self.links):
            for column in self._any():
                del column[n:]
            raise ValueError("entry columns of different lengths")

    def __len__(self) -> int:
        return len(self.paths)

    @overload
    def __getitem__(self, i: int) -> LayerEntry: ...

    @overload
    def __getitem__(self, i: slice) -> list[LayerEntry]: ...

    def __getitem__(self, i: int | slice) -> LayerEntry | list[LayerEntry]:
        if isinstance(i, slice):
            return list(map(_ENTRY, zip(*(column[i] for column in self.columns()))))
        return _new(LayerEntry, (self.paths[i], self.types[i], self.sizes[i], self.modes[i], self.uids[i], self.gids[i], self.links[i]))

    def __iter__(self) -> Iterator[LayerEntry]:
        return map(_ENTRY, zip(*self.columns()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Entries):
            return self.columns() == other.columns()
        return isinstance(other, Sequence) and not isinstance(other, str) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Entries({list(self)!r})"


@dataclass
class Layer:
    index: int  # 0-based among the image's layers (rootfs.diff_ids order)
    digest: str  # blob digest as in the manifest (compressed)
    diff_id: str  # uncompressed digest from the config
    size: int  # blob size in bytes (compressed)
    media_type: str
    entries: Entries = field(default_factory=Entries)  # (a list of LayerEntry given is taken by column)
    whiteouts: list[str] = field(default_factory=list)  # paths deleted by this layer
    opaque_dirs: list[str] = field(default_factory=list)  # dirs whose lower content this layer hides
    created_by: str = ""  # the non-empty history entry that made this layer
    history_index: int | None = None  # index into Image.history
    uncompressed_size: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.entries, Entries):
            self.entries = Entries(self.entries)

    @property
    def content_size(self) -> int:
        """Bytes of regular files in this layer."""
        e = self.entries
        return sum(compress(e.sizes, map(operator.is_, e.types, repeat(EntryType.FILE))))


class Action(enum.Enum):
    ADDED = "added"
    MODIFIED = "modified"  # present in a lower layer and written again
    DELETED = "deleted"  # whiteout, or hidden by an opaque directory


class PathEvent(NamedTuple):
    layer: int
    action: Action
    entry: LayerEntry | None  # None for deletions


class ImageFile(NamedTuple):
    """A path in the final view, with the layer that wrote its surviving version."""

    entry: LayerEntry
    layer: int


class Files(MutableMapping[str, ImageFile]):
    """The final view: path -> :class:`ImageFile` (:attr:`Image.files`), a mapping in the order paths were added.

    A layer of new paths is merged by column (:meth:`add_new`): each path is held as the number of its row in its
    layer's :class:`Entries` and of that layer (:attr:`held`), and made into an :class:`ImageFile` when asked for,
    so merging a layer of 300,000 paths builds no object per path. Other files are held as :data:`GIVEN` there,
    and as they are given in :attr:`given`.
    """

    GIVEN = -1

    __slots__ = ("held", "given", "_entries", "_span")

    def __init__(self, files: Mapping[str, ImageFile] | None = None, layers: Iterable[Layer] = ()) -> None:
        self.held: dict[str, int] = dict.fromkeys(files or (), self.GIVEN)  # path -> row * span + layer index, or GIVEN
        self.given: dict[str, ImageFile] = dict(files or {})
        self._entries = {layer.index: layer.entries for layer in layers}
        self._span = max(self._entries, default=0) + 1

    def of_row(self, held: int) -> ImageFile:
        """The file a row number of :attr:`held` stands for."""
        row, layer = divmod(held, self._span)
        return _new(ImageFile, (self._entries[layer][row], layer))

    def add_new(self, entries: Entries, layer: int, changed: Mapping[str, object]) -> bool:
        """Merge the layer at index ``layer`` when its entries all add new paths — none held or in ``changed`` (the
        paths with a history, deleted ones too), none twice, no symbolic link among them (so none lands elsewhere) —
        at once, by ``map``; False (nothing done) for any other."""
        paths, held = entries.paths, self.held
        if not paths or EntryType.SYMLINK in entries.types or layer not in self._entries:
            return False
        # (an empty mapping, as for an image's first layer, holds none: not asked about each path)
        if held and not held.keys().isdisjoint(paths) or changed and not changed.keys().isdisjoint(paths):
            return False
        before, span = len(held), self._span
        held.update(zip(paths, range(layer, layer + span * len(paths), span)))  # row * span + layer
        if len(held) != before + len(paths):  # a path twice in the layer: undone (all were new), merged one by one
            for path in paths:
                held.pop(path, None)
            return False
        return True

    def __getitem__(self, path: str) -> ImageFile:
        held = self.held[path]
        return self.given[path] if held < 0 else self.of_row(held)

    def get(self, path: str, default: Any = None) -> Any:
        held = self.held.get(path)
        return default if held is None else self.given[path] if held < 0 else self.of_row(held)

    def __setitem__(self, path: str, file: ImageFile) -> None:
        self.held[path] = self.GIVEN
        self.given[path] = file

    def __delitem__(self, path: str) -> None:
        del self.held[path]
        self.given.pop(path, None)

    def pop(self, path: str, *default: Any) -> Any:
        held = self.held.pop(path, None)
        if held is None:
            if default:
                return default[0]
            raise KeyError(path)
        return self.given.pop(path) if held < 0 else self.of_row(held)

    def __contains__(self, path: object) -> bool:
        return path in self.held

    def __iter__(self) -> Iterator[str]:
        return iter(self.held)

    def __len__(self) -> int:
        return len(self.held)

    def keys(self) -> KeysView[str]:
        return self.held.keys()

    def paths(self) -> Paths:
        """The paths of the view, in order: when it is one layer's paths as they are (that layer merged at once, nothing
        given or deleted since), that layer's :meth:`Entries.searched`, whose joined text the searches of the layer
        share; else made anew."""
        layers = [entries for entries in self._entries.values() if entries]
        if not self.given and len(layers) == 1 and len(self.held) == len(layers[0]):
            return layers[0].searched()
        return Paths(self)

    def with_mode(self, bits: int) -> list[tuple[str, ImageFile]]:
        """The ``(path, file)`` pairs whose mode has one of ``bits``, by path: the rows of each layer's mode column
        that have them (a C-level pass), kept where that row is the one in the view, and the files held as they are."""
        held, span = self.held, self._span
        keep: set[str] = set()
        for layer, entries in self._entries.items():
            # a layer has few modes: most often none of them has bits; else the rows whose mode has them, by one
            # builtin per row (a set's bound __contains__ called per row cost twice as much)
            if any(m & bits for m in set(entries.modes)):
                for row in compress(count(), map(operator.and_, entries.modes, repeat(bits))):
                    path = entries.paths[row]
                    if held.get(path) == row * span + layer:
                        keep.add(path)
        keep.update(path for path, f in self.given.items() if f.entry.mode & bits)
        return [(path, self[path]) for path in sorted(keep)]

    def __repr__(self) -> str:
        return f"Files({dict(self)!r})"


class History(Mapping[str, list[PathEvent]]):
    """Every path's events across layers, oldest first, deleted paths included (:attr:`Image.history_by_path`).

    Most paths of an image are written once and survive into the final view: their one event (added by the layer of
    their file in ``files``) is not stored but made when asked for. Only the paths with more events are stored, in
    :attr:`changed` (the merge keeps it so; a mapping given whole is stored whole). Iterating gives the changed paths
    first, then the others in the order of ``files``.
    """

    __slots__ = ("files", "changed")

    def __init__(self, files: Files, changed: dict[str, list[PathEvent]] | None = None) -> None:
        self.files = files
        self.changed: dict[str, list[PathEvent]] = {} if changed is None else changed

    def __getitem__(self, path: str) -> list[PathEvent]:
        events = self.changed.get(path)
        if events is not None:
            return events
        f = self.files[path]
        return [_new(PathEvent, (f.layer, Action.ADDED, f.entry))]

    def __contains__(self, path: object) -> bool:
        return path in self.changed or path in self.files

    def __len__(self) -> int:
        return len(self.changed) + len(self.files) - sum(map(self.files.__contains__, self.changed))

    def __iter__(self) -> Iterator[str]:
        yield from self.changed
        changed = self.changed
        yield from (compress(self.files, map(operator.not_, map(changed.__contains__, self.files))) if changed else self.files)

    def __repr__(self) -> str:
        return f"History({dict(self)!r})"




def with_mode(files: Files, bits: int) -> list[tuple[str, ImageFile]]:
    """The ``(path, file)`` pairs of ``files`` whose mode has one of ``bits``, by path (:meth:`Files.with_mode`: by column)."""
    return files.with_mode(bits)


@dataclass(frozen=True)
class Anomaly:
    """Something odd in a layer that was tolerated, not fatal (e.g. an absolute or escaping path)."""

    layer: int
    path: str  # the name as written in the tar
    reason: str


@dataclass
class Image:
    reference: str  # as the user gave it, transport included
    name: str  # repository name without tag/digest, for display and fingerprints
    digest: str | None  # manifest digest when known
    config: dict[str, Any]  # the image config JSON (config.User, config.Env, history, rootfs, ...)
    layers: list[Layer]
    platform: str = ""  # os/arch[/variant]
    # path -> every event across layers, oldest first (includes deleted files); a plain mapping given is made a History
    history_by_path: History = field(default=None)  # type: ignore[assignment]
    # final merged view after whiteouts (a plain mapping given is made a Files)
    files: Files = field(default_factory=Files)
    # contents captured while streaming, keyed by (layer index, path)
    contents: dict[tuple[int, str], bytes] = field(default_factory=dict)
    # results of per-layer analyzers run during streaming (e.g. secrets), keyed by analyzer name
    analysis: dict[str, list[Any]] = field(default_factory=dict)
    # tolerated oddities found while reading the layers, oldest layer first
    anomalies: list[Anomaly] = field(default_factory=list)
    # derived views computed once and shared by every rule of a run (see lintimg.image.stats.waste)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.files, Files):
            self.files = Files(self.files, self.layers)
        if not isinstance(self.history_by_path, History) or self.history_by_path.files is not self.files:
            self.history_by_path = History(self.files, dict(self.history_by_path or {}))

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.config.get("history") or [])

    @property
    def container_config(self) -> dict[str, Any]:
        return dict(self.config.get("config") or {})

    def content(self, path: str, layer: int | None = None) -> bytes | None:
        """Captured content of ``path`` (the surviving version unless ``layer`` is given)."""
        if layer is None:
            f = self.files.get(path)
            if f is None:
                return None
            layer = f.layer
        return self.contents.get((layer, path))


def affixed(paths: Sequence[str], *, ends: tuple[str, ...] = (), starts: tuple[str, ...] = (), names: Iterable[str] = (),
            parts: tuple[str, ...] = ()) -> list[int]:
    """The indices of ``paths``, in order, that end in one of ``ends``, start with one of ``starts``, are one of
    ``names`` or hold one of ``parts`` (a prefilter's question), with no Python code per path: the paths are taken
    :data:`FEW` at a time and joined, and a test is run on each path of them (a C-level pass) only when it finds
    something in the joined text, which it rarely does (an image may hold 300,000 paths). A tuple of paths is
    joined once for every search of it (:func:`view_paths`: the rules search the view's paths in turn)."""
    exact = frozenset(names)
    gate = _gate(ends, starts, tuple(sorted(exact)), parts) if len(paths) >= GATED else None  # (a few: searched as they are)
    found: list[int] = []
    for at, (joined, text) in zip(range(0, len(paths), FEW), joined_chunks(paths)):
        if gate is not None and text is not None and gate.search(text) is None:
            continue
        some = paths[at : at + FEW]
        tests = []
        if ends and any(e + "\0" in joined for e in ends):
            tests.append(map(methodcaller("endswith", ends), some))
        if starts and any("\0" + s in joined for s in starts):
            tests.append(map(methodcaller("startswith", starts), some))
        if exact and any(f"\0{n}\0" in joined for n in exact):
            tests.append(map(exact.__contains__, some))
        tests += [map(methodcaller("__contains__", part), some) for part in parts if part in joined]
        if tests:
            found += compress(count(at), map(any, zip(*tests)))
    return found


@lru_cache(maxsize=256)
def _gate(ends: tuple[str, ...], starts: tuple[str, ...], names: tuple[str, ...], parts: tuple[str, ...]) -> Any:
    """One RE2 pattern that finds in :func:`affixed`'s joined text what any of its searches would: a DFA's one pass
    over the text, however many needles (one search per needle took most of a 300,000-path image's rule time)."""
    from lintimg import rx

    def lit(text: str) -> str:
        return "".join(c if c.isascii() and (c.isalnum() or c in "/_") else f"\\x{{{ord(c):x}}}" for c in text)

    alts = [*(lit(e + "\0") for e in ends), *(lit("\0" + s) for s in starts), *(lit(f"\0{n}\0") for n in names), *map(lit, parts)]
    return rx.compile(("|".join(alts) or "[^\\x{0}-\\x{10ffff}]").encode())  # nothing asked: a pattern that never matches


def mentions(text: str, *, ends: tuple[str, ...] = (), starts: tuple[str, ...] = (), names: Iterable[str] = (),
             parts: tuple[str, ...] = ()) -> bool:
    """Whether the paths joined in ``text``, each between two NULs, may hold one that :func:`affixed` finds for these
    affixes: one RE2 pass when the text is ASCII and long; True (look at each) when not."""
    if not text.isascii() or len(text) < GATED * 16:
        return True
    return _gate(ends, starts, tuple(sorted(frozenset(names))), parts).search(text.encode("ascii")) is not None


class Paths(tuple[str, ...]):
    """Paths that keep their joined text (:func:`affixed`'s chunks) once it is made: searched many times, joined once."""

    chunks: list[tuple[str, bytes | None]] | None = None


def joined_chunks(paths: Sequence[str]) -> list[tuple[str, bytes | None]]:
    """``paths`` joined :data:`FEW` at a time, each path between two NULs, with that text's bytes when it is ASCII
    (what RE2 searches; a str's isascii is a flag, O(1)); kept by :class:`Paths`."""
    chunks = paths.chunks if isinstance(paths, Paths) else None
    if chunks is None:
        chunks = []
        for at in range(0, len(paths), FEW):
            joined = "\0" + "\0".join(paths[at : at + FEW]) + "\0"
            chunks.append((joined, joined.encode("ascii") if joined.isascii() else None))
        if isinstance(paths, Paths):
            paths.chunks = chunks
    return chunks


def view_paths(image: Image) -> Paths:
    """The paths of ``image``'s final view, in order, shared by every rule of a run (``image.memo``): the searches of
    them (:func:`affixed`) join them once."""
    paths = image.memo.get("paths")
    if not isinstance(paths, Paths):
        paths = image.memo["paths"] = image.files.paths()
    return paths


GATED = 512  # paths from which affixed's one RE2 pass pays (fewer are searched needle by needle: no RE2 to load for them)
FEW = 4096  # paths joined at a time by affixed: a few searches of their text rule them all out at once, mostly


class ContentRequest(Protocol):
    """Files whose bytes are captured in :attr:`Image.contents` while the layers stream (kept small:
    policy limits apply). ``key`` names what is captured and how (it is part of the layer cache key;
    ``""`` makes the layer uncacheable); ``keep`` may transform the bytes first (drop what no rule needs).
    It may also have a ``prefilter`` method, as :class:`LayerAnalyzer` describes."""

    @property
    def key(self) -> str: ...

    def wants(self, entry: LayerEntry) -> bool: ...

    def keep(self, path: str, data: bytes) -> bytes: ...


class LayerAnalyzer(Protocol):
    """A per-layer analysis run on the regular files it selects while a layer streams.

    What :meth:`analyse` returns is appended to ``Image.analysis[name]``. The
    results of one layer depend only on that layer's bytes and the analyzer's
    ``key`` (its version and policy), so they are cached by layer digest
    (:mod:`lintimg.image.layercache`): :meth:`dump` makes them JSON without
    the layer index, :meth:`load` reads them back for a layer at any index.
    ``key == ""`` means the results are not cacheable.

    It may also have ``prefilter(paths, largest) -> Iterable[int]``: of these regular files (each of at most
    ``largest`` bytes), the indices of those :meth:`wants` may accept — more is allowed, fewer is not. The
    reader then asks :meth:`wants` about those only, when it takes many entries at once (a run of empty
    files); without it, about each.
    """

    @property
    def name(self) -> str: ...

    @property
    def key(self) -> str: ...

    def wants(self, entry: LayerEntry) -> bool: ...

    def analyse(self, layer: int, entry: LayerEntry, data: bytes) -> list[Any]: ...

    def dump(self, items: list[Any]) -> Any: ...

    def load(self, data: Any, layer: int) -> list[Any]: ...


@dataclass(frozen=True)
class FunctionAnalyzer:
    """An ad hoc analyzer from two functions; its results are never cached."""

    name: str
    select: Callable[[LayerEntry], bool]
    run: Callable[[int, LayerEntry, bytes], list[Any]]
    key: str = ""

    def wants(self, entry: LayerEntry) -> bool:
        return self.select(entry)

    def analyse(self, layer: int, entry: LayerEntry, data: bytes) -> list[Any]:
        return self.run(layer, entry, data)

    def dump(self, items: list[Any]) -> Any:
        raise TypeError(f"analyzer {self.name!r} has no cache form")

    def load(self, data: Any, layer: int) -> list[Any]:
        raise TypeError(f"analyzer {self.name!r} has no cache form")


@dataclass(frozen=True)
class CaptureNames:
    """Capture the files with these names, in any folder (``transform`` may reduce their bytes to what is needed).

    By name, not path: a layer may write ``etc/passwd`` through a link (``x -> /etc``, then
    ``x/passwd``), which only the merge of the layers resolves, after the layers were read.
    """

    names: frozenset[str]
    transform: Callable[[str, bytes], bytes] | None = None
    version: str = "1"  # bump when ``transform`` changes what it keeps

    @property
    def key(self) -> str:
        return f"names:{self.version}:" + ",".join(sorted(self.names))

    def wants(self, entry: LayerEntry) -> bool:
        return entry.path.rpartition("/")[2] in self.names

    def prefilter(self, paths: Sequence[str], largest: int) -> Iterable[int]:
        """The indices of ``paths`` named one of :attr:`names` (see :class:`LayerAnalyzer`)."""
        return affixed(paths, ends=tuple("/" + n for n in self.names), names=self.names)

    def keep(self, path: str, data: bytes) -> bytes:
        return self.transform(path, data) if self.transform else data


@dataclass(frozen=True)
class CapturePaths:
    """Capture the files at these exact paths (``transform`` may reduce their bytes to what is needed)."""

    paths: frozenset[str]
    transform: Callable[[str, bytes], bytes] | None = None
    version: str = "1"  # bump when ``transform`` changes what it keeps

    @property
    def key(self) -> str:
        return f"paths:{self.version}:" + ",".join(sorted(self.paths))

    def wants(self, entry: LayerEntry) -> bool:
        return entry.path in self.paths

    def keep(self, path: str, data: bytes) -> bytes:
        return self.transform(path, data) if self.transform else data
