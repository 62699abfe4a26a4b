"""LI315–LI329: The RPM family — yum, dnf, microdnf, zypper, rpm: prompts, caches, pins, signature checks."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.dockerfile.queries import cmd_hit
from lintimg.dockerfile.shell import Command
from lintimg.engine.rule import rule
from lintimg.engine.target import DockerfileTarget
from lintimg.findings import Hit, Safety, Severity
from lintimg.rules._common import (
    DNF,
    KICS_LAST_STAGE,
    MICRODNF,
    YUM,
    ZYPPER,
    _switch,
    cache_left,
    installs,
    missing_yes,
    unpinned,
)

ID_RANGE = "LI315-LI329"


@rule("LI315", "yum-missing-yes", Severity.WARNING, tags=("yum",), peers=("DL3030", "KICS-6e19193a"), fixable=(Safety.SAFE,),
      divergences={"KICS-6e19193a": "KICS reads the exec form `RUN [\"sudo yum\", \"install\", ...]` as yum; its first "
                                    "element names a program called `sudo yum`, so nothing runs yum there."})
def yum_missing_yes(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `-y` with `yum install`.

    ## What it does
    Flags `yum install`/`groupinstall`/`localinstall` without `-y`/`--assumeyes`,
    in every stage: a stage that is not shipped is built too, and stops there.

    ## Why it matters
    yum asks for confirmation and the non-interactive build aborts.

    ## Example
    ```dockerfile
    RUN yum install httpd-2.4.24
    ```

    ## Fix
    ```dockerfile
    RUN yum install -y httpd-2.4.24
    ```
    Safe autofix: `-y` is added after the subcommand (without it the build
    cannot succeed).
    """
    yield from missing_yes(t, YUM, "install", "groupinstall", "localinstall")


@rule("LI316", "yum-clean-missing", Severity.WARNING, tags=("yum", "size"), peers=("DL3032", "DS-0015", "KICS-00481784"),
      fixable=(Safety.SAFE,))
def yum_clean_missing(t: DockerfileTarget) -> Iterator[Hit]:
    """Run `yum clean all` after `yum install`.

    ## What it does
    Flags `yum install` not followed in the same RUN by `yum clean all`
    (or `rm -rf /var/cache/yum`), unless the cache is a mount. A stage
    that is not shipped (only copied from) is not checked.

    ## Why it matters
    yum's metadata and package cache stay in the layer otherwise.

    ## Example
    ```dockerfile
    RUN yum install -y httpd-2.4.24
    ```

    ## Fix
    ```dockerfile
    RUN yum install -y httpd-2.4.24 && yum clean all
    ```
    Safe autofix: the RUN ends with `&& yum clean all` when its script,
    parsed again with it, runs the same commands plus that one (a later
    `yum install` fetches the metadata again by itself).
    """
    yield from cache_left(t, YUM, "`yum install` without a later `yum clean all` leaves yum's cache in the layer",
                          "end the RUN with `&& yum clean all`", clean="{name} clean all")


