"""Streaming layer reader: one pass per layer blob, never extracted to disk.

Each blob is hashed as it is read (blob digest), decompressed by magic bytes
(gzip, zstd or plain), hashed again (diff_id) and walked as a tar
(:mod:`lintimg.image.tarstream`, which decodes only the header fields the
model keeps: most of a layer is small files, and ``tarfile``'s per-entry
work was most of the time spent). Every entry's
metadata is kept; contents are read only for entries a consumer selected.
Layers are read in worker threads (hashing and decompression release the GIL)
and then merged in order to apply whiteouts and build each path's history.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import zstandard

from lintimg import limits
from lintimg.errors import LintimgError
from lintimg.image.model import (
    Action,
    Anomaly,
    ContentRequest,
    EntryType,
    Files,
    Image,
    ImageFile,
    Layer,
    LayerAnalyzer,
    LayerEntry,
    PathEvent,
    Paths,
)
from lintimg.image.tarstream import Header, Run, TarError, TarReader
from lintimg.paths import climbs_out, is_outside

if TYPE_CHECKING:
    from lintimg.image.layercache import LayerCache

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b\x08"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
WHITEOUT = ".wh."
ENTRY_BATCH = 1024
OPAQUE = ".wh..wh..opq"
_new = tuple.__new__  # a LayerEntry without NamedTuple's Python-level __new__: one per tar entry

# progress(task, done_bytes, total_bytes): called from worker threads as bytes are consumed.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Limits:
    """Safety policy for untrusted layers; exceeding one is an error, never an OOM."""

    max_uncompressed: int = 32 << 30  # total bytes of all layer tars of one image
    max_ratio: float = 250.0  # uncompressed / compressed bytes of one layer ...
    ratio_floor: int = 512 << 20  # ... checked once a layer has produced this much
    max_entries: int = 1_000_000  # tar entries over all layers (the merged view holds ~600 bytes each)
    max_content: int = 1 << 20  # largest file captured for want_content
    max_contents_total: int = 256 << 20  # all captured contents together
    max_analyze: int = 32 << 20  # largest file handed to analyzers


@dataclass
class LayerSource:
    """Where a layer's blob comes from and what it must hash to."""

    index: int
    digest: str  # blob digest as the source names it ("" when the source has none)
    diff_id: str  # from the config's rootfs.diff_ids
    size: int  # blob bytes
    media_type: str
    open: Callable[[], BinaryIO]  # a fresh reader positioned at the blob's first byte


class _Budget:
    """Image-wide counters shared by the layer threads."""

    def __init__(self, limits: Limits, ref: str) -> None:
        self.limits = limits
        self.ref = ref
        self._lock = threading.Lock()
        self.uncompressed = 0
        self.entries = 0
        self.captured = 0

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.uncompressed += n
            total = self.uncompressed
        if total > self.limits.max_uncompressed:
            raise LintimgError(
                f"{self.ref}: layers expand to more than {self.limits.max_uncompressed} bytes (limit; a decompression bomb?)"
            )

    def add_entry(self, layer: int, n: int = 1) -> None:
        with self._lock:
            self.entries += n
            total = self.entries
        if total > self.limits.max_entries:
            raise LintimgError(f"{self.ref}: more than {self.limits.max_entries} tar entries (limit reached in layer {layer})")

    def reserve_capture(self, n: int) -> bool:
        with self._lock:
            if self.captured + n > self.limits.max_contents_total:
                return False
            self.captured += n
            return True


class _Hashing:
    """Reads the raw blob, hashing and counting it."""

    def __init__(self, raw: BinaryIO, algo: str = "sha256") -> None:
        self.raw = raw
        self.algo = algo
        self.hash = hashlib.new(algo)
        self.size = 0
        self._peeked = b""

    def peek(self, n: int) -> bytes:
        """The first bytes, for sniffing; handed out again by the next read."""
        self._peeked = self.read(n)
        return self._peeked

    def read(self, n: int = -1) -> bytes:
        if self._peeked:
            head, self._peeked = self._peeked, b""
            return head if 0 <= n <= len(head) else head + self.read(n - len(head) if n > 0 else -1)
        data = self.raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data


