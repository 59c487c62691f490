# Build, test and explore the copy-on-write book. `make` sets up and builds; `make test` tests.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

VENV := .venv
BIN := $(VENV)/bin
SETUP_STAMP := $(VENV)/.setup-done
CHROMIUM := /usr/bin/chromium
NODE_STAMP := node_modules/.ci-done
BOOK_STAMP := _build/.book-done
BOOK_INPUTS := _config.yml _toc.yml package-lock.json \
	$(shell find book src/cowlib -type f -not -path '*/.ipynb_checkpoints/*' -not -name '*.pyc')
NOTEBOOKS := $(wildcard book/*.ipynb)
AS_ROOT := $(filter 0,$(shell id -u))
SUDO := $(if $(AS_ROOT),,sudo)

.DEFAULT_GOAL := all
.PHONY: all setup book test outputs lab bench lint clean

all: setup book

# Python tools in .venv, cowlib from src (editable), the venv's python3 kernel, Debian chromium,
# and the Pyodide runtime of the in-page runner (npm ci, pinned by package-lock.json).
setup: $(SETUP_STAMP) $(CHROMIUM) $(NODE_STAMP)

$(SETUP_STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

# Node and npm from Debian when the machine has no npm (only the set-up runs them).
$(NODE_STAMP): package.json package-lock.json
	command -v npm >/dev/null || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# A cold build every time: sphinx would not re-read (or re-execute) a chapter when only
# src/cowlib changed, and -W only sees the warnings of the pages it re-reads.
book: setup $(BOOK_STAMP)

$(BOOK_STAMP): $(SETUP_STAMP) $(NODE_STAMP) $(BOOK_INPUTS)
	rm -rf _build
	$(BIN)/jupyter-book build . -W -n --keep-going
	touch $@

test: setup lint $(BOOK_STAMP)
	$(BIN)/python -m pytest tests book -n auto --nbval --nbval-kernel-name python3 \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300

# The one command that regenerates every stored notebook output.
outputs: setup
ifneq ($(NOTEBOOKS),)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=300 \
		--ExecutePreprocessor.store_widget_state=False --ExecutePreprocessor.record_timing=False \
		$(NOTEBOOKS)
endif

# ARGS go to JupyterLab as they are: make lab ARGS="--no-browser --port 8889 --ip 0.0.0.0"
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=book $(if $(AS_ROOT),--allow-root) $(ARGS)

bench: setup
	$(BIN)/python benchmarks/run.py $(BENCH)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
