# The two commands of the README: `make run` (server on SQLite with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV ?= .venv
LOCALE := rathaus/locale

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: pages go without the KERN UX styles; calendar-client and accessibility tests will be skipped"; fi

.PHONY: run test lint messages
# The demo's video appointments meet in public Jitsi rooms unless RATHAUS_VIDEO_URL_TEMPLATE says otherwise.
run: $(VENV)/.installed node_modules/.installed
	RATHAUS_VIDEO_URL_TEMPLATE="$${RATHAUS_VIDEO_URL_TEMPLATE-https://meet.jit.si/rathaus-demo-{room}}" $(VENV)/bin/rathaus serve

test: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/pytest -n auto --durations=25

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check rathaus tests bench
	$(VENV)/bin/ruff format --check rathaus tests bench
	$(VENV)/bin/mypy

# After changing texts in code or templates: extract the msgids and update every catalogue (new msgids come in
# untranslated, vanished ones go). `make messages NEW=tr` starts a catalogue for another language first.
# The .po files are the only artifact: they are compiled in memory when rathaus starts.
messages: $(VENV)/.installed
	@pot=$$(mktemp --suffix=.pot) && trap 'rm -f $$pot' EXIT && \
	$(VENV)/bin/pybabel -q extract -F babel.cfg -c Translators: --add-location=file --sort-by-file --no-wrap \
		--project=rathaus -o $$pot rathaus && \
	$(if $(NEW),{ test -e $(LOCALE)/$(NEW)/LC_MESSAGES/messages.po || \
		$(VENV)/bin/pybabel -q init -i $$pot -d $(LOCALE) -l $(NEW) --no-wrap; } &&) \
	$(VENV)/bin/pybabel -q update -i $$pot -d $(LOCALE) --ignore-obsolete --ignore-pot-creation-date --no-wrap
