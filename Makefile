# The two commands of the quick start:
#   make run    set everything up and serve the app on http://127.0.0.1:5000 (SQLite in instance/)
#   make test   set everything up and run the whole test suite
# Everything else here is what those two need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app visits
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup translations db chromium lint bench clean

run: setup db
	$(FLASK) seed-demo
	@echo "Mails are written to instance/mail/ (set SMTP_HOST to send them)."
	RUN_JOBS_IN_PROCESS=true $(FLASK) run --host $(HOST) --port $(PORT)

test: setup chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed translations

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

translations: $(VENV)/.installed
	@$(BIN)/python -c "from visits.language import compile_catalogues; compile_catalogues()"

db: setup
	$(FLASK) db upgrade

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

lint: setup
	$(BIN)/ruff check visits tests scheduler.py config.py bench

bench: setup
	$(BIN)/python bench/slots.py
	$(BIN)/python bench/reminders.py

clean:
	rm -rf $(VENV) instance
