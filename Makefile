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

.PHONY: run test lint format lock clean help bench loadtest

help:
	@echo "make run    install and start the service on embedded defaults"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make lint   ruff, mypy and the import-layer contract"
	@echo "make bench  Serve vs uvicorn, discovery vs a bare fetch loop, outreach vs bare SMTP (~10 min)"
	@echo "make loadtest  Locust against a running service (LOADTEST_HOST)"

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

run: $(RUNTIME)
	@$(MAKE) --no-print-directory $(CHROMIUM) || \
		echo "note: no Chromium at $(CHROMIUM); link-in-bio pages built by JavaScript will be skipped"
	$(BIN)/campaign-manager serve

test: $(DEV) $(CHROMIUM)
	$(BIN)/pytest

bench: $(DEV)
	@aims_file="$$(mktemp "$${TMPDIR:-/tmp}/cm-bench-aims.XXXXXX")" || exit 1; \
	trap 'rm -f "$$aims_file"' EXIT; \
	export CM_BENCH_AIMS_FILE="$$aims_file"; \
	failed=""; \
	for bench in bench_api bench_discovery bench_outreach; do \
		echo "bench: loadtests.$$bench"; \
		$(BIN)/python -m loadtests.$$bench || failed="$$failed loadtests.$$bench (exit $$?)"; \
	done; \
	echo; \
	$(BIN)/python -m loadtests.aims summary "$$aims_file" || failed="$$failed summary (exit $$?)"; \
	if [ -n "$$failed" ]; then echo "bench: failed:$$failed"; exit 1; fi

loadtest: $(DEV)
	$(BIN)/locust -f loadtests/locustfile.py --headless --only-summary \
		--host $(LOADTEST_HOST) --users $(LOADTEST_USERS) \
		--spawn-rate $(LOADTEST_SPAWN_RATE) --run-time $(LOADTEST_RUN_TIME) --stop-timeout 10

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
