# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
DEMO    := demo
DEMO_AT := 2026-06-15T18:00:00Z
DEMO_CUSTOMERS ?= 200

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The sample history goes into the database config.yaml names (rapport.db here), so the
# next `rapport preview` a new user types reads it. Imports are idempotent: running the
# demo again adds nothing twice and never deletes a database.
demo: $(VENV)/.installed
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/rapport demo-data --customers $(DEMO_CUSTOMERS) --seed 7 --end $(DEMO_AT) --out $(DEMO)
	$(BIN)/rapport import customers $(DEMO)/customers.csv
	$(BIN)/rapport import events $(DEMO)/events.csv
	$(BIN)/rapport validate
	$(BIN)/rapport preview --at $(DEMO_AT)
	@echo "next: $(BIN)/rapport preview --at $(DEMO_AT) --all   (or explain CUSTOMER, simulate)"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check engine tests bench
	$(BIN)/ruff format --check engine tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test
	$(BIN)/pytest

test: lint typecheck unit

bench: $(VENV)/.installed-test
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache .hypothesis
