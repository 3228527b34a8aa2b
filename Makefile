# WanStudio: `make run` starts the studio, `make test` runs every test.
PYTHON ?= python3
# Where `make run` and `make dev` listen (host:port).
BIND ?= 127.0.0.1:8000
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run dev test test-fast lint format bench install chromium

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

# Debian's Chromium drives the browser tests; Playwright cannot download its own here.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; }

# A real instance: DEBUG off, gunicorn, plain HTTP on BIND; Ctrl-C stops every process.
run: install
	$(BIN)/python manage.py runstudio --bind $(BIND)

# The development server instead: DEBUG on, reloads when the code changes.
dev: install
	$(BIN)/python manage.py runstudio --dev --bind $(BIND)

# axe-core from the npm registry (no CDN): the browser tests check every page's accessibility.
AXE := var/npm/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix var/npm --no-audit --no-fund axe-core@4

# The whole suite on SQLite; then, when DATABASE_URL / REDIS_URL name servers, the tests that
# run real processes again on PostgreSQL + Redis (each studio gets a fresh database).
test: install chromium $(AXE) lint
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
	  echo "--- again on DATABASE_URL + REDIS_URL: real processes, no browser ---"; \
	  $(BIN)/python -m pytest -m "live and not browser"; \
	fi

# Everything but the slow real-process tests.
test-fast: install
	$(BIN)/python -m pytest -m "not live"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Pages under gunicorn as a team of 30 asks for them, over 100,000 seeded generations
# (BENCH_ARGS="--generations 1m" for a million), the pipeline against the simulator, a worker's
# memory; prints tables. BENCH_ARGS="--help" lists the knobs.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# A consistent backup while the studio runs (docs/deploy.md); again into the same DIR copies
# only new files. `make restore DIR=…` puts one back into an empty instance.
DIR ?= var/backup
.PHONY: backup restore
backup: install
	$(BIN)/python manage.py backup $(DIR)

restore: install
	$(BIN)/python manage.py restore $(DIR)
