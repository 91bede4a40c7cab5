# hotline: `make demo` and `make test` each build .venv on a fresh machine first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTED := $(VENV)/.installed-test

# Python keeps compiled modules (and pytest its rewritten tests) in __pycache__: a test
# process, a node and the CLI start without compiling hotline again each time, even
# where the environment asks for no bytecode.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo walkthrough test test-fast test-postgres lint format bench clean help console

help:
	@echo "make demo    two nodes (US, RU) play the 2022 scenario; then their consoles (Ctrl-C stops)"
	@echo "make walkthrough  one node walked through init, a line, send, ack, log and verify"
	@echo "make test    lint (ruff), types (mypy --strict) and the whole test suite, on every core"
	@echo "make test-fast  the in-process tests only (no processes, browser, NATS, PostgreSQL): the inner loop"
	@echo "make test-postgres  the whole suite with every test node on PostgreSQL"
	@echo "make bench   machine limits, ledger, escalation, awareness, API, console, CLI, proofs, picture, scale (PostgreSQL), paths, multilateral and sealing benchmarks"
	@echo "make format  format the code with ruff"
	@echo "make console build the operator console (console/, npm) into src/hotline/web/static"
	@echo "make sbom    a CycloneDX SBOM (JSON) of what is installed in .venv, in dist/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TESTED): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# sample ADS-B flights for tests: only the data files are read (research licence)
	$(BIN)/python -m pip install --quiet --no-deps 'traffic==2.13'
	@touch $@

demo: $(STAMP)
	@$(BIN)/hotline demo $(DEMO_ARGS)

walkthrough: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/walkthrough.sh

lint: $(TESTED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

# Tests run on every core (pytest-xdist), a file's tests in one worker so that what a
# module sets up once is set up once. PYTEST_ARGS adds to them, e.g. PYTEST_ARGS='-k ack'.
XDIST := -n auto --dist loadfile
FAST  := not (process or browser or nats or postgres or slow)
# The in-process tests wait on timers now and then (rate limits, streams, listeners):
# one worker more than there are cores keeps the cores busy meanwhile.
FAST_WORKERS := $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))

test: lint
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

test-fast: $(TESTED)
	$(BIN)/pytest -n $(FAST_WORKERS) --dist loadfile -q -m "$(FAST)" $(PYTEST_ARGS)

test-postgres: $(TESTED)
	HOTLINE_TEST_BACKEND=postgres $(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

bench: $(TESTED)
	$(BIN)/python bench/limits.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/awareness.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/federation.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/proofs.py
	$(BIN)/python bench/picture.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/paths.py
	$(BIN)/python bench/multilateral.py
	$(BIN)/python bench/sealing.py

format: $(TESTED)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The console's sources are in console/; its build is committed, so `pip install` alone
# serves it. Run this after changing them (npm ci takes the committed lockfile).
console:
	cd console && npm ci --no-audit --no-fund && npm run build

# The SBOM lists every package installed in .venv (the test tools too: `sbom` needs them),
# with hotline as its root component and its dependencies named from pyproject.toml.
SBOM ?= dist/hotline.cdx.json
.PHONY: sbom
sbom: $(TESTED)
	@mkdir -p $(dir $(SBOM))
	$(BIN)/cyclonedx-py environment --pyproject pyproject.toml --mc-type application \
		--output-reproducible --of JSON -o $(SBOM) $(VENV)
	@echo "SBOM: $(SBOM)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
