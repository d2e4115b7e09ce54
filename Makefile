# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TIER ?= S

.PHONY: venv demo test test-fast lint bench clean

venv: $(STAMP)

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test,notebooks,bench]'
	touch $(STAMP)

# exit 3: the demo ran to its end and reports problems of its data (drift, quarantine); see README
demo: $(STAMP)
	$(BIN)/sf-spark demo || test $$? -eq 3

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --tier $(TIER)

clean:
	rm -rf build work spark-warehouse .pytest_cache
