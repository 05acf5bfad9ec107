# mypack developer commands.
#   make run   - development site on http://127.0.0.1:5000 (creates .venv, instance, database,
#                demo data: see the printed demo logins)
#   make test  - the whole test suite (SQLite, PostgreSQL, MariaDB/MySQL)
#   make lint  - ruff and mypy
#   make bench - benchmarks under gunicorn and Apache mod_wsgi (bench/results/; root)
# Each first runs scripts/bootstrap: the Debian packages it needs (scripts/system-packages)
# and, for test and bench, the local database servers and Redis, started if stopped.

# Debian's Python: readable by service users such as www-data, unlike a Python in
# root's home, so the same venv can serve under Apache mod_wsgi.
PYTHON ?= /usr/bin/python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= development
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

# Reinstall when the package's metadata changes.
$(VENV)/.installed: setup.py pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# The system first (headers for psycopg2 and mysqlclient), then the venv.
install:
	@scripts/bootstrap run
	@$(MAKE) --no-print-directory $(VENV)/.installed

run: install
	$(BIN)/mypack init
	$(BIN)/mypack --config $(CONFIG) db upgrade
	$(BIN)/mypack --config $(CONFIG) seed-demo
	$(BIN)/mypack --config $(CONFIG) --debug run --host $(HOST) --port $(PORT)

test:
	@scripts/bootstrap test
	@$(MAKE) --no-print-directory install
	$(BIN)/pytest $(PYTEST_ARGS)

# Needs root: Apache's daemons run as www-data.
bench:
	@scripts/bootstrap bench
	@$(MAKE) --no-print-directory install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# ruff on everything; mypy on the package (settings in pyproject.toml).
lint: install
	$(BIN)/ruff check mypack tests bench deploy/gunicorn.conf.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
