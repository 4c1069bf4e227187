# Two entry points for a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
HOTLINE := $(VENV)/bin/hotline
DB ?= archive.db
HOST ?= 127.0.0.1
PORT ?= 8001

.PHONY: run test setup accuracy lint format build serve clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

## Build archive.db from the bundled sample bulletins and serve it with Datasette.
run: setup
	$(HOTLINE) build --db $(DB)
	$(HOTLINE) serve --db $(DB) --host $(HOST) --port $(PORT)

build: setup
	$(HOTLINE) build --db $(DB)

serve: setup
	$(HOTLINE) serve --db $(DB) --host $(HOST) --port $(PORT)

## Lint and run the test suite.
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q

## Precision/recall of the parser on ../shared/devset and the seeds (not pass/fail).
accuracy: setup
	$(PY) -m archive.accuracy

lint: setup
	$(VENV)/bin/ruff check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(DB) *.egg-info
