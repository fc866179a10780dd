# syntax=docker/dockerfile:1
# redditstream: one image for every process. The worker is the default command; ingest,
# simulate and backfill are the app's other faust commands; the migrations run with the
# entrypoint replaced by alembic:
#   docker build -t redditstream .
#   docker run redditstream                                      faust -A streams worker -l info
#   docker run redditstream ingest                               faust -A streams ingest
#   docker run redditstream simulate                             faust -A streams simulate
#   docker run --entrypoint alembic redditstream upgrade head    the migrations
# docker-compose.yml runs each of them; docs/deploy.md explains the settings.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# ------------------------------------------------------------ the dashboard's charting library
# The worker serves uPlot from tools/dashboard/node_modules (web/dashboard.py); its version and
# integrity hash come from tools/dashboard/package-lock.json.
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /dashboard
COPY tools/dashboard/package.json tools/dashboard/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

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
# The project, editable as `make install` installs it: the code runs from /app (the runtime
# stage puts the same tree there), and the install registers the project's entry point
# (faust's `redditstream` web driver, pyproject.toml). Nothing needs the setuptools that
# Python 3.11's venv comes with at run time: it goes.
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY streams ./streams
COPY agents ./agents
COPY tables ./tables
COPY web ./web
RUN /opt/venv/bin/pip install --no-deps --editable . \
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
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=dashboard /dashboard/node_modules/uplot ./tools/dashboard/node_modules/uplot
COPY pyproject.toml README.md LICENSE alembic.ini ./
COPY migrations ./migrations
COPY docker ./docker
COPY streams ./streams
COPY agents ./agents
COPY tables ./tables
COPY web ./web
# byte-code compiled now: the application user cannot write into /app
RUN python -m compileall -q streams agents tables web migrations
USER 10001:10001
# the worker's RocksDB tables: one volume per container (compose gives each replica its own)
VOLUME ["/data"]
EXPOSE 6066
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["faust", "-A", "streams"]
CMD ["worker", "-l", "info"]