def _inflater() -> Any:
    """The deflate module: zlib-ng's (about twice as fast at inflating: the largest part of reading a gzip layer)
    when installed, else the standard library's, which it mirrors: the same checks and messages."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return zlib
    return zlib_ng


class _Gunzip:
    """Bounded-output gzip decoding (multi-member aware); errors on truncation."""

    def __init__(self, src: _Hashing) -> None:
        self.src = src
        self.zlib = _inflater()
        self.d = self.zlib.decompressobj(31)
        self.pending = b""
        self.done = False

    def read(self, n: int) -> bytes:
        while not self.done:
            if not self.pending:
                self.pending = self.src.read(CHUNK)
                if not self.pending:
                    if not self.d.eof:
                        raise zlib.error("truncated gzip stream")
                    self.done = True
                    break
            try:
                out: bytes = self.d.decompress(self.pending, n)
            except self.zlib.error as e:  # zlib-ng's own class: one kind of error for the callers, message kept
                raise zlib.error(*e.args) from None
            self.pending = self.d.unconsumed_tail
            if self.d.eof:
                # After a member's end the rest of the input is in unused_data; unconsumed_tail can
                # hold the same bytes again (output limit reached at the member's end): not both.
                self.pending = self.d.unused_data
                if self.pending:
                    if not self.pending.startswith(b"\x1f\x8b"):
                        raise zlib.error("trailing garbage after gzip stream")
                    self.d = self.zlib.decompressobj(31)
            if out:
                return out
        return b""


class _Feed:
    """Forward-only, seekable-forward view of the decompressed tar for the tar reader.

    Hashes the decompressed bytes (the diff_id) and enforces the limits; a
    backwards seek is a bug, never silently served.
    """

    def __init__(self, src: _Hashing, layer: int, budget: _Budget, tick: Callable[[], None]) -> None:
        self.layer = layer
        self.budget = budget
        self.tick = tick
        self.raw = src
        head = src.peek(4)
        self.compression = "gzip" if head[:3] == GZIP_MAGIC else "zstd" if head == ZSTD_MAGIC else "none"
        if self.compression == "gzip":
            self.dec: Any = _Gunzip(src)
        elif self.compression == "zstd":
            self.dec = zstandard.ZstdDecompressor().stream_reader(cast(BinaryIO, src), read_across_frames=True, read_size=CHUNK)  # it only calls read()
        else:
            self.dec = src
        # plain tars: the diff_id is the blob hash, no second hash needed
        self.hash = None if self.compression == "none" and src.algo == "sha256" else hashlib.sha256()
        self._buf = b""
        self._off = 0
        self.pos = 0  # decompressed bytes handed out
        self.produced = 0  # decompressed bytes read from the decoder
        self.trailing_data = False

    def _more(self) -> bytes:
        limits.check_clock()
        data: bytes = self.dec.read(CHUNK)
        if data:
            if self.hash is not None:
                self.hash.update(data)
            self.produced += len(data)
            self.budget.add_bytes(len(data))
            lim = self.budget.limits
            if self.produced > lim.ratio_floor and self.produced > lim.max_ratio * max(self.raw.size, 1):
                raise LintimgError(
                    f"{self.budget.ref}: layer {self.layer} expands more than {lim.max_ratio:g}x (limit; a decompression bomb?)"
                )
            self.tick()
        return data

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            raise ValueError("unbounded read")
        avail = len(self._buf) - self._off
        if avail >= n:
            out = self._buf[self._off : self._off + n]
            self._off += n
            self.pos += n
            return out
        parts = [self._buf[self._off :]] if avail else []  # (one part alone is joined without a copy: most reads)
        need = n - avail
        while need > 0:
            data = self._more()
            if not data:
                break
            parts.append(data)
            need -= len(data)
        joined = b"".join(parts)
        out, self._buf, self._off = joined[:n], joined, min(n, len(joined))
        self.pos += len(out)
        return out

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0 or pos < self.pos:
            raise OSError("layer streams only seek forward")
        skip = pos - self.pos
        avail = len(self._buf) - self._off
        if skip <= avail:
            self._off += skip
            self.pos = pos
            return pos
        skip -= avail
        self.pos += avail
        self._buf, self._off = b"", 0
        while skip > 0:
            data = self._more()
            if not data:
                raise TarError("unexpected end of data")
            if len(data) > skip:
                self._buf, self._off = data, skip
                self.pos += skip
                break
            skip -= len(data)
            self.pos += len(data)
        return self.pos

    def drain(self, taken: bytes) -> None:
        """Read what the tar reader left (end blocks, padding) so the hashes cover the whole blob;
        ``taken``: what it read from this feed and did not use."""
        rest = taken + self._buf[self._off :]
        self._buf, self._off = b"", 0
        while True:
            if rest.strip(b"\0"):
                self.trailing_data = True
            self.pos += len(rest)
            rest = self._more()
            if not rest:
                break
        while self.raw.read(CHUNK):  # a decoder may stop before the raw end (zstd skippable frames)
            pass

    @property
    def diff_id(self) -> str:
        h = self.hash if self.hash is not None else self.raw.hash
        return "sha256:" + h.hexdigest()


_TYPES = {
    **dict.fromkeys(b"0\x007S", EntryType.FILE),  # regular, old V7 regular, contiguous, GNU sparse
    ord("5"): EntryType.DIR,
    ord("2"): EntryType.SYMLINK,
    ord("1"): EntryType.HARDLINK,
    ord("3"): EntryType.CHAR,
    ord("4"): EntryType.BLOCK,
    ord("6"): EntryType.FIFO,
}


def shown_name(name: str, width: int = 200) -> str:
    """A tar name as an anomaly keeps it: cut, since a name may be hundreds of kilobytes."""
    return name if len(name) <= width else name[:width] + "…"


def clean_path(name: str) -> tuple[str | None, str]:
    """Normalise a tar name to the model's form; returns (path, or None to skip it; anomaly reason or "")."""
    if (name and "//" not in name and "/." not in name and name[0] not in "./" and name[-1] != "/" and len(name) <= limits.MAX_PATH
            and name.count("/") <= limits.MAX_PATH_DEPTH):
        return name, ""  # already normal (most names): no normpath
    if len(name) > limits.MAX_PATH or name.count("/") > limits.MAX_PATH_DEPTH:
        return None, f"path longer than {limits.MAX_PATH} characters or {limits.MAX_PATH_DEPTH} components (skipped)"
    reason = "absolute path" if name.startswith("/") else ""
    norm = posixpath.normpath(name.lstrip("/") or ".")
    if is_outside(norm):
        return None, "path escapes the image root"
    return (None if norm == "." else norm), reason


