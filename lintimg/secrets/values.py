"""Judging a candidate value and the name it is assigned to: generated credential, or something else?

Everything here works on bytes (the scanner never decodes a file) and is
pure. The detectors in :mod:`lintimg.secrets.formats` combine these checks:

- :func:`is_placeholder` — text written for documentation or a template
  (``example``, ``xxxx``, ``${VAR}``, ``<your-token>``, runs like ``AAAAAA``
  or ``123456``);
- :func:`random_looking` — long enough, varied enough, and not made of words
  (identifiers, type names, paths), not a reference (``$VAR``, a URL), not a
  hash label (``sha256=…``);
- :func:`key_says_secret` / :func:`key_is_reference` — whether a name such as
  ``DB_PASSWORD`` holds a secret, or one such as ``PHP_SHA256``,
  ``TOKEN_URL`` or ``client_id`` holds something about one.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter


def entropy(value: bytes) -> float:
    """Shannon entropy in bits per byte."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# Substrings that mark a value written for documentation or a template, not a
# credential: random tokens practically never contain them.
PLACEHOLDER_WORDS = (
    b"example", b"placeholder", b"changeme", b"change_me", b"change-me", b"changeit", b"dummy", b"sample",
    b"redacted", b"fake", b"your_", b"your-", b"yourkey", b"yourtoken", b"yoursecret", b"mysecret", b"mytoken",
    b"mykey", b"mypassword", b"insert", b"replace", b"notreal", b"not_real", b"not-a-", b"todo", b"fixme",
    b"xxxx", b"****", b"...", b"####", b"<", b">", b"${", b"{{", b"}}", b"$(", b"%(", b"#{", b"%%",
)
# A value that contains the word it is named after ("password123", "my_token_1") is a stand-in.
SELF_WORDS = (b"password", b"passwd", b"secret", b"token", b"apikey", b"api_key", b"api-key")
# One search instead of a containment test per word: this runs on every candidate value.
_PLACEHOLDER_RX = re.compile(b"|".join(re.escape(w) for w in PLACEHOLDER_WORDS))
_SELF_RX = re.compile(b"|".join(re.escape(w) for w in SELF_WORDS))


def has_run(value: bytes, limit: int) -> bool:
    """A run of ``limit`` equal bytes, or of ``limit`` consecutive ascending or descending characters."""
    same = up = down = 1
    for a, b in zip(value, value[1:]):
        same = same + 1 if a == b else 1
        up = up + 1 if b == a + 1 else 1
        down = down + 1 if b == a - 1 else 1
        if same >= limit or up >= limit or down >= limit:
            return True
    return False


def is_placeholder(value: bytes, *, self_words: bool = True, run_limit: int = 6) -> bool:
    """Written to be replaced: a placeholder word, the value's own name, or a run (``AAAAAA``, ``123456``)."""
    low = value.lower()
    if _PLACEHOLDER_RX.search(low):
        return True
    if self_words and _SELF_RX.search(low):
        return True
    return run_limit > 0 and has_run(value, run_limit)


# --- key names ---------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
# Words of a name that say it holds an integrity hash, or something about a secret rather than the secret.
NOT_SECRET_WORDS = frozenset(
    "sha sha1 sha224 sha256 sha384 sha512 md5 checksum checksums digest hash hashes integrity fingerprint crc "
    "public pub publishable file path dir directory url uri endpoint host hostname server port name names type "
    "length len size bits timeout ttl expiry expires expiration format prefix header field param params env var "
    "label policy rotation min max count enabled enable disabled required regex pattern id ids".split()
)
_SECRET_WORDS = frozenset(
    "secret secrets token tokens password passwords passwd pass pwd passphrase apikey apitoken auth authtoken "
    "credential credentials creds accesskey privatekey secretkey signingkey encryptionkey masterkey licensekey "
    "appkey authkey bearer".split()
)
_SECRET_SUFFIXES = ("password", "passwd", "secret", "token", "apikey", "passphrase", "credentials")
_KEY_QUALIFIERS = frozenset("api access auth private secret signing encryption master license app client".split())


def _words(name: bytes) -> tuple[str, ...]:
    text = name.decode("latin-1")
    return tuple(w.lower() for w in _SPLIT.split(_CAMEL.sub("_", text)) if w)


# The same few names ("password", "token", "secret_key") recur in thousands of files; only short
# names are kept, so that a hostile file's megabyte-long names never fill the memo.
_memo_words = functools.lru_cache(maxsize=4096)(_words)
_MEMO_NAME = 64


