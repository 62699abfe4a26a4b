"""Which context files should not reach an image, and which ones bloat what is sent."""
from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable

from lintimg import limits
from lintimg.context.walk import Entry, Subtree, make_entry
from lintimg.records import record

# Names whose content decides (certificates are .pem too; an .npmrc may hold only a registry URL).
CONTENT_LIMIT = 256 * 1024
_KEY_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"}
_KEY_EXTS = {".p12", ".pfx", ".jks", ".keystore", ".ppk"}
_KEY_EXTS_BY_CONTENT = {".pem", ".key"}
_ENV_SAFE_SUFFIXES = {"example", "sample", "template", "dist", "defaults", "tpl", "schema"}
# basename (or path suffix) -> (what it is, bytes that must appear in it; None: always sensitive)
_CREDENTIAL_FILES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".npmrc": ("npm credentials", (b"_authToken", b"_auth", b"_password")),
    ".yarnrc.yml": ("yarn credentials", (b"npmAuthToken", b"npmAuthIdent")),
    ".pypirc": ("PyPI credentials", (b"password",)),
    ".netrc": ("netrc credentials", (b"password",)),
    "_netrc": ("netrc credentials", (b"password",)),
    ".git-credentials": ("git credentials", None),
    ".pgpass": ("PostgreSQL password file", None),
    ".htpasswd": ("htpasswd file", None),
    ".dockercfg": ("Docker registry credentials", None),
    ".docker/config.json": ("Docker registry credentials", (b'"auth"',)),
    ".gem/credentials": ("RubyGems credentials", None),
    ".aws/credentials": ("AWS credentials", None),
    ".aws/config": ("AWS credentials", (b"aws_secret_access_key",)),
    ".boto": ("cloud credentials (boto)", (b"secret_access_key", b"gs_secret_access_key")),
    ".s3cfg": ("S3 credentials", (b"secret_key",)),
    "application_default_credentials.json": ("Google Cloud credentials", None),
    ".azure/accessTokens.json": ("Azure CLI tokens", None),
    ".azure/msal_token_cache.json": ("Azure CLI tokens", None),
    ".kube/config": ("kubeconfig", None),
    "kubeconfig": ("kubeconfig", None),
}


@record(frozen=True)
class Sensitive:
    entry: Entry
    what: str  # "private key", ".env file", "kubeconfig", ...


def _read_head(root: str, e: Entry) -> bytes:
    if e.kind != "file" or e.size > CONTENT_LIMIT:
        return b""
    try:
        return limits.read_file(os.path.join(root, e.rel), CONTENT_LIMIT, follow=False)
    except OSError:  # gone, swapped for a FIFO or a device, or grown past the limit
        return b""


# One pass that rules out almost every name before the exact checks below (a walk may hold 100k files).
_CANDIDATE = re.compile(
    "|".join(
        [
            "|".join(re.escape(n.lower()) + r"\Z" for n in _KEY_NAMES),
            r".*\.(?:p12|pfx|jks|keystore|ppk|pem|key|tfstate|tfstate\.backup|kubeconfig)\Z",
            r"\.env(?:\..*)?\Z",
            "|".join(re.escape(k.rsplit("/", 1)[-1].lower()) + r"\Z" for k in _CREDENTIAL_FILES),
            r".*(?:credential|service-?account).*\.json\Z",
        ]
    )
)


def classify(root: str, e: Entry) -> str | None:
    """What makes ``e`` sensitive, or ``None``. Reads the file only for names that need it."""
    if e.kind not in ("file", "link"):
        return None
    rel = e.rel
    name = e.name
    low = name.lower()
    if not _CANDIDATE.match(low):
        return None
    ext = os.path.splitext(low)[1]
    if name in _KEY_NAMES or ext in _KEY_EXTS:
        return "private key"
    if ext in _KEY_EXTS_BY_CONTENT and b"PRIVATE KEY" in _read_head(root, e):
        return "private key"
    if low == ".env" or (low.startswith(".env.") and low[5:] not in _ENV_SAFE_SUFFIXES):
        return ".env file"
    if low.endswith((".tfstate", ".tfstate.backup")):
        return "Terraform state"
    if low.endswith(".kubeconfig"):
        return "kubeconfig"
    for key, (what, needles) in _CREDENTIAL_FILES.items():
        if rel == key or rel.endswith("/" + key) or (name == key):
            if needles is None:
                return what
            head = _read_head(root, e)
            if any(n in head for n in needles):
                return what
            return None
    if ext == ".json" and ("credential" in low or "service-account" in low or "serviceaccount" in low):
        head = _read_head(root, e)
        if b'"private_key"' in head or b'"client_secret"' in head:
            return "cloud credentials"
    return None