@rule("LI317", "yum-pin-versions", Severity.WARNING, tags=("yum", "reproducibility"), peers=("DL3033", "KICS-6452c424"))
def yum_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `yum install`.

    ## What it does
    Flags packages named to `yum install` without a version (`pkg-1.2`)
    that are not a local `.rpm`, and modules without a stream (`mod:1`).

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

    ## Why it matters
    Unpinned installs make builds differ from day to day.

    ## Example
    ```dockerfile
    RUN yum install -y httpd && yum clean all
    ```

    ## Fix
    ```dockerfile
    RUN yum install -y httpd-2.4.24 && yum clean all
    ```
    """
    yield from unpinned(t, YUM, "yum install", "pin each package: `pkg-version`", _rpm_packages, "install", "module")


def _rpm_packages(cmd: Command) -> list[str]:
    """Packages of a yum/dnf install; for `module install`, the module specs (which pin with `:`)."""
    mgr = YUM if cmd.name == "yum" else DNF
    words = mgr.packages(cmd)
    if mgr.subcommand(cmd) in ("module", "group"):
        if not words or words[0] != "install" or mgr.subcommand(cmd) == "group":
            return []
        return [w if ":" not in w else "-0" for w in words[1:]]
    return words


@rule("LI318", "dnf-missing-yes", Severity.WARNING, tags=("dnf",), peers=("DL3038", "KICS-7ebd323c"), fixable=(Safety.SAFE,))
def dnf_missing_yes(t: DockerfileTarget) -> Iterator[Hit]:
    """Use `-y` with `dnf install` and `microdnf install`.

    ## What it does
    Flags `dnf`/`microdnf`/`tdnf` installs without `-y`/`--assumeyes`, in
    every stage: a stage that is not shipped is built too, and stops there.

    ## Why it matters
    dnf asks for confirmation and the non-interactive build aborts.

    ## Example
    ```dockerfile
    RUN dnf install httpd-2.4.24 && dnf clean all
    ```

    ## Fix
    ```dockerfile
    RUN dnf install -y httpd-2.4.24 && dnf clean all
    ```
    Safe autofix: `-y` is added after the subcommand.
    """
    yield from missing_yes(t, DNF, "install", "in", "groupinstall", "localinstall")


@rule("LI319", "dnf-clean-missing", Severity.WARNING, tags=("dnf", "size"), peers=("DL3040", "DS-0019", "KICS-295acb63"),
      fixable=(Safety.SAFE,))
def dnf_clean_missing(t: DockerfileTarget) -> Iterator[Hit]:
    """Run `dnf clean all` after `dnf install`.

    ## What it does
    Flags dnf/microdnf/tdnf installs and upgrades not followed in the same
    RUN by `dnf clean all` (or removing the dnf cache), unless the cache
    directory is a cache or tmpfs mount. A stage that is not shipped
    (only copied from) is not checked.

    ## Why it matters
    dnf's metadata and package cache stay in the layer otherwise.

    ## Example
    ```dockerfile
    RUN dnf install -y mariadb-10.4
    ```

    ## Fix
    ```dockerfile
    RUN dnf install -y mariadb-10.4 && dnf clean all
    ```
    Safe autofix: the RUN ends with `&& dnf clean all` (`tdnf`/`microdnf
    clean all` for those), when the script parsed again runs the same
    commands plus that one.
    """
    yield from cache_left(t, DNF, "dnf install without a later `dnf clean all` leaves dnf's cache in the layer",
                          "end the RUN with `&& dnf clean all`", clean="{name} clean all")


@rule("LI320", "dnf-pin-versions", Severity.WARNING, tags=("dnf", "reproducibility"), peers=("DL3041", "KICS-93d88cf7"))
def dnf_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `dnf install`.

    ## What it does
    Flags packages named to dnf/microdnf/tdnf `install` without a version
    (`pkg-1.2`, `pkg-1:1.2`) that are not a local `.rpm`, and modules
    without a stream.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

    ## Why it matters
    Unpinned installs make builds differ from day to day.

    ## Example
    ```dockerfile
    RUN dnf install -y tomcat && dnf clean all
    ```

    ## Fix
    ```dockerfile
    RUN dnf install -y tomcat-9.0.39 && dnf clean all
    ```
    """
    yield from unpinned(t, DNF, "dnf install", "pin each package: `pkg-version`", _rpm_packages, "install", "in", "module")


@rule("LI321", "microdnf-clean-missing", Severity.WARNING, tags=("dnf", "size"), peers=("DS-0027",), fixable=(Safety.SAFE,))
def microdnf_clean_missing(t: DockerfileTarget) -> Iterator[Hit]:
    """Run `microdnf clean all` after `microdnf install`.

    ## What it does
    Flags `microdnf install` with no `microdnf clean all` after it in the
    same RUN (or a cache mount on its cache). A stage that is not shipped
    (only copied from) is not checked.

    ## Why it matters
    microdnf is used on minimal images precisely to stay small; its cache
    left in the layer undoes that.

    ## Example
    ```dockerfile
    RUN microdnf install -y nginx-1.20.1
    ```

    ## Fix
    ```dockerfile
    RUN microdnf install -y nginx-1.20.1 && microdnf clean all
    ```
    Safe autofix: the RUN ends with `&& microdnf clean all`, when the script
    parsed again runs the same commands plus that one.
    """
    yield from cache_left(t, MICRODNF, "`microdnf install` without a later `microdnf clean all` leaves its cache in the layer",
                          "end the RUN with `&& microdnf clean all`", clean="{name} clean all")


@rule("LI322", "zypper-non-interactive", Severity.WARNING, tags=("zypper",), peers=("DL3034", "KICS-45e1fca5"), fixable=(Safety.SAFE,),
      divergences={"KICS-45e1fca5": "KICS passes a zypper prompt in a stage that is not shipped (a builder stage the last "
                                    "stage copies from). That stage is built all the same, and zypper at a prompt with no "
                                    "terminal stops with 'Cannot read input: bad stream or EOF', which fails the build; "
                                    "KICS's own description of the query says so, and KICS reports the same prompt of dnf "
                                    "in a stage other than the last (its KICS-7ebd323c cases)."})
def zypper_non_interactive(t: DockerfileTarget) -> Iterator[Hit]:
    """Use a non-interactive switch with zypper.

    ## What it does
    Flags zypper installs, removals and patches without `-n`,
    `--non-interactive`, `-y` or `--no-confirm`, in every stage: a stage
    that is not shipped is built too, and stops there.

    ## Why it matters
    zypper asks for confirmation and the build aborts.

    ## Example
    ```dockerfile
    RUN zypper install httpd=2.4.24 && zypper clean
    ```

    ## Fix
    ```dockerfile
    RUN zypper install -y httpd=2.4.24 && zypper clean
    ```
    Safe autofix: the global `--non-interactive` is added right after
    `zypper`, where every subcommand accepts it.
    """
    yield from missing_yes(t, ZYPPER, "install", "in", "remove", "rm", "source-install", "si", "patch",
                           add="--non-interactive", global_option=True)


