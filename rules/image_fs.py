"""LI8xx: image file-system hygiene — modes, accounts, credential files, files that should not ship."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from lintimg.engine.rule import rule
from lintimg.engine.target import ImageTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import image_hit
from lintimg.image.model import FEW, Entries, EntryType, LayerEntry, affixed, joined_chunks, mentions, view_paths, with_mode
from lintimg.image.stats import CACHES, human

ID_RANGE = "LI800-LI899"


@rule("LI800", "setuid-setgid-file", Severity.INFO, subject=Subject.IMAGE, tags=("image", "security", "permissions"),
      peers=("CIS-DI-0008",), security_severity=3.0)
def setuid_setgid_file(t: ImageTarget) -> Iterator[Hit]:
    """A file in the image has the setuid or setgid bit.

    ## What it does
    Lists every regular file of the final file system whose mode has the
    setuid (`04000`) or setgid (`02000`) bit, with its mode and owner.

    ## Why it matters
    A setuid program runs with its owner's rights whoever starts it; each
    one is a way from a compromised unprivileged process to root. Most
    containers need none.

    ## Example
    `/usr/bin/passwd`, `/bin/su` and `/bin/mount` in a Debian base image.

    ## Fix
    Drop the bits in the final stage:
    `RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +`, or use a
    base image without them.
    """
    for path, f in with_mode(t.image.files, 0o6000):  # by path
        e = f.entry
        if e.type is EntryType.FILE:
            bits = "setuid and setgid" if e.mode & 0o6000 == 0o6000 else ("setuid" if e.mode & 0o4000 else "setgid")
            yield image_hit(t, f"/{path} is {bits} (mode {e.mode & 0o7777:04o}, owner {e.uid}:{e.gid})", layer=f.layer, path=path,
                            fix="remove the bit with chmod a-s in the final stage unless the program needs it")


@rule("LI801", "world-writable-file", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "security", "permissions"),
      security_severity=4.0)
def world_writable_file(t: ImageTarget) -> Iterator[Hit]:
    """A file or directory in the image is writable by every user.

    ## What it does
    Lists regular files and directories of the final file system with the
    "others may write" bit (`o+w`). Directories with the sticky bit (like
    `/tmp`, mode `1777`) are fine and left out; symlinks are ignored.

    ## Why it matters
    Any process in the container, whatever its user, can change such a file
    — a script the entrypoint runs, a config, a library — and so take over
    what later runs as a more privileged user.

    ## Example
    ```dockerfile
    COPY app.sh /app/
    RUN chmod 777 /app/app.sh
    ```

    ## Fix
    Give write access only to the user that needs it (`chmod 755`,
    `chown app`), or use a sticky directory for shared scratch space.
    """
    for path, f in with_mode(t.image.files, 0o002):  # by path
        e = f.entry
        if e.type is EntryType.FILE or (e.type is EntryType.DIR and not e.mode & 0o1000):
            kind = "directory" if e.type is EntryType.DIR else "file"
            yield image_hit(t, f"{kind} /{path} is world-writable (mode {e.mode & 0o7777:04o})", layer=f.layer, path=path,
                            fix="remove o+w (chmod o-w) or make the directory sticky")


def _records(t: ImageTarget, path: str) -> list[list[str]] | None:
    data = t.image.content(path)
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    return [line.split(":") for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@rule("LI802", "empty-password", Severity.ERROR, subject=Subject.IMAGE, tags=("image", "security", "accounts"),
      peers=("DKL-LI-0001",), security_severity=8.0,
      divergences={"DKL-LI-0001": "lintimg also reads /etc/passwd, where an empty second field also means no password."})
def empty_password(t: ImageTarget) -> Iterator[Hit]:
    """An account in the image has an empty password.

    ## What it does
    Reads `/etc/shadow` and `/etc/master.passwd` (and `/etc/passwd`, whose
    second field can also hold the password) of the final file system and
    reports accounts whose password field is empty. Locked fields (`!`, `*`,
    `x`) are fine.

    ## Why it matters
    An account with an empty password lets anyone log in or `su` to it
    without a password.

    ## Example
    A shadow line `app::19000:0:99999:7:::`.

    ## Fix
    Lock the account (`passwd -l app`, or `usermod -p '*' app`) in the
    Dockerfile that creates it.
    """
    for path in ("etc/shadow", "etc/master.passwd", "etc/passwd"):
        for rec in _records(t, path) or ():
            if len(rec) >= 2 and rec[1] == "":
                yield image_hit(t, f"account {rec[0]!r} has an empty password in /{path}", layer=t.image.files[path].layer, path=path,
                                key=f"{path}:{rec[0]}", fix=f"lock the account: usermod -p '*' {rec[0]}")


@rule("LI803", "duplicate-uid-gid", Severity.ERROR, subject=Subject.IMAGE, tags=("image", "security", "accounts"),
      peers=("DKL-LI-0002",), security_severity=5.0)
def duplicate_uid_gid(t: ImageTarget) -> Iterator[Hit]:
    """Two accounts share a UID in `/etc/passwd`, or two groups a GID in `/etc/group`.

    ## What it does
    Reads `/etc/passwd` and `/etc/group` of the final file system and
    reports each UID or GID that more than one name uses.

    ## Why it matters
    The kernel knows only numbers: two names with one UID are one user, so
    files and rights meant for one are the other's too, and logs name the
    wrong account.

    ## Example
    `app:x:0:0::/app:/bin/sh` next to `root:x:0:0:…`.

    ## Fix
    Give each account its own id (`useradd -u`), or remove the duplicate.
    """
    for path, what in (("etc/passwd", "UID"), ("etc/group", "GID")):
        owners: dict[str, list[str]] = defaultdict(list)
        for rec in _records(t, path) or ():
            if len(rec) >= 3 and rec[2].strip():
                owners[rec[2].strip()].append(rec[0])
        for num, names in sorted(owners.items()):
            if len(names) > 1:
                yield image_hit(t, f"{what} {num} is shared by {', '.join(names)} in /{path}", layer=t.image.files[path].layer, path=path,
                                key=f"{path}:{num}", fix=f"give each name its own {what}")


CREDENTIAL_NAMES = frozenset({
    "credentials.json", "credential.json", "credentials", "credential", "password.txt", "credentials.xml", ".env",
    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "secret_token.rb", "carrierwave.rb", "omniauth.rb", "settings.py", "database.yml",
})
CREDENTIAL_EXTENSIONS = frozenset({
    ".secret", ".ovpn", ".private_key", ".cscfg", ".rdp", ".mdf", ".sdf", ".bek", ".tpm", ".fve", ".jks", ".psafe3",
    ".agilekeychain", ".keychain", ".pcap", ".gnucache",
})
def _extension(name: str) -> str:
    """``posixpath.splitext(name)[1].lower()``, without its cost (leading dots do not start an extension)."""
    stem = name.lstrip(".")
    dot = stem.rfind(".")
    return stem[dot:].lower() if dot > 0 else ""


# Code installed by package managers and toolchains (a settings.py or a Dockerfile there is not yours).
_LIBRARY_DIR = re.compile(r"(^|/)(site-packages|dist-packages|node_modules|vendor|gems)/|^(usr/local/go|usr/(lib|share)/go-[^/]+|usr/lib/go|(root/)?go/pkg/mod)/")


@rule("LI804", "credential-file", Severity.ERROR, subject=Subject.IMAGE, tags=("image", "security", "secrets"),
      peers=("CIS-DI-0010",), security_severity=7.5,
      divergences={"CIS-DI-0010": "lintimg also looks in every layer (files deleted later are still shipped) and skips library directories (site-packages, node_modules, vendor, gems)."})
def credential_file(t: ImageTarget) -> Iterator[Hit]:
    """A file whose name says it holds credentials is in the image (in any layer).

    ## What it does
    Looks at every file of every layer, deleted ones included, for names
    like `id_rsa`, `.env`, `credentials.json`, `password.txt`,
    `database.yml`, and extensions like `.ovpn`, `.jks`, `.keychain`,
    `.private_key`. Files inside installed libraries (site-packages,
    node_modules, vendor, gems) are skipped. A file deleted later is
    reported with the layer that deleted it.

    ## Why it matters
    Anyone who can pull the image can read every layer; deleting the file
    later hides it from `ls` but not from `docker save`.

    ## Example
    ```dockerfile
    COPY id_rsa /root/.ssh/id_rsa
    RUN git clone git@example.com:team/repo.git && rm /root/.ssh/id_rsa
    ```

    ## Fix
    Keep credentials out of the build context (`.dockerignore`) and pass
    them with `RUN --mount=type=secret` or at run time; rotate any that
    shipped.
    """
    seen: set[str] = set()
    for layer in t.image.layers:
        for e in _named_like_credentials(layer.entries):
            base = e.path.rpartition("/")[2]
            if base not in CREDENTIAL_NAMES and ("." not in base or _extension(base) not in CREDENTIAL_EXTENSIONS):
                continue
            if e.type is not EntryType.FILE or e.path in seen or _LIBRARY_DIR.search(e.path):
                continue
            seen.add(e.path)
            final = t.image.files.get(e.path)
            gone = ""
            if final is None:
                later = [ev.layer for ev in t.image.history_by_path.get(e.path, ()) if ev.layer > layer.index and ev.entry is None]
                gone = f" (deleted in layer {later[0]}, still in layer {layer.index})" if later else f" (hidden later, still in layer {layer.index})"
            yield image_hit(t, f"credential-looking file /{e.path}{gone}", layer=layer.index, path=e.path,
                            fix="keep it out of the build context and use a secret mount or a runtime secret")


_CREDENTIAL_ENDS = tuple("/" + n for n in CREDENTIAL_NAMES)


def _named_like_credentials(entries: Entries) -> list[LayerEntry]:
    """The entries whose name may be a credential file's (more is allowed): by name, or by extension in any case;
    a few searches of all the paths first, which rule out nearly every file of a big image at once."""
    paths = entries.searched()  # (joined once for every search of the layer's paths)
    found = set(affixed(paths, ends=_CREDENTIAL_ENDS, names=CREDENTIAL_NAMES))
    extensions = tuple(CREDENTIAL_EXTENSIONS)
    for at, (text, _) in zip(range(0, len(paths), FEW), joined_chunks(paths)):
        low = text.lower()  # (a chunk of a few thousand paths at a time: the lowered text is short-lived)
        if mentions(low, ends=extensions):  # rarely: then each path, lowered
            some = range(at, min(at + FEW, len(paths)))
            lowered = low[1:-1].split("\0")
            if len(lowered) != len(some):  # a NUL in a path: look at each
                found.update(some)
            else:
                found.update(at + i for i in affixed(lowered, ends=extensions))
    return [entries[i] for i in sorted(found)]


UNNEEDED_FILES = frozenset({"Dockerfile", "docker-compose.yml", ".vimrc", ".DS_Store"})
UNNEEDED_DIRS = frozenset({".cache", ".aws", ".azure", ".gcp", ".git", ".vscode", ".idea", ".npm"})


_UNNEEDED_ENDS = tuple("/" + n for n in UNNEEDED_FILES)


@rule("LI805", "unneeded-file", Severity.INFO, subject=Subject.IMAGE, tags=("image", "size"),
      peers=("DKL-LI-0003",),
      divergences={"DKL-LI-0003": "a .cache or .npm directory that holds only a package-manager cache is left to package-cache-in-layer, which measures it per layer; "
                                  "installed libraries and toolchain trees (site-packages, gems, the Go tree) are skipped like node_modules and vendor."})
def unneeded_file(t: ImageTarget) -> Iterator[Hit]:
    """Files that only matter on a developer's machine ship in the image (`.git`, `.idea`, `Dockerfile`, …).

    ## What it does
    Reports, in the final file system, files named `Dockerfile`,
    `docker-compose.yml`, `.vimrc`, `.DS_Store`, and directories `.git`,
    `.cache`, `.aws`, `.azure`, `.gcp`, `.vscode`, `.idea`, `.npm` (one
    finding per directory, with its file count and size). Paths under
    `node_modules/` and `vendor/` are skipped, and so are other installed
    libraries and toolchain trees (site-packages, gems, the Go tree, whose
    sources carry their own Dockerfiles).

    ## Why it matters
    They add bytes and leak things: a `.git` directory holds the full
    history (and any secret ever committed), `.aws` holds credentials.

    ## Example
    `COPY . /app` with no `.dockerignore`, which puts `/app/.git` in the
    image.

    ## Fix
    List them in `.dockerignore`, or copy only what the application needs.
    """
    dirs: dict[str, dict[str, int]] = {}
    # every name it looks for is a file's name or a dot-directory: others are ruled out before any split
    paths = view_paths(t.image)
    found = {*affixed(paths, ends=_UNNEEDED_ENDS, starts=(".",), names=UNNEEDED_FILES), *affixed(paths, parts=("/.",))}
    candidates = [(paths[i], t.image.files[paths[i]]) for i in found]
    for path, f in sorted(candidates):
        if _LIBRARY_DIR.search(path):
            continue
        parts = path.split("/")
        at = next((i for i, p in enumerate(parts[:-1]) if p in UNNEEDED_DIRS), None)
        if at is not None:
            d = dirs.setdefault("/".join(parts[: at + 1]), {"files": 0, "bytes": 0, "cache": 0, "layer": f.layer})
            if f.entry.type is EntryType.FILE:
                d["files"] += 1
                d["bytes"] += f.entry.size
                d["cache"] += any(c.pattern.match(path) for c in CACHES)
        elif parts[-1] in UNNEEDED_FILES and f.entry.type is EntryType.FILE:
            yield image_hit(t, f"/{path} does not belong in the image", layer=f.layer, path=path, fix="exclude it in .dockerignore")
    for path, d in sorted(dirs.items()):
        if d["files"] and d["cache"] == d["files"]:
            continue  # only a package cache: package-cache-in-layer measures it
        yield image_hit(t, f"/{path} does not belong in the image ({d['files']} files, {human(d['bytes'])})", layer=d["layer"], path=path,
                        fix="exclude it in .dockerignore or remove it in the stage that makes it")
