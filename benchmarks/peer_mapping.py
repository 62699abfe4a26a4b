"""Generate docs/peer-mapping.md: every merged peer row and the lintimg rules that cover it.

The row table (row id, scope, peer ids) is data from the research notes'
merged table (``notes/peer-rules.md`` section 8); the short descriptions are
ours. Which lintimg rule covers a row is not written here: it comes from each
rule's ``peers`` metadata at generation time.

    python3 benchmarks/peer_mapping.py          # rewrite docs/peer-mapping.md
    python3 benchmarks/peer_mapping.py --check  # exit 1 when the doc is stale
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "peer-mapping.md"

# Scopes that a Dockerfile run can decide; the others need an image, a registry or the host.
DOCKERFILE_SCOPES = ("DF", "DF†", "DF / IMG", "CTX")

# (row, scope, what it checks, peer ids). "SC*" stands for every ShellCheck code,
# "CKV_SECRET_*" for checkov's detect-secrets checks; O2 names dive's CI rules.
ROWS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("A1", "DF", "FROM image without a tag", ("DL3006", "DS-0001", "CKV_DOCKER_7", "KICS-9efb0b2d")),
    ("A2", "DF†", "FROM image tagged `latest`", ("DL3007", "DS-0001", "CKV_DOCKER_7", "DKL-DI-0006", "KICS-f45ea400")),
    ("A3", "DF", "base image from a registry outside the trusted list", ("DL3026",)),
    ("A4", "DF", "FROM carries a `--platform` flag", ("DL3029", "KICS-b16e8501")),
    ("A5", "DF", "FROM `--platform` set to a fixed value", ("FromPlatformFlagConstDisallowed",)),
    ("A6", "DF", "FROM `--platform=$TARGETPLATFORM` adds nothing", ("DL3065", "RedundantTargetPlatform")),
    ("A7", "DF", "FROM refers to an ARG never declared", ("UndefinedArgInFrom",)),
    ("A8", "DF", "default ARG values leave the base image name empty or invalid", ("InvalidDefaultArgInFrom",)),
    ("A9", "REG", "base image platform differs from the target platform", ("InvalidBaseImagePlatform",)),
    ("A10", "DF", "an instruction other than ARG precedes the first FROM", ("DL3061",)),
    ("B1", "DF", "two stages share one alias", ("DL3024", "DuplicateStageName", "DS-0012", "CKV_DOCKER_11", "KICS-f2daed12")),
    ("B2", "DF", "stage alias is a reserved word (`scratch`, `context`)", ("DL3063", "ReservedStageName")),
    ("B3", "DF", "stage alias has upper-case letters", ("StageNameCasing",)),
    ("B4", "DF", "`AS` cased differently from `FROM`", ("FromAsCasing",)),
    ("B5", "DF", "`COPY --from` points at its own stage", ("DL3023", "DS-0006", "KICS-cdddb86f")),
    ("B6", "DF", "`COPY --from` names no earlier stage", ("DL3022",)),
    ("B7", "DF", "stages referred to by number rather than by name", ("KICS-68a51e22",)),
    ("B8", "DF", "`COPY --from` of a stage's whole root filesystem", ("DL3067",)),
    ("C1", "DF", "instruction keywords in mixed case", ("ConsistentInstructionCasing",)),
    ("C2", "DF", "blank line inside a continued instruction", ("NoEmptyContinuation",)),
    ("C3", "DF", "ENV/ARG in the old space-separated form", ("LegacyKeyValueFormat",)),
    ("C4", "DF", "comment above ARG or FROM not in `# name description` form", ("InvalidDefinitionDescription",)),
    ("C5", "DF", "MAINTAINER used", ("DL4000", "MaintainerDeprecated", "DS-0022", "CKV_DOCKER_6", "KICS-99614418")),
    ("C6", "DF", "CMD/ENTRYPOINT written in shell form", ("DL3025", "JSONArgsRecommended", "KICS-b86987e1")),
    ("C7", "DF", "several CMD instructions in a stage", ("DL4003", "MultipleInstructionsDisallowed", "DS-0016", "KICS-41c195f4")),
    ("C8", "DF", "several ENTRYPOINT instructions in a stage", ("DL4004", "MultipleInstructionsDisallowed", "DS-0007", "KICS-6938958b")),
    ("C9", "DF", "several HEALTHCHECK instructions in a stage", ("DL3012", "MultipleInstructionsDisallowed", "DS-0023")),
    ("C10", "DF", "ENV reads a variable it defines itself", ("DL3044",)),
    ("C11", "DF", "ONBUILD wrapping ONBUILD, FROM or MAINTAINER", ("DL3043",)),
    ("C12", "DF", "COPY of several sources into a destination without a trailing `/`", ("DL3021", "DS-0011", "KICS-6db6e0c2")),
    ("C13", "DF", "variable referenced but never defined", ("UndefinedVar",)),
    ("C14", "DF", "consecutive RUN instructions that could be one", ("DL3059", "KICS-0008c003")),
    ("C15", "DF", "an inline ignore pragma is present", ("DL1001",)),
    ("D1", "DF", "EXPOSE of a port number above 65535", ("DL3011", "DS-0008", "KICS-71bf8cf8")),
    ("D2", "DF", "EXPOSE 22", ("DS-0004", "CKV_DOCKER_1", "KICS-5907595b")),
    ("D3", "DF", "EXPOSE protocol in upper case", ("ExposeProtoCasing",)),
    ("D4", "DF", "EXPOSE with an address or a host:container pair", ("ExposeInvalidFormat",)),
    ("D5", "DF†", "VOLUME on `/sys`, `/dev` or `/proc`", ("DKL-DI-0002",)),
    ("E1", "DF", "relative WORKDIR", ("DL3000", "WorkdirRelativePath", "DS-0009", "CKV_DOCKER_10", "KICS-6b376af8")),
    ("E2", "DF", "`cd` inside RUN where WORKDIR fits", ("DL3003", "DS-0013", "KICS-f4a6bcd3")),
    ("E3", "DF", "COPY to a relative path before any WORKDIR", ("DL3045",)),
    ("E4", "DF", "WORKDIR inside a system directory", ("DS-0030",)),
    ("F1", "DF†", "the final USER is root", ("DL3002", "DS-0002", "CKV_DOCKER_8", "CIS-DI-0001", "KICS-67fd0c4a")),
    ("F2", "DF†", "no USER instruction anywhere", ("DS-0002", "CKV_DOCKER_3", "CIS-DI-0001", "KICS-fd54f200")),
    ("F3", "DF†", "`sudo` in RUN", ("DL3004", "DS-0010", "CKV2_DOCKER_1", "DKL-DI-0001", "KICS-8ada6e80")),
    ("F4", "DF", "USER by name rather than numeric id", ("DL3066",)),
    ("F5", "DF", "`useradd` with a large UID and no `-l`", ("DL3046",)),
    ("F6", "DF", "`chpasswd` in RUN", ("CKV2_DOCKER_17",)),
    ("F7", "DF", "COPY/ADD with `--chown`", ("KICS-aa93e17f",)),
    ("F8", "IMG", "an account without a password hash", ("DKL-LI-0001",)),
    ("F9", "IMG", "UID or GID used twice in passwd/group", ("DKL-LI-0002",)),
    ("F10", "IMG", "setuid or setgid files", ("CIS-DI-0008",)),
    ("G1", "DF†", "ARG/ENV whose name suggests a secret", ("DL3064", "SecretsUsedInArgOrEnv", "DS-0031", "CIS-DI-0010")),
    ("G2", "IMG", "credential files present in the image", ("CIS-DI-0010",)),
    ("G3", "DF", "credential-file variable pointing at copied files, or COPY onto it", ("DS-0031",)),
    ("G4", "DF", "cloud CLI login in RUN without a secret mount", ("DS-0031",)),
    ("G5", "DF / IMG", "secret values (keys, tokens) in file text", ("CKV_SECRET_*", "KICS-a88baa34")),
    ("H1", "DF", "`apt-get install` of unpinned packages", ("DL3008", "KICS-965a08d7")),
    ("H2", "DF†", "apt lists left after install", ("DL3009", "DKL-DI-0005", "KICS-df746b39")),
    ("H3", "DF", "`apt-get install` that may prompt (no `-y`)", ("DL3014", "DS-0021", "KICS-77783205")),
    ("H4", "DF", "`apt-get install` pulling recommended packages", ("DL3015", "DS-0029", "KICS-7384dfb2")),
    ("H5", "DF", "`apt` in scripts instead of `apt-get`", ("DL3027", "CKV_DOCKER_9", "KICS-b84a0b47")),
    ("H6", "DF†", "package index refreshed in a RUN that installs nothing", ("DS-0017", "CKV_DOCKER_5", "CIS-DI-0007", "KICS-9bae49be")),
    ("H7", "DF†", "`apt-get dist-upgrade`", ("DS-0024", "DKL-DI-0003")),
    ("H8", "DF", "apt with `--allow-unauthenticated`", ("CKV2_DOCKER_8",)),
    ("H9", "DF", "apt with `--force-yes`", ("CKV2_DOCKER_11",)),
    ("I1", "DF", "`apk add` of unpinned packages", ("DL3018", "KICS-d3499f6d")),
    ("I2", "DF†", "`apk add` keeping its cache", ("DL3019", "DS-0025", "DKL-DI-0004", "KICS-ae9c56a6")),
    ("I3", "DF", "apk with `--allow-untrusted`", ("CKV2_DOCKER_7",)),
    ("J1", "DF", "`yum install` that may prompt", ("DL3030", "KICS-6e19193a")),
    ("J2", "DF", "yum cache not cleaned", ("DL3032", "DS-0015", "KICS-00481784")),
    ("J3", "DF", "`yum install` of unpinned packages", ("DL3033", "KICS-6452c424")),
    ("J4", "DF", "`dnf install` that may prompt", ("DL3038", "KICS-7ebd323c")),
    ("J5", "DF", "dnf cache not cleaned", ("DL3040", "DS-0019", "KICS-295acb63")),
    ("J6", "DF", "`dnf install` of unpinned packages", ("DL3041", "KICS-93d88cf7")),
    ("J7", "DF", "microdnf cache not cleaned", ("DS-0027",)),
    ("J8", "DF", "zypper that may prompt", ("DL3034", "KICS-45e1fca5")),
    ("J9", "DF", "`zypper dist-upgrade`", ("DL3035",)),
    ("J10", "DF", "zypper cache not cleaned", ("DL3036", "DS-0020", "KICS-38300d1a")),
    ("J11", "DF", "`zypper install` of unpinned packages", ("DL3037", "KICS-562952e4")),
    ("J12", "DF", "yum/dnf/tdnf with `--nogpgcheck`", ("CKV2_DOCKER_9",)),
    ("J13", "DF", "rpm with signature or digest checks off", ("CKV2_DOCKER_10",)),
    ("J14", "DF", "yum/dnf with `sslverify` off", ("CKV2_DOCKER_15",)),
    ("K1", "DF", "`pip install` of unpinned packages", ("DL3013", "KICS-02d9c71f")),
    ("K2", "DF", "`pip install` keeping its cache", ("DL3042", "KICS-f2f903fb")),
    ("K3", "DF", "pip told to trust a host without TLS checks", ("CKV2_DOCKER_4", "CKV2_DOCKER_16")),
    ("K4", "DF", "`npm install` of unpinned packages", ("DL3016", "KICS-e36d8880")),
    ("K5", "DF", "npm/yarn with `strict-ssl` off", ("CKV2_DOCKER_12", "CKV2_DOCKER_13")),
    ("K6", "DF", "`NODE_TLS_REJECT_UNAUTHORIZED` disables TLS checks", ("CKV2_DOCKER_6",)),
    ("K7", "DF", "`PYTHONHTTPSVERIFY` disables TLS checks", ("CKV2_DOCKER_5",)),
    ("K8", "DF", "`gem install` of unpinned gems", ("DL3028", "KICS-22cd11f7")),
    ("K9", "DF", "`go install` without `@version`", ("DL3062",)),
    ("K10", "DF", "yarn install without cleaning the yarn cache", ("DL3060",)),
    ("L1", "DF", "both wget and curl in one image", ("DL4001", "DS-0014", "KICS-fc775e75")),
    ("L2", "DF", "wget without a progress setting", ("DL3047",)),
    ("L3", "DF", "curl with TLS checks off", ("CKV2_DOCKER_2",)),
    ("L4", "DF", "wget with TLS checks off", ("CKV2_DOCKER_3",)),
    ("L5", "DF", "`GIT_SSL_NO_VERIFY` set", ("CKV2_DOCKER_14",)),
    ("L6", "DF†", "ADD where COPY does the job", ("DL3020", "DS-0005", "CKV_DOCKER_4", "CIS-DI-0009", "KICS-9513a694")),
    ("L7", "DF", "ADD of a URL", ("KICS-4b410d24",)),
    ("L8", "DF", "archive COPY'd in and unpacked by RUN", ("DL3010",)),
    ("L9", "CTX", "COPY/ADD source excluded by `.dockerignore`", ("CopyIgnoredFile",)),
    ("M1", "DF", "pipe in RUN without `pipefail`", ("DL4006", "KICS-efbf148a")),
    ("M2", "DF", "shell switched inside RUN rather than with SHELL", ("DL4005", "KICS-8a301064")),
    ("M3", "DF", "ShellCheck findings in RUN scripts", ("SC*",)),
    ("M4", "DF", "RUN of tools pointless in a container (ssh, vim, ps, ...)", ("DL3001", "KICS-9b6b0f38")),
    ("N1", "DF†", "no HEALTHCHECK", ("DL3057", "DS-0026", "CKV_DOCKER_2", "CIS-DI-0006", "KICS-b03a748a")),
    ("N2", "DF", "label key not in a valid form", ("DL3048",)),
    ("N3", "DF", "label required by the schema is missing", ("DL3049",)),
    ("N4", "DF", "label not in the schema (strict mode)", ("DL3050",)),
    ("N5", "DF", "label in the schema has an empty value", ("DL3051",)),
    ("N6", "DF", "label value not in its schema format", ("DL3052", "DL3053", "DL3054", "DL3055", "DL3056", "DL3058")),
    ("O1", "IMG", "leftover files in the image (`.git`, caches, ...)", ("DKL-LI-0003",)),
    ("O2", "IMG", "wasted bytes and layer efficiency", ("lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent")),
    ("O3", "HOST", "Docker Content Trust off on the host", ("CIS-DI-0005",)),
]

# Peer ids a rule may claim that are not checks of the merged table.
EXTRA_IDS: dict[str, str] = {"DL1000": "hadolint's code for a file it cannot parse"}


def normalize(pid: str) -> str:
    from lintimg.engine.registry import normalize_peer

    return normalize_peer(pid)


def matches(claimed: str, row_id: str) -> bool:
    """Does a rule's peer id ``claimed`` name the row peer id ``row_id``?"""
    if row_id.endswith("*"):
        stem = row_id[:-1]
        return claimed == row_id or bool(re.fullmatch(re.escape(stem) + r"\d+", claimed))
    return normalize(claimed) == normalize(row_id)


