"""Human output: grouped by file, ``path:line:col``, the source line with a caret."""
from __future__ import annotations

from collections import Counter
from itertools import groupby

from lintimg.findings import Finding, Safety, Severity
from lintimg.reports import RunInfo

EXCERPT = 160  # characters of a source line shown under a finding
_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36", Severity.STYLE: "35"}


def _c(on: bool, code: str, s: str) -> str:
    return f"\x1b[{code}m{s}\x1b[0m" if on else s


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def statistics(findings: list[Finding], info: RunInfo) -> list[str]:
    """Counts by rule, most frequent first: ``count  id  slug  (severity)``."""
    counts = Counter((f.rule_id, f.slug, f.severity) for f in findings)
    width = max((len(str(n)) for n in counts.values()), default=1)
    return [f"{n:>{width}}  {_c(info.color, '1', rid)}  {slug} ({_c(info.color, _COLORS[sev], str(sev))})"
            for (rid, slug, sev), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))]


def excerpt(src: str, column: int) -> tuple[str, int]:
    """A long source line cut to a window around ``column``, and the column within it.

    Without the cut a file with thousands of findings on one long line repeats the
    line under every finding: output quadratic in the file size.
    """
    if len(src) <= EXCERPT:
        return src, column
    start = max(0, min(column - 1 - EXCERPT // 4, len(src) - EXCERPT))
    end = start + EXCERPT
    head = "…" if start else ""
    return head + src[start:end] + ("…" if end < len(src) else ""), column - start + len(head)


def render(findings: list[Finding], info: RunInfo) -> str:
    out: list[str] = []
    if info.statistics:
        out += statistics(findings, info)
        if not info.quiet:
            out.append("")
    else:
        for path, group in groupby(findings, key=lambda f: f.location.path):
            if not info.quiet:
                out.append(_c(info.color, "1;4", path))
            out += _findings(list(group), info, path)
    if info.quiet:
        return "".join(line + "\n" for line in out)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), reverse=True) if n)
    out.append(f"{_plural(len(findings), 'finding')} in {_plural(len(info.files), 'file')}" + (f" ({summary})" if summary else ""))
    safe = sum(1 for f in findings if f.edits and f.safety is Safety.SAFE)
    unsafe = sum(1 for f in findings if f.edits and f.safety is Safety.UNSAFE)
    if safe or unsafe:
        out.append(f"{safe} fixable with --fix" + (f" ({unsafe} more with --fix --unsafe-fixes)" if unsafe else ""))
    out.extend(f"note: {n}" for n in info.notes)
    return "\n".join(out) + "\n"


def _findings(group: list[Finding], info: RunInfo, path: str) -> list[str]:
    out: list[str] = []
    lines = info.sources.get(path, [])
    for f in group:
        loc = f.location
        sev = _c(info.color, _COLORS[f.severity], str(f.severity))
        rid = _c(info.color, "1", f.rule_id)
        out.append(f"{path}:{loc.line}:{loc.column}: {sev} {rid} {f.slug}: {f.message}")
        if info.quiet:
            continue
        if f.image is not None:
            im = f.image
            where = [x for x in (
                f"image {im.image}",
                f"layer {im.layer_index}" if im.layer_index is not None else "",
                (im.layer_digest or "")[:19],
                f"path {im.path}" if im.path else "",
            ) if x]
            out.append("    " + _c(info.color, "2", " · ".join(where)))
        if 0 < loc.line <= len(lines):
            # lines holding secret values arrive masked (lintimg.engine.redaction)
            src, column = excerpt(lines[loc.line - 1].expandtabs(1), loc.column)
            out.append(f"  {loc.line:>4} | {src}")
            width = 1
            if loc.end_column and (loc.end_line in (None, loc.line)) and loc.end_column > loc.column:
                width = loc.end_column - loc.column
            width = max(1, min(width, max(1, len(src) - column + 1)))
            out.append(f"       | {' ' * (column - 1)}{_c(info.color, '32', '^' * width)}")
        if f.fix:
            how = "" if not f.edits else " (--fix)" if f.safety is Safety.SAFE else " (--unsafe-fixes)"
            out.append(f"       = fix{how}: {f.fix}")
    if not info.quiet:
        out.append("")
    return out
