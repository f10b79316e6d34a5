# The two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
RUN_INSTALLED := $(VENV)/.installed-run
DEV_INSTALLED := $(VENV)/.installed-dev
# The installer: uv (a dependency of Headwater anyway) resolves and downloads in parallel, several
# times faster than pip for the same pins. `make test INSTALL="$(PY) -m pip install"` uses pip.
INSTALL ?= $(UV) pip install --python $(PY)
# The suite runs in parallel pytest-xdist workers, each its own process that starts its own servers
# (PostgreSQL, Azurite, moto, Ray, Chromium: free loopback ports, own folders) on first use; slow
# tests are handed out first (tests/conftest.py). TEST_WORKERS=0: one process, as before.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist load)

.PHONY: demo test test-fast lint bench services clean help conformance-snapshot

help:
	@echo "make demo       install into .venv and run the example end to end"
	@echo "make test       install test dependencies and services, lint, run the whole suite"
	@echo "make test-fast  the suite without the slow integration tests"
	@echo "make lint       ruff check, ruff format --check, mypy (package and tests), import-linter"
	@echo "make bench      the benchmarks (ratios against floors measured in the same run)"
	@echo "make conformance-snapshot  re-take tests/compat/sdk_v1_snapshot.json from the real SDK v1 (own venv, offline)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install --quiet 'uv>=0.4'

$(RUN_INSTALLED): pyproject.toml | $(UV)
	$(INSTALL) --quiet -e .
	@touch $@

$(DEV_INSTALLED): pyproject.toml | $(UV)
	$(INSTALL) --quiet -e '.[dev]'
	@touch $@ $(RUN_INSTALLED)

demo: $(RUN_INSTALLED)
	$(PY) examples/demo/run_demo.py

services:
	bash scripts/install-test-services.sh

lint: $(DEV_INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(DEV_INSTALLED) services lint
	$(PY) -m pytest $(PYTEST_PARALLEL)

test-fast: $(DEV_INSTALLED)
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow"

bench: $(DEV_INSTALLED)
	$(PY) benchmarks/run.py

# Not part of `make test`: installs the real SDK v1 into .conformance/venv (git-ignored) and introspects it offline.
conformance-snapshot: $(RUN_INSTALLED)
	$(PY) scripts/sdk_conformance.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