# What a name in normal form never holds, with NUL around each name: an empty, "." or ".." component.
_NOT_NORMAL = ("//", "\0/", "/\0", "/./", "/.\0", "\0./", "\0.\0", "/../", "/..\0", "\0../", "\0..\0")


def all_clean(paths: list[str]) -> bool:
    """True when :func:`clean_path` keeps every one of ``paths`` as it is, tested on all of them at once (the
    layer cache checks a base layer's thousands of stored paths); False when some may not be normal: check
    those one by one. ``""`` (the root) passes; a non-string raises ``TypeError``."""
    if not paths:
        return True
    joined = "\0" + "\0".join(paths) + "\0"  # a NUL inside a name can only fail the test, never pass a bad name
    return (not any(bad in joined for bad in _NOT_NORMAL) and max(map(len, paths)) <= limits.MAX_PATH
            and max(map(str.count, paths, ["/"] * len(paths))) <= limits.MAX_PATH_DEPTH)


@dataclass
class LayerResult:
    layer: Layer
    contents: dict[tuple[int, str], bytes] = field(default_factory=dict)
    analysis: dict[str, list[Any]] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)


def read_layer(
    src: LayerSource,
    *,
    ref: str,
    budget: _Budget,
    want_content: ContentRequest | None = None,
    analyzers: Sequence[LayerAnalyzer] = (),
    progress: Progress | None = None,
    cache: LayerCache | None = None,
    spec: str | None = None,
) -> LayerResult:
    """One layer's result: from ``cache`` when it holds this layer for ``spec``, else read (and stored)."""
    done = _from_cache(src, budget, cache, spec, analyzers, progress)
    if done is not None:
        return done
    return _read_and_store(src, ref=ref, budget=budget, want_content=want_content, analyzers=analyzers, progress=progress,
                           cache=cache, spec=spec)


def _from_cache(src: LayerSource, budget: _Budget, cache: LayerCache | None, spec: str | None, analyzers: Sequence[LayerAnalyzer],
                progress: Progress | None) -> LayerResult | None:
    if cache is None or spec is None or not src.diff_id:
        return None
    done = _cached_layer(src, budget, cache, spec, analyzers)
    if done is not None and progress:
        progress(f"layer {src.index + 1} {(src.digest or src.diff_id)[7:19]} (cached)", src.size, src.size)
    return done


def _read_and_store(
    src: LayerSource,
    *,
    ref: str,
    budget: _Budget,
    want_content: ContentRequest | None,
    analyzers: Sequence[LayerAnalyzer],
    progress: Progress | None,
    cache: LayerCache | None,
    spec: str | None,
) -> LayerResult:
    res = _stream_layer(src, ref=ref, budget=budget, want_content=want_content, analyzers=analyzers, progress=progress)
    if cache is not None and spec is not None and res.layer.diff_id:
        cache.put(res, spec, analyzers)
    return res


def analyse_layer(
    src: LayerSource,
    *,
    ref: str,
    limits: Limits | None = None,
    want_content: ContentRequest | None = None,
    analyzers: Sequence[LayerAnalyzer] = (),
    cache: LayerCache | None = None,
) -> LayerResult:
    """One layer on its own (the fleet scan's "analyse layer L" task): cached, or read, checked and stored.

    The limits apply to this layer alone; :func:`assemble` builds the image
    from the results of all its layers, wherever they were computed.
    """
    limits = limits or Limits()
    spec = _spec(cache, analyzers, want_content, limits)
    return read_layer(src, ref=ref, budget=_Budget(limits, ref), want_content=want_content, analyzers=analyzers, cache=cache, spec=spec)


