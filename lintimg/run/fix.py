"""``lintimg --fix`` / ``--diff``: apply the rules' edits to a fixed point, then write files safely.

A pass lints the text with the rules that can fix something, takes the
fixes it may apply (safe ones; unsafe ones too with ``--unsafe-fixes``) that
do not touch each other, applies them, and parses the result. Passes repeat
until no fix is left, at most :data:`MAX_PASSES` times. A fix is refused (and
reported) when it makes the file unparsable, and a finding whose fix was
applied must be gone on the next pass; a rule that breaks either promise is
a bug, and the run says so instead of writing a worse file.
"""
from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lintimg.dockerfile import parse_dockerfile
from lintimg.dockerfile.edits import apply, conflicts, moved_line
from lintimg.dockerfile.sources import MAX_DOCKERFILE_BYTES, DockerfileText, decode
from lintimg.engine import Engine
from lintimg.engine.hookspecs import FIX, NOTES
from lintimg.engine.target import Target
from lintimg.errors import LintimgError
from lintimg.findings import Edit, Finding, Safety
from lintimg.run.check import model_of

if TYPE_CHECKING:
    from lintimg.context import ContextAttacher

MAX_PASSES = 10
_BOM = b"\xef\xbb\xbf"


@dataclass
class Source:
    """A Dockerfile as read for fixing: its text and what writing it back must keep."""

    path: str  # as the user named it (reports)
    text: str  # decoded, BOM removed, line ends as in the file
    bom: bool = False
    encoding: str = "utf-8"
    data: bytes = b""  # the bytes read, to notice a change before writing

    @property
    def newline(self) -> str:
        crlf = self.text.count("\r\n")
        return "\r\n" if crlf and crlf * 2 >= self.text.count("\n") else "\n"

    def encode(self, text: str) -> bytes:
        try:
            body = text.encode(self.encoding)
        except UnicodeEncodeError:
            raise LintimgError(f"{self.path}: the fixed text cannot be written in the file's encoding ({self.encoding})") from None
        return (_BOM if self.bom else b"") + body


@dataclass
class FileFix:
    """What fixing one file did."""

    source: Source
    fixed: str
    applied: list[Finding] = field(default_factory=list)  # findings whose edits were applied
    unsafe_left: int = 0  # findings with an unsafe fix that --unsafe-fixes would apply
    problems: list[str] = field(default_factory=list)  # fixes refused or not effective (rule bugs)
    notes: list[str] = field(default_factory=list)  # remarks plugins left while fixing (a base image not at hand)
    passes: int = 0

    @property
    def changed(self) -> bool:
        return self.fixed != self.source.text

    def diff(self) -> str:
        old = self.source.text.replace("\r\n", "\n").splitlines(keepends=True)
        new = self.fixed.replace("\r\n", "\n").splitlines(keepends=True)
        lines = list(difflib.unified_diff(old, new, self.source.path, self.source.path))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def fixable_ids(engine: Engine, unsafe: bool) -> frozenset[str]:
    """The enabled rules whose fixes this run may apply."""
    kinds = {Safety.SAFE, Safety.UNSAFE} if unsafe else {Safety.SAFE}
    return frozenset(r.id for r in engine.rules if engine.registry.enabled(r.id) and kinds & set(r.fixable))


def _lint(engine: Engine, src: Source, text: str, only: frozenset[str], context: ContextAttacher | None, unsafe: bool,
          notes: list[str]) -> list[Finding]:
    target = Target(path=src.path, config=engine.config, dockerfile=model_of(DockerfileText(src.path, text)))
    target.cache[FIX] = "unsafe" if unsafe else "safe"
    if context is not None and src.path != "-":
        target.context = context.for_dockerfile(src.path)
    engine.prepare([target], only)
    findings = engine.run(target, only)
    notes += [n for n in target.cache.get(NOTES, ()) if n not in notes]
    return findings


