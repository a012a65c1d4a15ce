# Every target creates .venv when missing and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= $(shell mktemp -d -t riskcli-demo-XXXXXX)
# Silences the Material theme's end-of-life banner on every build.
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint docs bench format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e . >/dev/null
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]' >/dev/null
	touch $(VENV)/.installed $@

# `make test EXTRAS=spark`: the dev tools and an optional extra (pyspark, for the Spark test)
EXTRAS ?=
$(VENV)/.installed-extra-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev,$*]' >/dev/null
	touch $@

demo: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh "$(DEMO_DIR)"

test: $(VENV)/.installed-dev $(if $(EXTRAS),$(VENV)/.installed-extra-$(EXTRAS))
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet

# The user guide (docs/, MkDocs Material) as a static site in site/; strict: broken links fail.
docs: $(VENV)/.installed-dev
	$(BIN)/mkdocs build --strict

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build site *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
