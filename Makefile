# The two commands of README.md: `make demo` and `make test`. Everything else supports them.
SHELL := /bin/bash
PY    ?= python3
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up up-secure certs down status demo worker test lint unit integration faults cluster cluster-down bench bench-long clean lock vendor wheel

DASH  := tools/dashboard/node_modules/.installed

install: $(STAMP) $(DASH)
# the runtime dependencies and the test tools exactly as locked (requirements-test.lock, hash-checked:
# the runtime at requirements.lock's versions, those streams.runtime is verified with), then the
# project itself, editable, built by the locked setuptools
$(STAMP): pyproject.toml requirements-test.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements-test.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# the dashboard's charting library (uPlot), pinned in the lock; the worker serves the copy in
# web/vendor/ (package data of the wheel), which tests/unit/test_packaging.py compares with this
$(DASH): tools/dashboard/package-lock.json
	command -v npm >/dev/null || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	cd tools/dashboard && npm ci --no-audit --no-fund --loglevel=error
	touch $(DASH)

up: install
	tools/stack.sh up

# the same stack with TLS required (docs/deploy.md, "Connecting to a managed Kafka"): Kafka over
# SASL_SSL (SCRAM-SHA-512) and mutual TLS, PostgreSQL sslmode=verify-full, Redis rediss://;
# .env.local gets their settings (`make up` goes back to PLAINTEXT)
up-secure: install
	tools/stack.sh up-secure

# the certificates of the secured stack and of docker-compose.secure.yml, in .cache/tls
certs: install
	TLS_SERVER_NAMES=kafka,postgres,redis $(BIN)/python tools/tls/certs.py .cache/tls

down:
	tools/stack.sh down

status:
	tools/stack.sh status

cluster: install
	tools/kafka/kafka.sh start-cluster

cluster-down:
	tools/kafka/kafka.sh stop

worker: up
	set -a; . ./.env.local; set +a; $(BIN)/faust -A streams worker -l info

# `make demo ARCHIVE=1`: without Reddit API keys, ingest reads the archive (simulated; docs/archive.md).
# ARCHIVE is make's variable, not a setting: kept out of the environment (the settings' ARCHIVE_*
# group would read it), handed to the demo as DEMO_ARCHIVE
unexport ARCHIVE
demo: up
	DEMO_ARCHIVE=$(ARCHIVE) tools/demo.sh

test: up lint
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

# ruff (rules in pyproject.toml) on the whole tree, formatting checked, mypy on the domain packages,
# the layer contracts (import-linter, [tool.importlinter] in pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

unit: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# the whole fault-injection suite (docs/reliability.md); `make test` runs only its short scenarios
faults: up
	$(BIN)/python -m pytest tests/faults -m faults $(PYTEST_ARGS)

# the hash-pinned locks: requirements.lock (the runtime, the Docker image's) and
# requirements-test.lock (the runtime and the test tools, `make install`'s); docs/deploy.md
lock:
	tools/lock.sh $(LOCK_ARGS)

# web/vendor/ from tools/dashboard/node_modules, after a change of uPlot's version in package.json
vendor: $(DASH)
	cp tools/dashboard/node_modules/uplot/dist/uPlot.iife.min.js tools/dashboard/node_modules/uplot/dist/uPlot.min.css web/vendor/
	cp tools/dashboard/node_modules/uplot/LICENSE web/vendor/uPlot.LICENSE

# the wheel (dist/redditstream-*.whl): the project with its dashboard files and migrations
wheel: install
	rm -rf build dist
	$(BIN)/pip wheel --no-deps --no-build-isolation --wheel-dir dist .

# the benchmarks of the parts and the end-to-end comparison (≈ 30 min; docs/benchmarks.md)
BENCHES := ingest_bench processing_bench sink_bench web_bench backfill_bench comments_bench e2e
bench: up
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done
	$(BIN)/python bench/e2e.py --workers 1,2,4

# the long runs, alone on the machine (≈ 45 min; docs/reliability.md): recovery time, 30-min soak
bench-long: up
	$(BIN)/python bench/recovery.py --entries 200000,1000000
	$(BIN)/python bench/soak.py --minutes 30 --restart-every 5

clean: down
	rm -rf .data .cache/stack
