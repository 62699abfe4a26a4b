import pytest

from tests.fleet.support import Fleet, build_fleet


@pytest.fixture(scope="session")
def fleet_farm(tmp_path_factory):
    """A registry farm of its own, so its catalog holds only the fleet."""
    from tests.registry import registry_or_skip

    farm = registry_or_skip(tmp_path_factory.mktemp("fleet-registry"))
    yield farm
    farm.stop_all()


@pytest.fixture(scope="session")
def fleet(docker, fleet_farm, tmp_path_factory) -> Fleet:
    """16 images over 3 bases on a loopback registry, built by the engine (tests/fleet/support.py)."""
    reg = fleet_farm.start("fleet")
    return build_fleet(docker, reg.host, tmp_path_factory.mktemp("fleet-build"))


@pytest.fixture(scope="session")
def worker_docker_config(tmp_path_factory):
    """The DOCKER_CONFIG folder the cluster's workers (only they) are started with; a test writes its config.json."""
    return tmp_path_factory.mktemp("worker-docker-config")


@pytest.fixture(scope="session")
def cluster(worker_docker_config):
    """A local Dask cluster of 2 single-threaded workers on loopback, started once for the fleet tests."""
    from tests.fleet.daskcluster import dask_cluster

    with dask_cluster(2, worker_env={"DOCKER_CONFIG": str(worker_docker_config)}) as c:
        yield c
