"""The detector: detect-secrets' plugins behind a fast prefilter.

detect-secrets checks every line with every plugin (~0.3 MB/s through its own
scan machinery, ~1 MB/s calling the plugins directly). Here the file's bytes
go first through one RE2 DFA pass over the tokens of every plugin (Latin-1
mode, so no decoding) and one pass over quoted runs long and varied enough to
pass an entropy limit. Each token matches a *superset* of the lines its plugin
can report on, so only those lines are decoded and given to the plugins, and
on each line a cheap gate skips the plugins whose token is absent. Results are
identical with and without the prefilter (``tests/test_secrets.py`` checks it
on a generated corpus); lines with characters that Python's ``(?i)`` folds to
ASCII letters (long s, Kelvin sign, dotless i) go to every plugin. A file
with no candidate line never imports detect-secrets.

Plugin set (detect-secrets 1.5 classes, instantiated directly rather than via
its global settings, so scanners are independent and thread-safe):

====================  ==========================================  ==============================
plugin                what it finds                               prefilter token
====================  ==========================================  ==============================
AWSKeyDetector        AKIA/ASIA/… key ids, ``aws…key = "…"``      the id prefixes; ``aws…key…"``
AzureStorageKey       ``AccountKey=…``                            ``AccountKey=``
BasicAuthDetector     ``scheme://user:password@host``             the plugin's own pattern
GitHubTokenDetector   ``ghp_/gho_/ghu_/ghs_/ghr_`` tokens          ``gh[pousr]_``
GitLabTokenDetector   ``glpat-`` and other GitLab tokens          the prefixes
JwtTokenDetector      ``eyJ….….…`` (formally valid only)           ``eyJ``
KeywordDetector       ``password = "…"``, ``secret: …``           a stem, then an operator or ``"…";``
MailchimpDetector     ``…-usNN`` API keys                         ``-us<digit>``
NpmDetector           ``//registry/:_authToken=…``                ``:_authToken=``
OpenAIDetector        ``sk-…T3BlbkFJ…``                           ``T3BlbkFJ``
PrivateKeyDetector    PEM/OpenSSH/PGP/PuTTY private keys          ``PRIVATE KEY``, ``PuTTY-User-Key-File-2``
PypiTokenDetector     ``pypi-AgE…``                               ``pypi-AgE``
SendGridDetector      ``SG.….…``                                  ``SG.``
SlackDetector         ``xox?-`` tokens, webhook URLs              ``xox[abposr]-``, ``hooks.slack.com``
SquareOAuthDetector   ``sq0csp-…``                                ``sq0csp-``
StripeDetector        ``sk_live_`` / ``rk_live_``                 ``[rs]k_live_``
TwilioKeyDetector     ``AC…`` / ``SK…`` + 32 chars                the plugin's own pattern
Base64HighEntropy     quoted base64 strings, entropy > 4.5        quoted run, >= 23 distinct chars
HexHighEntropy        quoted hex strings, entropy > 3.0           quoted hex run, >= 9 distinct chars
====================  ==========================================  ==============================

Left out: ArtifactoryDetector (its ``AP`` + hex shape fires on ordinary words),
IPPublicDetector (an address is not a secret), Discord/Telegram (no literal
to prefilter on, rare in images), Cloudant/IBM/SoftLayer (vendor keyword
assignments, rare). Entropy strings must be quoted, as in detect-secrets: a
Shannon entropy above 4.5 needs at least 23 distinct characters, above 3.0 at
least 9 (entropy is at most log2 of the distinct count), which is what makes
the entropy prefilter exact. GitHub and GitLab tokens are reported whole (the
plugins' patterns capture only the ``ghp`` prefix), private keys from BEGIN
to END (the header alone would give every key one fingerprint), and a keyword
or entropy hit on a value a vendor detector already reported is dropped.

detect-secrets' default false-positive filters are kept: sequential strings,
UUIDs, ``*_id = …`` lines, templated values (``{x}``, ``<x>``, ``${x}``),
``$``-prefixed values, indirect references (``x = get_secret()``),
non-alphanumeric values, ``pragma: allowlist secret`` comments, and lock,
swagger and non-text files by name. Like trivy, documentation is skipped
(``.md``/``.rst``/``.adoc``, ``example(s)/`` folders, ``usr/share/doc|man``) and
so are values containing "example" (``AKIAIOSFODNN7EXAMPLE``): placeholders.
In installed package trees (``site-packages``, ``dist-packages``,
``node_modules``, ``vendor``, ``gems``) only the vendor detectors run: the
keyword and entropy plugins gave 46,000 hits on one Python image's packages
(hashes in data files and dist-info RECORDs), trivy skips these trees whole.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from lintimg.secrets.plugins import HEX_BYTES, KEYWORD, PLUGINS, QUOTED_RUN, SPECIFIC
from lintimg.secrets.redact import fingerprint, redact


def _gate(spec: str | tuple[str, int]) -> Callable[[str, str], bool]:
    """``passes(line, lowered line) -> bool`` for a gate spec of the table."""
    if isinstance(spec, tuple):
        rx, distinct = re.compile(spec[0]), spec[1]
        return lambda line, low: any(len(set(run)) >= distinct for run in rx.findall(line))
    if spec.startswith("i:"):
        search = re.compile(spec[2:]).search
        return lambda line, low: search(low) is not None
    search = re.compile(spec).search
    return lambda line, low: search(line) is not None


@dataclass(frozen=True)
class SecretHit:
    """A secret found in some text. Never holds the value itself."""

    detector: str  # detect-secrets' secret type, e.g. "GitHub Token"
    line: int  # 1-based line in the scanned text
    redacted: str  # see redact()
    fingerprint: str  # sha256 hex of the value



class _Snippet:
    """The slice of detect-secrets' CodeSnippet its allowlist filter reads."""

    __slots__ = ("previous_line",)

    def __init__(self, previous_line: str):
        self.previous_line = previous_line


