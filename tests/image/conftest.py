from pathlib import Path

import pytest

from tests.dockerengine import DockerEngine
from tests.image.support import SAMPLE_TAG, build_sample


@pytest.fixture(scope="session")
def sample_archive(docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample image built by the engine and saved in the legacy layout."""
    work = tmp_path_factory.mktemp("sample")
    build_sample(docker, work)
    out = work / "sample.tar"
    docker.run("save", "-o", str(out), SAMPLE_TAG)
    return out
