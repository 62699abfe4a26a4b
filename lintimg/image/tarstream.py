"""A lean, forward-only tar header reader for layer streams.

``tarfile`` builds a ``TarInfo`` per entry, decoding every header field
(owner names, device numbers, times) with a Python function per field; on a
layer of 50,000 small files that is most of the time the reader spends. This
reader decodes only what the image model keeps (name, type, size, mode,
uid, gid, link target) and follows ``tarfile``'s reading of the format
exactly where it matters — the same entries, names and sizes, and the same
point where an archive ends:

- ustar, GNU and pax headers; the ustar name prefix; GNU long names and
  link names (``L``/``K``); pax ``path``, ``linkpath``, ``size``, ``uid``,
  ``gid`` records, global (``g``) ones applying to every later entry;
  base-256 numbers;
- a header with a bad checksum is an error at the start of the archive and
  the end of the archive anywhere else; an all-zero block ends it;
- data follows regular files and unknown types only (as ``tarfile`` reads
  it); GNU sparse files (old format and pax 0.x/1.0) report their real size,
  and their map of stored chunks (old format, pax 0.1 and 1.0) so that a
  reader can put the file together as the runtime sees it (an
  ``/etc/passwd`` stored sparse is still an ``/etc/passwd``);
- long-name and pax blocks and sparse maps are bounded (:data:`MAX_EXTENDED`,
  :data:`MAX_SPARSE`), so a hostile size field cannot make it allocate
  without limit.

A header is a slice of a chunk taken from the stream, and a plain header
whose checksum and numeric fields were seen before in the layer is decoded
on a fast path (:class:`TarReader`): a layer of 300,000 files is read in a
fraction of the time a function per field took.

``tests/image/test_tarstream.py`` compares it with ``tarfile`` on generated
and mutated archives.
"""
from __future__ import annotations

import operator
import re
import struct
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import compress, count, repeat
from typing import NamedTuple, Protocol, cast
from zlib import adler32

from lintimg import limits

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
MAX_EXTENDED = limits.MAX_TAR_HEADER  # the largest GNU long-name or pax header block accepted (docs/limits.md)
MAX_SPARSE = 1 << 16  # chunks in one sparse file's map
_GNU_SPARSE = ord("S")
_DIR, _LONGNAME, _LONGLINK, _GLOBAL = b"5LKg"
# tarfile's REGULAR_TYPES ("0", NUL for old V7, contiguous "7", GNU sparse) and SUPPORTED_TYPES
REGULAR = frozenset(b"0\x007S")
SUPPORTED = REGULAR | frozenset(b"123456LK")
_EXTENDED = frozenset(b"LKxXg")
# One unpack per header block instead of a slice per field: name, mode, uid, gid, size, (mtime
# skipped) checksum, typeflag, linkname, (magic to devminor skipped) ustar prefix.
_FIELDS = struct.Struct("100s8s8s8s12s12x8sB100s88x155s12x")


class TarError(Exception):
    """A malformed archive (the reader's callers turn it into a one-line error)."""


class Header(NamedTuple):
    name: str
    type: int  # the typeflag byte ("0" regular, "5" directory, "2" symlink, ...; 0 = old regular)
    size: int  # the entry's size (a sparse file's real size)
    mode: int
    uid: int
    gid: int
    linkname: str
    data: bool  # whether ``size`` bytes of content follow (regular, non-sparse entries)
    stored: int  # bytes the entry occupies after its header, before padding
    # a sparse file's (offset, length) chunks, stored one after the other where its data starts; else None
    sparse: tuple[tuple[int, int], ...] | None = None


class Run(NamedTuple):
    """Consecutive entries without data (empty regular files, directories), decoded together: what a
    :class:`Header` would say of each, by column. Each is ``Header(names[i], types[i], 0, *owners[i], "", types[i]
    is a regular type, 0)``."""

    names: list[str]
    types: tuple[int, ...]
    owners: list[tuple[int, int, int]]  # (mode, uid, gid)
    text: str  # the names joined, each between two NULs (one text to test them all at once)

    @classmethod
    def of(cls, names: list[str], types: tuple[int, ...], owners: list[tuple[int, int, int]]) -> Run:
        return cls(names, types, owners, "\0" + "\0".join(names) + "\0")

    def headers(self) -> Iterator[Header]:
        for name, typeflag, (mode, uid, gid) in zip(self.names, self.types, self.owners):
            yield _new(Header, (name, typeflag, 0, mode, uid, gid, "", typeflag in _PLAIN_DATA, 0, None))


