import os

import pytest

from tests import shared
from tests.dockerengine import DockerEngine, engine_or_skip


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.shared(path, what)``: the test needs that part of ../shared (see tests/shared.py)."""
    for mark in item.iter_markers("shared"):
        shared.need(*mark.args)


@pytest.fixture(scope="session", autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory):
    """lintimg's disk caches (ShellCheck, secrets, contexts) in a folder of this session: tests neither
    read what a developer's earlier runs left nor leave anything in ~/.cache."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def docker() -> DockerEngine:
    """The local Docker engine; skips (or fails under LINTIMG_REQUIRE_ENGINE=1) when absent."""
    return engine_or_skip()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory):
    """A farm of Debian docker-registry processes on 127.0.0.1 sharing one storage; stopped at the end."""
    from tests.registry import registry_or_skip

    farm = registry_or_skip(tmp_path_factory.mktemp("registry"))
    yield farm
    farm.stop_all()