@rule("LI323", "zypper-dist-upgrade", Severity.WARNING, tags=("zypper",), peers=("DL3035",))
def zypper_dist_upgrade(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not run `zypper dist-upgrade` in a Dockerfile.

    ## What it does
    Flags `zypper dist-upgrade` and `zypper dup`.

    ## Why it matters
    A distribution upgrade rewrites the base image's package set; take a
    newer base image instead.

    ## Example
    ```dockerfile
    RUN zypper dist-upgrade -y
    ```

    ## Fix
    Use a newer base image tag.
    """
    for ins, cmd in installs(t, ZYPPER, "dist-upgrade", "dup"):
        yield cmd_hit(ins, cmd, "`zypper dist-upgrade` rewrites the base image's package set", fix="use a newer base image")


@rule("LI324", "zypper-clean-missing", Severity.WARNING, tags=("zypper", "size"), peers=("DL3036", "DS-0020", "KICS-38300d1a"),
      fixable=(Safety.SAFE,), divergences={"KICS-38300d1a": KICS_LAST_STAGE})
def zypper_clean_missing(t: DockerfileTarget) -> Iterator[Hit]:
    """Run `zypper clean` after zypper installs.

    ## What it does
    Flags zypper installs, removals and patches not followed in the same
    RUN by `zypper clean`/`zypper cc`, unless `/var/cache/zypp` is a mount.
    A stage that is not shipped (only copied from) is not checked.

    ## Why it matters
    zypper's cache stays in the layer otherwise.

    ## Example
    ```dockerfile
    RUN zypper install -y mariadb=10.4
    ```

    ## Fix
    ```dockerfile
    RUN zypper install -y mariadb=10.4 && zypper clean
    ```
    Safe autofix: the RUN ends with `&& zypper clean`, when the script
    parsed again runs the same commands plus that one.
    """
    yield from cache_left(t, ZYPPER, "zypper install without a later `zypper clean` leaves its cache in the layer",
                          "end the RUN with `&& zypper clean`", clean="zypper clean")


@rule("LI325", "zypper-pin-versions", Severity.WARNING, tags=("zypper", "reproducibility"), peers=("DL3037", "KICS-562952e4"))
def zypper_pin_versions(t: DockerfileTarget) -> Iterator[Hit]:
    """Pin versions in `zypper install`.

    ## What it does
    Flags packages named to `zypper install` without a version constraint
    (`pkg=1.2`, `pkg>=1.2`) that are not a local `.rpm`.

    Every stage is checked, also one that is not shipped: what a builder
    stage installs decides what is copied out of it.

    ## Why it matters
    Unpinned installs make builds differ from day to day.

    ## Example
    ```dockerfile
    RUN zypper install -y tomcat && zypper clean
    ```

    ## Fix
    ```dockerfile
    RUN zypper install -y tomcat=9.0.39 && zypper clean
    ```
    """
    yield from unpinned(t, ZYPPER, "zypper install", "pin each package: `pkg=version`", None, "install", "in")


@rule("LI326", "rpm-gpg-check-off", Severity.ERROR, tags=("yum", "dnf", "security", "supply-chain"),
      peers=("CKV2_DOCKER_9",), security_severity=7.5)
def rpm_gpg_check_off(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not turn off GPG checks in yum, dnf or tdnf.

    ## What it does
    Flags `yum`, `dnf`, `microdnf` and `tdnf` with `--nogpgcheck`.

    ## Why it matters
    Packages are then installed without verifying their signatures, so a
    mirror or a man in the middle can replace them.

    ## Example
    ```dockerfile
    RUN dnf install -y --nogpgcheck python3
    ```

    ## Fix
    Import the repository key (`rpm --import`) and drop the switch.
    """
    yield from _switch(t, YUM.names + DNF.names, ("nogpgcheck",), "installs packages without checking their signatures")


@rule("LI327", "rpm-signature-check-off", Severity.ERROR, tags=("rpm", "security", "supply-chain"),
      peers=("CKV2_DOCKER_10",), security_severity=7.5)
def rpm_signature_check_off(t: DockerfileTarget) -> Iterator[Hit]:
    """Do not turn off signature or digest checks in rpm.

    ## What it does
    Flags `rpm` with `--nodigest`, `--nosignature`, `--noverify` or
    `--nofiledigest`.

    ## Why it matters
    rpm then installs packages whose integrity and origin it did not check.

    ## Example
    ```dockerfile
    RUN rpm -i --nosignature tool.rpm
    ```

    ## Fix
    Import the signing key with `rpm --import` and drop the switch.
    """
    yield from _switch(t, ("rpm",), ("nodigest", "nosignature", "noverify", "nofiledigest"), "skips integrity checks")
