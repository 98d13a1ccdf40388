# revgate — one entry point for people and CI. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test check lint typecheck format schema clean lock test-random bench bench-dashboard bench-load redis-server chromium haproxy compose-validator graphiql-assets dashboard-assets axe-assets screenshot

# The venv installs exactly the locked versions (hash-checked), then revgate itself without
# resolving again, so every developer, CI and the image run what was tested.
$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# Re-resolve the locks from pyproject.toml's ranges (existing pins are kept unless a range
# excludes them; UPGRADE=1 takes the newest allowed). Python 3.11 on linux x86_64: CI and the image.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	--custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade)
lock: $(STAMP)  ## regenerate requirements.lock and requirements-dev.lock (hashes)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements-dev.lock

demo: $(STAMP)  ## run the gateway over the embedded demo backends (PORT=8001 for another port)
	$(BIN)/revgate demo $(if $(PORT),--port $(PORT))

test: $(STAMP) redis-server chromium haproxy compose-validator  ## run the test suite
	$(BIN)/python -m pytest

# Servers and programs the tests need, from Debian's packages, installed when missing: apt-get
# as root, else through `sudo -n` if it needs no password. With CI=true a failed install fails
# the build (and tests/test_ci_*.py fail the suite), so CI never passes with those tests
# skipped; elsewhere they skip, saying why. redis-server: the Redis tests (cache, rate limits);
# chromium: the browser tests (playwright-python drives it through executable_path);
# haproxy: checks docker/haproxy.cfg (the replicas' load balancer).
APT_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
# $(call apt_need,COMMAND,PACKAGE,WHAT IT IS FOR)
define apt_need
	@if command -v $(1) >/dev/null 2>&1; then exit 0; fi; \
	log=/tmp/revgate-apt-$(2).log; \
	echo "installing $(2) (Debian package) for $(3)"; \
	if { $(APT_SUDO) apt-get update -qq && $(APT_SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y -qq --no-install-recommends $(2); } >$$log 2>&1 \
	   && command -v $(1) >/dev/null 2>&1; then \
	  echo "installed: $(2)"; \
	elif [ "$(CI)" = true ]; then \
	  tail -n 20 $$log >&2; echo "could not install $(2) (see $$log)" >&2; exit 1; \
	else \
	  echo "could not install $(2) (see $$log): $(3) will be skipped"; \
	fi
endef

redis-server:
	$(call apt_need,redis-server,redis-server,the Redis tests)

chromium:
	$(call apt_need,chromium,chromium,the browser tests)

haproxy:
	$(call apt_need,haproxy,haproxy,the load-balancer config test (docker/haproxy.cfg))

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
	$(BIN)/mypy gateway schema adapters tests bench revgate.py

# The schema tests once more in a random order (pytest-random-order: modules shuffled, and the
# tests within each): no test may rely on another having run first. The seed is printed;
# rerun a failure with --random-order-seed=N.
test-random: $(STAMP)  ## tests/schema in random order
	$(BIN)/python -m pytest tests/schema -p no:cacheprovider --random-order

check: lint typecheck test test-random  ## everything CI and reviewers rely on

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

# GraphiQL's files shipped in gateway/static/graphiql (its README): the pinned npm packages'
# own builds, fetched from the npm registry (npm verifies each tarball's integrity) and copied.
GRAPHIQL_DIR := gateway/static/graphiql
graphiql-assets:
	@tmp=$$(mktemp -d) && cd $$tmp && \
	npm pack --silent react@18.2.0 react-dom@18.2.0 graphiql@3.8.3 @graphiql/plugin-explorer@1.0.2 >/dev/null && \
	for t in *.tgz; do mkdir -p "$${t%.tgz}" && tar xzf "$$t" -C "$${t%.tgz}"; done && cd - >/dev/null && \
	cp $$tmp/react-18.2.0/package/umd/react.production.min.js $(GRAPHIQL_DIR)/ && \
	cp $$tmp/react-dom-18.2.0/package/umd/react-dom.production.min.js $(GRAPHIQL_DIR)/ && \
	cp $$tmp/graphiql-3.8.3/package/graphiql.min.js $$tmp/graphiql-3.8.3/package/graphiql.min.css $(GRAPHIQL_DIR)/ && \
	cp $$tmp/graphiql-plugin-explorer-1.0.2/package/dist/index.umd.js $(GRAPHIQL_DIR)/plugin-explorer.umd.js && \
	cp $$tmp/graphiql-plugin-explorer-1.0.2/package/dist/style.css $(GRAPHIQL_DIR)/plugin-explorer.css && \
	rm -rf $$tmp && git status --short $(GRAPHIQL_DIR)

# The dashboard's vendored module (gateway/static/dashboard/README.md): htm's own build of
# Preact + hooks + htm, fetched from the npm registry and copied byte for byte.
DASHBOARD_VENDOR := gateway/static/dashboard/vendor
dashboard-assets:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htm@3.1.1 >/dev/null && \
	tar xzf htm-3.1.1.tgz && cd - >/dev/null && \
	cp $$tmp/package/preact/standalone.module.js $(DASHBOARD_VENDOR)/htm-preact-standalone.module.js && \
	rm -rf $$tmp && git status --short $(DASHBOARD_VENDOR)

# axe-core for the dashboard's accessibility test only (tests/browser/vendor/axe-core).
AXE_DIR := tests/browser/vendor/axe-core
axe-assets:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent axe-core@4.14.1 >/dev/null && \
	tar xzf axe-core-4.14.1.tgz && cd - >/dev/null && \
	cp $$tmp/package/axe.min.js $$tmp/package/LICENSE $$tmp/package/LICENSE-3RD-PARTY.txt $(AXE_DIR)/ && \
	rm -rf $$tmp && git status --short $(AXE_DIR)

screenshot: $(STAMP) chromium  ## regenerate docs/graphiql.png, docs/dashboard.png, docs/dashboard-375.png (the demo, in Chromium)
	$(BIN)/python -m tests.browser.screenshot docs/graphiql.png

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
