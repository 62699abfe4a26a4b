"""docker-daemon: and bare references against the real engine."""
from __future__ import annotations

import pytest

from lintimg.errors import LintimgError
from lintimg.image import open_image
from tests.image.support import SAMPLE_TAG, snapshot

pytestmark = pytest.mark.engine


def test_daemon_and_bare_reference_read_the_local_image(sample_archive):
    from_archive = snapshot(open_image(f"docker-archive:{sample_archive}"))
    img = open_image(f"docker-daemon:{SAMPLE_TAG}")
    assert snapshot(img) == from_archive and img.name == "lintimg-test/image-sample"
    assert snapshot(open_image(SAMPLE_TAG)) == from_archive


def test_daemon_errors(docker, monkeypatch, tmp_path):
    with pytest.raises(LintimgError, match=r"^docker-daemon:lintimg-test/absent:1: no such image in the local engine$"):
        open_image("docker-daemon:lintimg-test/absent:1")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    with pytest.raises(LintimgError, match=rf"^docker-daemon:{SAMPLE_TAG}: cannot reach the Docker engine at unix://{tmp_path}/none.sock"):
        open_image(f"docker-daemon:{SAMPLE_TAG}")
