# `make run` and `make test` set themselves up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: lock lock-upgrade run test lint bench-rest bench-matching bench-push bench-fanout bench-after-event bench-load migrate worker demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3

# Installs exactly the versions in requirements.lock (used as constraints, so the
# same file pins the runtime, dev and bench dependencies); `make lock` refreshes it.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# The lock: every runtime, dev and bench dependency resolved for Python 3.11 on Linux.
# `make lock` re-resolves after a change to pyproject.toml, keeping every version it
# can; `make lock-upgrade` moves everything to the newest releases the ranges allow.
PIP_COMPILE = $(BIN)/pip-compile --all-extras --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --quiet --output-file requirements.lock

$(BIN)/pip-compile: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'pip-tools==7.6.2'

lock: $(BIN)/pip-compile
	$(PIP_COMPILE) pyproject.toml

lock-upgrade: $(BIN)/pip-compile
	$(PIP_COMPILE) --upgrade pyproject.toml

run: $(VENV)/.installed
	$(BIN)/python -m server run

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

migrate: $(VENV)/.installed
	$(BIN)/python -m db migrate

worker: $(VENV)/.installed
	$(BIN)/python -m workers

demo: $(VENV)/.installed
	$(BIN)/python -m server demo-data

bench-rest: $(VENV)/.installed
	$(BIN)/python bench/rest.py $(BENCH_ARGS)

bench-matching: $(VENV)/.installed
	$(BIN)/python bench/matching.py $(BENCH_ARGS)

bench-push: $(VENV)/.installed
	$(BIN)/python bench/push.py $(BENCH_ARGS)

bench-after-event: $(VENV)/.installed
	$(BIN)/python bench/after_event.py $(BENCH_ARGS)

bench-load: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	$(BIN)/python bench/load.py $(BENCH_ARGS)

bench-fanout: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	$(BIN)/python bench/fanout.py $(BENCH_ARGS)
