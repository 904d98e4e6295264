# The two commands of the README: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-dev.lock | sha256sum | cut -c1-12)
# Reproducible installs: every package from the lock, each file checked against its sha256.
LOCK := $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: demo test unit integration install up down status lint clean lock

$(STAMP): pyproject.toml requirements-dev.lock
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY)"; exit 1; }
	@[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(PY) deploy/check_lock.py requirements-dev.lock dev
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

up: install
	deploy/local/stack up

down:
	deploy/local/stack down

status:
	deploy/local/stack status

# Brings the local stack up, runs the workers, the executor and the sample feed, prints decisions.
demo: up
	MODSTREAM_DEV_MODE=true $(BIN)/python -m workers.dev.demo

# Unit tests, then the integration tests against the real broker and Redis.
test: up
	deploy/prometheus/install.sh
	deploy/console/install-browser.sh
	MODSTREAM_DEV_MODE=true $(BIN)/python -m pytest -q

unit: install
	$(BIN)/python -m pytest -q -m "not integration"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy schemas streams workers

# After changing dependencies in pyproject.toml: rewrite both locks (the image uses
# requirements.lock, CI and developers requirements-dev.lock), then commit them.
# Needs only uv, not the locked environment: the locks may be stale when this runs.
lock:
	@[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	@[ -x $(BIN)/uv ] || $(BIN)/pip install -q uv
	$(LOCK) pyproject.toml build-requirements.in -o requirements.lock
	$(LOCK) --extra dev pyproject.toml build-requirements.in -o requirements-dev.lock

clean: down
	rm -rf .stack
