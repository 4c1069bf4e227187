# Two entry points for a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
HOTLINE := $(VENV)/bin/hotline
DB ?= archive.db
HOST ?= 127.0.0.1
PORT ?= 8001

# Debian packages: LibreOffice converts DOC/WPS/XLS, tesseract reads tables published as pictures,
# poppler renders fixtures, Noto CJK gives LibreOffice and the screenshots Chinese glyphs, and
# chromium is the browser the Playwright tests drive (through executable_path: never run
# `playwright install`, which downloads a browser and fails here).
# A scheduled refresh needs only the parsers' packages (make setup DEB_PACKAGES='$(PARSER_DEB_PACKAGES)').
PARSER_DEB_PACKAGES := libreoffice-writer-nogui libreoffice-calc-nogui tesseract-ocr \
	tesseract-ocr-chi-sim poppler-utils fonts-noto-cjk antiword
DEB_PACKAGES := $(PARSER_DEB_PACKAGES) chromium

.PHONY: run test test-browser setup debian-deps accuracy bench lint format build serve clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed debian-deps

## Install the Debian packages above when any is missing (apt-get, as root or with sudo).
debian-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## The whole pipeline on the bundled sample sites: serve them on loopback, refresh over HTTP,
## build archive.db, serve it with Datasette.
run: setup
	$(HOTLINE) demo --db $(DB) --host $(HOST) --port $(PORT)

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

## Speed and memory of the document readers (prints a table; not a test).
bench: setup
	$(PY) bench/bench_documents.py

lint: setup
	$(VENV)/bin/ruff check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Only the real-browser tests (screenshots in test-output/screenshots/).
test-browser: setup
	$(VENV)/bin/pytest -q -m browser tests/browser

clean:
	rm -rf $(VENV) $(DB) *.egg-info test-output raw refresh-walks.json .hotline.lock