def covering(rules, peers: tuple[str, ...]) -> list[str]:
    """Ids of the rules that claim any of ``peers``."""
    return sorted({r.id for r in rules for c in r.peers for p in peers if matches(c, p)})


def loaded_rules():
    sys.path.insert(0, str(ROOT))
    from lintimg.run.check import default_engine

    return default_engine().rules


def render(rules) -> str:
    out = [
        "# Peer rule mapping",
        "",
        "<!-- generated by `python3 benchmarks/peer_mapping.py`; do not edit by hand -->",
        "",
        "Every row of the merged peer table (research notes, `peer-rules.md` section 8)",
        "with the lintimg rules that claim one of its peer ids in their `peers` metadata.",
        "Row ids, scopes and peer ids are the notes' facts; the descriptions are ours.",
        "`SC*` is any ShellCheck code, `CKV_SECRET_*` any of checkov's secret checks;",
        "O2's ids are dive's CI rule names. KICS ids are the first 8 hex digits of the",
        "query UUID.",
        "",
        "Scopes: DF Dockerfile text; DF† Dockerfile text, also visible in an image;",
        "DF / IMG Dockerfile text and image contents; CTX needs the build context;",
        "REG needs registry metadata; IMG needs image contents; HOST the machine.",
        "A row whose scope a Dockerfile run decides (DF, DF†, DF / IMG, CTX) must map",
        "to a rule (`tests/test_peer_mapping.py`); the others are `pending` until one",
        "claims them (`LINTIMG_STRICT_MAPPING=1` fails on those too).",
        "",
        "| row | scope | check | peer ids | lintimg |",
        "|---|---|---|---|---|",
    ]
    for row, scope, check, peers in ROWS:
        ours = covering(rules, peers)
        cover = ", ".join(ours) if ours else ("pending" if scope not in DOCKERFILE_SCOPES else "**none**")
        out.append(f"| {row} | {scope} | {check} | {', '.join(peers)} | {cover} |")
    out += ["", "Peer ids outside the merged table:", "", "| peer id | meaning | lintimg |", "|---|---|---|"]
    for pid, meaning in EXTRA_IDS.items():
        out.append(f"| {pid} | {meaning} | {', '.join(covering(rules, (pid,))) or 'pending'} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render(loaded_rules())
    if "--check" in argv:
        if DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC.relative_to(ROOT)} is stale: run python3 benchmarks/peer_mapping.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)} ({len(ROWS)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
