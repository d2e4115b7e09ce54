# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TIER ?= S

JARS := .cache/jars
JARS_STAMP := $(JARS)/.resolved

.PHONY: venv jars demo test test-fast test-cluster lint bench clean

venv: $(STAMP) jars

# The JVM Delta (delta-spark JARs) through Maven, cached under .cache/jars; without Maven or a
# reachable repository the lake keeps working on delta-rs (one line says why).
jars: $(JARS_STAMP)

$(JARS_STAMP): jvm/pom.xml
	@mkdir -p $(JARS)
	@if command -v mvn >/dev/null 2>&1 && mvn -q -B -f jvm/pom.xml dependency:copy-dependencies \
		-DincludeGroupIds=io.delta -DoutputDirectory=$(CURDIR)/$(JARS) >$(JARS).log 2>&1; then \
		touch $@; echo "delta-spark JARs in $(JARS)"; \
	else echo "no delta-spark JARs (Maven missing or unreachable, see $(JARS).log): the lake uses delta-rs"; fi

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test,notebooks,bench]'
	touch $(STAMP)

# exit 3: the demo ran to its end and reports problems of its data (drift, quarantine); see README
demo: $(STAMP) jars
	$(BIN)/sf-spark demo || test $$? -eq 3

test: $(STAMP) jars
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# the monthly run on a standalone cluster (master and two workers on loopback), native writer against local
test-cluster: $(STAMP) jars
	$(BIN)/python -m pytest -m cluster

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --tier $(TIER)

clean:
	rm -rf build work spark-warehouse .pytest_cache .cache
