# ZeroTrip — `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PEOPLE ?= 50000

.PHONY: install run migrate seed test lint ci clean

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

test: install lint
	$(BIN)/python -m pytest

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/reports
