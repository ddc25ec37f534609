# Two commands set everything up on a fresh machine with Python 3.11:
#   make run   -> venv, install, migrate, load checklists, demo data, serve on http://127.0.0.1:5000
#   make test  -> venv, install dev deps, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app inspect_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test lint format translations setup-db install install-dev clean bench instance-config

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	$(BIN)/python scripts/i18n.py compile

# Every time: it only adds what is missing (an AUDIT_HMAC_KEY to an older instance/config.py).
instance-config: | $(VENV)/.installed
	$(BIN)/python scripts/make_instance_config.py

setup-db: $(VENV)/.installed translations instance-config
	$(FLASK) db upgrade
	$(FLASK) checklists load
	$(FLASK) demo seed --if-empty

# The web server and the job consumer (`flask jobs worker`) run together; Ctrl-C stops both.
run: setup-db
	@echo "Serving on http://$(HOST):$(PORT)  (demo users: see README.md)"
	$(BIN)/python scripts/launch.py "web=$(FLASK) run --host $(HOST) --port $(PORT)" \
		"jobs=$(FLASK) jobs worker"

# gunicorn.conf.py picks the workers (4 with INSPECT_REDIS_URL, else 1 with threads), the
# timeout, recycling and memory ceilings; see docs/deployment.md. The job consumer runs beside.
serve: setup-db
	$(BIN)/python scripts/launch.py "web=$(BIN)/gunicorn --bind $(HOST):$(PORT)" \
		"jobs=$(FLASK) jobs worker"

test: $(VENV)/.installed-dev
	$(BIN)/python scripts/i18n.py compile
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/fill_page.py
	$(BIN)/python bench/fill_page.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(BIN)/python bench/export.py --scales 0.25 0.5 1
	$(BIN)/python bench/dashboard.py --scale 1
	$(BIN)/python bench/load.py  # exits 1 while its goals are missed (bench/README.md)
