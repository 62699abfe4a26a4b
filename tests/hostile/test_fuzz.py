"""The fuzz targets of tests/hostile/fuzz.py, bounded for CI (``LINTIMG_FUZZ_EXAMPLES`` per target, 50 by default).

Each generated Dockerfile, layer and archive ends in results or a one-line LintimgError: no
other exception, no rule crash (LI002). Hypothesis shrinks what fails;
``python -m tests.hostile.fuzz --seconds N`` explores for longer and reports times (at most
5 s on an input under 64 KB), which no test asserts.
"""
from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, example, given, settings

from tests.hostile import fuzz

CI = settings(max_examples=int(os.environ.get("LINTIMG_FUZZ_EXAMPLES", "50")), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))


@CI
@given(fuzz.dockerfiles)
@example(b"RUN <| []")  # found in CI: a pipe that joins no simple command crashed LI364
def test_dockerfile_model_and_rules(data: bytes) -> None:
    fuzz.check_one("dockerfile", data)


@CI
@given(fuzz.layer_blob())
def test_layer_reader(blob: tuple[bytes, str]) -> None:
    fuzz.check_one("layer", blob)


@CI
@given(fuzz.archive_bytes())
def test_archive_reader(data: Any) -> None:
    fuzz.check_one("archive", data)
