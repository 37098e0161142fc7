# nca_share — one command to run the platform, one to test it (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check setup browser clean bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Runs the whole platform on its embedded defaults (SQLite in ./var, in-process workers
# and scheduler) with the demo data, serving at http://127.0.0.1:8000.
run: setup
	$(VENV)/bin/nca-share demo

# Debian's chromium for the browser tests; skipped quietly where apt is not usable.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	      || echo "note: could not install chromium; browser tests will skip"; \
	  else echo "note: chromium not installed; browser tests will skip"; fi; }

test: setup browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

check: setup
	$(VENV)/bin/ruff check nca_share tests benchmarks
	$(VENV)/bin/ruff format --check nca_share tests benchmarks
	$(VENV)/bin/mypy

bench: setup
	for b in ingest orgs_import matching feeds_taxii; do $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
