# The two commands of the README: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: demo test unit integration install up down status lint clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY)"; exit 1; }
	@[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
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
	MODSTREAM_DEV_MODE=true $(BIN)/python -m workers.demo

# Unit tests, then the integration tests against the real broker and Redis.
test: up
	deploy/prometheus/install.sh
	deploy/console/install-browser.sh
	MODSTREAM_DEV_MODE=true $(BIN)/python -m pytest -q

unit: install
	$(BIN)/python -m pytest -q -m "not integration"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy schemas streams workers

clean: down
	rm -rf .stack
