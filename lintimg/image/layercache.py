"""Per-layer analysis results on disk, keyed by layer digest: a layer already analysed is never read again.

An image is a stack of layers, and images share them (every image of a team
starts with the same few base layers). What the reader learns from one layer
— its entries, whiteouts, the bytes it was asked to capture, each analyzer's
results — depends only on that layer's bytes and on *what was asked*, so it is
stored under

    (uncompressed layer digest, spec)

where the spec (:func:`spec_key`) hashes the reader's format version, the
limits that shape a result, the content request's key and every analyzer's
name and key (its version and policy: a new detector set or allowlist is a new
spec). The uncompressed digest (``diff_id``) is the same whether the layer
comes from a registry (gzip), an archive (plain tar) or the engine, so one
entry serves every source. A second image that shares base layers with one
already scanned pays only for its new layers; with a spec that differs only in
policy, it pays again (the cache never guesses what a policy change keeps).

The cache is a directory; many processes (and many machines over a shared
file system: the fleet scan's workers) may read and write it at once. Writes
go to a temporary file in the same folder and are renamed into place, so a
reader sees a whole entry or none; an entry that is missing, torn, corrupt,
of another format or for another key is a miss and the layer is read again.
Entries hold paths, metadata, redacted findings and fingerprints — never a
secret value (captured files pass their request's ``keep`` first: account
files lose their password hashes).

Location: ``LayerCache(root)``; by default ``$LINTIMG_LAYER_CACHE``, else
``$XDG_CACHE_HOME/lintimg/layers``. ``LINTIMG_NO_CACHE=1`` turns it off.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lintimg import cachefiles, limits
from lintimg.image.model import Anomaly, ContentRequest, Entries, EntryType, Layer, LayerAnalyzer, LayerEntry

if TYPE_CHECKING:
    from lintimg.image.reader import LayerResult, Limits


# Bump when the stored shape or what the reader records per layer changes.
FORMAT = 5
MAX_ENTRY = 512 << 20  # bytes one entry may unpack to
_CODES = {"file": "f", "dir": "d", "symlink": "l", "hardlink": "h", "char": "c", "block": "b", "fifo": "p"}  # one letter per entry type
_BY_CODE = {_CODES[t.value]: t for t in EntryType}
_ORDER = tuple(EntryType)
_LETTERS = bytes.maketrans(bytes(range(len(_ORDER))), "".join(_CODES[t.value] for t in _ORDER).encode("ascii"))
_NUMBERS = ("sizes", "modes", "uids", "gids")  # LayerEntry's numeric fields, in its order
# a numeric column's widths: key -> (array type code of that many bytes, the bound of its values)
_TYPECODES: tuple[Literal["B", "H", "I", "L", "Q"], ...] = ("B", "H", "I", "L", "Q")  # array's unsigned types, narrowest first
_WIDTHS = {f"u{8 * size}": (next(c for c in _TYPECODES if array(c).itemsize == size), 1 << (8 * size)) for size in (1, 2, 4, 8)}


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise TypeError("not a string")
    return v


def _count(v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise TypeError("not a count")
    return v


def _path(v: object) -> str:
    """A path as the reader stores it: normalised, inside the root."""
    from lintimg.image.reader import clean_path

    path = _str(v)
    if path and clean_path(path) != (path, ""):  # "": the root (an opaque marker at the top)
        raise ValueError("not a normalised path")
    return path


def _numbers(values: list[int]) -> dict[str, str] | list[int]:
    """A numeric column as little-endian unsigned words of the narrowest width that holds its largest value ("u8" to
    "u64"), base64 (a list encoded to JSON took most of a big layer's entry); a list when a value is not a count
    that fits (pax allows any size and owner). The reader makes counts: a bool would be stored as a number (the
    decoder refuses one in a list)."""
    if not values:
        return []
    try:
        try:  # most columns (small files' sizes, owners) fit a byte: bytes() takes them in one C-level pass
            return {"u8": base64.b64encode(bytes(values)).decode("ascii")}
        except ValueError:  # a value past a byte, or below 0
            pass
        # 8-byte words: array takes these at C speed (a narrower type parses each item, ~3x slower)
        words = array("Q", values)  # OverflowError below 0 or past 64 bits
    except (TypeError, OverflowError):  # (TypeError: what is not an integer)
        return list(values)
    top = max(values)
    key, (code, _) = next((k, width) for k, width in _WIDTHS.items() if top < width[1])
    step = 8 // array(code).itemsize
    # the word's piece of that width that holds its value (all are below the bound): its first in little-endian order
    low = memoryview(words).cast("B").cast(code)[0 if sys.byteorder == "little" else step - 1 :: step]
    narrow = array(code, low.tobytes())
    if sys.byteorder != "little":
        narrow.byteswap()
    return {key: base64.b64encode(narrow.tobytes()).decode("ascii")}


def _unnumbers(column: object, n: int) -> list[int]:
    if isinstance(column, dict):
        if len(column) != 1:
            raise ValueError("not a numeric column")
        ((key, text),) = column.items()
        words = array(_WIDTHS[key][0])  # KeyError: an unknown width
        raw = base64.b64decode(_str(text), validate=True)
        if len(raw) != words.itemsize * n:
            raise ValueError("entry columns of different lengths")
        words.frombytes(raw)
        if sys.byteorder != "little":
            words.byteswap()
        return words.tolist()  # unsigned: never negative
    if not isinstance(column, list) or len(column) != n:
        raise TypeError("entry columns of different lengths")
    # type() is int: neither bool nor a float (a C loop over the column, as for every check here)
    if column and (set(map(type, column)) != {int} or min(column) < 0):
        raise TypeError("not an entry")
    return column


def _columns(entries: Entries | Sequence[LayerEntry]) -> dict[str, Any]:
    """A layer's entries by column: the paths as one text when no path holds a newline, the types as one letter each,
    the numbers as :func:`_numbers`, the link targets as a list (nearly all empty)."""
    if not isinstance(entries, Entries):
        entries = Entries(entries)
    if not entries:  # (one empty line would be one entry)
        return {"paths": [], "types": "", **{c: [] for c in _NUMBERS}, "links": []}
    paths, types, *numbers, links = entries.columns()
    return {
        "paths": _lines(paths),
        # each type's place in _ORDER (a C-level identity test: an EntryType's hash is Python code), as its letter
        "types": bytes(map(_ORDER.index, types)).translate(_LETTERS).decode("ascii"),
        **{c: _numbers(v) for c, v in zip(_NUMBERS, numbers)},
        "links": _lines(links),
    }


def _lines(texts: list[str]) -> str | list[str]:
    """Texts as one, a line each, when none holds a newline (one string encodes many times faster than a list)."""
    joined = "\n".join(texts)
    return joined if joined.count("\n") == len(texts) - 1 else list(texts)


def _unlines(stored: object) -> list[str]:
    if isinstance(stored, str):
        return stored.split("\n")
    if not isinstance(stored, list) or stored and set(map(type, stored)) != {str}:  # type() is str: JSON makes no subclasses
        raise TypeError("not an entry")
    return stored


def _entries(columns: object) -> Entries:
    """The stored entries, checked as the reader makes them (normal paths, known types, counts, strings), by column."""
    if not isinstance(columns, dict):
        raise TypeError("not the entry columns")
    paths, types, links = _unlines(columns["paths"]), columns["types"], _unlines(columns["links"])
    if not isinstance(types, str) or not len(paths) == len(types) == len(links):
        raise TypeError("entry columns of different lengths")
    numbers = [_unnumbers(columns[c], len(paths)) for c in _NUMBERS]
    from lintimg.image.reader import all_clean

    if not all_clean(paths):
        paths = [_path(p) for p in paths]
    sizes, modes, uids, gids = numbers
    return Entries.of_columns(paths, list(map(_BY_CODE.__getitem__, types)), sizes, modes, uids, gids, links)


def default_root() -> Path:
    """``$LINTIMG_LAYER_CACHE``, else ``$XDG_CACHE_HOME/lintimg/layers``."""
    env = os.environ.get("LINTIMG_LAYER_CACHE")
    return Path(env) if env else cachefiles.cache_root("layers")


def spec_key(analyzers: Sequence[LayerAnalyzer], want_content: ContentRequest | None, limits: Limits) -> str | None:
    """The part of a cache key that says what was asked of a layer; ``None`` when a part is not cacheable."""
    if any(not a.key for a in analyzers) or (want_content is not None and not want_content.key):
        return None
    parts = {
        "format": FORMAT,
        "max_content": limits.max_content,
        "max_analyze": limits.max_analyze,
        "content": want_content.key if want_content is not None else None,
        "analyzers": sorted([a.name, a.key] for a in analyzers),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class LayerCache:
    """Layer results by ``(diff_id, spec)`` in a directory (see the module docstring).

    ``get`` returns a :class:`~lintimg.image.reader.LayerResult` for the layer
    at ``index`` of the image being read (indices are not stored: a shared
    layer may sit at another position in another image), ``put`` stores one.
    ``hits``/``misses``/``stores`` count this object's traffic.
    """

    def __init__(self, root: Path | str | None = None, *, enabled: bool | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.on = cachefiles.enabled() if enabled is None else enabled
        self.hits = 0
        self.misses = 0
        self.stores = 0

    def path(self, diff_id: str, spec: str) -> Path:
        algo, _, hexd = diff_id.partition(":")
        name = hashlib.sha256(f"{diff_id}\0{spec}".encode()).hexdigest()
        return self.root / f"v{FORMAT}" / spec[:16] / f"{algo}-{hexd[:2]}" / f"{name}.json.zst"

    def get(self, diff_id: str, spec: str, index: int, analyzers: Sequence[LayerAnalyzer]) -> LayerResult | None:
        if not self.on or not diff_id:
            return None
        try:  # a regular file, not followed through a link, bounded: a FIFO or /dev/zero is no entry
            raw = limits.read_file(self.path(diff_id, spec), limits.MAX_CACHE_FILE, follow=False)
        except OSError:
            self.misses += 1
            return None
        try:
            result = decode(raw, diff_id, spec, index, analyzers)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError):
            result = None  # torn, corrupt, foreign: read the layer again
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
        return result

    def put(self, result: LayerResult, spec: str, analyzers: Sequence[LayerAnalyzer]) -> None:
        if not self.on or not result.layer.diff_id:
            return
        path = self.path(result.layer.diff_id, spec)
        data = encode(result, spec, analyzers)
        try:
            cachefiles.write_atomic(path, data)
        except OSError:
            return  # a read-only or full cache directory only costs speed
        self.stores += 1


def encode(result: LayerResult, spec: str, analyzers: Sequence[LayerAnalyzer]) -> bytes:
    """One layer's result as compressed JSON, without its index (see :func:`decode`)."""
    import zstandard

    layer = result.layer
    doc = {
        "format": FORMAT,
        "diff_id": layer.diff_id,
        "spec": spec,
        "uncompressed_size": layer.uncompressed_size,
        "entries": _columns(layer.entries),
        "whiteouts": layer.whiteouts,
        "opaque_dirs": layer.opaque_dirs,
        "contents": {path: base64.b64encode(data).decode("ascii") for (_, path), data in result.contents.items()},
        "analysis": {a.name: a.dump(result.analysis.get(a.name, [])) for a in analyzers},
        "anomalies": [[a.path, a.reason] for a in result.anomalies],
    }
    return zstandard.ZstdCompressor(level=3).compress(json.dumps(doc, separators=(",", ":")).encode())


def decode(raw: bytes, diff_id: str, spec: str, index: int, analyzers: Sequence[LayerAnalyzer]) -> LayerResult | None:
    """The result stored by :func:`encode`, for the layer at ``index``; ``None`` when it is for another key.

    Raises ``ValueError``/``TypeError``/``KeyError`` on a malformed entry.
    """
    import zstandard

    from lintimg.image.reader import LayerResult

    try:
        doc = json.loads(zstandard.ZstdDecompressor().decompress(raw, max_output_size=MAX_ENTRY))
    except zstandard.ZstdError as e:
        raise ValueError(str(e)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("diff_id") != diff_id or doc.get("spec") != spec:
        return None
    # Typed like the reader makes them: a tampered entry must not put "../x" or a list where a path goes.
    entries = _entries(doc["entries"])
    layer = Layer(index=index, digest="", diff_id=diff_id, size=0, media_type="", entries=entries,
                  whiteouts=[_path(w) for w in doc["whiteouts"]], opaque_dirs=[_path(d) for d in doc["opaque_dirs"]],
                  uncompressed_size=_count(doc["uncompressed_size"]))
    contents = {(index, _path(path)): base64.b64decode(_str(data), validate=True) for path, data in doc["contents"].items()}
    analysis = {a.name: a.load(doc["analysis"][a.name], index) for a in analyzers}
    anomalies = [Anomaly(index, _str(p), _str(r)) for p, r in doc["anomalies"]]
    return LayerResult(layer, contents, {k: v for k, v in analysis.items() if v}, anomalies)