def _spec(cache: LayerCache | None, analyzers: Sequence[LayerAnalyzer], want_content: ContentRequest | None, limits: Limits) -> str | None:
    if cache is None or not cache.on:
        return None
    from lintimg.image.layercache import spec_key

    return spec_key(analyzers, want_content, limits)


def _cached_layer(src: LayerSource, budget: _Budget, cache: LayerCache, spec: str, analyzers: Sequence[LayerAnalyzer]) -> LayerResult | None:
    """The cached result for ``src``, with this source's digest, size and media type, or None.

    A source that names no blob digest or media type (a legacy ``docker save``
    layer) has its first bytes sniffed: a plain tar's digest is its diff_id;
    a compressed blob without a digest is read again (its digest is unknown).
    """
    res = cache.get(src.diff_id, spec, src.index, analyzers)
    if res is None:
        return None
    digest, media_type = src.digest, src.media_type
    if not digest or not media_type:
        with src.open() as raw:
            head = raw.read(4)
        compression = "gzip" if head[:3] == GZIP_MAGIC else "zstd" if head == ZSTD_MAGIC else "none"
        if not digest:
            if compression != "none":
                return None
            digest = src.diff_id
        media_type = media_type or "application/vnd.oci.image.layer.v1.tar" + {"gzip": "+gzip", "zstd": "+zstd"}.get(compression, "")
    layer = res.layer
    layer.digest, layer.media_type, layer.size = digest, media_type, src.size
    # the image-wide limits count a cached layer as if it had been read
    budget.add_bytes(layer.uncompressed_size)
    budget.add_entry(src.index, len(layer.entries) + len(layer.whiteouts) + len(layer.opaque_dirs))
    return res


def _stream_layer(
    src: LayerSource,
    *,
    ref: str,
    budget: _Budget,
    want_content: ContentRequest | None,
    analyzers: Sequence[LayerAnalyzer],
    progress: Progress | None,
) -> LayerResult:
    """Stream one layer blob: entries, whiteouts, selected contents, analyzer results; verify its digests."""
    layer = Layer(index=src.index, digest=src.digest, diff_id=src.diff_id, size=src.size, media_type=src.media_type)
    res = LayerResult(layer)
    label = f"layer {src.index + 1} {(src.digest or src.diff_id)[7:19]}"
    where = f"{ref}: layer {src.index} ({src.digest or src.diff_id})"

    with src.open() as raw:
        hashing = _Hashing(raw, src.digest.partition(":")[0] if src.digest else "sha256")
        tick = (lambda: progress(label, hashing.size, src.size)) if progress else (lambda: None)
        try:
            feed = _Feed(hashing, src.index, budget, tick)
            tar = TarReader(feed)
            _LayerWalk(tar, res, want_content, analyzers, budget).walk(tar.walk() if hashing.size else ())  # a zero-byte blob: an empty layer
            feed.drain(tar.unread())
        except limits.Stopped:
            raise
        except LintimgError as e:
            if str(e).startswith(budget.ref):  # an image-wide limit: its message names the image already
                raise
            raise LintimgError(f"{where}: {e}") from None
        except (TarError, zlib.error, zstandard.ZstdError, EOFError) as e:
            raise LintimgError(f"{where}: corrupt layer: {e}") from None
        except OSError as e:
            raise LintimgError(f"{where}: cannot read layer: {e}") from None
    if feed.trailing_data:
        res.anomalies.append(Anomaly(src.index, "", "data after the end of the tar archive"))
    blob_digest = f"{hashing.algo}:{hashing.hash.hexdigest()}"
    if src.digest and blob_digest != src.digest:
        raise LintimgError(f"{where}: blob does not match its digest (got {blob_digest})")
    if src.diff_id and feed.diff_id != src.diff_id:
        raise LintimgError(f"{where}: uncompressed layer does not match diff_id {src.diff_id} (got {feed.diff_id})")
    layer.uncompressed_size = feed.produced
    layer.size = hashing.size
    if not layer.media_type:
        layer.media_type = "application/vnd.oci.image.layer.v1.tar" + {"gzip": "+gzip", "zstd": "+zstd"}.get(feed.compression, "")
    if not layer.digest:
        layer.digest = blob_digest
    if progress:
        progress(label, hashing.size, max(src.size, hashing.size))
    return res


# Regular files and directories, whose tar entries become layer entries as they are (a name already normal):
# most entries of a layer, decoded in the walk's own loop (a function call per entry was a fifth of a big layer's time)
_PLAIN_TYPES = {**dict.fromkeys(b"0\x007", EntryType.FILE), ord("5"): EntryType.DIR}
_PERMS = (0o7777).__and__
_FILE_TYPES = b"0\x007"
_DIR_TYPE = ord("5")


