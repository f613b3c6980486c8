# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
DEMO    := demo
DEMO_DB := sqlite:///$(DEMO)/rapport.db
DEMO_AT := 2026-06-15T18:00:00Z

.PHONY: demo test lint typecheck unit bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/rapport demo-data --customers 200 --seed 7 --end $(DEMO_AT) --out $(DEMO)
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport import customers $(DEMO)/customers.csv
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport import events $(DEMO)/events.csv
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport validate
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport preview --at $(DEMO_AT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check engine tests bench
	$(BIN)/ruff format --check engine tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test chromium
	$(BIN)/pytest

# The review page's browser tests need Debian's chromium: installed here when missing.
chromium:
	bash .ci/ensure-chromium

test: lint typecheck unit

bench: $(VENV)/.installed-test
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache .hypothesis
