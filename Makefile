# livetally task runner. `make up` starts the embedded default; `make test` runs every test.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install system-deps assets up test unit lint typecheck pytest bench clean

$(BIN)/livetally: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/livetally

system-deps:
	bash scripts/system-deps.sh

# ECharts and the CJK web font from npm, copied next to the pages (not committed) by
# scripts/assets.sh, the same step the Dockerfile runs.
VENDOR := service/pages/static/vendor

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

$(VENDOR)/.built: node_modules/.installed scripts/assets.sh
	bash scripts/assets.sh node_modules $(VENDOR)
	touch $@

assets: $(VENDOR)/.built

up: install assets
	$(BIN)/livetally up --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install system-deps assets
	$(BIN)/pytest

test: lint typecheck pytest

# The pure tests alone: no server, no browser, a few seconds.
unit: install
	$(BIN)/pytest tests/unit -q -m "not postgres and not redis and not browser"

bench: install system-deps
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.projection
	$(BIN)/python -m benchmarks.review

clean:
	rm -rf $(VENV) node_modules service/pages/static/vendor
