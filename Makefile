# ZeroTrip — `make run` for the demo, `make test` for the whole suite, `make soak` for the volume runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PEOPLE ?= 50000
# The suite runs on this many pytest-xdist workers (one per core here), each with its own database.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install run migrate seed test soak lint ci clean browser-deps pg-client

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

migrate: install
	$(BIN)/zerotrip db upgrade

seed: migrate
	@if $(BIN)/python -m app.cli.is_empty; then $(BIN)/zerotrip seed --people $(PEOPLE); else echo "database already has residents; not seeding" >&2; fi

run: seed
	$(BIN)/zerotrip demo

lint: install
	$(BIN)/ruff check app flows notifications mock_wechat tests benchmarks
	$(BIN)/lint-imports

# Debian's Chromium (+ CJK fonts for screenshots) and axe-core from npm, for tests/web; quick when present.
AXE := .cache/npm/node_modules/axe-core/axe.min.js
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "browser-deps: could not install chromium; tests/web will skip (and fail under CI)" >&2; fi
	@test -f $(AXE) || npm install --no-save --no-audit --no-fund --silent --prefix .cache/npm axe-core@4 \
	  || echo "browser-deps: could not install axe-core; tests/web will skip (and fail under CI)" >&2

# pg_dump/pg_restore for `zerotrip db backup|restore` on PostgreSQL (the server's major version or newer).
pg-client:
	@command -v pg_dump >/dev/null && command -v pg_restore >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null) \
	  || echo "pg-client: could not install postgresql-client; PostgreSQL backups will fail" >&2

test: install lint browser-deps pg-client
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

# The volume runs (pytest marker `soak`, deselected by `make test`): on the database of DATABASE_URL (SQLite by
# default), then on PostgreSQL too when SOAK_DATABASE_URL is set (.ci/run does this once, after both suites).
soak: install
	$(BIN)/python -m pytest -m soak
	@if [ -n "$(SOAK_DATABASE_URL)" ]; then echo "== soak on $(SOAK_DATABASE_URL)"; \
	  DATABASE_URL='$(SOAK_DATABASE_URL)' $(BIN)/python -m pytest -m soak; fi

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/reports
