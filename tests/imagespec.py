"""Image rule specs on images built in Python: ``catches`` / ``passes`` like :mod:`tests.rulespec`, for images."""
from __future__ import annotations

from typing import Any

from lintimg.dockerfile import parse_dockerfile
from lintimg.findings import Finding
from lintimg.run.image import check_image
from tests import rulespec
from tests.imagebuild import layer, make_image

MB = 1_000_000
BASE = layer("/bin/sh -c #(nop) ADD file:rootfs in / ", files={"bin/busybox": 900_000, "etc/passwd": 60})


def lint_image(img, dockerfile: str | None = None, config: dict[str, Any] | None = None) -> list[Finding]:
    df = parse_dockerfile(dockerfile, "Dockerfile") if dockerfile else None
    return check_image(rulespec.engine(config), img, df).findings


def catches(rule: str, img, dockerfile: str | None = None, *, config=None, line: int | None = None, count: int | None = None, message: str | None = None) -> list[Finding]:
    found = lint_image(img, dockerfile, config)
    got = [f for f in found if rule in (f.rule_id, f.slug)]
    assert got, f"{rule} did not fire; findings: {[(f.rule_id, f.message) for f in found]}"
    assert not [f for f in found if f.rule_id == "LI002"], [f.message for f in found if f.rule_id == "LI002"]
    if line is not None:
        assert any(f.location.line == line for f in got), [(f.location.line, f.message) for f in got]
    if count is not None:
        assert len(got) == count, [f.message for f in got]
    if message is not None:
        assert any(message in f.message for f in got), [f.message for f in got]
    return got


def passes(rule: str, img, dockerfile: str | None = None, *, config=None) -> None:
    found = lint_image(img, dockerfile, config)
    got = [f for f in found if rule in (f.rule_id, f.slug)]
    assert not got, [f.message for f in got]
    assert not [f for f in found if f.rule_id == "LI002"], [f.message for f in found if f.rule_id == "LI002"]


BIGFILE_DF = "FROM busybox\nCOPY BigFile /BigFile\nRUN rm /BigFile\nCOPY app /app\n"


def bigfile(size: int = 50 * MB):
    return make_image([
        BASE,
        layer("/bin/sh -c #(nop) COPY file:big in /BigFile ", files={"BigFile": size}),
        layer("/bin/sh -c rm /BigFile", delete=["BigFile"]),
        layer("/bin/sh -c #(nop) COPY file:app in /app ", files={"app": 2 * MB}),
    ])
