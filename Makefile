# The README's two commands: `make run` (the annual edition on the embedded offline snapshot)
# and `make test`. Both create .venv when it is missing and install the pinned project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
YEAR ?= 2025

export CITY_INDEX_HOME ?= $(CURDIR)/output
export DAGSTER_HOME ?= $(CITY_INDEX_HOME)/dagster_home
export CITY_INDEX_WAREHOUSE ?= $(CITY_INDEX_HOME)/warehouse.duckdb

.PHONY: run test ui lint bench bench-quick snapshots clean validate

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# An editable install compiles nothing: with PYTHONDONTWRITEBYTECODE set (containers, CI)
	@# every command would compile the project's modules again (15 ms of each city-index run).
	@$(BIN)/python -m compileall -q pipelines
	@touch $@

run: $(STAMP)
	@$(BIN)/city-index release --year $(YEAR)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

ui: $(STAMP)
	$(BIN)/city-index prepare
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

snapshots: $(STAMP)
	$(BIN)/python scripts/generate_snapshots.py

clean:
	rm -rf output dbt_project/target dbt_project/logs

validate: $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && cp -n dagster.yaml $(DAGSTER_HOME)/ 2>/dev/null || true
	$(BIN)/city-index prepare >/dev/null
	$(BIN)/dagster definitions validate -w workspace.yaml
