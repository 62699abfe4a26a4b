"""LI310–LI314: Alpine's apk: pins, the package cache, untrusted packages."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile.queries import cmd_hit
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules import _fixes
from lintimg.rules._common import APK, _rm_of, _switch, cache_mounted, shipped_installs, unpinned

ID_RANGE = "LI310-LI314"


@rule("LI310", "apk-pin-versions", Severity.WARNING, tags=("apk", "reproducibility"), peers=("DL3018", "KICS-d3499f6d"),
      fixable=(Safety.UNSAFE,))
def apk_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `apk add`.

    ## What it does
    Flags packages named to `apk add` with no version constraint
    (`pkg=1.2-r0`, `pkg~1.2`) that are not a local `.apk` file.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

    ## Why it matters
    An unpinned add installs whatever the repository serves that day, so
    builds are not reproducible.

    ## Example
    ```dockerfile
    RUN apk add --no-cache curl
    ```

    ## Fix
    ```dockerfile
    RUN apk add --no-cache curl=8.5.0-r0
    ```
    Unsafe autofix, with `--fix --unsafe-fixes` when the local engine holds
    the base image: each package becomes `pkg=<version>` as the base
    image's apk database has it installed, when it has every package of the
    command. Unsafe: the build then keeps that version.
    """
    yield from unpinned(t, APK, "apk add", "pin each package: `pkg=version`", None, "add", base_db="apk")


# apk(8): without --no-cache, apk keeps the repository indexes it fetches under /var/cache/apk; removing that
# directory's files later in the same RUN leaves the layer as --no-cache would.
_REMOVED_LATER = ("hadolint, trivy and KICS also flag an `apk add` whose RUN removes `/var/cache/apk` afterwards; "
                  "the layer then holds no index either, so lintimg does not.")


@rule("LI311", "apk-add-cache", Severity.INFO, tags=("apk", "size"), peers=("DL3019", "DS-0025", "DKL-DI-0004", "KICS-ae9c56a6"),
      fixable=(Safety.SAFE,), divergences={p: _REMOVED_LATER for p in ("DL3019", "DS-0025", "KICS-ae9c56a6")})
def apk_add_cache(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `apk add --no-cache`.

    ## What it does
    Flags `apk add` without `--no-cache`, unless `/var/cache/apk` is a
    cache or tmpfs mount of that RUN or a later `rm` of the same RUN
    removes it (`rm -rf /var/cache/apk/*`). A stage that is not shipped
    (only copied from) is not checked.

    ## Why it matters
    Without it the index and downloaded packages stay in
    `/var/cache/apk` inside the layer.

    ## Example
    ```dockerfile
    RUN apk add curl=8.5.0-r0
    ```

    ## Fix
    ```dockerfile
    RUN apk add --no-cache curl=8.5.0-r0
    ```
    Safe autofix: `--no-cache` is added after `add` (apk then reads the
    index without keeping it; a later `apk add` fetches its own).
    """
    removes = _rm_of("/var/cache/apk")
    for ins, cmd in shipped_installs(t, APK, "add"):
        if not cmd.has_flag("no-cache") and not cache_mounted(ins, "/var/cache/apk") \
                and not any(removes(c) for c in (ins.script.after(cmd) if ins.script is not None else [])):
            yield cmd_hit(ins, cmd, "`apk add` without `--no-cache` leaves the package cache in the layer", fix="add `--no-cache`",
                          edits=_fixes.add_option(ins, cmd, "--no-cache", after="add"))


@rule("LI312", "apk-allow-untrusted", Severity.ERROR, tags=("apk", "security", "supply-chain"),
      peers=("CKV2_DOCKER_7",), security_severity=7.5)
def apk_allow_untrusted(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not install untrusted packages with apk.

    ## What it does
    Flags `apk` with `--allow-untrusted`.

    ## Why it matters
    apk then installs packages whose signature it cannot verify.

    ## Example
    ```dockerfile
    RUN apk add --allow-untrusted ./tool.apk
    ```

    ## Fix
    Add the signing key under `/etc/apk/keys` and drop the switch.
    """
    yield from _switch(t, APK.names, ("allow-untrusted",), "installs packages whose signatures are not checked")
