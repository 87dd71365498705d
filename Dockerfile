# RouteIQ gateway image: `routeiq serve` under tini, as a non-root user, on a read-only root filesystem.
# Build: docker build -t routeiq .   Run: see docs/deploy.md (config at /etc/routeiq/config.yaml,
# settings from ROUTEIQ_* variables, everything the process writes under the /data volume).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Every dependency ships wheels for this platform: no compiler is needed, and none reaches the runtime.
RUN python -m venv /opt/routeiq \
    && /opt/routeiq/bin/pip install --no-compile . \
    && /opt/routeiq/bin/python -m compileall -q /opt/routeiq/lib

FROM ${PYTHON_IMAGE} AS runtime
# tini as PID 1: SIGTERM reaches the granian supervisor, which drains its workers; zombies are reaped.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.* \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/routeiq /opt/routeiq
COPY deploy/docker/config.yaml /etc/routeiq/config.yaml
# /data is the only writable path: SQLite files (the embedded key store), temporary files, caches.
ENV PATH=/opt/routeiq/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/data \
    TMPDIR=/data \
    ROUTEIQ_CONFIG=/etc/routeiq/config.yaml \
    ROUTEIQ_SERVER__HOST=0.0.0.0 \
    ROUTEIQ_SERVER__LOG_FORMAT=json \
    ROUTEIQ_KEYS__SQLITE_PATH=/data/routeiq-keys.db
RUN mkdir -p /data && chown 10001:10001 /data
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4000/health/live', timeout=2)"]
ENTRYPOINT ["/usr/bin/tini", "--", "routeiq"]
CMD ["serve"]
