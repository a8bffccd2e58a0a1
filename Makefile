# The one entry point for humans and CI. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The first Python 3.12+ on PATH (pyenv shims honour .python-version).
PYTHON ?= $(shell for p in python3.12 python3.13 python3.14 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)
DEV_ENV := DJANGO_DEBUG=1 DJANGO_SITE_URL=http://127.0.0.1:$(PORT)
# Tests run with DEBUG off, as in production; the key is for the test run only. The test
# client speaks plain HTTP, so the production redirect to HTTPS is off.
TEST_ENV := DJANGO_SECRET_KEY=test-only-not-a-secret DJANGO_DEBUG=0 DJANGO_SSL_REDIRECT=0
# `make serve`: gunicorn worker processes, by default two per core plus one.
# `make test`: pytest-xdist worker processes, one per core by default; PYTEST_WORKERS=0 runs
# the suite in this one process (a debugger, or to compare timings).
PYTEST_WORKERS ?= auto
WEB_CONCURRENCY ?= $(shell echo $$(( 2 * $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))

.PHONY: help install run serve worker test test-browser lint format messages migrations collectstatic bench bench-smoke clean

help:
	@echo "make run    install, migrate, load the demo letter, serve on http://127.0.0.1:$(PORT)"
	@echo "make serve  production settings: collectstatic, gunicorn on 127.0.0.1:$(PORT) (needs DJANGO_SECRET_KEY)"
	@echo "make test   install, lint (ruff), check migrations, run the test suite"
	@echo "make test-browser  accessibility and layout of every public page in Chromium (tests/browser)"
	@echo "make worker run the background worker (emails) for DJANGO_TASKS_BACKEND=database"
	@echo "make format format the code with ruff"
	@echo "make bench  measure a million signatures on PostgreSQL (DATABASE_URL); bench-smoke: 10,000 (bench/README.md)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (python3.12 on PATH)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

# Local development settings for every manage.py command in this checkout (git-ignored).
.env:
	@echo "DJANGO_DEBUG=1" > $@
	@echo "Wrote .env (DJANGO_DEBUG=1) for local development."

run: install .env
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py load_demo
	$(DEV_ENV) $(BIN)/python manage.py create_dev_admin
	@echo "Admin: http://127.0.0.1:$(PORT)/admin/ (login printed above)"
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production settings (DEBUG off) under gunicorn; docs/deploy.md runs the same command as a
# service. Access log on stdout. Migrations are a separate deploy step, run once. Workers
# are replaced after ~10,000 requests (a leak guard; each restart costs ~0.5 s of CPU). No
# gunicornc control socket: its default path is per user, shared by every instance.
serve: install
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve uses production settings: set DJANGO_SECRET_KEY (and DJANGO_ALLOWED_HOSTS; DJANGO_SSL_REDIRECT=0 without TLS). See docs/deploy.md." >&2; exit 1; }
	DJANGO_DEBUG=0 $(BIN)/python manage.py collectstatic --noinput -v0
	DJANGO_DEBUG=0 $(BIN)/gunicorn config.wsgi --bind 127.0.0.1:$(PORT) \
		--workers $(WEB_CONCURRENCY) --timeout 30 --graceful-timeout 30 --keep-alive 5 \
		--max-requests 10000 --max-requests-jitter 1000 --access-logfile - --error-logfile - \
		--no-control-socket

# Production runs this as its own service; `make run` needs none (emails go out at once).
worker: install
	DJANGO_TASKS_BACKEND=database $(BIN)/python manage.py db_worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The translation catalogues (locale/<code>/LC_MESSAGES/django.po, README "Languages"):
# `make messages` brings every shipped language's file up to date with the marked strings
# and compiles them; translators then fill in what is new. The admin stays English: not
# scanned. tests/test_catalogues.py fails while an entry is untranslated, fuzzy or stale.
MESSAGES_IGNORE := --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=bench \
	--ignore=docs --ignore=admin --ignore=admin.py --ignore='*_admin.py' --ignore=migrations \
	--ignore=management
messages: install
	$(BIN)/python manage.py makemessages -l fr -l de -l es --no-obsolete --add-location=file \
		$(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages -l fr -l de -l es --ignore=.venv

migrations: install
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

collectstatic: install
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput -v0

# Each worker has its own test database (pytest-django adds _gw0, _gw1… to the name on
# PostgreSQL; SQLite's lives in each worker's memory). --dist load hands tests out in
# pytest-django's order, which keeps each worker's transactional tests (they empty every
# table, the staff roles made by migrations included) after its other tests: loadfile and
# loadscope would not (and xdist_group does nothing under pytest 9.2 with xdist 3.8).
# Tests marked slow run too.
test: lint migrations collectstatic
	$(TEST_ENV) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist load

# Debian's chromium (CHROMIUM=/path to use another build; never a browser download), axe-core
# bundled in axe-playwright-python. Not part of `make test`: pyproject.toml keeps plain pytest
# out of tests/browser. Screenshots of every page state go to tests/browser/screenshots/.
test-browser: install collectstatic
	@test -x "$${CHROMIUM:-/usr/bin/chromium}" || { echo "Chromium is missing: apt-get install chromium" >&2; exit 1; }
	$(TEST_ENV) $(BIN)/python -m pytest tests/browser

# Figures, not tests (bench/README.md): PostgreSQL from DATABASE_URL, production settings.
# Missed targets are reported, not failed; bench-smoke (10,000 signatures, ~1 min) runs in CI.
bench: install
	$(BIN)/python bench/run.py

bench-smoke: install
	$(BIN)/python bench/run.py --smoke

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
