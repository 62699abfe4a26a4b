#!/usr/bin/env bash
# The whole test suite on a fresh machine: system packages, Python packages,
# ruff and mypy (configured in pyproject.toml), the Docker engine, then pytest.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in docker.io docker-registry busybox-static openssl git apache2-utils debootstrap; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test,shellcheck]'
python3 -m ruff check lintimg rules tests benchmarks fixtures action
bash .ci/typecheck
bash tests/services.sh start
trap 'bash tests/services.sh stop' EXIT
# Two workers, a test file each at a time (module fixtures are built once): most tests wait on one
# process (a build, a registry, a subprocess), so the second CPU would otherwise sit idle.
python3 -m pytest -q -ra -n 2 --dist loadfile --durations=25 "$@"  # the slowest tests: CI must stay well under 20 minutes