class _LayerWalk:
    """One layer's tar read into ``res``: its entries, and the contents its consumers ask for.

    Runs of empty files (:class:`~lintimg.image.tarstream.Run`) hold no bytes to read, so what the consumers want of
    them is asked later, many runs at once (a prefilter's few searches then rule out thousands of paths, not one run's
    hundred): :meth:`_ask` does it before any other entry's content is read and at the end, so consumers see every
    file in the order of the tar, as they would one at a time.
    """

    def __init__(self, tar: TarReader, res: LayerResult, want_content: ContentRequest | None, analyzers: Sequence[LayerAnalyzer],
                 budget: _Budget) -> None:
        self.tar = tar
        self.res = res
        self.want_content = want_content
        self.analyzers = analyzers
        self.budget = budget
        self.consumers = [*analyzers, *([want_content] if want_content is not None else [])]
        self.entries = res.layer.entries
        self._rows: list[LayerEntry] = []  # entries taken one by one, not yet added to the columns of ``entries``
        # empty files of runs not yet asked about: their rows in ``entries`` (by run: made into numbers when asked
        # about, which is rarely), and their paths
        self._files: list[Iterable[int]] = []
        self._paths: list[str] = []

    def walk(self, headers: Iterable[Header | Run]) -> None:
        """Every entry: a plain file or directory whose name is already normal (no ``//``, ``/.``, leading ``.`` or
        ``/``, trailing ``/``: so no whiteout either) is taken here, a run by :meth:`_take_run`, the rest by :meth:`_take`."""
        idx = self.res.layer.index
        append = self._rows.append
        file_type = EntryType.FILE
        plain_types = _PLAIN_TYPES
        max_path, max_depth = limits.MAX_PATH, limits.MAX_PATH_DEPTH
        want_content, budget = self.want_content, self.budget
        capture = want_content.wants if want_content is not None else None
        max_content, max_analyze = budget.limits.max_content, budget.limits.max_analyze
        selects = [a.wants for a in self.analyzers]
        counted = 0
        for h in headers:
            if isinstance(h, Run):
                counted += len(h.names)
                if counted >= ENTRY_BATCH:
                    budget.add_entry(idx, counted)
                    counted = 0
                self._take_run(h)
                continue
            counted += 1
            if counted >= ENTRY_BATCH:  # the image-wide count is shared: taken in batches, not per entry
                budget.add_entry(idx, counted)
                counted = 0
            name, typeflag, size, mode, uid, gid, linkname, data, _, sparse = h
            etype = plain_types.get(typeflag)
            if (etype is None or linkname or not name or "//" in name or "/." in name or name[0] in "./" or name[-1] == "/"
                    or len(name) > max_path or name.count("/") > max_depth):
                self._take(h)
                continue
            if etype is not file_type:
                append(_new(LayerEntry, (name, etype, 0, mode & 0o7777, uid, gid, "")))
                continue
            entry = _new(LayerEntry, (name, etype, size, mode & 0o7777, uid, gid, ""))
            append(entry)
            if (data or sparse is not None) and (capture is not None and size <= max_content and capture(entry)
                         or size <= max_analyze and any([select(entry) for select in selects])):
                self._consume(entry, name, sparse)
        budget.add_entry(idx, counted)
        self._add_rows()
        self._ask()

    def _add_rows(self) -> None:
        if self._rows:
            self.entries.extend(self._rows)
            self._rows.clear()

    def _take_run(self, run: Run) -> None:
        """A run of empty files and folders, by column: its names checked as one string, its columns added by ``map``
        (no :class:`LayerEntry` made); its files wait for :meth:`_ask`."""
        names, types, owners, joined = run
        # as walk tests each name: none empty, none with "//", "/." or a leading "." or "/" (under 101 characters: within bounds)
        if "\0\0" in joined or "//" in joined or "." in joined and ("/." in joined or "\0." in joined) or "\0/" in joined:
            for h in run.headers():
                self._take(h)
            return
        self._add_rows()
        n, at = len(names), len(self.entries)
        # One owner and type (a bomb's run): columns by repetition (a list repeated is filled at C speed; repeat() is iterated).
        if owners.count(owners[0]) == n and types.count(types[0]) == n:
            mode, uid, gid = owners[0]
            self.entries.add(names, [_PLAIN_TYPES[types[0]]] * n, [0] * n, [mode & 0o7777] * n, [uid] * n, [gid] * n, [""] * n)
        else:
            modes, uids, gids = zip(*owners)
            self.entries.add(names, map(_PLAIN_TYPES.__getitem__, types), [0] * n, map(_PERMS, modes), uids, gids, [""] * n)
        if not self.consumers:
            return
        if _DIR_TYPE in types:
            is_file = list(map(_FILE_TYPES.__contains__, types))
            self._files.append(list(compress(range(at, at + n), is_file)))
            self._paths += compress(names, is_file)
        else:  # all files (an entry's path is its name here)
            self._files.append(range(at, at + n))
            self._paths += names

    def _ask(self) -> None:
        """Hand the waiting empty files of runs to the consumers that want them: only those a consumer's ``prefilter``
        keeps are asked about (all of them for a consumer without one)."""
        paths = Paths(self._paths)  # (their joined text made once for every prefilter)
        if not paths:
            return
        runs, self._files, self._paths = self._files, [], []
        asked: set[int] = set()
        for c in self.consumers:
            prefilter = getattr(c, "prefilter", None)
            if prefilter is None:
                asked = set(range(len(paths)))
                break
            asked.update(prefilter(paths, 0))
        if not asked:
            return
        entries, files = self.entries, list(chain.from_iterable(runs))
        for i in sorted(asked):
            self._hand(entries[files[i]], b"")

    def _take(self, h: Header) -> None:
        res, idx = self.res, self.res.layer.index
        name, size, linkname = h.name, h.size, h.linkname
        path, reason = clean_path(name)
        if reason:
            res.anomalies.append(Anomaly(idx, shown_name(name), reason))
        if path is None:
            return
        if WHITEOUT in path:  # one C-level search before splitting the path: few names hold it
            parent, _, base = path.rpartition("/")
            if base.startswith(WHITEOUT):
                if base == OPAQUE:
                    res.layer.opaque_dirs.append(parent)
                elif base.startswith(WHITEOUT + WHITEOUT):
                    pass  # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the filesystem
                elif base == WHITEOUT:
                    res.anomalies.append(Anomaly(idx, shown_name(name), "bare .wh. whiteout"))
                else:
                    res.layer.whiteouts.append(posixpath.join(parent, base[len(WHITEOUT) :]))
                return
        etype = _TYPES.get(h.type)
        if etype is None:
            res.anomalies.append(Anomaly(idx, shown_name(name), f"unsupported tar entry type {bytes([h.type])!r}"))
            return
        if linkname:
            if len(linkname) > limits.MAX_PATH:
                res.anomalies.append(Anomaly(idx, shown_name(name), f"link target longer than {limits.MAX_PATH} characters (skipped)"))
                return
            if etype is EntryType.HARDLINK:
                target, _ = clean_path(linkname)
                if target is None:
                    res.anomalies.append(Anomaly(idx, shown_name(name), "hardlink target escapes the image root"))
                    return
                linkname = target
            elif etype is EntryType.SYMLINK and not linkname.startswith("/") and climbs_out(path.rpartition("/")[0], linkname):
                res.anomalies.append(Anomaly(idx, shown_name(name), "symlink target escapes the image root"))
        elif etype is EntryType.HARDLINK:
            res.anomalies.append(Anomaly(idx, shown_name(name), "hardlink target escapes the image root"))
            return
        entry = _new(LayerEntry, (path, etype, size if etype is EntryType.FILE else 0, h.mode & 0o7777, h.uid, h.gid, linkname))
        self._rows.append(entry)
        if etype is not EntryType.FILE or not (h.data or h.sparse is not None):
            return
        self._consume(entry, name, h.sparse)

    def _consume(self, entry: LayerEntry, name: str, sparse: tuple[tuple[int, int], ...] | None) -> None:
        """A regular file's content, read for the consumers that want it (``name``: as written in the tar)."""
        self._ask()  # the runs' files before it, in the tar's order
        self._hand(entry, None, name, sparse)

    def _hand(self, entry: LayerEntry, data: bytes | None, name: str = "", sparse: tuple[tuple[int, int], ...] | None = None) -> None:
        """Give ``entry``'s bytes (``data``, else read from the tar) to the consumers that want them."""
        idx, path, size = self.res.layer.index, entry.path, entry.size
        want_content, policy = self.want_content, self.budget.limits
        want = want_content is not None and size <= policy.max_content and want_content.wants(entry)
        chosen = [a for a in self.analyzers if a.wants(entry)] if size <= policy.max_analyze else []
        if not want and not chosen:
            return
        if data is None:
            data = _content(name, size, sparse, self.tar)
        if want_content is not None and want and self.budget.reserve_capture(len(data)):
            self.res.contents[(idx, path)] = want_content.keep(path, data)
        for a in chosen:
            found = a.analyse(idx, entry, data)
            if found:
                self.res.analysis.setdefault(a.name, []).extend(found)