def fix_source(engine: Engine, src: Source, *, unsafe: bool = False, context: ContextAttacher | None = None) -> FileFix:
    """Apply fixes to ``src.text`` until none is left (or :data:`MAX_PASSES`)."""
    only = fixable_ids(engine, unsafe=True)  # unsafe ones are linted too, to count them
    result = FileFix(src, src.text)
    if not only:
        return result
    nl = src.newline
    text = src.text
    refused: set[tuple[str, tuple[Edit, ...]]] = set()
    expected: Counter[tuple[str, int]] = Counter()  # (rule, line) -> how many of its findings may remain after the last pass
    for n in range(MAX_PASSES + 1):
        findings = _lint(engine, src, text, only, context, unsafe, result.notes)
        _check_gone(expected, findings, result)
        wanted = [f for f in findings if f.edits and (unsafe or f.safety is Safety.SAFE) and (f.rule_id, f.edits) not in refused]
        if n == 0:
            result.unsafe_left = sum(1 for f in findings if f.edits and f.safety is Safety.UNSAFE and not unsafe)
        chosen = _choose(wanted, result)
        if not chosen:
            break
        if n == MAX_PASSES:
            result.problems.append(f"fixes did not settle after {MAX_PASSES} passes; {len(chosen)} left unapplied")
            break
        new, chosen = _apply_parsable(text, chosen, nl, refused, result)
        if not chosen:
            continue
        expected = _expected(text, new, findings, chosen, nl)
        result.applied.extend(chosen)
        result.passes = n + 1
        text = new
    result.fixed = text
    return result


def _choose(findings: list[Finding], result: FileFix) -> list[Finding]:
    """Fixes that touch nothing another chosen fix touches, in file order; an identical fix counts once."""
    taken: list[Edit] = []
    chosen: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        if any(conflicts(a, b) for i, a in enumerate(f.edits) for b in f.edits[i + 1 :]):
            result.problems.append(f"{f.rule_id} at line {f.location.line}: its edits overlap each other (not applied)")
            continue
        if any(f.edits == c.edits for c in chosen):
            chosen.append(f)  # the same edit fixes both (one SHELL line for two piped RUNs)
            continue
        if any(conflicts(a, b) for a in f.edits for b in taken):
            continue  # next pass
        taken.extend(f.edits)
        chosen.append(f)
    return chosen


def _unique_edits(findings: Iterable[Finding]) -> list[Edit]:
    seen: dict[tuple[Edit, ...], None] = {}
    for f in findings:
        seen.setdefault(f.edits)
    return [e for edits in seen for e in edits]


def _errors(text: str) -> Counter[str]:
    return Counter(e.args[0] for e in parse_dockerfile(text).errors)


def _apply_parsable(text: str, chosen: list[Finding], nl: str, refused: set[tuple[str, tuple[Edit, ...]]],
                    result: FileFix) -> tuple[str, list[Finding]]:
    """Apply ``chosen``; when the result has a parse error the text had not, apply them one by one
    and refuse those that break it."""
    before = _errors(text)
    new = apply(text, _unique_edits(chosen), nl)
    if not _errors(new) - before:
        return new, chosen
    kept: list[Finding] = []
    for f in chosen:
        trial = apply(text, _unique_edits([*kept, f]), nl)
        broken = _errors(trial) - before
        if broken:
            refused.add((f.rule_id, f.edits))
            result.problems.append(f"{f.rule_id} at line {f.location.line}: fix refused, it would make the file unparsable "
                                   f"({next(iter(broken))})")
        else:
            kept.append(f)
    return apply(text, _unique_edits(kept), nl), kept


def _expected(old: str, new: str, findings: list[Finding], chosen: list[Finding], nl: str) -> Counter[tuple[str, int]]:
    """For each (rule, line of the new text) that a fix was applied on: how many of the rule's findings may remain there."""
    edits = _unique_edits(chosen)
    moved: dict[int, int] = {}

    def where(f: Finding) -> tuple[str, int]:
        line = f.location.line
        if line not in moved:
            moved[line] = moved_line(old, new, edits, line, nl)
        return f.rule_id, moved[line]

    fixed_rules = {f.rule_id for f in chosen}
    left = Counter(where(f) for f in findings if f.rule_id in fixed_rules)
    left.subtract(where(f) for f in chosen)
    return Counter({key: left[key] for key in {where(f) for f in chosen}})


def _check_gone(expected: Counter[tuple[str, int]], findings: list[Finding], result: FileFix) -> None:
    """A fixed finding must not be reported again where it was (other findings of its rule on that line may stay)."""
    if not expected:
        return
    now = Counter((f.rule_id, f.location.line) for f in findings if (f.rule_id, f.location.line) in expected)
    for key, allowed in expected.items():
        if now[key] > allowed:
            result.problems.append(f"{key[0]} at line {key[1]}: still reported after its fix was applied")
    expected.clear()


