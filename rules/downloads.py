"""LI340–LI359: downloads, ADD, TLS verification switches, piping to a shell, secret mounts."""
from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator

from lintimg.dockerfile import Dockerfile, Instruction, Token
from lintimg.dockerfile.queries import cmd_hit, commands_of, hit, run_commands, run_mounts
from lintimg.dockerfile.shell import Command
from lintimg.dockerfile.stages import ships
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes
from lintimg.rules._common import as_pip, assigned

ID_RANGE = "LI340-LI359"

# ---------------------------------------------------------------- vocabulary


def settings(df: Dockerfile) -> Iterator[tuple[Instruction, Token | None, Command | None, str, str]]:
    """Every place a variable is set: ARG/ENV pairs, and ``VAR=value`` / ``export VAR=value`` in RUN.

    Yields ``(instruction, token of an ARG/ENV key, RUN command, name, value)``.
    """
    for ins in df.instructions:
        if ins.keyword in ("ARG", "ENV"):
            for key, value, tok in ins.key_values():
                yield ins, tok, None, key, value or ""
    for ins, cmd in run_commands(df):
        for key, value in assigned(cmd):
            yield ins, None, cmd, key, value


def env_switch(t: DockerfileTarget, names: tuple[str, ...], bad: Callable[[str], bool], what: str, *, ignore_case: bool = False) -> Iterator[Hit]:
    """Hits where one of ``names`` is set (ARG, ENV or RUN) to a value ``bad`` accepts."""
    wanted = {n.lower() for n in names} if ignore_case else set(names)
    for ins, tok, cmd, key, value in settings(t.dockerfile):
        if (key.lower() if ignore_case else key) in wanted and bad(value):
            message = f"{key}={value} {what}"
            fix = f"remove {key}"
            yield cmd_hit(ins, cmd, message, fix=fix, key=key) if cmd is not None else hit(ins, message, token=tok, fix=fix, key=key)


def downloads(cmd: Command) -> bool:
    return cmd.name in ("curl", "wget")


# ---------------------------------------------------------------- curl / wget


@rule("LI340", "wget-and-curl", Severity.WARNING, tags=("download", "size"), peers=("DL4001", "DS-0014", "KICS-fc775e75"))
def wget_and_curl(t: DockerfileTarget) -> Iterator[Hit]:
    """Use either wget or curl in a stage, not both.

    ## What it does
    Within one stage that ships, once both `wget` and `curl` have been
    used, flags each RUN that uses either of them. A stage that is not
    shipped (only copied from) is not checked.

    ## Why it matters
    Two tools that do the same job mean two packages (and their libraries)
    to install, patch and ship.

    ## Example
    ```dockerfile
    RUN wget -q https://example.com/a.tgz
    RUN curl -fsSLO https://example.com/b.tgz
    ```

    ## Fix
    Pick one tool for every download in the stage.
    """
    df = t.dockerfile
    seen: dict[int | None, set[str]] = {}
    for ins, cmd in run_commands(df):
        if not downloads(cmd) or not ships(df, ins):
            continue
        tools = seen.setdefault(ins.stage_index, set())
        tools.add(cmd.name)
        if len(tools) == 2:
            yield cmd_hit(ins, cmd, f"`{cmd.name}` in a stage that uses both wget and curl", fix="use one download tool")


@rule("LI341", "wget-progress", Severity.INFO, tags=("download",), peers=("DL3047",), fixable=(Safety.SAFE,))
def wget_progress(t: DockerfileTarget) -> Iterator[Hit]:
    """Quieten wget's progress bar.

    ## What it does
    Flags `wget` without `--progress=…`, `-q`/`--quiet`, `-nv`/
    `--no-verbose`, or its output sent to a file (`-o`, `-a`).

    ## Why it matters
    Without a terminal wget prints a progress line per chunk; large
    downloads flood the build log with thousands of lines.

    ## Example
    ```dockerfile
    RUN wget https://example.com/tool.tgz
    ```

    ## Fix
    ```dockerfile
    RUN wget --progress=dot:giga https://example.com/tool.tgz
    ```
    Safe autofix: `-nv` (`--no-verbose`: errors and one line per file are
    still printed) is added after `wget` where GNU wget is known to run: a
    stage that installs the `wget` package, or a base image of a family that
    ships it. Elsewhere (Alpine and BusyBox, whose wget knows neither
    `-nv` nor `--progress`) `-q`, which every wget accepts. The download
    itself does not change.
    """
    quiet = ("progress", "q", "quiet", "nv", "no-verbose", "o", "output-file", "a", "append-output")
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name == "wget" and not cmd.has_flag(*quiet):
            yield cmd_hit(ins, cmd, "`wget` without `--progress` floods the build log", fix="add `--progress=dot:giga` or `-q`",
                          edits=_fixes.add_option(ins, cmd, "-nv" if _fixes.gnu_wget(t.dockerfile, ins) else "-q"))


