# `make run` and `make test` set themselves up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench-rest bench-matching bench-push bench-fanout migrate worker demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

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

bench-fanout: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/fanout.py $(BENCH_ARGS)