_T = TypeVar("_T", bound="_Once")


class _Once:
    """A per-process singleton, built on first use under a lock."""

    _lock = threading.Lock()
    _instance: Any = None

    @classmethod
    def loaded(cls) -> bool:
        return cls.__dict__.get("_instance") is not None

    @classmethod
    def get(cls: type[_T]) -> _T:
        with cls._lock:
            if cls.__dict__.get("_instance") is None:
                cls._instance = cls()
            made: _T = cls._instance
            return made


class _Prefilter(_Once):
    """The candidate-line search. RE2 only: a file without candidates never loads detect-secrets."""

    def __init__(self) -> None:
        import re2

        options = re2.Options()
        options.max_mem = 64 << 20
        options.encoding = re2.Options.Encoding.LATIN1
        # RE2 runs the whole alternation as one DFA pass (Python's re would try each branch at each byte).
        self.tokens = re2.compile("|".join(f"(?:{t})" for _, _, t, _ in PLUGINS[:SPECIFIC]).encode("latin-1"), options)
        # the generic detectors' passes, skipped where only vendor detectors run
        self.keyword = re2.compile(KEYWORD.encode("latin-1"), options)
        self.quoted_runs = re.compile(QUOTED_RUN)  # Python's re: it has the lookahead, and few matches