def _content(name: str, size: int, sparse: tuple[tuple[int, int], ...] | None, tar: TarReader) -> bytes:
    """An entry's bytes; the tar reader sits at its data, right after its header (and a sparse map).

    A sparse file (GNU ``tar --sparse``) stores only its data chunks: they are read
    and put back at their offsets, the holes being zeros, as the runtime unpacks it.
    """
    if sparse is None:
        data = tar.read(size)
        if len(data) != size:
            raise TarError(f"{shown_name(name)}: unexpected end of data")
        return data
    stored = tar.read(sum(n for _, n in sparse))
    out = bytearray(size)
    at = 0
    for offset, n in sparse:
        if offset + n > size or at + n > len(stored):
            raise TarError(f"{shown_name(name)}: sparse map does not fit the file")
        out[offset : offset + n] = stored[at : at + n]
        at += n
    return bytes(out)


def read_layers(
    sources: Sequence[LayerSource],
    *,
    ref: str,
    limits: Limits | None = None,
    want_content: ContentRequest | None = None,
    analyzers: Sequence[LayerAnalyzer] = (),
    progress: Progress | None = None,
    workers: int | None = None,
    cache: LayerCache | None = None,
) -> list[LayerResult]:
    """Read every layer, in parallel threads; results come back in layer order.

    With ``cache``, a layer whose result it holds for this request is not read
    at all (:mod:`lintimg.image.layercache`), and every layer read is stored.
    Cached layers are served first: threads start only when two or more
    layers are left to read (a rescan over cached base layers starts none).
    """
    limits = limits or Limits()
    budget = _Budget(limits, ref)
    spec = _spec(cache, analyzers, want_content, limits)
    results = [_from_cache(s, budget, cache, spec, analyzers, progress) for s in sources]
    todo = [s for s, r in zip(sources, results) if r is None]
    if workers is None:
        workers = int(os.environ.get("LINTIMG_IMAGE_WORKERS", "0")) or min(4, os.cpu_count() or 1)
    workers = max(1, min(workers, len(todo) or 1))

    def one(src: LayerSource) -> LayerResult:
        return _read_and_store(src, ref=ref, budget=budget, want_content=want_content, analyzers=analyzers, progress=progress,
                               cache=cache, spec=spec)

    if workers == 1:
        read = [one(s) for s in todo]
    else:
        from concurrent.futures import ThreadPoolExecutor  # ~20 ms of imports a run without two layers to read skips

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lintimg-layer") as pool:
            read = list(pool.map(one, todo))
    fresh = iter(read)
    return [r if r is not None else next(fresh) for r in results]