def _tls_flag(t: DockerfileTarget, tool: str, flags: tuple[str, ...], shown: str) -> Iterator[Hit]:
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name == tool and cmd.has_flag(*flags):
            yield cmd_hit(ins, cmd, f"`{tool} {shown}` downloads without checking the server's certificate",
                          fix=f"remove `{shown}`; add the CA certificate if the server uses a private one")


@rule("LI342", "curl-insecure", Severity.ERROR, tags=("download", "tls", "security"), peers=("CKV2_DOCKER_2",), security_severity=7.0)
def curl_insecure(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not turn off certificate checks in curl.

    ## What it does
    Flags `curl -k` / `curl --insecure`.

    ## Why it matters
    Anyone on the network path can then serve a different file, and it
    ends up in the image.

    ## Example
    ```dockerfile
    RUN curl -kfsSLO https://example.com/tool.tgz
    ```

    ## Fix
    ```dockerfile
    RUN curl -fsSLO https://example.com/tool.tgz
    ```
    """
    yield from _tls_flag(t, "curl", ("k", "insecure"), "--insecure")


@rule("LI343", "wget-no-check-certificate", Severity.ERROR, tags=("download", "tls", "security"), peers=("CKV2_DOCKER_3",),
      security_severity=7.0)
def wget_no_check_certificate(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not turn off certificate checks in wget.

    ## What it does
    Flags `wget --no-check-certificate`.

    ## Why it matters
    Anyone on the network path can then serve a different file, and it
    ends up in the image.

    ## Example
    ```dockerfile
    RUN wget --no-check-certificate https://example.com/tool.tgz
    ```

    ## Fix
    ```dockerfile
    RUN wget -q https://example.com/tool.tgz
    ```
    """
    yield from _tls_flag(t, "wget", ("no-check-certificate",), "--no-check-certificate")


@rule("LI344", "git-ssl-no-verify", Severity.ERROR, tags=("git", "tls", "security"), peers=("CKV2_DOCKER_14",), security_severity=7.0)
def git_ssl_no_verify(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not set `GIT_SSL_NO_VERIFY`.

    ## What it does
    Flags `GIT_SSL_NO_VERIFY` set by ARG, ENV, `export` or a command
    prefix, to any value (git ignores the value: being set is enough),
    and `git config http.sslVerify false`.

    ## Why it matters
    git then clones over TLS without checking the server, so the code
    built into the image may not be the code you meant. Set in ENV, it
    stays on for every git call in every container of the image.

    ## Example
    ```dockerfile
    ENV GIT_SSL_NO_VERIFY=1
    ```

    ## Fix
    Remove it; add the CA certificate of a private git server instead.
    """
    yield from env_switch(t, ("GIT_SSL_NO_VERIFY",), lambda v: True, "turns off TLS certificate checks in git")
    for ins, cmd in run_commands(t.dockerfile):
        ops = [a.lower() for a in cmd.args_no_flags()]
        if cmd.name == "git" and "config" in ops and "http.sslverify" in ops and ops[-1] in ("false", "0", "no", "off"):
            yield cmd_hit(ins, cmd, "`git config http.sslVerify false` turns off TLS certificate checks", fix="remove it")


@rule("LI345", "pip-trusted-host", Severity.ERROR, tags=("pip", "tls", "security"), peers=("CKV2_DOCKER_4", "CKV2_DOCKER_16"),
      security_severity=7.0)
def pip_trusted_host(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not make pip trust a host without TLS checks.

    ## What it does
    Flags `pip --trusted-host`, `pip config set …trusted-host`, and
    `PIP_TRUSTED_HOST` set by ARG, ENV, `export` or a command prefix.

    ## Why it matters
    pip then accepts that host over plain HTTP or with any certificate,
    so the packages installed may not be the ones published.

    ## Example
    ```dockerfile
    RUN pip install --trusted-host pypi.org requests==2.32.3
    ```

    ## Fix
    Remove the switch; give pip the CA certificate (`--cert`) of a private index.
    """
    yield from env_switch(t, ("PIP_TRUSTED_HOST",), lambda v: True, "makes pip skip TLS checks for that host")
    for ins, cmd in run_commands(t.dockerfile):
        pip = as_pip(cmd)
        if pip is None:
            continue
        if pip.has_flag("trusted-host") or (pip.subcommand == "config" and any(a.endswith("trusted-host") for a in pip.args)):
            yield cmd_hit(ins, cmd, "pip `--trusted-host` skips TLS checks for that host", fix="remove `--trusted-host`")


def _strict_ssl_off(cmd: Command) -> bool:
    """``npm|yarn [config|c] set strict-ssl false`` (also ``strict-ssl=false``)."""
    if cmd.name not in ("npm", "yarn", "pnpm"):
        return False
    ops = cmd.args_no_flags()
    if ops[:1] in (["config"], ["c"]):
        ops = ops[1:]
    if len(ops) < 2 or ops[0] != "set":
        return False
    key, eq, value = ops[1].partition("=")
    if not eq:
        value = ops[2] if len(ops) > 2 else ""
    return key == "strict-ssl" and value.lower() == "false"


@rule("LI346", "npm-strict-ssl-off", Severity.ERROR, tags=("npm", "yarn", "tls", "security"), peers=("CKV2_DOCKER_12", "CKV2_DOCKER_13"),
      security_severity=7.0)
def npm_strict_ssl_off(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not turn off `strict-ssl` in npm or yarn.

    ## What it does
    Flags `npm config set strict-ssl false` (and `npm set`, `yarn config
    set`), and `NPM_CONFIG_STRICT_SSL`/`npm_config_strict_ssl=false` set
    by ARG, ENV, `export` or a command prefix.

    ## Why it matters
    The registry's certificate is then not checked, so packages can be
    swapped on the way into the image.

    ## Example
    ```dockerfile
    RUN npm config set strict-ssl false
    ```

    ## Fix
    Remove it; set `cafile` to the CA of a private registry.
    """
    yield from env_switch(t, ("NPM_CONFIG_STRICT_SSL",), lambda v: v.lower() == "false",
                          "turns off TLS certificate checks in npm", ignore_case=True)
    for ins, cmd in run_commands(t.dockerfile):
        if _strict_ssl_off(cmd):
            yield cmd_hit(ins, cmd, f"`{cmd.name} … set strict-ssl false` turns off TLS certificate checks", fix="remove it")


@rule("LI347", "node-tls-reject-unauthorized", Severity.ERROR, tags=("node", "tls", "security"), peers=("CKV2_DOCKER_6",),
      security_severity=7.0)
def node_tls_reject_unauthorized(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not set `NODE_TLS_REJECT_UNAUTHORIZED=0`.

    ## What it does
    Flags `NODE_TLS_REJECT_UNAUTHORIZED` set to `0` by ARG, ENV, `export`
    or a command prefix.

    ## Why it matters
    Every TLS connection Node.js makes stops checking certificates; set in
    ENV, that holds for the application at run time too.

    ## Example
    ```dockerfile
    ENV NODE_TLS_REJECT_UNAUTHORIZED=0
    ```

    ## Fix
    Remove it; use `NODE_EXTRA_CA_CERTS` for a private CA.
    """
    yield from env_switch(t, ("NODE_TLS_REJECT_UNAUTHORIZED",), lambda v: v == "0", "turns off TLS certificate checks in Node.js")


@rule("LI348", "python-https-verify-off", Severity.ERROR, tags=("python", "tls", "security"), peers=("CKV2_DOCKER_5",),
      security_severity=7.0)
def python_https_verify_off(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not set `PYTHONHTTPSVERIFY=0`.

    ## What it does
    Flags `PYTHONHTTPSVERIFY` set to `0` by ARG, ENV, `export` or a
    command prefix.

    ## Why it matters
    Python's standard library then skips certificate checks for HTTPS; set
    in ENV, that holds for the application at run time too.

    ## Example
    ```dockerfile
    ENV PYTHONHTTPSVERIFY=0
    ```

    ## Fix
    Remove it; add a private CA to the system trust store.
    """
    yield from env_switch(t, ("PYTHONHTTPSVERIFY",), lambda v: v == "0", "turns off HTTPS certificate checks in Python")


_SSLVERIFY_OFF = re.compile(r"(^|[.=])sslverify=(0|false|no)$", re.I)


@rule("LI349", "yum-sslverify-off", Severity.ERROR, tags=("yum", "dnf", "tls", "security"), peers=("CKV2_DOCKER_15",),
      security_severity=7.0)
def yum_sslverify_off(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not turn off `sslverify` for yum or dnf repositories.

    ## What it does
    Flags yum, dnf and their `config-manager` tools given
    `--setopt=[repo.]sslverify=0|false|no`.

    ## Why it matters
    Repository metadata and packages are then fetched without checking the
    server's certificate.

    ## Example
    ```dockerfile
    RUN yum-config-manager --save --setopt=sslverify=0
    ```

    ## Fix
    Remove the option; add the repository's CA certificate instead.
    """
    tools = ("yum", "dnf", "microdnf", "tdnf", "yum-config-manager", "dnf-config-manager")
    for ins, cmd in run_commands(t.dockerfile):
        if cmd.name in tools and any(_SSLVERIFY_OFF.search(a) for a in cmd.args):
            yield cmd_hit(ins, cmd, f"`{cmd.name}` turns off sslverify for its repositories", fix="remove the sslverify setting")


# ---------------------------------------------------------------- ADD / COPY

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".gz", ".bz2", ".xz", ".tar.zst", ".zst", ".Z")


def is_remote(src: str) -> bool:
    return "://" in src or src.startswith("git@")


def is_archive(path: str) -> bool:
    return path.lower().endswith(tuple(s.lower() for s in ARCHIVE_SUFFIXES))


def copy_sources(ins: Instruction) -> tuple[list[Token], Token | None]:
    """(sources, destination) of a COPY/ADD; heredoc sources are left out."""
    toks = [a for a in ins.args if not a.value.startswith("<<")]
    if len(toks) < 2:
        return [], None
    return toks[:-1], toks[-1]


@rule("LI350", "add-instead-of-copy", Severity.ERROR, tags=("add",),
      peers=("DL3020", "DS-0005", "CKV_DOCKER_4", "CIS-DI-0009", "KICS-9513a694"),
      divergences={"CKV_DOCKER_4": "checkov flags every ADD; ADD of a URL is LI351's finding, and ADD of a local tar archive "
                                   "(which ADD unpacks) is the one thing COPY cannot do, so neither is flagged here."},
      fixable=(Safety.SAFE, Safety.UNSAFE))
def add_instead_of_copy(t: DockerfileTarget) -> Iterator[Hit]:
    """Use COPY, not ADD, for files and folders.

    ## What it does
    Flags ADD of local sources that ADD would not unpack (anything but a
    tar archive, plain or compressed), and of a tar archive to a
    destination named like a non-archive file (`ADD app.tar.gz app.jar`).
    URLs, git sources and build-history sources (`file:…`) are not flagged.

    ## Why it matters
    ADD's extras (unpacking, downloading) make it do surprising things;
    COPY says exactly what happens.

    ## Example
    ```dockerfile
    ADD app.jar /opt/app/
    ```

    ## Fix
    ```dockerfile
    COPY app.jar /opt/app/
    ```
    Autofix: the keyword becomes COPY, when every source is a local path
    without variables or wildcards and the ADD has no flag COPY lacks
    (`--checksum`, `--keep-git-dir`). ADD unpacks a local tar archive
    whatever its name, so the fix is safe only when no source can be one:
    with the build context, no file sent as a source is compressed or a
    tar archive by its content (folders are never unpacked); without it,
    every source is a folder or has an extension that is not an archive's.
    Otherwise it is unsafe.
    """
    for ins in t.dockerfile.of("ADD"):
        srcs, dest = copy_sources(ins)
        if dest is None or srcs[0].value.startswith(("file:", "multi:")):
            continue  # `ADD file:<digest> in /` is image history, not a Dockerfile the user wrote
        fix: tuple[_fixes.Edits, Safety] | None = None
        for src in srcs:
            v = src.value
            if is_remote(v):
                continue
            if is_archive(v):
                ext = posixpath.splitext(dest.value.rstrip("/"))[1]
                if not ext or is_archive(dest.value) or dest.value.endswith("/"):
                    continue
            if fix is None:
                fix = _fixes.add_to_copy(ins, _sent_files(t, ins))
            yield hit(ins, f"ADD of `{v}`: COPY does the same without ADD's surprises", token=src,
                      fix="use COPY", key=v, edits=fix[0], safety=fix[1])


def _sent_files(t: DockerfileTarget, ins: Instruction) -> dict[str, list[str]] | None:
    """Each source of a COPY/ADD as written -> the paths of the files it sends as single files
    (``""`` for one lintimg cannot read as a regular file); ``None`` without a build context."""
    ctx = t.context
    if ctx is None:
        return None
    copy = next((c for c in ctx.copies(t.dockerfile) if c.ins is ins), None)
    if copy is None:
        return None
    return {src.token.value: [os.path.join(ctx.root, e.rel) if e.kind == "file" else "" for e in src.singles]
            for src in copy.sources if src.kind == "path"}


@rule("LI351", "add-remote-url", Severity.WARNING, tags=("add", "download", "supply-chain"),
      peers=("KICS-4b410d24", "CKV_DOCKER_4"),
      divergences={"KICS-4b410d24": "KICS flags every ADD of a URL; an ADD with `--checksum` verifies the download and is not flagged."})
def add_remote_url(t: DockerfileTarget) -> Iterator[Hit]:
    """Verify remote files that ADD downloads.

    ## What it does
    Flags ADD of an http(s) or git URL without `--checksum`.

    ## Why it matters
    The server can change the file at any time; without a checksum the
    build silently takes whatever it serves, and the download cannot be
    cleaned up in the same layer as its unpacking.

    ## Example
    ```dockerfile
    ADD https://example.com/tool.tgz /opt/
    ```

    ## Fix
    ```dockerfile
    ADD --checksum=sha256:24454f830c… https://example.com/tool.tgz /opt/
    ```
    or download, verify and unpack with curl in one RUN.
    """
    for ins in t.dockerfile.of("ADD"):
        if ins.flag("checksum") is not None:
            continue
        srcs, _ = copy_sources(ins)
        for src in srcs:
            if is_remote(src.value):
                yield hit(ins, f"ADD downloads `{src.value}` without `--checksum`", token=src,
                          fix="add `--checksum=sha256:…`, or use curl and verify the file", key=src.value)


def _basename(path: str) -> str:
    """The last component of a Linux or Windows path (``C:\\temp\\app.tar.gz``, ``--file=/tmp/a.tgz``)."""
    return re.split(r"[\\/=]", path)[-1]


@rule("LI352", "copy-archive-then-extract", Severity.INFO, tags=("add", "size"), peers=("DL3010",))
def copy_archive_then_extract(t: DockerfileTarget) -> Iterator[Hit]:
    """Let ADD unpack a local archive instead of COPY plus `tar x`.

    ## What it does
    Flags a COPY of a local tar archive that a later RUN of the same stage
    unpacks with `tar` (shell or exec form, Linux or Windows paths). A
    stage that is not shipped (only copied from) is not checked.

    ## Why it matters
    The archive is stored in the COPY layer and again, unpacked, in the
    RUN layer; `ADD archive.tar.gz /dest/` writes only the unpacked files.

    ## Example
    ```dockerfile
    COPY app.tar.gz /usr/src/
    RUN tar -xzf /usr/src/app.tar.gz -C /usr/src
    ```

    ## Fix
    ```dockerfile
    ADD app.tar.gz /usr/src/
    ```
    """
    copied: dict[tuple[int | None, str], tuple[Instruction, Token]] = {}
    df = t.dockerfile
    for ins in df.instructions:
        if ins.keyword == "COPY" and ins.flag("from") is None and ships(df, ins):
            for src in copy_sources(ins)[0]:
                if is_archive(src.value):
                    copied[(ins.stage_index, _basename(src.value))] = (ins, src)
        elif ins.keyword == "RUN":
            # With `# escape=`` (Windows images) a backslash in the RUN is a path separator, not a shell escape.
            raw = ins.args_text.split() if df.escape == "`" else []
            for cmd in commands_of(ins):
                if cmd.name != "tar" or not (cmd.has_flag("x", "extract", "get") or (cmd.args and "x" in cmd.args[0] and not cmd.args[0].startswith("-"))):
                    continue
                for word in cmd.args + raw:
                    found = copied.pop((ins.stage_index, _basename(word)), None)
                    if found is not None:
                        yield hit(found[0], f"`{found[1].value}` is copied and then unpacked at line {ins.line}; ADD unpacks it in one layer",
                                  token=found[1], fix="use ADD for the archive and drop the tar step", key=found[1].value)


# ---------------------------------------------------------------- piping downloads to a shell, secret mounts

INTERPRETERS = re.compile(r"^(sh|bash|dash|ash|zsh|ksh|busybox|python[0-9.]*|perl|ruby|node|php)$")


def _runs_stdin(cmd: Command) -> bool:
    """An interpreter that executes what arrives on stdin (no ``-c``/``-m`` and no script operand)."""
    if not INTERPRETERS.match(cmd.name) or cmd.has_flag("c", "m", "e"):
        return False
    ops = cmd.args_no_flags()
    return not ops or ops[0] == "-" or cmd.has_flag("s")


@rule("LI353", "pipe-download-to-shell", Severity.WARNING, tags=("download", "supply-chain", "security"), security_severity=6.5)
def pipe_download_to_shell(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not pipe a download straight into a shell.

    ## What it does
    Flags `curl … | sh`, `wget -O- … | bash` (also through `tee`, `sudo`,
    and into python/perl/ruby/node reading stdin) and `sh -c "$(curl …)"`
    / `bash <(curl …)`.

    ## Why it matters
    The script runs as it arrives, unverified: whoever controls the server
    or the network path runs code in your build, and a download cut off
    half way runs half a script. Nothing records what was executed.

    ## Example
    ```dockerfile
    RUN curl -fsSL https://example.com/install.sh | sh
    ```

    ## Fix
    ```dockerfile
    RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \\
        && echo "<sha256>  /tmp/install.sh" | sha256sum -c - \\
        && sh /tmp/install.sh && rm /tmp/install.sh
    ```
    """
    for ins in t.dockerfile.runs():
        cmds = ins.script.commands if ins.script is not None else []
        for i, cmd in enumerate(cmds):
            if downloads(cmd) and cmd.operator == "|":
                for nxt in cmds[i + 1 :]:
                    if _runs_stdin(nxt):
                        yield cmd_hit(ins, cmd, f"`{cmd.name}` output is executed by `{nxt.name}` unverified",
                                      fix="download to a file, verify its checksum, then run it")
                        break
                    if nxt.operator != "|":
                        break
            elif INTERPRETERS.match(cmd.name) and any(re.search(r"[$<]\(\s*(curl|wget)\b", a) for a in cmd.args):
                yield cmd_hit(ins, cmd, f"`{cmd.name}` runs a downloaded script unverified",
                              fix="download to a file, verify its checksum, then run it")


def secret_paths(ins: Instruction) -> list[str]:
    """Where the ``--mount=type=secret`` mounts of a RUN appear (``/run/secrets/<id>`` unless a target is given)."""
    out = []
    for m in run_mounts(ins):
        if m["type"] != "secret":
            continue
        target = m.get("target") or (f"/run/secrets/{m['id']}" if m.get("id") else "")
        if target:
            out.append(target)
    return out


COPIERS = frozenset({"cp", "mv", "install", "rsync", "ln", "dd"})
PRINTERS = frozenset({"cat", "echo", "printf", "tee", "head", "tail", "base64", "xxd", "od"})


@rule("LI354", "secret-mount-leaked", Severity.ERROR, tags=("secrets", "security"), security_severity=8.0)
def secret_mount_leaked(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not copy or print a `--mount=type=secret` file.

    ## What it does
    In a RUN with a secret mount, flags commands that copy the secret file
    (`cp`, `mv`, `install`, `rsync`, `ln`, `dd`) or print it (`cat`, `echo`,
    `tee`, …) other than into a pipe or a `$(…)` substitution.

    ## Why it matters
    A secret mount exists only while the RUN runs, so the secret is not in
    the image. Copying it to another path writes it into the layer, and
    printing it writes it into the build log (or, redirected, into a file
    of the layer): both undo the mount.

    ## Example
    ```dockerfile
    RUN --mount=type=secret,id=npmrc cp /run/secrets/npmrc /root/.npmrc && npm ci
    ```

    ## Fix
    ```dockerfile
    RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
    ```
    or read it where it is: `TOKEN=$(cat /run/secrets/token) tool login`.
    """
    for ins in t.dockerfile.runs():
        paths = secret_paths(ins)
        if not paths or ins.script is None:
            continue
        for cmd in ins.script.commands:
            if cmd.substituted or cmd.operator == "|":
                continue
            used = [p for p in paths if any(p in a for a in cmd.args)]
            if not used:
                continue
            if cmd.name in COPIERS and any(p in a for p in used for a in cmd.args_no_flags()[:-1]):
                yield cmd_hit(ins, cmd, f"`{cmd.name}` copies the secret {used[0]} into the layer",
                              fix="mount the secret at the path the tool reads (`target=`)", key=used[0])
            elif cmd.name in PRINTERS:
                yield cmd_hit(ins, cmd, f"`{cmd.name}` writes the secret {used[0]} to the build log or a file of the layer",
                              fix="pass it through a pipe or `$(cat …)` instead", key=used[0])
