"""Default settings pass good Dockerfiles: on the binnacle gold set, at least as many as hadolint's defaults (docs/defaults.md).

Both tools run once over the 432 files, from an empty folder with an empty
HOME (no config of either is found), hadolint with its defaults and lintimg
with its defaults and ``--no-context`` (the gold files come without their
build contexts); a file passes when it has no finding at or above the tool's
default failure threshold. ``benchmarks/gold_defaults.py`` prints the same
comparison with timings.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lintimg.config import Config
from lintimg.findings import Severity
from tests.clirun import REPO
from tests.shared import GOLD
from tests.test_hadolint_migration import hadolint_binary

pytestmark = pytest.mark.shared(GOLD, "the binnacle gold set")


def failing(findings: list[dict], key: str, threshold: str) -> set[str]:
    floor = Severity.parse(threshold)
    return {f["file"] for f in findings if Severity.parse(f[key]) >= floor}


def test_gold_set_passes_with_defaults_at_least_as_hadolint(tmp_path) -> None:
    files = sorted(str(p) for p in GOLD.glob("*.Dockerfile"))
    assert len(files) == 432
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LINTIMG_")}, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PYTHONPATH": str(REPO)}
    # hadolint runs beside lintimg (two processes, two CPUs); its output goes to a file, not a pipe nobody drains meanwhile.
    with open(tmp_path / "hadolint.json", "w+") as out, open(tmp_path / "hadolint.err", "w+") as err:
        theirs = subprocess.Popen([hadolint_binary(), "--no-fail", "-f", "json", *files], cwd=tmp_path, env=env, stdout=out, stderr=err)
        ours = subprocess.run([sys.executable, "-m", "lintimg", "--no-context", "--no-fail", "-f", "json", *files], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
        theirs.wait(timeout=900)
        err.seek(0)
        assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr[-500:] + err.read()[-500:]
        out.seek(0)
        hadolint_fails = failing([f for f in json.load(out) if f["level"] != "ignore"], "level", "info")
    lintimg_fails = failing(json.loads(ours.stdout)["findings"], "severity", Config().failure_threshold)
    passes_h, passes_l = len(files) - len(hadolint_fails), len(files) - len(lintimg_fails)
    print(f"\ngold set with defaults: lintimg passes {passes_l}, hadolint passes {passes_h}")
    assert passes_h >= 30, "hadolint itself passes some of these files: the comparison is not empty"
    assert passes_l >= passes_h
