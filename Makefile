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

# 3,000 customers: enough for the past campaigns' holdouts to show a lift with an interval
# that excludes 0 (a 6% lift is planted); the preview is long, so it goes to a file.
demo: $(VENV)/.installed
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/rapport demo-data --customers 3000 --seed 7 --end $(DEMO_AT) --out $(DEMO) --planted-lift 6%
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport import customers $(DEMO)/customers.csv
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport import events $(DEMO)/events.csv
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport import contacts $(DEMO)/contacts.csv
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport import events $(DEMO)/responses.csv --source planted
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport validate
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport preview --at $(DEMO_AT) > $(DEMO)/preview.txt 2>&1
	head -n 15 $(DEMO)/preview.txt
	@echo "... the whole preview: $(DEMO)/preview.txt"
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport report
	RAPPORT_DATABASE_URL=$(DEMO_DB) $(BIN)/rapport report --format html --out $(DEMO)/report.html
	@echo "open $(DEMO)/report.html in a browser for the charts"

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