class _Detector(_Once):
    """The plugins and filters (detect-secrets and its imports cost ~0.3 s: loaded on first need)."""

    def __init__(self) -> None:
        import importlib

        from detect_secrets.filters import allowlist, heuristic

        self.plugins = [
            (getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)(), _gate(gate)) for module, cls, _, gate in PLUGINS
        ]
        # every vendor gate at once: the case-sensitive ones on the line, the "i:" ones on the lower-cased line
        vendor = [g for _, _, _, g in PLUGINS[:SPECIFIC] if isinstance(g, str)]
        on_line = re.compile("|".join(f"(?:{g})" for g in vendor if not g.startswith("i:"))).search
        on_low = re.compile("|".join(f"(?:{g[2:]})" for g in vendor if g.startswith("i:"))).search
        self.any_specific: Callable[[str, str], bool] = lambda line, low: on_line(line) is not None or on_low(low) is not None
        self.h = heuristic
        self.allowlisted = allowlist.is_line_allowlisted


    def skip_by_name(self, path: str) -> bool:
        """detect-secrets' filename filters: non-text extensions, lock files, swagger."""
        return self.h.is_non_text_file(path) or self.h.is_lock_file(path) or self.h.is_swagger_file(path)

    def line_hits(self, path: str, line: str, previous: str, gate: bool = True, generic: bool = True) -> list[tuple[str, str]]:
        """(detector, value) pairs on one line, after detect-secrets' default filters.

        A generic detector (keyword, entropy) is dropped where a specific one
        already reported the same value on the line; ``generic=False`` runs the vendor ones only.
        """
        h = self.h
        out: list[tuple[str, str]] = []
        low = line.lower() if gate else ""
        specific = not gate or self.any_specific(line, low)
        for i, (plugin, passes) in enumerate(self.plugins if generic else self.plugins[:SPECIFIC]):
            if gate and ((i < SPECIFIC and not specific) or not passes(line, low)):
                continue
            for value in self._values(plugin, path, line):
                if (
                    h.is_sequential_string(value)
                    or h.is_potential_uuid(value)
                    or h.is_likely_id_string(value, line, plugin)
                    or h.is_templated_secret(value)
                    or h.is_prefixed_with_dollar_sign(value)
                    or h.is_not_alphanumeric_string(value)
                ):
                    continue
                if plugin.secret_type in _GENERIC and any(value in v or v in value for _, v in out):
                    continue
                out.append((plugin.secret_type, value))
        # line filters last: they are slower than the plugins and rarely needed
        # (an indirect reference needs a "(" or "[": skip its quadratic regex otherwise)
        snippet: Any = _Snippet(previous)  # the one attribute of a CodeSnippet the allowlist filter reads
        if out and ((("(" in line or "[" in line) and h.is_indirect_reference(line)) or self.allowlisted(path, line, snippet)):
            return []
        return out

    def _values(self, plugin: Any, path: str, line: str) -> list[str]:
        if type(plugin).__name__ in _WHOLE_MATCH:
            return [m.group(0) for p in plugin.denylist for m in p.finditer(line)]
        return [f.secret_value or "" for f in plugin.analyze_line(filename=path, line=line, line_number=0)]


# Their patterns capture only a prefix group (``ghp``), which detect-secrets 1.5
# reports as the value; the whole match is the token.
_WHOLE_MATCH = frozenset({"GitHubTokenDetector", "GitLabTokenDetector"})
_GENERIC = frozenset({"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String"})
# Characters Python's re matches against ASCII letters under (?i) (long s, Kelvin
# sign, dotless i, dotted I): the lines holding them skip the shortcuts.
_CASE_FOLDS = re.compile("|".join(re.escape(c) for c in "\u017f\u212a\u0131\u0130").encode())
_PEM_END = re.compile(rb"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|---- END SSH2 ENCRYPTED PRIVATE KEY ----")


# Installed third-party packages: their data files are full of hashes and their
# code of "password" parameters, so only the vendor detectors report there.
_PACKAGE_TREES = frozenset({"site-packages", "dist-packages", "node_modules", "vendor", "gems"})


def generic_ok(path: str) -> bool:
    """Whether the keyword and entropy detectors run on ``path`` (not inside an installed package tree)."""
    return _PACKAGE_TREES.isdisjoint(path.split("/")[:-1])


_DOC_EXTENSIONS = (".md", ".rst", ".adoc")
_DOC_DIRS = frozenset({"example", "examples"})


def name_filtered(path: str) -> bool:
    """Paths skipped by name: docs and examples (full of placeholder keys: awscli ships ~800),
    and detect-secrets' filename filters (non-text extensions, lock files, swagger)."""
    parts = path.split("/")
    if path.endswith(_DOC_EXTENSIONS) or path.startswith(("usr/share/doc/", "usr/share/man/")) or not _DOC_DIRS.isdisjoint(parts[:-1]):
        return True
    return bool(_Detector.get().skip_by_name(path))


