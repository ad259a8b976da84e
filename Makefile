# livetally task runner. `make up` starts the embedded default; `make test` runs every test.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install system-deps assets up test lint typecheck pytest bench clean

$(BIN)/livetally: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/livetally

system-deps:
	bash scripts/system-deps.sh

# ECharts from npm, copied next to the screens (not committed).
service/static/vendor/echarts.min.js: package.json
	npm install --no-audit --no-fund --silent
	mkdir -p service/static/vendor
	cp node_modules/echarts/dist/echarts.min.js $@

assets: service/static/vendor/echarts.min.js

up: install assets
	$(BIN)/livetally up --demo

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

pytest: install system-deps assets
	$(BIN)/pytest

test: lint typecheck pytest

bench: install system-deps
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/projection.py

clean:
	rm -rf $(VENV) node_modules service/static/vendor
