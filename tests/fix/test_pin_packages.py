"""Unsafe version pins from the base image's package database, read from an image the local engine holds.

Expected versions come from the image itself (``dpkg-query`` run in a container, or the database the
test wrote), not from lintimg.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lintimg.run.fix import Source, fix_source
from tests.imagebuild import toolchain_base
from tests.rulespec import engine

pytestmark = pytest.mark.engine


def _fix(text: str, rule: str, unsafe: bool = True) -> tuple[str, list[str]]:
    eng = engine({"rules": {r.id: "off" for r in engine().rules if r.fixable and r.id != rule}})
    result = fix_source(eng, Source("Dockerfile", text), unsafe=unsafe)
    assert not result.problems, result.problems
    return result.fixed, result.notes


def test_apt_packages_pinned_to_the_debian_base(docker) -> None:
    base = toolchain_base(docker)
    version = docker.run("run", "--rm", "--network", "none", base, "dpkg-query", "-W", "-f", "${Version}", "nodejs").stdout.decode()
    bash = docker.run("run", "--rm", "--network", "none", base, "dpkg-query", "-W", "-f", "${Version}", "bash").stdout.decode()
    text = f"FROM {base}\nRUN apt-get update && apt-get install -y \\\n    nodejs \\\n    bash\n"
    assert _fix(text, "LI300", unsafe=False)[0] == text  # unsafe only
    fixed, _ = _fix(text, "LI300")
    assert fixed == f"FROM {base}\nRUN apt-get update && apt-get install -y \\\n    nodejs={version} \\\n    bash={bash}\n"
    # A package the base does not have: no partial pin (the finding would stay).
    other = f"FROM {base}\nRUN apt-get install -y nodejs curl\n"
    assert _fix(other, "LI300")[0] == other


def test_apk_packages_pinned_from_the_installed_database(docker, tmp_path: Path) -> None:
    busybox = docker.base_image()
    (tmp_path / "installed").write_text("C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\n\nC:Q1def=\nP:curl\nV:8.9.1-r1\nA:x86_64\n\n")
    (tmp_path / "Dockerfile").write_text(f"FROM {busybox}\nCOPY installed /lib/apk/db/installed\n")
    tag = docker.build(tmp_path, "lintimg-test/fix-apkdb:1")
    fixed, _ = _fix(f"FROM {tag}\nRUN apk add --no-cache curl musl\n", "LI310")
    assert fixed == f"FROM {tag}\nRUN apk add --no-cache curl=8.9.1-r1 musl=1.2.5-r0\n"


def test_a_base_image_not_in_the_engine_is_a_note_not_a_pull(docker) -> None:
    text = "FROM lintimg-test/not-here:0\nRUN apt-get install -y curl\n"
    fixed, notes = _fix(text, "LI300")
    assert fixed == text
    assert any("package versions of lintimg-test/not-here:0 unknown" in n for n in notes), notes