def detector_loaded() -> bool:
    return _Detector.loaded()


def _entropy_candidate(run: bytes) -> bool:
    """Can a quoted run reach the entropy limits? (>= 23 distinct characters, or >= 9 and all hex)."""
    distinct = set(run)
    return len(distinct) >= 23 or (len(distinct) >= 9 and distinct <= HEX_BYTES)


def _key_block(data: bytes, start: int) -> bytes:
    """A private key from its header line to its END line (the header alone is the same for every key)."""
    m = _PEM_END.search(data, start, start + 65536)
    if m:
        return data[start : m.end()]
    end = data.find(b"\n", start)
    return data[start : len(data) if end < 0 else end]


def detect(data: bytes, path: str, errors: str, *, generic: bool = True, prefilter: bool = True,
           allow: Sequence[re.Pattern[str]] = ()) -> list[SecretHit]:
    """Secrets in ``data``, working on bytes: only candidate lines are ever decoded (a UTF-8 ``\\n`` is
    always a line end). Values matching an ``allow`` regex, or holding "example", are dropped."""
    out: list[SecretHit] = []
    seen: set[tuple[str, int, str]] = set()
    for detector, number, value in found_values(data, path, errors, generic=generic, prefilter=prefilter, allow=allow):
        fp = fingerprint(value)
        if (detector, number, fp) not in seen:
            seen.add((detector, number, fp))
            out.append(SecretHit(detector, number, redact(value), fp))
    return out


def found_values(data: bytes, path: str, errors: str, *, generic: bool = True, prefilter: bool = True,
                 allow: Sequence[re.Pattern[str]] = ()) -> Iterator[tuple[str, int, str]]:
    """``(detector, 1-based line, value)`` for each secret in ``data``: the values themselves, for
    callers that locate them in memory (:mod:`lintimg.secrets.spans`); never stored or printed."""
    lines = list(_candidate_lines(data, generic) if prefilter else _all_lines(data))
    if not lines:
        return
    det = _Detector.get()
    for number, start, end, gated in lines:
        line = data[start:end].decode("utf-8", errors).rstrip()
        previous = data[data.rfind(b"\n", 0, start - 1) + 1 : start - 1].decode("utf-8", errors) if start else ""
        for detector, value in det.line_hits(path, line, previous, gated, generic):
            if detector == "Private Key":
                value = _key_block(data, start).decode("utf-8", errors)
            if "example" in value.lower() or any(r.search(value) for r in allow):
                continue
            yield detector, number, value


def _all_lines(data: bytes) -> Iterator[tuple[int, int, int, bool]]:
    """Every line, ungated (measuring the prefilter; never needed otherwise)."""
    start, number = 0, 1
    while start <= len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        yield number, start, end, False
        start, number = end + 1, number + 1


def _candidate_lines(data: bytes, generic: bool = True) -> Iterator[tuple[int, int, int, bool]]:
    """(line number, start, end, gated) of the lines the prefilter finds.

    Lines holding a character Python's ``(?i)`` folds to an ASCII letter are
    given too, ungated: RE2 in Latin-1 mode and ``lower()`` miss those matches.
    """
    pre = _Prefilter.get()
    starts = {data.rfind(b"\n", 0, m.start()) + 1 for m in pre.tokens.finditer(data)}
    if generic:
        starts.update(data.rfind(b"\n", 0, m.start()) + 1 for m in pre.keyword.finditer(data))
        # quoted runs in a pass of their own: a rejected run must not hide a token inside it
        starts.update(data.rfind(b"\n", 0, m.start()) + 1 for m in pre.quoted_runs.finditer(data) if _entropy_candidate(m.group()[1:]))
    folds = set() if data.isascii() else {data.rfind(b"\n", 0, m.start()) + 1 for m in _CASE_FOLDS.finditer(data)}
    number, counted_to = 1, 0
    for start in sorted(starts | folds):
        number += data.count(b"\n", counted_to, start)
        counted_to = start
        end = data.find(b"\n", start)
        yield number, start, len(data) if end < 0 else end, start not in folds