def summary(fixes: list[FileFix], unsafe: bool, applied: bool) -> list[str]:
    """One-line notes for the report: what was fixed (or would be, for --diff), by rule; what needs
    --unsafe-fixes; fixes that were refused."""
    by_rule = Counter(f.rule_id for fix in fixes for f in fix.applied)
    files = sum(1 for fix in fixes if fix.changed)
    total = sum(by_rule.values())
    verb = "fixed" if applied else "would fix"
    notes = []
    if total:
        rules = ", ".join(f"{rid} x{n}" for rid, n in sorted(by_rule.items()))
        notes.append(f"{verb} {total} finding{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''} ({rules})")
    left = sum(fix.unsafe_left for fix in fixes)
    if left and not unsafe:
        notes.append(f"{left} more finding{'s have' if left != 1 else ' has'} an unsafe fix (--unsafe-fixes applies {'them' if left != 1 else 'it'})")
    notes += [f"{fix.source.path}: {p}" for fix in fixes for p in fix.problems]
    notes += list(dict.fromkeys(n for fix in fixes for n in fix.notes))
    return notes


# --- reading and writing files ---------------------------------------------------------------


def read_for_fix(path: str, stdin_data: bytes | None = None, stdin_name: str = "-") -> Source | None:
    """The file to fix, or ``None`` when its content is not text lintimg parses (the lint reports why)."""
    if path == "-":
        data = stdin_data or b""
        path = stdin_name
    else:
        try:
            # Non-blocking open: a FIFO named Dockerfile must not hang the run before fstat can refuse it.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    return None
                data = fh.read(MAX_DOCKERFILE_BYTES + 1)
        except OSError as e:
            raise LintimgError(f"{path}: cannot read: {e.strerror or e}") from None
    decoded = decode(path, data)
    if decoded.text is None:
        return None
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        body.decode("utf-8")
        enc = "utf-8"
    except UnicodeDecodeError:
        enc = "latin-1"  # as decode() read it
    return Source(path, decoded.text, data.startswith(_BOM), enc, data)


def _repo_root(abspath: str) -> str:
    """The repository a path is in, judged from the path as written (symlinks not followed): the nearest
    folder above it with ``.git``; else the working directory when the path is under it; else its folder."""
    d = os.path.dirname(abspath)
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        up = os.path.dirname(d)
        if up == d:
            break
        d = up
    cwd = os.path.abspath(os.getcwd())
    return cwd if abspath.startswith(cwd.rstrip(os.sep) + os.sep) else os.path.dirname(abspath)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_writable(path: str) -> None:
    """Refuse what --fix must never write: a non-regular file, or one reached through a symlink
    (of the file or of a folder above it) that leads out of its repository."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise LintimgError(f"{path}: cannot fix: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LintimgError(f"{path}: cannot fix: not a regular file")
    lexical = os.path.abspath(path)
    real = os.path.realpath(path)
    if real != lexical:
        root = _repo_root(lexical)
        if not _inside(real, os.path.realpath(root)):
            raise LintimgError(f"{path}: cannot fix: it leads through a symlink to {real}, outside {root}; fix that file itself")


def write_fixed(fix: FileFix) -> list[str]:
    """Write the fixed text over the file atomically, keeping its mode, owner, encoding, BOM and line ends.

    The file (a symlink's target, inside the repository) is replaced by a new
    one made next to it, so a reader sees the old or the whole new file, and
    other hard links keep the old content. Returns notes for the report.
    """
    src = fix.source
    check_writable(src.path)
    real = Path(os.path.realpath(src.path))
    with open(real, "rb") as fh:
        if fh.read(MAX_DOCKERFILE_BYTES + 1) != src.data:
            raise LintimgError(f"{src.path}: changed while lintimg was fixing it; not written")
        st = os.fstat(fh.fileno())
    data = src.encode(fix.fixed)
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".lintimg-fix")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), stat.S_IMODE(st.st_mode))
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(out.fileno(), st.st_uid, st.st_gid)
                except PermissionError:
                    pass  # not ours to give away; the content is still the user's file
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    notes = []
    if st.st_nlink > 1:
        notes.append(f"{src.path} had {st.st_nlink - 1} other hard link(s); they keep the old content")
    return notes