def assemble(
    *,
    reference: str,
    name: str,
    digest: str | None,
    config: dict[str, Any],
    results: Iterable[LayerResult],
    platform: str = "",
) -> Image:
    """Merge read layers into an Image: whiteouts applied, per-path history, final view, history mapping."""
    from lintimg.image.config import checked

    results = list(results)
    anomalies: list[Anomaly] = []
    config = checked(config, anomalies)  # rules see the spec's types only
    layers = [r.layer for r in results]
    img = Image(reference=reference, name=name, digest=digest, config=config, layers=layers, platform=platform, anomalies=anomalies,
                files=Files(layers=layers))
    files = img.files
    # Paths with more than one event: a path written once keeps its one event in ``files`` (see History)
    changed = img.history_by_path.changed
    # parent -> children, for deleting a tree; built at the first whiteout (many images have none)
    children: dict[str, set[str]] | None = None
    links = _Links(reference)

    def register(path: str, tree: dict[str, set[str]]) -> None:
        p = path
        while p:  # under every ancestor, so a whiteout of any of them finds it
            parent = p.rpartition("/")[0]
            kids = tree.get(parent)
            if kids is None:
                tree[parent] = {p}
            elif p in kids:
                break
            else:
                kids.add(p)
            p = parent

    def delete_tree(root: str, layer: int, include_root: bool) -> None:
        nonlocal children
        if children is None:
            children = {}
            for path in files:
                register(path, children)
        stack = [root]
        while stack:
            p = stack.pop()
            kids = children.pop(p, None)
            if kids:
                stack.extend(kids)
            if p == root and not include_root:
                continue
            gone = files.pop(p, None)
            if gone is not None:
                links.drop(p)
                deleted = PathEvent(layer, Action.DELETED, None)
                events = changed.get(p)
                if events is None:
                    changed[p] = [_new(PathEvent, (gone.layer, Action.ADDED, gone.entry)), deleted]
                else:
                    events.append(deleted)
                children.get(p.rpartition("/")[0], set()).discard(p)
        if not include_root and root in children:
            del children[root]

    for r in results:
        li = r.layer.index
        img.anomalies.extend(r.anomalies)
        img.contents.update(r.contents)
        for key, values in r.analysis.items():
            img.analysis.setdefault(key, []).extend(values)
        # whiteouts hide lower layers only, so they apply before this layer's entries
        for d in r.layer.opaque_dirs:
            delete_tree(links.resolve(d, li, img.anomalies), li, include_root=False)
        for w in r.layer.whiteouts:
            delete_tree(links.resolve(w, li, img.anomalies), li, include_root=True)
        targets = links.targets
        added, modified, a_dir, a_link = Action.ADDED, Action.MODIFIED, EntryType.DIR, EntryType.SYMLINK
        if not targets and children is None and files.add_new(r.layer.entries, li, changed):
            continue
        # one pass over every entry of every layer: names looked up once, tuples made without NamedTuple's __new__
        held, given, of_row, held_as_given = files.held, files.given, files.of_row, Files.GIVEN
        for e in r.layer.entries:
            path = e.path
            if targets:
                # A parent that is a symbolic link sends the entry where the link points, as the runtime
                # extracts it (x -> /etc, then x/passwd, is /etc/passwd): in order, through this layer's links too.
                landed = links.resolve(path, li, img.anomalies)
                if landed != path:
                    if (li, path) in img.contents:
                        img.contents[(li, landed)] = img.contents.pop((li, path))
                    e = e._replace(path=landed)
                    path = landed
            row = held.get(path)
            old = None if row is None else given[path] if row < 0 else of_row(row)
            if old is not None and old.entry.type is a_dir and e.type is not a_dir:
                delete_tree(path, li, include_root=False)
            events = changed.get(path)
            if events is None:
                # no event yet (its one event, added, is its file's), or one, its file's: then modified, unless
                # written twice in one tar (the last one wins, still one event)
                if old is not None and old.layer != li:
                    changed[path] = [_new(PathEvent, (old.layer, added, old.entry)), _new(PathEvent, (li, modified, e))]
            elif old is not None and old.layer == li:  # written twice in one tar: the last one wins
                events[-1] = _new(PathEvent, (li, events[-1].action, e))
            else:
                events.append(_new(PathEvent, (li, modified if old is not None else added, e)))
            held[path] = held_as_given
            given[path] = _new(ImageFile, (e, li))
            if e.type is a_link or path in targets:
                links.write(path, e)
            if children is not None:
                register(path, children)
    _map_history(img)
    return img


