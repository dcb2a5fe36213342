# The two commands of the quick start:
#   make run    set everything up and serve the app on http://127.0.0.1:5000 (SQLite in instance/)
#   make test   set everything up and run the whole test suite
# `make run` installs what the app needs (requirements.txt); test, lint and bench add the
# test tools (requirements-dev.txt). A change of either file reinstalls.
# Everything else here is what those two need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app visits
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-on setup setup-dev translations db chromium nginx faketime lint bench clean

run: setup db
	$(FLASK) seed-demo
	@echo "Mails are written to instance/mail/ (set SMTP_HOST to send them)."
	FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(PORT) RUN_JOBS_IN_PROCESS=true $(FLASK) run

test: setup-dev chromium nginx
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite as if it were another day: `make test-on DAY="2027-12-13 08:00:00"` moves the
# whole process with libfaketime (see "Tests on other days" in the README). Browser tests and
# tests that start other processes are left out: libfaketime hangs their timed waits.
DAY ?= 2027-12-13 08:00:00
LIBFAKETIME := /usr/lib/$(shell uname -m)-linux-gnu/faketime/libfaketime.so.1
test-on: setup-dev faketime
	FAKETIME="@$(DAY)" LD_PRELOAD=$(LIBFAKETIME) $(BIN)/python -m pytest -m "not browser and not processes" $(PYTEST_ARGS)

setup: $(VENV)/.installed translations
setup-dev: $(VENV)/.installed-dev translations

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Newer than .installed, so a change of requirements.txt installs both again.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(VENV)/.installed
	@$(BIN)/python -c "from visits.core.language import compile_catalogues; compile_catalogues()"

db: setup
	$(FLASK) db upgrade

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# The deployment test (tests/deployment) puts Debian's nginx in front of gunicorn, as deploy/ does.
nginx:
	@test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	  else echo "The deployment test needs Debian's nginx: sudo apt-get install nginx" >&2; exit 1; fi; }

faketime:
	@test -e $(LIBFAKETIME) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime; \
	  else echo "make test-on needs Debian's libfaketime: sudo apt-get install faketime" >&2; exit 1; fi; }

lint: setup-dev
	$(BIN)/ruff check visits tests scheduler.py config.py bench

bench: setup-dev
	$(BIN)/python bench/slots.py
	$(BIN)/python bench/reminders.py

clean:
	rm -rf $(VENV) instance
