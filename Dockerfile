# syntax=docker/dockerfile:1
# redditstream: one image for every process, the project installed from its wheel. The entrypoint
# is the project's console script (`redditstream`: faust's command line for the app); the worker
# is the default command, the others are its other commands:
#   docker build -t redditstream .
#   docker run redditstream                   redditstream worker -l info
#   docker run redditstream ingest            redditstream ingest
#   docker run redditstream simulate          redditstream simulate
#   docker run redditstream migrate           redditstream migrate (the migrations in the wheel)
# docker-compose.yml runs each of them; docs/deploy.md explains the settings.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ------------------------------------------------------------ Python dependencies and the project
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
# The lock alone first, so that this layer is rebuilt only when requirements.lock changes.
# Every package is pinned with its hashes (pip-compile --generate-hashes; docs/deploy.md).
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: -r /tmp/requirements.lock
# The project as a wheel (its dashboard files, uPlot included, and its migrations are package
# data: pyproject.toml), installed with no index: its requirements must all be met by the lock.
# The source stays in this stage. Nothing needs the setuptools that Python 3.11's venv comes with
# at run time: it goes.
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY streams ./streams
COPY agents ./agents
COPY tables ./tables
COPY web ./web
COPY migrations ./migrations
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/dist . \
 && /opt/venv/bin/pip install --no-index /tmp/dist/redditstream-*.whl \
 && /opt/venv/bin/pip uninstall --yes setuptools

# ------------------------------------------------------------ the runtime image
FROM ${PYTHON_IMAGE} AS runtime
# a numeric user (10001), so that a runtime can verify that it is not root (runAsNonRoot)
RUN groupadd --system --gid 10001 redditstream \
 && useradd --system --uid 10001 --gid redditstream --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin redditstream \
 && mkdir -p /data \
 && chown redditstream:redditstream /data
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REDDITSTREAM_HOME=/app \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=6066 \
    DATA_DIR=/data \
    BACKFILL_CHECKPOINT=/data/backfill/checkpoint.json
# the virtualenv with the project (pip compiled its byte code when it installed the wheel)
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY docker ./docker
USER 10001:10001
# the worker's RocksDB tables: one volume per container (compose gives each replica its own)
VOLUME ["/data"]
EXPOSE 6066
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["redditstream"]
CMD ["worker", "-l", "info"]
