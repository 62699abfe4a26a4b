"""The secret scanner: the engine under the ``secrets:`` policy, with a per-content memo.

Policy (``secrets:`` in ``.lintimg.yaml``, see docs/configuration.md):

- ``max-file-size`` (default 2 MiB): bigger files are skipped; so are
  binaries (a NUL byte in the first 8 KiB);
- ``exclude-paths``: globs matched on the path, its basename, or as a
  directory prefix;
- ``allowlist``: a 64-hex entry is a fingerprint (sha256 of the value, as
  reported), anything else a regular expression searched in the value;
- ``baseline``: a detect-secrets ``.secrets.baseline``, read by the config
  loader (:func:`lintimg.config.load_baseline`): its audited values (sha1, as
  detect-secrets stores them) are accepted, except those marked as real
  secrets, and its ``should_exclude_file``/``should_exclude_secret`` filters
  apply;
- ``detectors``: ``{detector id: off}`` turns a detector off.

``# pragma: allowlist secret`` on a line (or ``pragma: allowlist nextline
secret`` on the line before) allowlists it, as in detect-secrets. Results
are memoised per content and policy for the run; nothing here keeps a value.
"""
from __future__ import annotations

import fnmatch
import functools
import json
import re
import threading
from typing import Any

from lintimg import cachefiles
from lintimg.config import parse_size, suggest
from lintimg.errors import LintimgError
from lintimg.secrets.cache import detector_version
from lintimg.secrets.hit import SecretHit

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
BINARY_SNIFF = 8192
MIN_FILE_SIZE = 10  # nothing any detector reports fits in fewer bytes
LAZY_TEXT = 64 * 1024  # texts up to this size may be judged without loading the engine (see _engine_scan)


def check_policy(settings: dict[str, Any] | None, where: str) -> None:
    """A usage error for a detector id in ``secrets.detectors`` that names no detector (a typo never
    silently leaves one on)."""
    from lintimg.secrets.triggers import TRIGGERS  # data only: no detector is loaded

    for name in (settings or {}).get("detectors") or {}:
        if name not in TRIGGERS:
            raise LintimgError(f"{where}: unknown detector {name!r} in 'secrets.detectors'{suggest(name, TRIGGERS)}")


class SecretScanner:
    """Finds secrets in text and file contents under a policy. Thread-safe.

    ``settings`` is the ``secrets:`` map of the config; ``prefilter=False``
    runs every detector's pattern on every file (for measuring the trigger
    pass, never needed otherwise).
    """

    def __init__(self, settings: dict[str, Any] | None = None, *, prefilter: bool = True) -> None:
        s = dict(settings or {})
        self.max_file_size = parse_size(s.get("max-file-size", DEFAULT_MAX_FILE_SIZE))
        self.exclude = [p.strip("/").removeprefix("./") for p in s.get("exclude-paths", [])]
        allow = list(s.get("allowlist", []))
        self.allow_fingerprints = {a.lower() for a in allow if re.fullmatch(r"[0-9a-fA-F]{64}", a)}
        self.allow_regexes = [re.compile(a) for a in allow if a.lower() not in self.allow_fingerprints]
        baseline = s.get("baseline") or {}
        self.allow_sha1 = frozenset(baseline.get("hashes", ()))
        self.allow_regexes += [re.compile(p) for p in baseline.get("exclude-secrets", ())]
        self.exclude_regexes = [re.compile(p) for p in baseline.get("exclude-files", ())]
        self.disabled = frozenset(k for k, v in (s.get("detectors") or {}).items() if v in (False, "off"))
        self.prefilter = prefilter
        self._settings = json.dumps(s, sort_keys=True, default=str)
        self._memo: dict[str, tuple[SecretHit, ...]] = {}
        self._engine_loaded = False
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        """Names everything a result depends on besides the bytes: the detector set and this policy."""
        import hashlib  # here: the layer cache's key asks for it, a Dockerfile's run does not (OpenSSL costs start-up)

        return hashlib.sha256(f"{detector_version()}\0{self._settings}\0{self.prefilter}".encode()).hexdigest()[:32]

    def excluded(self, path: str) -> bool:
        """True when the policy skips ``path`` (``exclude-paths``, a baseline's file filters)."""
        if not self.exclude and not self.exclude_regexes:  # the usual policy: no per-file work
            return False
        p = path.lstrip("/").removeprefix("./")
        base = p.rsplit("/", 1)[-1]
        if any(fnmatch.fnmatchcase(p, pat) or fnmatch.fnmatchcase(base, pat) or p.startswith(pat + "/") for pat in self.exclude):
            return True
        return any(rx.search(p) for rx in self.exclude_regexes)

    def scan_text(self, text: str, path: str = "") -> list[SecretHit]:
        """Secrets in ``text`` (``path`` decides whether it is skipped by name or policy)."""
        return self._scan(text.encode("utf-8", "surrogatepass"), path)

    def scan_bytes(self, data: bytes, path: str = "") -> list[SecretHit]:
        """Secrets in file contents; ``[]`` for binaries, over-size or excluded files."""
        if len(data) < MIN_FILE_SIZE or len(data) > self.max_file_size or b"\0" in data[:BINARY_SNIFF]:
            return []
        return self._scan(data, path)

    def _scan(self, data: bytes, path: str) -> list[SecretHit]:
        if path and self.excluded(path):
            return []
        from lintimg.secrets.triggers import skipped_path

        if path and skipped_path(path):
            return []
        key = cachefiles.digest(data)  # this run's memo only
        hits = self._memo.get(key)
        if hits is None:
            hits = self._engine_scan(data)
            with self._lock:
                self._memo[key] = hits
        return [h for h in hits if h.fingerprint not in self.allow_fingerprints]

    def _engine_scan(self, data: bytes) -> tuple[SecretHit, ...]:
        """The engine's hits. Until a text with a trigger word loads the engine (its rule table and RE2
        set: ~0.1 s), short texts are judged by the pure-Python trigger test: a rescan whose new files and
        config hold no trigger word never loads it. Once loaded, its RE2 set pass is the cheaper test."""
        if not self._engine_loaded and self.prefilter and len(data) <= LAZY_TEXT:
            from lintimg.secrets.triggers import may_match

            if not may_match(data):
                return ()
        from lintimg.secrets.engine import engine

        self._engine_loaded = True
        return tuple(engine(self.disabled).scan(data, "", self._allowed_value, prefilter=self.prefilter))

    def _allowed_value(self, value: bytes) -> bool:
        if self.allow_sha1:
            import hashlib  # only with a baseline's hashes

            if hashlib.sha1(value).hexdigest() in self.allow_sha1:
                return True
        if not self.allow_regexes:
            return False
        text = value.decode("utf-8", "replace")
        return any(rx.search(text) for rx in self.allow_regexes)


@functools.lru_cache(maxsize=8)
def _shared(settings_json: str) -> SecretScanner:
    return SecretScanner(json.loads(settings_json))


def shared_scanner(settings: dict[str, Any] | None) -> SecretScanner:
    """One scanner per policy for the whole run, so that every rule scanning text shares its content memo."""
    return _shared(json.dumps(settings or {}, sort_keys=True))
