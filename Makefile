# `make run` and `make test` work on a fresh machine with only Python 3.11:
# each creates ./.venv when it is missing and installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean compat-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A private tangle in one command: node + coordinator + a gentle workload (Ctrl-C stops it;
# running it again continues the same tangle).
run: $(STAMP)
	$(BIN)/pyri devnet --dir ./devnet --port 14265

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The IRI client libraries tests/compat drives: PyOTA 2.1.0 from PyPI into .venv, iota.js from
# npm into tests/compat/js/node_modules. Quick when already installed; when a registry or npm is
# unavailable it says so and those tests skip.
compat-deps: $(STAMP)
	$(BIN)/python tests/compat/install.py

unit: $(STAMP) compat-deps
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/crypto.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