def _number(field: bytes) -> int:
    """A numeric field: NUL/space-terminated octal, or GNU base-256 (first byte 0x80 or 0xff)."""
    if field[0] < 0o200:
        try:  # the usual field, "0000644\0": int() strips the same whitespace bytes.strip() does
            return int(field.partition(b"\0")[0], 8)
        except ValueError:
            pass  # empty or blank (0), or not a number: the full reading below decides
    elif field[0] in (0o200, 0o377):
        n = int.from_bytes(field[1:], "big")
        return n - 256 ** (len(field) - 1) if field[0] == 0o377 else n
    end = field.find(b"\0")
    text = (field if end < 0 else field[:end]).strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise TarError("invalid header") from None


def _text(field: bytes) -> str:
    end = field.find(b"\0")
    return (field if end < 0 else field[:end]).decode("utf-8", "surrogateescape")


def _checksum_ok(buf: bytes, field: bytes) -> bool:
    want = _number(field)
    unsigned = sum(buf) - sum(field) + 256
    if want == unsigned:
        return True
    signed = sum(b - 256 if b > 127 else b for b in buf[:148]) + 256 + sum(b - 256 if b > 127 else b for b in buf[156:])
    return want == signed


def _pax(data: bytes) -> dict[str, str]:
    """pax records ``"<len> <key>=<value>\\n"`` (values decoded as UTF-8, undecodable bytes kept)."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        if space < 0:
            raise TarError("invalid header")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarError("invalid header") from None
        if length < 5 or pos + length > len(data):
            raise TarError("invalid header")
        record = data[space + 1: pos + length - 1]
        key, eq, value = record.partition(b"=")
        if not eq:
            raise TarError("invalid header")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _apply_numbers(pax: dict[str, str], fields: dict[str, int]) -> None:
    for key in ("size", "uid", "gid"):
        if key in pax:
            try:
                fields[key] = int(pax[key])
            except ValueError:
                fields[key] = 0  # as tarfile reads a malformed number


def _chunks(numbers: list[int]) -> tuple[tuple[int, int], ...]:
    """(offset, length) pairs of a sparse map, checked: in order, not overlapping, none negative."""
    if len(numbers) % 2 or len(numbers) > 2 * MAX_SPARSE:
        raise TarError(f"sparse map of more than {MAX_SPARSE} chunks, or an odd one")
    pairs = tuple(zip(numbers[::2], numbers[1::2]))
    end = 0
    for offset, length in pairs:
        if offset < end or length < 0:
            raise TarError("invalid sparse map")
        end = offset + length
    return pairs


def _gnu_map(block: bytes, count: int) -> list[int]:
    """The (offset, numbytes) octal fields of an old GNU sparse header or extension block, up to an empty one."""
    out: list[int] = []
    for i in range(count):
        field = block[24 * i: 24 * i + 24]
        if not field[:12].strip(b"\0 "):
            break
        out += [_number(field[:12]), _number(field[12:])]
    return out


def _pax1_map(stream: TarReader) -> tuple[list[int], int]:
    """The map GNU tar's pax sparse 1.0 writes at the start of the data: decimal lines (the count,
    then offset and length per chunk), padded to a block. Returns the numbers and the bytes it took."""
    text = b""
    while True:
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            raise TarError("unexpected end of data")
        text += block
        lines = text.split(b"\n")
        try:
            count = int(lines[0])
        except ValueError:
            raise TarError("invalid sparse map") from None
        if not 0 <= count <= MAX_SPARSE:
            raise TarError(f"sparse map of more than {MAX_SPARSE} chunks")
        if len(lines) > 2 * count + 1:  # every number is followed by its newline
            try:
                return [int(x) for x in lines[1: 2 * count + 1]], len(text)
            except ValueError:
                raise TarError("invalid sparse map") from None
        if len(text) > MAX_EXTENDED:
            raise TarError(f"sparse map of more than {MAX_EXTENDED} bytes")


class Stream(Protocol):
    """A forward-only byte stream (the reader's decompressed layer)."""

    def read(self, n: int) -> bytes: ...

    def tell(self) -> int: ...

    def seek(self, pos: int) -> int: ...


CHUNK = 1 << 16  # bytes taken from the stream at a time: 128 headers of small files
_KEPT = 4096  # distinct numeric and checksum fields remembered (a layer's files share modes, owners, many sizes)
_new = tuple.__new__  # a Header without NamedTuple's Python-level __new__: one per entry
# types a plain header decodes alone: regular (then data follows), links, devices, FIFOs, directories
_PLAIN = frozenset(b"0\x007123456")
_PLAIN_DATA = frozenset(b"0\x007")
# A run of header blocks, each: a name (first byte not NUL), a size field of exactly zero as GNU tar, Go's archive/tar and
# Python's tarfile write it, typeflag regular/V7/contiguous/directory, no link name, no ustar prefix. A layer of many
# empty files or folders (the shape of an entry-count bomb) is such runs: matched at C speed, decoded by column.
_RUN = re.compile(rb"(?:[^\0].{123}00000000000\0.{20}[0\x0075]\0.{187}\0.{166})+", re.S)
_ZERO_SIZE = b"00000000000\0"
_RUN_FIELDS = struct.Struct("100s24s24x8sB355x")  # name, mode+uid+gid, (size, mtime), checksum, typeflag
_MIN_RUN = 4  # blocks: a shorter run takes the one-header path (a run costs a few calls of its own)
_MAX_RUN = 2048  # blocks (1 MiB): one run at most (a chunk bounds it first)
_NAMES = re.compile(rb"(?=([^\0]{0,100})).{512}", re.S)  # each block's name, cut at its first NUL
_RUN_SPLIT = "100s48s8s356s"  # a block's name, the fields before the checksum, the checksum, the rest
_RUN_TYPES = frozenset(b"0\x0075")  # the typeflags _RUN takes


def _sums(fields: Iterable[bytes], start: int) -> list[int]:
    """Each field's byte sum plus ``start``: adler32's low half, exact while it stays below 65,521 (an ASCII block's)."""
    return list(map(operator.and_, map(adler32, fields, repeat(start)), repeat(0xFFFF)))


@lru_cache(maxsize=16)
def _blocks(n: int) -> struct.Struct:
    """``n`` header blocks split as :data:`_RUN_SPLIT` splits one, by one call (a call per block cost more than its fields)."""
    return struct.Struct(_RUN_SPLIT * n)


class TarReader:
    """Every entry of a tar stream, in order (iterate it), and the current entry's data (:meth:`read`).

    When a header is yielded the reader sits at the entry's first data byte;
    the caller may :meth:`read` some or all of its ``size`` bytes (when
    ``data``), and the reader moves past the rest before the next header.

    The stream is taken in chunks of ``chunk`` bytes, so a header is a
    slice of a chunk, not a read call. A plain header (ustar, GNU or V7, no
    long name or pax record pending, no name prefix) whose checksum and
    numeric fields were seen before in the layer is decoded on a fast path:
    those fields are looked up in a small table of values (a layer's files
    share modes, owners and many sizes) and its checksum is one sum of the
    block; every other header takes the full reading. Both read what
    ``tarfile`` reads (``tests/image/test_tarstream.py``).
    """

    def __init__(self, stream: Stream, chunk: int = CHUNK) -> None:
        self._stream = stream
        self._chunk = chunk
        self._buf = b""
        self._pos = 0  # the next unread byte of _buf
        self._base = stream.tell()  # stream offset of _buf[0]
        self._numbers: dict[bytes, int] = {}  # a numeric field -> its value
        self._sums: dict[bytes, int] = {}  # a checksum field -> the block sum it accepts (its value, the field's bytes, less 8 spaces)
        self._checks: dict[bytes, int] = {}  # a checksum field -> its value (the same fields as _sums)
        self._owners: dict[bytes, tuple[int, int, int]] = {}  # the mode, uid and gid fields -> their values
        self._globals: dict[str, str] = {}
        self._pending: dict[str, str] = {}  # long name / pax records for the next real header

    def tell(self) -> int:
        return self._base + self._pos

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes from the current position (fewer at the end of the stream)."""
        end = self._pos + n
        if end <= len(self._buf):
            out = self._buf[self._pos : end]
            self._pos = end
            return out
        head = self._buf[self._pos :]
        out = head + self._stream.read(n - len(head))
        self._buf, self._pos, self._base = b"", 0, self._stream.tell()
        return out

    def unread(self) -> bytes:
        """What was taken from the stream past the last byte the reader consumed (after the end: padding or trailing data)."""
        return self._buf[self._pos :]

    def _seek(self, pos: int) -> None:
        if pos <= self._base + len(self._buf):
            if pos < self._base + self._pos:
                raise OSError("tar streams only seek forward")
            self._pos = pos - self._base
            return
        self._stream.seek(pos)  # past what was taken: the stream skips the rest (and says when it ends first)
        self._buf, self._pos, self._base = b"", 0, pos

    def _learn(self, field: bytes, value: int) -> None:
        """Remember a checksum field that was right, and its value."""
        if len(self._sums) >= _KEPT:
            self._sums.clear()
            self._checks.clear()
        self._checks[field] = value
        self._sums[field] = value + sum(field) - 256

    def _number(self, field: bytes) -> int:
        n = self._numbers.get(field)
        if n is None:
            if len(self._numbers) >= _KEPT:
                self._numbers.clear()
            n = self._numbers[field] = _number(field)
        return n

    def __iter__(self) -> Iterator[Header]:
        for item in self.walk():
            if isinstance(item, Run):
                yield from item.headers()
            else:
                yield item

    def _run(self, seg: bytes) -> tuple[Run | None, int]:
        """The longest start of the run of header blocks ``seg`` (matched by :data:`_RUN`) that decodes by column,
        and its length in blocks; no Run when that is under :data:`_MIN_RUN`. A block ends it when it needs the
        one-header reading: a checksum or owner field not seen before, a name ending in "/" (a V7 directory, or one
        to strip), a byte outside ASCII (its sum could then pass 65,520, past what one adler32 run sums exactly;
        below it, adler32's low half is the block's sum)."""
        n = len(seg)
        blocks = list(map(seg.__getitem__, map(slice, range(0, n, BLOCK), range(BLOCK, n + BLOCK, BLOCK))))
        names_f, owner_f, sum_f, types = zip(*_RUN_FIELDS.iter_unpack(seg))
        got = _sums(blocks, 0)
        want = list(map(self._sums.get, sum_f))
        owners = cast(list[tuple[int, int, int]], list(map(self._owners.get, owner_f)))  # None where unseen: checked below
        names = b"\0".join(_NAMES.findall(seg)).decode("ascii", "replace").split("\0")  # cut below where not ASCII
        if "/\0" in "\0".join(names) + "\0":  # a folder's name ends in "/" (stripped); any other's ends the run
            slash = [name.endswith("/") for name in names]
            names = [name.rstrip("/") if t == _DIR else name for name, t in zip(names, types)]
        else:
            slash = []
        if seg.isascii() and got == want and None not in owners and not any(s and t != _DIR for s, t in zip(slash, types)):
            return Run.of(names, types, owners), n // BLOCK
        # something ends the run: find the first block that does
        good = min(
            next(compress(count(), map(operator.not_, map(bytes.isascii, blocks))), n),
            next(compress(count(), map(operator.ne, got, want)), n),
            next(compress(count(), map(operator.is_, owners, repeat(None))), n),
            next((i for i, (s, t) in enumerate(zip(slash, types)) if s and t != _DIR), n),
        )
        if good < _MIN_RUN:
            return None, good
        return Run.of(names[:good], types[:good], owners[:good]), good

    def _uniform(self, buf: bytes, at: int, n: int) -> tuple[Run | None, int]:
        """The run of header blocks at ``buf[at]`` (at most ``n``) that differ only in their names and checksums (a
        layer of many empty files written at once), and its length in blocks; no Run when that is under
        :data:`_MIN_RUN`, or a block of it needs another reading (then :data:`_RUN` and :meth:`_run` decide).

        Its blocks' other fields are the first block's, so that block alone is checked for what :data:`_RUN` asks
        of each (an empty file or folder, no link name, no name prefix), and a block's checksum, the sum of its bytes
        with the checksum field as spaces, is that of the first block's other fields plus that of its name field:
        one adler32 of 100 bytes started at the former (exact: an ASCII block sums below 65,521). The blocks are split
        into fields by one struct call for them all, and their names cut by one regex pass, not a call per block."""
        if n < _MIN_RUN:
            return None, 0
        head, tail = buf[at + 100 : at + 148], buf[at + 156 : at + BLOCK]
        for b in range(at + BLOCK, at + _MIN_RUN * BLOCK, BLOCK):  # (the first few differ already, most often: none here)
            if buf[b + 100 : b + 148] != head or buf[b + 156 : b + BLOCK] != tail:
                return None, 0
        fields = _blocks(n).unpack_from(buf, at)
        heads, tails = fields[1::4], fields[3::4]
        k = n
        if heads.count(head) != n or tails.count(tail) != n:
            k = next(compress(count(), map(operator.ne, zip(heads, tails), repeat((head, tail)))))
        ids = self._owners.get(head[:24])
        if k < _MIN_RUN or ids is None or tail[0] not in _RUN_TYPES or tail[1] or tail[345 - 156] or not (head + tail).isascii():
            return None, k
        names_f, sums_f = fields[0 : 4 * k : 4], fields[2 : 4 * k : 4]
        if not b"".join(names_f).isascii():
            return None, k
        rest = sum(head) + sum(tail) + 8 * 32
        got = _sums(names_f, rest)
        want = list(map(self._checks.get, sums_f))
        if got != want:
            k = self._right(got, want, sums_f)
            if k < _MIN_RUN:
                return None, k
        text = "\0" + b"\0".join(_NAMES.findall(buf, at, at + k * BLOCK)).decode("ascii") + "\0"
        if "\0\0" in text or "/\0" in text:  # an empty name, or one ending in "/"
            return None, k
        return Run(text[1:-1].split("\0"), (tail[0],) * k, [ids] * k, text), k

    def _right(self, got: list[int], want: list[int | None], fields: tuple[bytes, ...]) -> int:
        """How many of the blocks whose sums are ``got`` have a right checksum in ``fields``, in a row from the first:
        ``want`` holds the value of each field seen before, and one not seen before is read (and remembered) as the
        full reading reads it, so a layer's new checksums do not end its runs."""
        for i in compress(count(), map(operator.ne, got, want)):
            if want[i] is not None:
                return i
            try:
                value = _number(fields[i])
            except TarError:
                return i
            if value != got[i]:
                return i
            self._learn(fields[i], value)
        return len(got)

    def walk(self) -> Iterator[Header | Run]:
        """Every entry, as :meth:`__iter__` gives them, with runs of entries without data as one :class:`Run`."""
        start = self.tell()
        numbers, sums, owners = self._numbers, self._sums, self._owners
        quiet = True  # no long name or pax record pending or global
        single_until = 0  # stream offset before which no run is tried (a block there needs the one-header reading)
        reach = _MAX_RUN  # blocks a run may take at most
        # the buffer, the offset of the next header in it and its offset in the stream, kept in locals
        # (a header is a few dozen operations); stored in self when the caller may read
        buf, at, base = self._buf, self._pos, self._base
        while True:
            end = at + BLOCK
            if end > len(buf):
                base += at
                buf = buf[at:] + self._stream.read(self._chunk)
                at, end = 0, BLOCK
                self._buf, self._base = buf, base
                if end > len(buf):
                    self._pos = len(buf)
                    if base == start:
                        raise TarError("empty file" if not buf else "truncated header")
                    if self._pending:
                        raise TarError("missing or bad subsequent header")
                    return  # no end-of-archive blocks: tarfile accepts that too
            if buf[at] == 0 and buf.startswith(ZERO_BLOCK, at):
                self._pos = end
                return
            if quiet and base + at >= single_until and buf.startswith(_ZERO_SIZE, at + 124):
                looked = min((len(buf) - at) // BLOCK, reach)
                run, good = self._uniform(buf, at, looked)
                if good:  # blocks split for nothing (past the run's end) stay a few per block read, as below
                    reach = min(2 * reach, _MAX_RUN) if good == looked else max(_MIN_RUN * 2, 2 * good)
                if run is None and (m := _RUN.match(buf, at, at + reach * BLOCK)) is not None and m.end() - at >= _MIN_RUN * BLOCK:
                    run, good = self._run(buf[at : m.end()])
                    if good < (m.end() - at) // BLOCK:
                        # Cut short by a block that needs the one-header reading (which then learns its fields): that
                        # block and those before it go that way, and the next run looks less far ahead. So the blocks
                        # decoded for nothing stay a few per block read, however a hostile layer spreads such blocks.
                        single_until = base + at + (good + 1) * BLOCK
                        reach = max(_MIN_RUN * 2, 2 * good)
                    else:
                        reach = min(2 * reach, _MAX_RUN)
                if run is not None:
                    after = at + good * BLOCK
                    self._pos = after
                    yield run
                    if self._buf is buf and self._pos <= after:
                        at = after
                    else:
                        self._seek(base + after)
                        buf, at, base = self._buf, self._pos, self._base
                    continue
            typeflag = buf[at + 156]
            # The fast path: a plain header with nothing pending and no name prefix, whose checksum field was
            # seen before and matches the sum of its bytes (two adler32 runs of 256 bytes: at most 65,280 each,
            # so exact; the unsigned sum is tarfile's first reading) and whose numeric fields were seen before.
            if (quiet and typeflag in _PLAIN and buf[at + 345] == 0
                    and (adler32(buf[at : at + 256], 0) & 0xFFFF) + (adler32(buf[at + 256 : end], 0) & 0xFFFF) == sums.get(buf[at + 148 : at + 156])):
                ids = owners.get(buf[at + 100 : at + 124])
                size = numbers.get(buf[at + 124 : at + 136])
                cut = buf.find(0, at, at + 100)
                name = buf[at : cut if cut >= 0 else at + 100].decode("utf-8", "surrogateescape")
                # a name ending in "/" (a V7 directory, or one to strip) and the rest take the full reading
                if ids is not None and size is not None and size >= 0 and name and name[-1] != "/":
                    if buf[at + 157]:
                        cut = buf.find(0, at + 157, at + 257)
                        linkname = buf[at + 157 : cut if cut >= 0 else at + 257].decode("utf-8", "surrogateescape")
                    else:
                        linkname = ""
                    data = typeflag in _PLAIN_DATA
                    stored = size if data else 0
                    after = end + (stored + BLOCK - 1) // BLOCK * BLOCK
                    self._pos = end
                    yield _new(Header, (name, typeflag, size, ids[0], ids[1], ids[2], linkname, data, stored, None))
                    if self._buf is buf and self._pos <= after <= len(buf):
                        at = after  # what the caller read, if anything, was in the buffer: move past the rest
                    else:
                        self._seek(base + after)
                        buf, at, base = self._buf, self._pos, self._base
                    continue
            self._pos = end
            found = self._full(buf[at:end], base + at == start)
            quiet = not (self._pending or self._globals)
            if found is None:
                return
            if found:
                header, after_at = found
                yield header
                self._seek(after_at)
            buf, at, base = self._buf, self._pos, self._base

    def _full(self, buf: bytes, first: bool) -> tuple[Header, int] | tuple[()] | None:
        """The full reading of the header block ``buf`` (consumed): the entry and where its data ends;
        ``()`` for an extended header (kept for the next entry); None at the end of the archive."""
        name_f, mode_f, uid_f, gid_f, size_f, sum_f, typeflag, link_f, prefix_f = _FIELDS.unpack(buf)
        try:
            valid = _checksum_ok(buf, sum_f)
        except TarError:
            valid = False
        if not valid:
            if first:
                raise TarError("bad checksum")
            if self._pending:
                raise TarError("missing or bad subsequent header")
            return None  # tarfile stops at a bad header past the start: the rest is trailing data
        self._learn(sum_f, _number(sum_f))
        size = self._number(size_f)
        if size < 0:
            raise TarError("invalid header")
        if typeflag in _EXTENDED:
            if size > MAX_EXTENDED:
                raise TarError(f"extended header of {size} bytes (over the {MAX_EXTENDED}-byte limit)")
            padded = -(-size // BLOCK) * BLOCK
            body = self.read(padded)
            if len(body) < padded:
                raise TarError("unexpected end of data")
            body = body[:size]
            if typeflag == _LONGNAME:
                self._pending["path"] = _text(body)
            elif typeflag == _LONGLINK:
                self._pending["linkpath"] = _text(body)
            elif typeflag == _GLOBAL:
                self._globals.update(_pax(body))
            else:
                self._pending.update(_pax(body))
            return ()
        name = _text(name_f)
        linkname = _text(link_f) if link_f[0] else ""
        fields = {"size": size, "uid": self._number(uid_f), "gid": self._number(gid_f)}
        mode = self._number(mode_f)
        if len(self._owners) >= _KEPT:
            self._owners.clear()
        self._owners[mode_f + uid_f + gid_f] = (mode, fields["uid"], fields["gid"])
        if typeflag == 0 and name.endswith("/"):
            typeflag = _DIR  # an old V7 directory: a regular file whose name ends in "/"
        if typeflag == _DIR:
            name = name.rstrip("/")
        if typeflag != _GNU_SPARSE:
            prefix = _text(prefix_f) if prefix_f[0] else ""
            if prefix:
                name = prefix + "/" + name
        real_size = None
        sparse_map: list[int] | None = None
        if typeflag == _GNU_SPARSE:
            real_size = _number(buf[483:495])
            sparse_map = _gnu_map(buf[386:482], 4)
            extended = buf[482]
            while extended:  # the sparse map continues in extension blocks
                ext = self.read(BLOCK)
                if len(ext) < BLOCK:
                    raise TarError("unexpected end of data")
                if len(sparse_map) <= 2 * MAX_SPARSE:
                    sparse_map += _gnu_map(ext, 21)
                extended = ext[504]
        merged = {**self._globals, **self._pending} if self._pending or self._globals else {}
        self._pending = {}
        if merged:
            if "GNU.sparse.name" in merged:
                name = merged["GNU.sparse.name"]
            elif "path" in merged:
                name = merged["path"].rstrip("/")
            linkname = merged.get("linkpath", linkname)
            _apply_numbers(merged, fields)
        sparse = typeflag == _GNU_SPARSE or bool(merged) and any(k.startswith("GNU.sparse.") for k in merged)
        if sparse and real_size is None:
            real = merged.get("GNU.sparse.realsize") or merged.get("GNU.sparse.size") or ""
            real_size = int(real) if real.isascii() and real.isdigit() else fields["size"]  # "³".isdigit()
        if typeflag == _DIR:
            name = name.rstrip("/")
        reads_data = typeflag in REGULAR or typeflag not in SUPPORTED
        stored = fields["size"] if reads_data else 0
        data_at = self.tell()
        chunks = None
        if sparse and reads_data:
            if merged.get("GNU.sparse.major") == "1" and merged.get("GNU.sparse.minor") == "0":
                sparse_map, took = _pax1_map(self)  # the map sits where the data starts
                if took > stored:
                    raise TarError("sparse map larger than the stored data")
                data_at, stored = data_at + took, stored - took
            elif "GNU.sparse.map" in merged:  # pax 0.1
                try:
                    sparse_map = [int(x) for x in merged["GNU.sparse.map"].split(",")] if merged["GNU.sparse.map"] else []
                except ValueError:
                    raise TarError("invalid sparse map") from None
            if sparse_map is not None:  # pax 0.0 (repeated offset/numbytes records) keeps no map: no content
                chunks = _chunks(sparse_map)
                if sum(n for _, n in chunks) > stored:
                    raise TarError("sparse map larger than the stored data")
        header = Header(name, typeflag, fields["size"] if real_size is None else real_size, mode, fields["uid"], fields["gid"],
                        linkname, reads_data and not sparse, stored, chunks)
        return header, data_at + -(-stored // BLOCK) * BLOCK

