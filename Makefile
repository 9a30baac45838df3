# Two commands for a fresh machine: `make demo` and `make test`. Both set up first.
VENV := .venv
AFL := $(VENV)/bin/afl

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-unit lint format down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

setup: ## install everything the project needs (idempotent; caches in .afl/cache)
	@bash scripts/setup.sh

demo: setup ## set up and run the whole story on the embedded defaults (fresh local state)
	$(AFL) demo --fresh

test: ## set up (with PostgreSQL and Chromium for the tests), check style and types, run every test
	@AFL_SETUP_POSTGRES=1 AFL_SETUP_BROWSER=1 bash scripts/setup.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

test-unit: setup ## only the fast unit tests
	$(VENV)/bin/pytest tests/unit

lint: setup ## ruff check, format check and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

down: ## stop the local broker
	-$(AFL) infra down

clean: down ## remove local state (lake, checkpoints, broker data); keeps the download caches
	find .afl -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +
