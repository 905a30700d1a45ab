# The README's commands. Everything is built from nothing: a fresh machine needs only python3.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

export RAY_USAGE_STATS_ENABLED := 0

LOADTEST_HOST ?= http://127.0.0.1:8000
LOADTEST_USERS ?= 32
LOADTEST_SPAWN_RATE ?= 8
LOADTEST_RUN_TIME ?= 1m
# Accounts prepared before the run and shared by the users (the first run registers them).
LOADTEST_ACCOUNTS ?= 8
LOADTEST_REPORTS ?= loadtests/reports
# The gate (loadtests/loadtest_gate.py): failed requests and the aggregated p95 over the run.
# The p95 budget and how it was measured: loadtests/README.md, "make loadtest".
LOADTEST_MAX_ERROR_RATE ?= 0.01
LOADTEST_P95_MS ?= 1000

.PHONY: run test lint format lock clean help bench loadtest ui ui-if-node ui-test ui-types

help:
	@echo "make run    install and start the service on embedded defaults"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make lint   ruff, mypy and the import-layer contract"
	@echo "make bench  Serve vs uvicorn, discovery vs a bare fetch loop and at scale, pacing under 502s, outreach vs bare SMTP (~20 min)"
	@echo "make loadtest  Locust against a running service (LOADTEST_HOST)"
	@echo "make ui-types  regenerate ui/src/api/schema.d.ts from the API's OpenAPI document"

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(RUNTIME): pyproject.toml constraints.txt | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -c constraints.txt -e .
	@touch $@

$(DEV): pyproject.toml constraints.txt $(RUNTIME)
	$(UV) pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'
	@touch $@

# Link-in-bio pages built by JavaScript are rendered in the system Chromium (Playwright cannot
# download browsers here); the browser tests need it too.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# The web app: npm ci when the lock file changed, vite build when a source changed.
UI_SOURCES := $(shell find ui/src ui/public -type f -not -name '*.test.*' 2>/dev/null) \
	ui/index.html ui/package.json ui/vite.config.ts ui/tsconfig.json
UI_MODULES := ui/node_modules/.package-lock.json
UI_BUILD := ui/dist/index.html
NODE_OK := $(shell node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2>/dev/null && echo yes)

$(UI_MODULES): ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UI_BUILD): $(UI_MODULES) $(UI_SOURCES)
	cd ui && npm run build
	@touch $@

ui:
	@[ "$(NODE_OK)" = yes ] || { echo "the web app needs Node 20 or newer (apt-get install nodejs npm, or nodejs.org)"; exit 1; }
	@$(MAKE) --no-print-directory $(UI_BUILD)

# make run serves the API without the web app when Node is missing, and says so.
ui-if-node:
	@if [ "$(NODE_OK)" = yes ]; then $(MAKE) --no-print-directory $(UI_BUILD); \
	else echo "note: no Node 20 here, so the web app is not built (apt-get install nodejs npm); serving the API only"; fi

ui-test: ui
	cd ui && npm test

ui-types: $(RUNTIME) $(UI_MODULES)
	$(BIN)/campaign-manager openapi --out ui/openapi.json
	cd ui && npx openapi-typescript openapi.json -o src/api/schema.d.ts && rm openapi.json

run: $(RUNTIME) ui-if-node
	@$(MAKE) --no-print-directory $(CHROMIUM) || \
		echo "note: no Chromium at $(CHROMIUM); link-in-bio pages built by JavaScript will be skipped"
	$(BIN)/campaign-manager serve

# Two processes: the Ray group and the rest side by side (tests/conftest.py). Schemathesis
# runs on its own after them: its cases share one test id, which pytest-xdist would run once.
test: $(DEV) $(CHROMIUM) ui-test
	$(BIN)/pytest -n 2 --dist loadgroup --ignore=tests/serve/test_openapi_fuzz.py
	$(BIN)/pytest tests/serve/test_openapi_fuzz.py

bench: $(DEV)
	@aims_file="$$(mktemp "$${TMPDIR:-/tmp}/cm-bench-aims.XXXXXX")" || exit 1; \
	trap 'rm -f "$$aims_file"' EXIT; \
	export CM_BENCH_AIMS_FILE="$$aims_file"; \
	failed=""; \
	for bench in bench_api bench_discovery bench_pacing bench_outreach; do \
		echo "bench: loadtests.$$bench"; \
		$(BIN)/python -m loadtests.$$bench || failed="$$failed loadtests.$$bench (exit $$?)"; \
	done; \
	echo; \
	$(BIN)/python -m loadtests.aims summary "$$aims_file" || failed="$$failed summary (exit $$?)"; \
	if [ -n "$$failed" ]; then echo "bench: failed:$$failed"; exit 1; fi

# Locust's own exit code would fail on the first failed request: the gate judges the run.
loadtest: $(DEV)
	@mkdir -p $(LOADTEST_REPORTS)
	$(BIN)/locust -f loadtests/locustfile.py --headless --only-summary \
		--host $(LOADTEST_HOST) --users $(LOADTEST_USERS) \
		--spawn-rate $(LOADTEST_SPAWN_RATE) --run-time $(LOADTEST_RUN_TIME) --stop-timeout 10 \
		--accounts $(LOADTEST_ACCOUNTS) --exit-code-on-error 0 \
		--csv $(LOADTEST_REPORTS)/locust --html $(LOADTEST_REPORTS)/locust.html
	$(BIN)/python loadtests/loadtest_gate.py $(LOADTEST_REPORTS)/locust_stats.csv \
		--max-error-rate $(LOADTEST_MAX_ERROR_RATE) --p95-ms $(LOADTEST_P95_MS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core storage scraping actors serve loadtests
	$(BIN)/lint-imports

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency (run after changing pyproject.toml, then commit constraints.txt).
lock: $(UV)
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -o constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
