# Ward Helpdesk: `make run` serves the demo, `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
# Folders that ship a gettext catalog (translations/<locale>/LC_MESSAGES/messages.po).
# Domain errors carry their msgid as first argument.
ERROR_KEYWORDS := -k HelpdeskError -k NotFound -k PermissionDenied -k TransitionNotAllowed -k Conflict -k ValidationFailed -k PluginError
CATALOGS := helpdesk_core webapp plugins/printer plugins/network plugins/signing plugins/vneid plugins/kiosk plugins/egov plugins/other plugins/webpush plugins/zalo plugins/notify

.PHONY: install compile run test messages bench clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Compile the translation catalogs (.po -> .mo); the app reads the compiled ones.
compile: $(STAMP)
	@for dir in $(CATALOGS) $(patsubst %/translations,%,$(wildcard examples/*/*/translations)); do \
	  if [ -d $$dir/translations ]; then $(BIN)/pybabel -q compile -d $$dir/translations; fi; \
	done

run: compile
	$(BIN)/helpdesk db upgrade
	$(BIN)/helpdesk demo --base-url http://$(HOST):$(PORT)
	@echo ""
	@echo "Open http://$(HOST):$(PORT)/ and log in with a demo login above."
	$(BIN)/helpdesk run --host $(HOST) --port $(PORT)

# Parallel test processes: many tests wait on sockets and browsers, so more than the cores.
PYTEST_WORKERS ?= 3
test: compile
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Extract new strings and merge them into every catalog (then translate the .po files).
messages: $(STAMP)
	@for dir in $(CATALOGS); do \
	  $(BIN)/pybabel -q extract --no-location --omit-header -F babel.cfg -k _l -k N_ -k lazy_gettext $(ERROR_KEYWORDS) -o $$dir/translations/messages.pot $$dir; \
	  if [ -f $$dir/translations/vi/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel -q update -N -i $$dir/translations/messages.pot -d $$dir/translations -l vi; \
	  else \
	    $(BIN)/pybabel -q init -i $$dir/translations/messages.pot -d $$dir/translations -l vi; \
	  fi; \
	done

bench: compile
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