def key_words(name: bytes) -> tuple[str, ...]:
    """``dbPassword`` -> ``("db", "password")``; ``AWS_SECRET_ACCESS_KEY`` -> five words."""
    return _memo_words(name) if len(name) <= _MEMO_NAME else _words(name)


def key_is_reference(name: bytes) -> bool:
    """``TOKEN_URL``, ``PHP_SHA256``, ``secret_key_path``, ``client_id``: names that do not hold a secret."""
    return any(w in NOT_SECRET_WORDS for w in key_words(name))


def key_says_secret(name: bytes) -> bool:
    """A whole word of the name says secret (``AUTHOR`` does not; ``PGPASSWORD``, ``api_key``, ``oauth`` do)."""
    words = key_words(name)
    for i, w in enumerate(words):
        if w in _SECRET_WORDS or w.endswith(_SECRET_SUFFIXES) or w == "oauth":
            return True
        if w == "key" and i and words[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


# --- value shapes ------------------------------------------------------------------

# ``module.Class``, ``x25519.X25519PrivateKey``: short dotted names are code (random dotted
# tokens such as JWTs have long segments).
_DOTTED_CODE = re.compile(rb"^[A-Za-z_$][A-Za-z0-9_$]{0,23}(?:\.[A-Za-z_$][A-Za-z0-9_$]{0,23})+$")
_IDENT = re.compile(rb"^[A-Za-z_]+$")
_TOKENS = re.compile(rb"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
HASH_LABEL = re.compile(rb"(?i)^(?:sha(?:1|224|256|384|512)?|md5|blake2[bs]?|crc32|xxh\d*)[=:\-]")
_SEPARATED = re.compile(rb"[_./\- @]")
_CAMEL_BYTES = re.compile(rb"[a-z][A-Z][a-z]")
_CONSONANT_RUN = re.compile(rb"(?i)[b-df-hj-np-tv-xz]{5}")


def _pronounceable(piece: bytes) -> bool:
    """Has a vowel and no run of five consonants (a word, not a random run of letters)."""
    return any(v in piece.lower() for v in b"aeiouy") and not _CONSONANT_RUN.search(piece)


def wordy(value: bytes, share: float = 0.8) -> bool:
    """Made of words, like an identifier, type name or path (``AwsVpcConfiguration``,
    ``aws_temporary_credentials_1``, ``mozilla/ACCVRAIZ1.crt``), not generated.

    The value is cut at case changes, digits and punctuation; when most of its
    letters sit in pieces of 3+ letters that have a vowel, it reads as words.
    A run of random letters without separators or camel case is never wordy,
    however pronounceable its pieces are.
    """
    letters = sum(65 <= c <= 90 or 97 <= c <= 122 for c in value)
    digits = sum(48 <= c <= 57 for c in value)
    if not letters or digits > 0.35 * len(value):  # generated strings are dense with digits
        return False
    if not (_SEPARATED.search(value) or _CAMEL_BYTES.search(value)):
        return False
    in_words = sum(len(t) for t in _TOKENS.findall(value) if len(t) >= 3 and t.isalpha() and _pronounceable(t))
    return in_words >= share * letters


_NOT_A_START = frozenset(b"$%@&*!/.~#-+=:")


def random_looking(value: bytes, *, min_len: int = 12, min_entropy: float = 3.0) -> bool:
    """Could this be a generated credential (not a word, identifier, path, hash label or reference)?"""
    if len(value) < min_len or value[0] in _NOT_A_START:
        return False
    if b"://" in value or b"$" in value or _DOTTED_CODE.match(value) or _IDENT.match(value):
        return False
    if HASH_LABEL.match(value) or wordy(value):
        return False
    digits = sum(48 <= c <= 57 for c in value)
    letters = sum(65 <= c <= 90 or 97 <= c <= 122 for c in value)
    if digits == len(value):
        return len(value) >= 16 and not has_run(value, 5) and entropy(value) >= 2.8
    if digits == 0:
        upper = any(65 <= c <= 90 for c in value)
        lower = any(97 <= c <= 122 for c in value)
        if not (len(value) >= 24 and upper and lower and entropy(value) >= 4.0):
            return False
    if letters == 0 and digits == 0:
        return False
    return entropy(value) >= min_entropy


def percent_decode(value: bytes) -> bytes:
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), value)
