# lintimg's own image: the lintimg command with the fleet extra (Dask distributed), for CI jobs and Kubernetes.
# The build installs wheels made beforehand, so it needs no network:
#   pip wheel --wheel-dir wheelhouse '.[fleet]' && docker build -t lintimg .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG LINTIMG_VERSION=0.1.0
COPY wheelhouse/ /wheelhouse/
RUN python3 -m venv /opt/lintimg \
 && /opt/lintimg/bin/pip install --no-cache-dir --no-index --find-links /wheelhouse "lintimg[fleet]==${LINTIMG_VERSION}"

FROM ${PYTHON_IMAGE}
COPY --from=build /opt/lintimg /opt/lintimg
ENV PATH=/opt/lintimg/bin:$PATH
# a command, not a service: nothing to probe
HEALTHCHECK NONE
USER 65532:65532
ENTRYPOINT ["lintimg"]
CMD ["--help"]
