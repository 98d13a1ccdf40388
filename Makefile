# revgate — one entry point for people and CI. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test check lint typecheck format schema clean bench bench-dashboard bench-load redis-server compose-validator

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)  ## run the gateway over the embedded demo backends
	$(BIN)/revgate demo

test: $(STAMP) redis-server compose-validator  ## run the test suite
	$(BIN)/python -m pytest

# The Redis tests (response cache) start a real redis-server on 127.0.0.1 (Debian package),
# installed here when missing: apt-get as root, else through `sudo -n` if it needs no
# password. With CI=true a failed install fails the build (and tests/test_ci_redis.py fails
# the suite), so CI never passes with the Redis tests skipped; elsewhere they skip, saying why.
APT_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
APT_LOG  ?= /tmp/revgate-apt-redis.log
redis-server:
	@if command -v redis-server >/dev/null 2>&1; then exit 0; fi; \
	echo "installing redis-server (Debian package) for the Redis tests"; \
	if { $(APT_SUDO) apt-get update -qq && $(APT_SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y -qq --no-install-recommends redis-server; } >$(APT_LOG) 2>&1 \
	   && command -v redis-server >/dev/null 2>&1; then \
	  echo "installed: $$(redis-server --version)"; \
	elif [ "$(CI)" = true ]; then \
	  tail -n 20 $(APT_LOG) >&2; echo "could not install redis-server (see $(APT_LOG))" >&2; exit 1; \
	else \
	  echo "could not install redis-server (see $(APT_LOG)): the Redis tests will be skipped"; \
	fi

# docker/compose.yaml is validated by `docker compose config` where the client has the compose
# plugin, else by Debian's docker-compose (v1; needs no daemon), installed here when missing.
# Best effort: without either, that one test skips, saying why.
compose-validator:
	@if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then \
	  exit 0; fi; \
	echo "installing docker-compose (Debian package) to validate docker/compose.yaml"; \
	{ $(APT_SUDO) apt-get update -qq && $(APT_SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends docker-compose; } \
	  >/tmp/revgate-apt-compose.log 2>&1 \
	  || echo "could not install docker-compose: the compose validation test will skip"

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

bench-load: $(STAMP)  ## 10,000 mixed queries at concurrency 64 against the demo: errors, p50/p99, RSS
	$(BIN)/python -m bench.mixed

bench: $(STAMP)  ## every benchmark: throughput vs Mesh/REST, dashboard, cache, compat, RSS (bench/README.md)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
