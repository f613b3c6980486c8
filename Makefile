# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
DEMO    := demo
DEMO_AT := 2026-06-15T18:00:00Z
DEMO_CUSTOMERS ?= 3000

.PHONY: demo test lint typecheck unit bench bench-quick bench-parts clean chromium docs docs-reference

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
# 3,000 customers: enough for the past campaigns' holdouts to show a lift with an interval
# that excludes 0 (a 6% lift is planted); the preview is long, so it goes to a file.
demo: $(VENV)/.installed
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/rapport demo-data --customers $(DEMO_CUSTOMERS) --seed 7 --end $(DEMO_AT) --out $(DEMO) --planted-lift 6%
	$(BIN)/rapport import customers $(DEMO)/customers.csv
	$(BIN)/rapport import events $(DEMO)/events.csv
	$(BIN)/rapport import contacts $(DEMO)/contacts.csv
	$(BIN)/rapport import events $(DEMO)/responses.csv --source planted
	$(BIN)/rapport validate
	$(BIN)/rapport preview --at $(DEMO_AT) > $(DEMO)/preview.txt 2>&1
	head -n 15 $(DEMO)/preview.txt
	@echo "... the whole preview: $(DEMO)/preview.txt"
	$(BIN)/rapport report
	$(BIN)/rapport report --format html --out $(DEMO)/report.html
	@echo "open $(DEMO)/report.html in a browser for the charts"
	@echo "next: $(BIN)/rapport preview --at $(DEMO_AT) --all   (or explain CUSTOMER, simulate)"

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

# The documentation site, into site/. Strict: a broken link or a page missing from the nav
# fails the build. The CLI reference is generated from the commands (docs-reference).
$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $@ $(VENV)/.installed

docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-reference: $(VENV)/.installed
	$(BIN)/python -m engine.cli.reference > docs/reference/cli.md

# One JSON object: full pass, baseline, ratio, incremental tick, peak RSS, import speed
# (bench/scale.py says what each is). 1M customers x 10 events take several GB (checked
# first) and a long while; bench-quick is the everyday 100k. SCALE_ARGS adds options, e.g.
# SCALE_ARGS="--database postgresql+psycopg://…".
bench: $(VENV)/.installed
	$(BIN)/python bench/scale.py --customers 1000000 --events-per-customer 10 --workers 2 --json $(SCALE_ARGS)

bench-quick: $(VENV)/.installed
	$(BIN)/python bench/scale.py --customers 100000 --events-per-customer 10 --workers 2 --json $(SCALE_ARGS)

# The detailed benchmarks of each part (matcher, evaluation, import).
bench-parts: $(VENV)/.installed-test
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) site .pytest_cache .mypy_cache .ruff_cache .hypothesis
