# Set-up and everyday commands. `make serve` and `make test` install what they need first.

VENV := .venv
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test browser clean

# The port `make serve` listens on: `make serve PORT=5057` when 5000 is taken.
PORT ?= 5000

serve: $(STAMP)
	$(VENV)/bin/umud serve --port $(PORT)

test: $(STAMP) browser
	$(VENV)/bin/pytest

# Python packages of the project and its tests, in a virtual environment of its own.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

# Browser tests drive Debian's Chromium through Playwright; Playwright's own browser download is not used.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) umud-store umud-store.search.sqlite umud-store.curation.sqlite .pytest_cache test-artifacts
