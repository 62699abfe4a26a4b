"""``lintimg pin``: pin every FROM image by the digest its tag resolves to, keeping the tag for readers.

``FROM python:3.12-slim`` becomes ``FROM python:3.12-slim@sha256:…``. The
digest is what the registry serves for the tag: an image index for a
multi-platform image (so the pin holds for every platform), otherwise the one
manifest. The builder then pulls exactly that image whatever the tag points
at later; the tag stays only for people. This changes what a build pulls, so
it is an unsafe fix by design, and it needs the registry.

FROM lines that use a build argument (``FROM ${BASE}``), name another stage
or ``scratch`` are left alone (the notes say which); ``--update`` also
re-resolves tags already pinned and replaces digests that moved.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lintimg.dockerfile import parse_dockerfile
from lintimg.dockerfile.edits import apply, token_edit
from lintimg.dockerfile.reference import parse_docker_ref, parse_ref
from lintimg.errors import LintimgError
from lintimg.findings import Edit
from lintimg.run.fix import FileFix, Source

Resolver = Callable[[str], str]  # image reference -> the digest its tag resolves to


@dataclass
class PinResult:
    fixes: list[FileFix] = field(default_factory=list)
    pinned: int = 0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def registry_resolver(insecure: bool = False, ca_file: str | None = None) -> Resolver:
    """Resolve tags on their registries through the base-image facts service (the ``lintimg image``
    client and credentials), each once per run and always asking the registry."""
    from lintimg.image.basefacts import BaseFactsService

    svc = BaseFactsService("registry", insecure=insecure, ca_file=ca_file)
    seen: dict[str, str] = {}

    def resolve(text: str) -> str:
        if text not in seen:
            got = svc.tag_digest(text)
            if not isinstance(got, str):
                raise LintimgError(got.reason)
            seen[text] = got
        return seen[text]

    return resolve


def pin_source(src: Source, resolve: Resolver, update: bool = False) -> tuple[FileFix, int, list[str], list[str]]:
    """The file with its FROM images pinned: (fix, how many pinned, notes, failures)."""
    df = parse_dockerfile(src.text, src.path)
    edits: list[Edit] = []
    notes: list[str] = []
    failures: list[str] = []
    for st in df.stages:
        tok = st.from_.args[0] if st.from_.args else None
        if tok is None or st.base_stage is not None:
            continue
        where = f"{src.path}:{st.from_.line}"
        if "$" in tok.text:
            notes.append(f"{where}: FROM {tok.text} depends on a build argument; pin the argument's default instead")
            continue
        if st.is_scratch:
            continue
        if tok.text != tok.value:
            notes.append(f"{where}: FROM {tok.text} is quoted or escaped; not pinned")
            continue
        written = parse_ref(tok.value)  # the tag as written (None when left out)
        try:
            ref = parse_docker_ref(tok.value)
        except LintimgError as e:
            notes.append(f"{where}: {e}")
            continue
        if ref.digest and not (update and written.tag):
            continue
        try:
            digest = resolve(f"{ref.name}:{written.tag or 'latest'}")
        except LintimgError as e:
            failures.append(f"{where}: cannot pin {tok.value}: {e}")
            continue
        if ref.digest == digest:
            continue
        named = tok.value.split("@", 1)[0]
        if written.tag is None:
            named += ":latest"  # what the untagged name meant, now said
        edits.append(token_edit(tok, f"{named}@{digest}"))
    fix = FileFix(src, apply(src.text, edits, src.newline) if edits else src.text)
    return fix, len(edits), notes, failures


def pin_sources(sources: list[Source], resolve: Resolver, update: bool = False) -> PinResult:
    out = PinResult()
    for src in sources:
        fix, n, notes, failures = pin_source(src, resolve, update)
        out.fixes.append(fix)
        out.pinned += n
        out.notes += notes
        out.failures += failures
    return out
