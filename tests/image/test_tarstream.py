"""The lean tar reader reads what ``tarfile`` reads: the same entries on every format ``tarfile``
writes, and on damaged archives the same entries or a TarError — never another exception."""
from __future__ import annotations

import io
import random
import tarfile

import pytest

from lintimg.image.tarstream import BLOCK, MAX_EXTENDED, Run, TarError, TarReader

FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.f = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self.f.read(n)

    def tell(self) -> int:
        return self.f.tell()

    def seek(self, pos: int) -> int:
        if pos > len(self.f.getbuffer()):
            raise TarError("unexpected end of data")
        return self.f.seek(pos)


def ours(data: bytes) -> list[tuple]:
    tar = TarReader(_Stream(data))
    out = []
    for h in tar:
        content = tar.read(h.size) if h.data else None
        out.append((h.name, bytes([h.type]), h.size, h.mode, h.uid, h.gid, h.linkname, content))
    return out


def theirs(data: bytes) -> list[tuple]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
        for m in t:
            content = t.extractfile(m).read() if m.isreg() and m.type != tarfile.GNUTYPE_SPARSE else None
            out.append((m.name, m.type, m.size, m.mode, m.uid, m.gid, m.linkname, content))
    return out


def same_unless_either_fails(data: bytes, where: object = None) -> None:
    """Damaged bytes: ours raises only TarError, and where tarfile and ours both read them, they read the same entries."""
    try:
        expected = theirs(data)
    except (tarfile.TarError, EOFError, ValueError, UnicodeError, OverflowError):
        expected = None
    try:
        got = ours(data)
    except TarError:
        return
    if expected is not None:
        assert got == expected, where


def _archive(fmt: int, rng: random.Random, pax_globals: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax_globals or {}) as t:
        for i in range(rng.randint(1, 12)):
            depth = rng.randint(0, 4)
            parts = ["".join(rng.choice("abcXYZ_.-é日") for _ in range(rng.randint(1, 40))) for _ in range(depth)]
            name = "/".join(parts + [f"f{i}" + "n" * rng.choice((0, 5, 120))])
            kind = rng.choice("ffffdls")
            info = tarfile.TarInfo(name)
            info.mode = rng.choice((0o644, 0o755, 0o4755, 0o1777))
            info.uid = rng.choice((0, 1000, 65534, 2**21 + 3)) if fmt != tarfile.USTAR_FORMAT else rng.choice((0, 1000))
            info.gid = info.uid
            content = None
            if kind == "f":
                content = rng.randbytes(rng.choice((0, 1, 511, 512, 513, 4000)))
                info.size = len(content)
            elif kind == "d":
                info.type = tarfile.DIRTYPE
            else:
                info.type = tarfile.SYMTYPE if kind == "s" else tarfile.LNKTYPE
                info.linkname = "../" * rng.randint(0, 3) + "target" + "t" * rng.choice((0, 130))
            try:
                info.tobuf(fmt, "utf-8", "surrogateescape")
            except ValueError:
                continue  # a name this format cannot hold (ustar's length limits)
            t.addfile(info, io.BytesIO(content) if content is not None else None)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_same_entries_as_tarfile_on_every_format(fmt):
    rng = random.Random(fmt)
    for _ in range(60):
        data = _archive(FORMATS[fmt], rng, {"comment": "x"} if fmt == "pax" and rng.random() < 0.3 else None)
        assert ours(data) == theirs(data)


def test_v7_directories_prefixes_and_base256_numbers():
    rng = random.Random(3)
    data = bytearray(_archive(tarfile.GNU_FORMAT, rng))
    assert ours(bytes(data)) == theirs(bytes(data))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo("a" * 90 + "/" + "b" * 90)  # needs the ustar prefix field
        t.addfile(info, io.BytesIO(b""))
        old = tarfile.TarInfo("olddir/")
        old.type = tarfile.AREGTYPE
        t.addfile(old)
    assert ours(buf.getvalue()) == theirs(buf.getvalue())
    assert [e[0] for e in ours(buf.getvalue())] == ["a" * 90 + "/" + "b" * 90, "olddir"]


