# The two commands of the README: `make run` (server on SQLite with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV ?= .venv

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: calendar-client and accessibility tests will be skipped"; fi

.PHONY: run test lint
run: $(VENV)/.installed
	$(VENV)/bin/rathaus serve

test: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/pytest -n auto

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check rathaus tests bench
	$(VENV)/bin/ruff format --check rathaus tests bench
	$(VENV)/bin/mypy
