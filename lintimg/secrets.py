"""Secret detection: detect-secrets behind a fast prefilter, with policy and a content cache.

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

Policy (``secrets:`` in ``.lintimg.yaml``): ``max-file-size`` (default 2 MiB;
bigger files are skipped), ``exclude-paths`` (globs, matched on the path, its
basename, or as a directory prefix), ``allowlist`` (a 64-hex entry is a
fingerprint — sha256 of the value, as reported — anything else a regex
searched in the value). Binaries (a NUL byte in the first 8 KiB) are skipped.

Results are cached per content (sha256 + extension + policy) in memory and,
for files of 64 KiB or more, on disk under ``$XDG_CACHE_HOME/lintimg/secrets``
in a directory versioned by the detector set (``LINTIMG_NO_CACHE=1`` turns the
disk cache off). Cache entries hold fingerprints and redactions only — never a
secret value. :func:`scrub` masks secret-looking assignments in text that
reports echo (image history lines).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from lintimg.config import parse_size

if TYPE_CHECKING:
    from lintimg.image.model import LayerAnalyzer, LayerEntry

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
BINARY_SNIFF = 8192
DISK_CACHE_MIN = 64 * 1024
MIN_FILE_SIZE = 10  # nothing any plugin reports fits in fewer bytes
CACHE_FORMAT = 1

# Whole words (split on "_", "-", "." and lower-case) that make a name secret:
# BuildKit's list plus trivy's "usr"/"psw" (Jenkins credential bindings).
SECRET_WORDS = frozenset("apikey auth credential credentials key password pword passwd secret token usr psw".split())
# A single word ending in one of these is a joined name (PGPASSWORD, NPMTOKEN).
SECRET_SUFFIXES = ("password", "passwd", "secret", "token", "apikey", "credentials")
# Words that make the name about something public or a reference, not the secret:
# BuildKit's public/file/version, dockle's gpg (key ids of signing keys), and
# where or what kind the secret is (AUTH_URL, KEY_SIZE, TOKEN_TYPE, AUTH_PROVIDER).
ALLOWED_WORDS = frozenset(
    "public file version gpg pgp path dir url uri endpoint host server port size length bits type mode method algorithm provider".split()
)
# Variables whose value is the path of a credentials file (trivy's list and AWS's shared file).
SECRET_FILE_VARS = frozenset("AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE GOOGLE_APPLICATION_CREDENTIALS HF_TOKEN_PATH".split())

_WORD_SPLIT = re.compile(r"[_.\-]+")


def secret_name(name: str) -> bool:
    """Does a variable name look like it holds a secret (see LI500)?"""
    if name.upper() in SECRET_FILE_VARS:
        return False  # its value is a path (LI501 checks where it points)
    words = [w for w in _WORD_SPLIT.split(name.lower()) if w]
    if any(w in ALLOWED_WORDS for w in words):
        return False
    return any(w in SECRET_WORDS or w.endswith(SECRET_SUFFIXES) for w in words)


_ASSIGNMENT = re.compile(r"""(?<![\w$])([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s;&|]+)""")
_URL_PASSWORD = re.compile(r"(://[^\s:/@]+:)[^\s@/]+@")


def scrub(text: str) -> str:
    """``text`` (a history ``created_by``, say) with the values of secret-named assignments and URL passwords redacted."""

    def value(m: re.Match) -> str:
        v = m.group(2).strip("\"'")
        # no spaces in the mask: rebuilt Dockerfile text must still parse as one word
        return f"{m.group(1)}={v[: min(4, len(v) // 4)]}***" if secret_name(m.group(1)) else m.group(0)

    return _URL_PASSWORD.sub(r"\1***@", _ASSIGNMENT.sub(value, text))


# Byte-level pieces for the RE2 tokens, which run in Latin-1 mode on raw bytes:
# a non-ASCII UTF-8 character is 2-4 bytes >= 0x80, so Python's Unicode \w and \s
# are covered by adding \x80-\xff. Bounded repeats ({0,20}) are widened to "*":
# counters multiply RE2's DFA states, and a wider token is still a superset.
_W = r"[0-9A-Za-z_\x80-\xff]*"
_SP = r"[\t-\r\x1c-\x1f \x80-\xff]*"
_STEMS = r"(?:api|auth|service|account|db|database|priv|private|client)_?key|pass|pwd|secret|contrase"
# What KeywordDetector's regexes need after "<stem>\w*": a closing quote/bracket and
# an operator (: := = == != => and, for C/C++, "[n] =" and "(" / ".assign("), a quoted
# value followed by ";" — or, in the comparison form, "== <name>" with the stem after.
_KEYWORD = (
    rf"(?i:(?:{_STEMS}){_W}(?:[\]'\"]*{_SP}[:=!]|\[[0-9]*\]{_SP}[!=]|[^\n]*assign\(|\("
    rf"|[^\t-\r ]*{_SP}['\"`][^\n]*;)|[!=][!=]{_SP}{_W}(?:{_STEMS}))"
)

# (detect-secrets module, class, RE2 token, gate). The RE2 token must match on
# every line where the plugin could report something: the plugin's own pattern
# where that is plain ASCII classes and literals, else a literal or shape the
# pattern requires. The gate (Python re on the decoded candidate line; "i:" on the
# lower-cased line, a cheaper superset of (?i)) decides whether the plugin runs
# on it; a gate with a count also needs a quoted run with
# that many distinct characters (Shannon entropy <= log2 of the distinct count,
# so > 4.5 needs 23 and > 3.0 needs 9).
_B64_RUN = r"""(?<=['"])[A-Za-z0-9+/\\_=-]{23,}(?=['"])"""
_HEX_RUN = r"""(?<=['"])[0-9a-fA-F]{9,}(?=['"])"""
# Runs that could pass either count: base64 runs of 23+, or hex runs of 9+ that are
# the whole run. No closing quote is consumed: it may open the next run.
_QUOTED_RUN = rb"""['"](?:[A-Za-z0-9+/\\_=-]{23,}|[0-9a-fA-F]{9,}(?![A-Za-z0-9+/\\_=-]))"""
_HEX = frozenset(b"0123456789abcdefABCDEF")
_PLUGINS: tuple[tuple[str, str, str, str | tuple[str, int]], ...] = (
    ("aws", "AWSKeyDetector",
     r"A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA|(?i:aws[^\n]*(?:key|pwd|pw|pass|token)[^\n]*['\"][0-9a-z/+]{40}['\"])",
     "i:a3t[a-z0-9]|abia|acca|akia|asia|aws"),
    ("azure_storage_key", "AzureStorageKeyDetector", r"AccountKey=", r"AccountKey="),
    ("basic_auth", "BasicAuthDetector", r"://[^:/?#\[\]@!$&'()*+,;=\s]+:[^:/?#\[\]@!$&'()*+,;=\s]+@", r"://"),
    ("github_token", "GitHubTokenDetector", r"gh[pousr]_", r"gh[pousr]_"),
    ("gitlab_token", "GitLabTokenDetector", r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941", r"gl[a-z]+-|GR1348941"),
    ("jwt", "JwtTokenDetector", r"eyJ", r"eyJ"),
    ("mailchimp", "MailchimpDetector", r"-us[0-9]", r"-us[0-9]"),
    ("npm", "NpmDetector", r":_authToken=", r":_authToken="),
    ("openai", "OpenAIDetector", r"T3BlbkFJ", r"T3BlbkFJ"),
    ("private_key", "PrivateKeyDetector", r"PRIVATE KEY|PuTTY-User-Key-File-2", r"PRIVATE KEY|PuTTY-User-Key-File-2"),
    ("pypi_token", "PypiTokenDetector", r"pypi-AgE", r"pypi-AgE"),
    ("sendgrid", "SendGridDetector", r"SG\.", r"SG\."),
    ("slack", "SlackDetector", r"(?i:xox[abposr]-|hooks\.slack\.com)", r"i:xox[abposr]-|hooks\.slack\.com"),
    ("square_oauth", "SquareOAuthDetector", r"sq0csp-", r"sq0csp-"),
    ("stripe", "StripeDetector", r"[rs]k_live_", r"[rs]k_live_"),
    ("twilio", "TwilioKeyDetector", r"(?:AC|SK)[a-z0-9]{32}", r"AC|SK"),
    # generic detectors last: a specific detector's report of the same value wins
    ("keyword", "KeywordDetector", _KEYWORD, f"i:{_STEMS}"),
    # both take their lines from a second pass over quoted runs (_QUOTED_RUN), checked for the counts
    ("high_entropy_strings", "Base64HighEntropyString", "", (_B64_RUN, 23)),
    ("high_entropy_strings", "HexHighEntropyString", "", (_HEX_RUN, 9)),
)
_SPECIFIC = len(_PLUGINS) - 3  # the vendor plugins, checked together first


def _gate(spec: str | tuple[str, int]):
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


@dataclass(frozen=True)
class ImageSecret:
    """A secret in an image: a file in a layer, or the config (``source`` says which)."""

    path: str  # in-image path, or "config.Env" / "config.Labels" / "history[N]"
    layer: int | None  # layer index for files, None for the config
    hit: SecretHit
    source: str = "file"  # "file", "env", "label" or "history"


def redact(value: str) -> str:
    """A short prefix (at most 4 characters, and at most a quarter of the value) plus the length."""
    keep = min(4, len(value) // 4)
    return f"{value[:keep]}…({len(value)} chars)"


_history_scanner: "SecretScanner | None" = None


def withhold_secrets(text: str) -> str:
    """``text`` with each word the detector flags redacted; withheld whole when that is not enough.

    For free text that reports print (history ``created_by``), where a secret may
    sit anywhere; :func:`scrub` covers only secret-named assignments and URL passwords.
    """
    global _history_scanner
    if _history_scanner is None:
        _history_scanner = SecretScanner(disk_cache=False)
    scanner = _history_scanner
    if not scanner.scan_text(text):
        return text
    words = re.split(r"(\s+)", text)
    out = "".join(redact(w) if w.strip() and scanner.scan_text(w) else w for w in words)
    if scanner.scan_text(out):  # a secret that only shows in context (KEY = "value")
        return " ".join(text.split()[:2]) + " … (withheld: it holds a secret)"
    return out


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lintimg" / "secrets"


class _Snippet:
    """The slice of detect-secrets' CodeSnippet its allowlist filter reads."""

    __slots__ = ("previous_line",)

    def __init__(self, previous_line: str):
        self.previous_line = previous_line


class _Once:
    """A per-process singleton, built on first use under a lock."""

    _lock = threading.Lock()
    _instance = None

    @classmethod
    def loaded(cls) -> bool:
        return cls.__dict__.get("_instance") is not None

    @classmethod
    def get(cls):
        with cls._lock:
            if cls.__dict__.get("_instance") is None:
                cls._instance = cls()
            return cls._instance


class _Prefilter(_Once):
    """The candidate-line search. RE2 only: a file without candidates never loads detect-secrets."""

    def __init__(self) -> None:
        import re2

        options = re2.Options()
        options.max_mem = 64 << 20
        options.encoding = re2.Options.Encoding.LATIN1
        # RE2 runs the whole alternation as one DFA pass (Python's re would try each branch at each byte).
        self.tokens = re2.compile("|".join(f"(?:{t})" for _, _, t, _ in _PLUGINS[:_SPECIFIC]).encode("latin-1"), options)
        # the generic detectors' passes, skipped where only vendor detectors run
        self.keyword = re2.compile(_KEYWORD.encode("latin-1"), options)
        self.quoted_runs = re.compile(_QUOTED_RUN)  # Python's re: it has the lookahead, and few matches


class _Detector(_Once):
    """The plugins and filters (detect-secrets and its imports cost ~0.3 s: loaded on first need)."""

    def __init__(self) -> None:
        import importlib

        from detect_secrets.filters import allowlist, heuristic

        self.plugins = [
            (getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)(), _gate(gate)) for module, cls, _, gate in _PLUGINS
        ]
        # every vendor gate at once: the case-sensitive ones on the line, the "i:" ones on the lower-cased line
        vendor = [g for _, _, _, g in _PLUGINS[:_SPECIFIC]]
        on_line = re.compile("|".join(f"(?:{g})" for g in vendor if not g.startswith("i:"))).search
        on_low = re.compile("|".join(f"(?:{g[2:]})" for g in vendor if g.startswith("i:"))).search
        self.any_specific = lambda line, low: on_line(line) is not None or on_low(low) is not None
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
        for i, (plugin, passes) in enumerate(self.plugins if generic else self.plugins[:_SPECIFIC]):
            if gate and ((i < _SPECIFIC and not specific) or not passes(line, low)):
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
        if out and ((("(" in line or "[" in line) and h.is_indirect_reference(line)) or self.allowlisted(path, line, _Snippet(previous))):
            return []
        return out

    def _values(self, plugin, path: str, line: str) -> list[str]:
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


def _detector_version() -> str:
    """Names the disk cache: detect-secrets' version, our table and cache format."""
    from importlib.metadata import version

    return hashlib.sha256(json.dumps([version("detect-secrets"), CACHE_FORMAT, _PLUGINS]).encode()).hexdigest()[:16]


class SecretScanner:
    """Finds secrets in text, files and image layers under a policy. Thread-safe.

    ``settings`` is the ``secrets:`` map of the config (``max-file-size``,
    ``exclude-paths``, ``allowlist``); ``prefilter=False`` sends every line
    to detect-secrets (for measuring the prefilter, never needed otherwise).
    """

    def __init__(self, settings: dict | None = None, *, prefilter: bool = True, cache_dir: Path | str | None = None, disk_cache: bool = True):
        s = dict(settings or {})
        self.max_file_size = parse_size(s.get("max-file-size", DEFAULT_MAX_FILE_SIZE))
        self.exclude = [p.strip("/").removeprefix("./") for p in s.get("exclude-paths", [])]
        allow = list(s.get("allowlist", []))
        self.allow_fingerprints = {a.lower() for a in allow if re.fullmatch(r"[0-9a-fA-F]{64}", a)}
        self.allow_regexes = [re.compile(a) for a in allow if a.lower() not in self.allow_fingerprints]
        self.prefilter = prefilter
        self._pre = _Prefilter.get()
        policy = json.dumps([a.pattern for a in self.allow_regexes])
        self._policy = hashlib.sha256(policy.encode()).hexdigest()[:12]
        self._disk_root = Path(cache_dir) if cache_dir else default_cache_dir()
        self._disk: Path | None = None  # versioned by the detector set, resolved on first use
        self._disk_on = disk_cache and os.environ.get("LINTIMG_NO_CACHE") != "1"
        self._memo: dict[str, tuple[SecretHit, ...]] = {}
        self._lock = threading.Lock()

    # -- policy -------------------------------------------------------------

    def excluded(self, path: str, by_name: bool = True) -> bool:
        """True when policy (exclude-paths, or detect-secrets' name filters) skips ``path``.

        ``by_name=False`` checks exclude-paths only and so never loads detect-secrets
        (its name filters cost ~0.15 s to import); ``scan_bytes`` applies them to hits anyway.
        """
        return self._glob_excluded(path) or (by_name and self._name_filtered(path))

    def _glob_excluded(self, path: str) -> bool:
        p = path.lstrip("/").removeprefix("./")
        base = p.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(p, pat) or fnmatch.fnmatchcase(base, pat) or p.startswith(pat + "/") for pat in self.exclude)

    @staticmethod
    def _name_filtered(path: str) -> bool:
        p = path.lstrip("/").removeprefix("./")
        return bool(p) and (_is_documentation(p) or _Detector.get().skip_by_name(p))

    def _allowed(self, hit: SecretHit) -> bool:
        return hit.fingerprint in self.allow_fingerprints

    # -- scanning -----------------------------------------------------------

    def scan_text(self, text: str, path: str = "") -> list[SecretHit]:
        """Secrets in ``text`` (``path`` picks detect-secrets' file-type rules and policy)."""
        return self._policy_scan(text.encode("utf-8", "surrogatepass"), path, "surrogatepass")

    def scan_bytes(self, data: bytes, path: str = "") -> list[SecretHit]:
        """Secrets in file contents; ``[]`` for binaries, over-size or excluded files."""
        if len(data) < MIN_FILE_SIZE or len(data) > self.max_file_size or b"\0" in data[:BINARY_SNIFF]:
            return []
        return self._policy_scan(data, path, "replace")

    def _policy_scan(self, data: bytes, path: str, errors: str) -> list[SecretHit]:
        if path and (self._glob_excluded(path) or (_Detector.loaded() and self._name_filtered(path))):
            return []
        hits = self._cached(data, path, errors, not path or _generic_ok(path))
        # the name filters need detect-secrets: until it is loaded they are checked on results only
        return [] if hits and path and self._name_filtered(path) else hits

    def _cached(self, data: bytes, path: str, errors: str, generic: bool) -> list[SecretHit]:
        key = f"{hashlib.sha256(data).hexdigest()}{os.path.splitext(path)[1]}.{self._policy}{'g' if generic else 's'}"
        hits = self._memo.get(key)
        if hits is None:
            big = len(data) >= DISK_CACHE_MIN
            hits = self._disk_get(key) if big else None
            if hits is None:
                hits = tuple(self._scan(data, path, errors, generic))
                if big:
                    self._disk_put(key, hits)
            with self._lock:
                self._memo[key] = hits
        return [h for h in hits if not self._allowed(h)]

    def _scan(self, data: bytes, path: str, errors: str, generic: bool = True) -> list[SecretHit]:
        """Work on bytes: only candidate lines are ever decoded (a UTF-8 ``\\n`` is always a line end)."""
        out: list[SecretHit] = []
        seen: set[tuple[str, int, str]] = set()
        lines = list(self._lines(data, generic))
        det = _Detector.get() if lines else None
        for number, start, end, gated in lines:
            line = data[start:end].decode("utf-8", errors).rstrip()
            previous = data[data.rfind(b"\n", 0, start - 1) + 1 : start - 1].decode("utf-8", errors) if start else ""
            for detector, value in det.line_hits(path, line, previous, gated, generic):
                if detector == "Private Key":
                    value = _key_block(data, start).decode("utf-8", errors)
                if "example" in value.lower() or any(r.search(value) for r in self.allow_regexes):
                    continue
                fp = fingerprint(value)
                if (detector, number, fp) in seen:
                    continue
                seen.add((detector, number, fp))
                out.append(SecretHit(detector, number, redact(value), fp))
        return out

    def _lines(self, data: bytes, generic: bool = True) -> Iterable[tuple[int, int, int, bool]]:
        """(line number, start, end, gated) of the lines to give the plugins: the prefilter's, or all.

        Lines holding a character Python's ``(?i)`` folds to an ASCII letter are
        given too, ungated: RE2 in Latin-1 mode and ``lower()`` miss those matches.
        """
        if not self.prefilter:
            start, number = 0, 1
            while start <= len(data):
                end = data.find(b"\n", start)
                end = len(data) if end < 0 else end
                yield number, start, end, False
                start, number = end + 1, number + 1
            return
        pre = self._pre
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

    # -- disk cache ---------------------------------------------------------

    def _disk_dir(self) -> Path:
        if self._disk is None:
            self._disk = self._disk_root / _detector_version()
        return self._disk

    def _disk_get(self, key: str) -> tuple[SecretHit, ...] | None:
        if not self._disk_on:
            return None
        try:
            data = json.loads((self._disk_dir() / key[:2] / key).read_text(encoding="utf-8"))
            return tuple(SecretHit(**d) for d in data)
        except (OSError, ValueError, TypeError):
            return None  # absent or torn: scan again

    def _disk_put(self, key: str, hits: tuple[SecretHit, ...]) -> None:
        if not self._disk_on:
            return
        folder = self._disk_dir() / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # write then rename: a concurrent reader sees the old file or the whole new one
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump([asdict(h) for h in hits], f)
            os.replace(tmp, folder / key)
        except OSError:
            pass  # a read-only or full cache only costs speed

    # -- images -------------------------------------------------------------

    def wants(self, entry: "LayerEntry") -> bool:
        """Whether a layer entry is worth reading: a regular file within policy."""
        from lintimg.image.model import EntryType

        return (
            entry.type is EntryType.FILE
            and MIN_FILE_SIZE <= entry.size <= self.max_file_size
            and not self.excluded(entry.path)
        )

    def scan_entry(self, layer_index: int, entry: "LayerEntry", data: bytes) -> list[ImageSecret]:
        return [ImageSecret(entry.path, layer_index, h) for h in self.scan_bytes(data, entry.path)]

    def analyzer(self) -> "LayerAnalyzer":
        """The per-layer analyzer the image reader runs while streaming: ``Image.analysis["secrets"]``."""
        return ("secrets", self.wants, self.scan_entry)

    def scan_config(self, config: dict[str, Any]) -> list[ImageSecret]:
        """Secrets in an image config: ``Env``, ``Labels`` and ``history[].created_by``."""
        cfg = config.get("config") or {}
        out: list[ImageSecret] = []
        for i, kv in enumerate(cfg.get("Env") or []):
            out += [ImageSecret("config.Env", None, h, "env") for h in self.scan_text(_assignment(kv), "")]
        for k, v in (cfg.get("Labels") or {}).items():
            out += [ImageSecret("config.Labels", None, h, "label") for h in self.scan_text(_assignment(f"{k}={v}"), "")]
        for i, h in enumerate(config.get("history") or []):
            text = h.get("created_by") or ""
            out += [ImageSecret(f"history[{i}]", None, hit, "history") for hit in self.scan_text(text, "")]
        return out


# Installed third-party packages: their data files are full of hashes and their
# code of "password" parameters, so only the vendor detectors report there.
_PACKAGE_TREES = frozenset({"site-packages", "dist-packages", "node_modules", "vendor", "gems"})


def _generic_ok(path: str) -> bool:
    return _PACKAGE_TREES.isdisjoint(path.split("/")[:-1])


_DOC_EXTENSIONS = (".md", ".rst", ".adoc")
_DOC_DIRS = frozenset({"example", "examples"})


def _is_documentation(path: str) -> bool:
    """Docs and examples, full of placeholder keys (awscli ships ~800 of them)."""
    parts = path.split("/")
    return path.endswith(_DOC_EXTENSIONS) or path.startswith(("usr/share/doc/", "usr/share/man/")) or not _DOC_DIRS.isdisjoint(parts[:-1])


def _entropy_candidate(run: bytes) -> bool:
    """Can a quoted run reach the entropy limits? (>= 23 distinct characters, or >= 9 and all hex)."""
    distinct = set(run)
    return len(distinct) >= 23 or (len(distinct) >= 9 and distinct <= _HEX)


def _assignment(kv: str) -> str:
    """``KEY=value`` as ``KEY="value"``: detect-secrets' keyword and entropy plugins want quotes."""
    key, eq, value = kv.partition("=")
    return f'{key}="{value}"' if eq else kv


def _key_block(data: bytes, start: int) -> bytes:
    """A private key from its header line to its END line (the header alone is the same for every key)."""
    m = _PEM_END.search(data, start, start + 65536)
    if m:
        return data[start : m.end()]
    end = data.find(b"\n", start)
    return data[start : len(data) if end < 0 else end]

