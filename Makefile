# revgate — one entry point for people and CI. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test check lint typecheck format schema clean bench bench-dashboard

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)  ## run the gateway over the embedded demo backends
	$(BIN)/revgate demo

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy gateway schema adapters tests bench

check: lint typecheck test  ## everything CI and reviewers rely on

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(STAMP)  ## regenerate the committed schema/schema.graphql
	$(BIN)/revgate schema > schema/schema.graphql

bench-dashboard: $(STAMP)  ## cross-forge dashboard query: upstream requests and latency ratio
	$(BIN)/python -m bench.dashboard

bench: bench-dashboard  ## every benchmark (they print ratios; no timed assertions in tests)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