def test_damaged_archives_read_the_same_or_fail_as_tar_errors():
    rng = random.Random(7)
    for _ in range(400):
        data = bytearray(_archive(rng.choice(list(FORMATS.values())), rng))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        same_unless_either_fails(bytes(data))


def _repetitive_archive(fmt: int, rng: random.Random, n: int = 300) -> bytes:
    """Headers that repeat their checksum and numeric fields (names that are anagrams, few modes and sizes),
    as a real layer's do, with long names, links, directories and pax records among them."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for _ in range(n):
            name = "".join(rng.sample("abcdefgh", 8))
            if rng.random() < 0.05:
                name = "d/" * 60 + name  # a long name: GNU L block, pax record or ustar prefix
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.mode = rng.choice((0o644, 0o755))
            kind = rng.choice("fffffdsl")
            content = None
            if kind == "f":
                content = bytes(rng.choice((0, 0, 1, 700)))
                info.size = len(content)
            elif kind == "d":
                info.type = tarfile.DIRTYPE
            else:
                info.type = tarfile.SYMTYPE if kind == "s" else tarfile.LNKTYPE
                info.linkname = "".join(rng.sample("abcdefgh", 8))
            if fmt == tarfile.PAX_FORMAT and rng.random() < 0.05:
                info.pax_headers = {"comment": "x"}
            try:
                info.tobuf(fmt, "utf-8", "surrogateescape")
            except ValueError:
                continue
            t.addfile(info, io.BytesIO(content) if content is not None else None)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_headers_seen_before_take_the_fast_path_and_read_the_same(fmt, monkeypatch):
    rng = random.Random(fmt + "fast")
    data = _repetitive_archive(FORMATS[fmt], rng)
    full = []
    monkeypatch.setattr(TarReader, "_full", lambda self, *a, _orig=TarReader._full: full.append(1) or _orig(self, *a))
    got = ours(data)
    assert got == theirs(data)
    assert len(full) < len(got) / 2  # most headers were decoded on the fast path
    for _ in range(40):  # damaged: the same entries, or a TarError
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(len(damaged))]
        same_unless_either_fails(bytes(damaged))


def _runs_archive(fmt: int, rng: random.Random, n: int = 600, uniform: bool = False) -> bytes:
    """Mostly empty files and folders (an entry-count bomb's shape, and much of a real layer's), names that repeat
    their checksums, some files with data, links and long names between them; ``uniform``: long stretches of empty
    files that differ only in their names (one mode, folders rare)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for i in range(n):
            info = tarfile.TarInfo(f"d{i % 3}/" + "".join(rng.sample("abcdef", 6)))  # anagrams: few checksums
            info.mtime, info.mode = 0, 0o644 if uniform else rng.choice((0o644, 0o644, 0o755))
            kind = rng.choices("edfsL", (120, 1, 1, 1, 1) if uniform else (30, 8, 2, 1, 1))[0]
            content = None
            if kind == "d":
                info.type = tarfile.DIRTYPE
            elif kind == "f":
                content = bytes(rng.choice((1, 600)))
                info.size = len(content)
            elif kind == "s":
                info.type, info.linkname = tarfile.SYMTYPE, "t"
            elif kind == "L":
                info.name = "long/" * 30 + info.name
            t.addfile(info, io.BytesIO(content) if content is not None else None)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_runs_of_entries_without_data_read_as_tarfile_reads_them(fmt):
    rng = random.Random(fmt + "runs")
    data = _runs_archive(FORMATS[fmt], rng)
    items = list(TarReader(_Stream(data)).walk())
    in_runs = sum(len(i.names) for i in items if isinstance(i, Run))
    assert in_runs > len(ours(data)) / 2  # most entries came in runs
    assert ours(data) == theirs(data)
    # one byte changed where runs are: in a name (a non-ASCII byte, a "/" at its end, a NUL), a checksum, a
    # typeflag, a mode or size field; tarfile then reads the same entries or stops where we stop, or both fail
    starts = [i * BLOCK for i in range(len(data) // BLOCK) if data[i * BLOCK + 124: i * BLOCK + 136] == b"00000000000\0"]
    for _ in range(150):
        damaged = bytearray(data)
        at = rng.choice(starts)
        off = rng.choice((0, 3, 5, 7, 60, 99, 100, 104, 110, 125, 130, 148, 150, 154, 156, 157, 300, 345, 511))
        damaged[at + off] = rng.choice((0, 0x2F, 0x41, 0x80, 0xE9, 0xFF, 0x35, 0x30, 0x20))
        same_unless_either_fails(bytes(damaged), (at, off))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_runs_that_differ_only_in_names_read_as_tarfile_reads_them(fmt, monkeypatch):
    """Runs whose blocks differ only in their names and checksums take :meth:`TarReader._uniform` (a sum of each name
    field, not of each block): the same entries as tarfile, and on one damaged byte in any field of such a run, the
    same entries or a failure of either."""
    rng = random.Random(fmt + "uniform")
    data = _runs_archive(FORMATS[fmt], rng, n=500, uniform=True)
    taken = []
    real = TarReader._uniform

    def counted(self, *args):
        run, good = real(self, *args)
        taken.append(run)
        return run, good

    monkeypatch.setattr(TarReader, "_uniform", counted)
    assert ours(data) == theirs(data)
    assert sum(len(r.names) for r in taken if r is not None) > 250  # most entries came that way
    starts = [i * BLOCK for i in range(len(data) // BLOCK) if data[i * BLOCK + 124: i * BLOCK + 136] == b"00000000000\0"]
    for _ in range(50):
        damaged = bytearray(data)
        at = rng.choice(starts)
        off = rng.choice((0, 5, 60, 99, 100, 104, 110, 118, 125, 130, 140, 148, 150, 155, 156, 157, 257, 300, 345, 500, 511))
        damaged[at + off] = rng.choice((0, 0x2F, 0x41, 0x80, 0xE9, 0xFF, 0x35, 0x30, 0x20, 0x37))
        same_unless_either_fails(bytes(damaged), (at, off))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_checksums_new_to_a_run_are_read_in_it_as_the_full_reading_reads_them(fmt, monkeypatch):
    """An entry-count bomb's names (f0 to f599) make hundreds of checksums: a uniform run reads one it has not seen
    as the one-header reading would and goes on, so all but the first few headers come in runs; a damaged checksum
    or name still reads as tarfile reads it."""
    rng = random.Random(fmt + "sums")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=FORMATS[fmt]) as t:
        for i in range(600):
            info = tarfile.TarInfo(f"data/d{i // 300}/f{i}")
            info.mtime = 0
            t.addfile(info)
    data = buf.getvalue()
    full = []
    monkeypatch.setattr(TarReader, "_full", lambda self, *a, _orig=TarReader._full: full.append(1) or _orig(self, *a))
    assert ours(data) == theirs(data)
    assert len(full) < 600 / 128 + 8  # the first header, and one where each chunk of the stream ends
    for _ in range(8):
        damaged = bytearray(data)
        at = rng.randrange(len(data) // BLOCK - 2) * BLOCK
        off = rng.choice((0, 9, 12, 148, 150, 153, 154, 155))
        damaged[at + off] = rng.choice((0x30, 0x37, 0x20, 0, 0x41))
        same_unless_either_fails(bytes(damaged), (at, off))


def test_an_extended_header_over_the_limit_is_an_error_not_an_allocation():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        t.addfile(tarfile.TarInfo("x" * 200), io.BytesIO(b""))
    data = bytearray(buf.getvalue())
    # the long-name block's size field, rewritten to claim more than the limit (checksum fixed up)
    data[124:136] = b"%011o\0" % (MAX_EXTENDED + 1)
    data[148:156] = b"        "
    data[148:156] = b"%06o\0 " % sum(data[:512])
    with pytest.raises(TarError, match="limit"):
        ours(bytes(data))
