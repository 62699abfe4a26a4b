import pytest

from tests.dockerengine import DockerEngine, engine_or_skip


@pytest.fixture(scope="session")
def docker() -> DockerEngine:
    """The local Docker engine; skips (or fails under LINTIMG_REQUIRE_ENGINE=1) when absent."""
    return engine_or_skip()
