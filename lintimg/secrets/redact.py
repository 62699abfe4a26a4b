"""Secret-looking names and redaction: what a report may show of a secret.

Secret values are never printed whole: :func:`redact` keeps a short prefix
and the length, :func:`fingerprint` is the value's sha256 (allowlists and
SARIF fingerprints use it), :func:`scrub` masks secret-named assignments and
URL passwords in text that reports echo (image history lines).
"""
from __future__ import annotations

import re

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


ASSIGNMENT = re.compile(r"""(?<![\w$])([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s;&|]+)""")
_URL_PASSWORD = re.compile(r"(://[^\s:/@]+:)[^\s@/]+@")


def scrub(text: str) -> str:
    """``text`` (a history ``created_by``, say) with the values of secret-named assignments and URL passwords redacted."""

    def value(m: re.Match[str]) -> str:
        v = m.group(2).strip("\"'")
        # no spaces in the mask: rebuilt Dockerfile text must still parse as one word
        return f"{m.group(1)}={v[: min(4, len(v) // 4)]}***" if secret_name(m.group(1)) else m.group(0)

    return _URL_PASSWORD.sub(r"\1***@", ASSIGNMENT.sub(value, text))


def redact(value: str) -> str:
    """A short prefix (at most 4 characters, and at most a quarter of the value) plus the length."""
    keep = min(4, len(value) // 4)
    return f"{value[:keep]}…({len(value)} chars)"



def fingerprint(value: str) -> str:
    import hashlib  # here: the redaction layer loads this module in every run, a fingerprint only with a secret

    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