class _Links:
    """The symbolic links of the merged view, to resolve where an entry lands, as the runtime does.

    Only the parent of a path is followed (the entry itself replaces a link of
    its name), always inside the image root (``..`` at the root stays there, an
    absolute target starts from it). A loop, or more than :data:`MAX_HOPS`
    links on one path, leaves the path as written, with an anomaly. Work is
    bounded per image (:data:`STEPS`): past it the image is refused, never
    read with its links half followed.
    """

    MAX_HOPS = 40  # Linux's MAXSYMLINKS
    STEPS = 2_000_000  # path components looked at over the whole image

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.targets: dict[str, str] = {}
        self.steps = 0
        # Parents already seen to lead through no link (a folder's files come together): true until a link is
        # added, as one removed never puts a link on a path.
        self._direct: set[str] = set()

    def write(self, path: str, entry: LayerEntry) -> None:
        if entry.type is EntryType.SYMLINK:
            self.targets[path] = entry.linkname
            self._direct.clear()
        else:
            self.targets.pop(path, None)

    def drop(self, path: str) -> None:
        self.targets.pop(path, None)

    def resolve(self, path: str, layer: int, anomalies: list[Anomaly]) -> str:
        """``path`` with its parent directories resolved through the links so far."""
        parent, _, base = path.rpartition("/")
        if not parent or not self.targets or parent in self._direct:
            return path
        if not self._through_link(parent):
            self._direct.add(parent)
            return path
        resolved = self._walk(parent)
        if resolved is None:
            anomalies.append(Anomaly(layer, path, "too many symbolic links on its path (kept as written)"))
            return path
        landed = f"{resolved}/{base}" if resolved else base
        anomalies.append(Anomaly(layer, path, f"written through a symbolic link: lands at /{landed}"))
        return landed

    def _through_link(self, parent: str) -> bool:
        at = parent.find("/")
        while at >= 0:
            if parent[:at] in self.targets:
                return True
            at = parent.find("/", at + 1)
        return parent in self.targets

    def _walk(self, parent: str) -> str | None:
        todo = parent.split("/")[::-1]
        done: list[str] = []
        hops = 0
        while todo:
            self.steps += 1
            if self.steps > self.STEPS:
                raise LintimgError(f"{self.ref}: too many entries written through symbolic links (limit {self.STEPS} steps)")
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            target = self.targets.get("/".join([*done, part]))
            if target is None:
                done.append(part)
                continue
            hops += 1
            if hops > self.MAX_HOPS:
                return None
            if target.startswith("/"):
                done = []
            todo.extend(target.split("/")[::-1])
        return "/".join(done)


def _map_history(img: Image) -> None:
    """Give each layer the non-empty history entry that made it (entries line up with layers in order)."""
    made = [i for i, h in enumerate(img.history) if not h.get("empty_layer")]
    if len(made) != len(img.layers):
        if img.history:
            img.anomalies.append(Anomaly(-1, "", f"history has {len(made)} non-empty entries for {len(img.layers)} layers"))
        return
    for layer, hi in zip(img.layers, made):
        layer.history_index = hi
        layer.created_by = img.history[hi].get("created_by", "")