def git_dir_of(rel: str) -> str | None:
    """The ``.git`` directory a path lies in, if any."""
    parts = rel.split("/")
    if ".git" in parts[:-1]:
        return "/".join(parts[: parts.index(".git") + 1])
    return None


def sensitive_in(root: str, tree: Subtree) -> list[Sensitive]:
    """Sensitive files of a subtree; a ``.git`` directory is reported once, as the directory."""
    out: list[Sensitive] = []
    gits: dict[str, Entry] = {}
    for e in tree.files:
        g = git_dir_of(e.rel)
        if g is not None:
            gits.setdefault(g, e)
            continue
        what = classify(root, e)
        if what:
            out.append(Sensitive(e, what))
    for g in gits:
        out.append(Sensitive(make_entry(g, "dir"), "git repository (history, remotes, maybe credentials)"))
    return out


# Entries a context should not send: (label, predicate on the path parts of a directory or file).
_JUNK_DIRS = {
    ".git": "git history",
    "node_modules": "installed npm packages",
    ".venv": "virtualenv",
    "venv": "virtualenv",
    ".virtualenv": "virtualenv",
    "__pycache__": "Python bytecode",
    ".pytest_cache": "test cache",
    ".mypy_cache": "type-checker cache",
    ".tox": "tox environments",
    "dist": "build output",
    "build": "build output",
    "target": "build output",
    ".next": "build output",
    ".nuxt": "build output",
    ".gradle": "Gradle cache",
    "coverage": "coverage reports",
    ".idea": "editor settings",
    ".vscode": "editor settings",
}
_JUNK_FILES = (
    (".env", ".env file"),
    (".env.*", ".env file"),
    (".DS_Store", "OS junk"),
    ("Thumbs.db", "OS junk"),
    ("*.swp", "editor swap file"),
    ("*~", "editor backup"),
    ("*.pyc", "Python bytecode"),
)
_JUNK_FILE_RE = "|".join(fnmatch.translate(p) for p, _ in _JUNK_FILES)  # compiled on first use (re's cache)


@record
class Notable:
    path: str  # the directory or file
    what: str
    directory: bool
    files: int = 0
    bytes: int = 0


def notable_in(tree: Subtree) -> list[Notable]:
    """Unwanted entries that are sent (.git, node_modules, virtualenvs, build output, junk), largest first."""
    found: dict[str, Notable] = {}
    for e in tree.files:
        parts = e.rel.split("/")
        hit = None
        for i, part in enumerate(parts[:-1]):
            if part in _JUNK_DIRS:
                hit = ("/".join(parts[: i + 1]), _JUNK_DIRS[part], True)
                break
        if hit is None:
            if not re.match(_JUNK_FILE_RE, parts[-1]) or _safe_env(parts[-1]):
                continue
            what = next(w for pat, w in _JUNK_FILES if fnmatch.fnmatchcase(parts[-1], pat))
            hit = (e.rel, what, False)
        n = found.setdefault(hit[0], Notable(*hit))
        n.files += 1
        n.bytes += e.size if e.kind == "file" else 0
    return sorted(found.values(), key=lambda n: (-n.bytes, n.path))


def _safe_env(name: str) -> bool:
    low = name.lower()
    return low.startswith(".env.") and low[5:] in _ENV_SAFE_SUFFIXES


def human(n: float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as Docker prints sizes)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def describe(items: Iterable[Notable], limit: int = 6) -> str:
    items = list(items)
    shown = [f"{n.path}{'/' if n.directory else ''} ({n.what}, {n.files} file{'s' if n.files != 1 else ''}, {human(n.bytes)})" for n in items[:limit]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more
