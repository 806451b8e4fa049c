# Two commands matter: `make run` and `make test`. Both set up .venv first,
# and skip that quickly when pyproject.toml has not changed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test bench lint setup clean demo-db

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --editable '.[test,dev]'
	@touch $(STAMP)

# DB=/path/to/file.db: open (and, when the file does not exist yet, make) the demo database there
# instead of the default one in the user data folder, e.g. `make run DB=/tmp/fresh-demo.db`.
run: $(STAMP)
	$(PY) main.py --demo $(if $(DB),--db "$(DB)")

# The hub's tests and benchmarks need PostgreSQL: tools/test_postgres.sh does nothing when a server
# answers on 127.0.0.1:5432, else starts a throwaway one and prints the export lines that name it.
test: $(STAMP)
	eval "$$(bash tools/test_postgres.sh)"; QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	eval "$$(bash tools/test_postgres.sh)"; QT_QPA_PLATFORM=offscreen $(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
