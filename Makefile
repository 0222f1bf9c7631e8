# make run    start the playground (demo mode unless an API key is set)
# make test   the import contracts, then every test: engine, simulator, pages, and the browser end-to-end suite
# make lint   ruff check, ruff format --check, and the import contracts (pyproject.toml's [tool.importlinter])
# make bench  the benchmark; writes bench/results/latest.json
#
# Each target installs what it needs: the venv from PyPI, and through
# scripts/require-debian-package what pip cannot (Debian's chromium, curl and
# postgresql for the tests and the bench, python3-venv where the venv module is missing).

PYTHON ?= python3
CHROMIUM ?= /usr/bin/chromium
REQUIRE := scripts/require-debian-package
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
# Its cache would be one more untracked folder, and a whole run takes under a second.
LINT_IMPORTS := $(BIN)/lint-imports --no-cache

.PHONY: run test bench simulator catalog lint clean screenshots browser curl postgres health

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); $(REQUIRE) - python3-venv "a virtual environment ($(VENV))" && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@ $(RUNTIME)

run: $(RUNTIME)
	$(BIN)/python -m streamlit run app.py

# Headless Chromium runs the end-to-end tests, the screenshots and the bench's memory section.
browser:
	@$(REQUIRE) $(CHROMIUM) chromium "make $(or $(MAKECMDGOALS),test) (headless browser tests)"

# The simulator's command-line test drives it with plain curl, as the README does.
curl:
	@$(REQUIRE) /usr/bin/curl curl "make test (the simulator's curl test)"

# The store's tests and the team bench start their own PostgreSQL server from Debian's package
# (any major version: Debian keeps each under /usr/lib/postgresql/<version>/bin).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(REQUIRE) - postgresql "make $(or $(MAKECMDGOALS),test) (PostgreSQL tests)"

test: $(DEV) browser curl postgres
	$(LINT_IMPORTS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(DEV) browser postgres
	$(BIN)/python -m bench

# For a supervisor: exit 0 when the history database answers and pending work is being polled.
health: $(RUNTIME)
	@$(BIN)/python -m videogen.health

simulator: $(RUNTIME)
	$(BIN)/python -m videogen.simulator --port 8765

# Rebuild videogen/catalog.json from the vendor's OpenAPI files (not needed to run or test).
catalog: $(BIN)/python
	$(BIN)/python scripts/build_catalog.py $(or $(SPEC_DIR),../shared/aimlapi-spec)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Retake the README's screenshots (docs/screenshots/) with the end-to-end suite.
screenshots: $(DEV) browser
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e -k "prompt_becomes or history_lists or selecting or uploaded_image or picker_searches or seed_batch or reel or two_people or blind_vote or keys_in_the_gallery or improved_prompt or downloaded_video or last_frame_starts or start_frame_drawn"
