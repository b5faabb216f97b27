# httpchart: `make demo` and `make test` set everything up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := statechart protocol diagrams
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup graphviz nginx tinyproxy test lint typecheck pytest check-deep stress demo bench bench-quick diagrams hostile-doc docs dist clean

setup: $(STAMP) graphviz nginx tinyproxy

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,diagrams]'
	touch $(STAMP)

graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz's dot is missing: installing it with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq graphviz >/dev/null; }

# The end-to-end tests start Debian's nginx themselves (it lives in /usr/sbin).
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "nginx is missing: installing it with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nginx >/dev/null; }

# The proxy tests start Debian's tinyproxy themselves, on a port and with a
# configuration of their own; the system service the package may start is
# never used.
tinyproxy:
	@command -v tinyproxy >/dev/null 2>&1 || test -x /usr/sbin/tinyproxy || { \
	  echo "tinyproxy is missing: installing it with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tinyproxy >/dev/null; }

test: setup lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests bench localservers
	$(BIN)/ruff format --check $(PACKAGES) tests bench localservers

# mypy needs the installed module names: a farm of links gives it httpchart/*.
typecheck: $(STAMP)
	rm -rf .typecheck && mkdir -p .typecheck/httpchart
	for p in $(PACKAGES); do ln -s ../../$$p .typecheck/httpchart/$$p; done
	cd .typecheck && ../$(BIN)/mypy --config-file ../pyproject.toml \
	  -p httpchart.statechart -p httpchart.protocol -p httpchart.diagrams

# The exhaustive checkers leave a large heap behind them, which would slow
# every later test of the same process: each runs in a process of its own,
# one after the other, beside the rest of the suite (on the other core);
# their output follows the suite's.
CHECKERS := sequence_checker effect_failure_checker pool_checker tunnel_checker twisted_differential

pytest: $(STAMP)
	@mkdir -p build
	@( for c in $(CHECKERS); do $(BIN)/python -m pytest tests/test_$$c.py || exit 1; done \
	  ) > build/checkers.log 2>&1 & checkers=$$!; \
	$(BIN)/python -m pytest $(foreach c,$(CHECKERS),--ignore=tests/test_$(c).py); suite=$$?; \
	wait $$checkers; checked=$$?; cat build/checkers.log; \
	test $$suite = 0 && test $$checked = 0

# The exhaustive event-sequence checkers, deeper than make test takes them:
# every sequence of up to 14 inputs of a connection (8 on the reference
# engine), of up to 8 tunnel inputs (6 on the reference engine) and of up to
# 6 inputs of the pool (4 on the reference engine).
check-deep: setup
	HTTPCHART_CHECK_DEPTH=14 HTTPCHART_TUNNEL_CHECK_DEPTH=8 HTTPCHART_POOL_CHECK_DEPTH=6 \
	  $(BIN)/python -m pytest tests/test_sequence_checker.py tests/test_tunnel_checker.py \
	  tests/test_pool_checker.py

# The load and fault tests at full scale (make test runs them small): 1,000
# connections and 100,000 requests against nginx, then 20,000 requests
# against a server that faults 5% of its responses.  nginx is started and
# stopped by the tests; the figures are printed.
stress: setup
	HTTPCHART_STRESS=1 $(BIN)/python -m pytest -s -p no:warnings tests/test_load.py tests/test_faults.py

demo: setup
	$(BIN)/python -m httpchart.protocol demo

bench: setup
	$(BIN)/python bench/run.py

bench-quick: setup
	$(BIN)/python bench/run.py --quick

# Every committed rendering of every chart; tests/test_generated_docs.py
# fails when one of them no longer matches the declarations.
diagrams: setup
	for format in md dot mermaid svg png; do \
	  $(BIN)/python -m httpchart.diagrams --format $$format --out docs/generated || exit 1; \
	done

# docs/hostile.md, rendered from the hostile-server corpus; tests/test_hostile.py
# fails when it no longer matches tests/support/hostile_corpus.py.
hostile-doc: setup
	$(BIN)/python -m tests.support.hostile_doc

# The HTML documentation, into build/docs, with pydoctor's API reference from
# the docstrings in build/docs/api; any warning (pydoctor's too) fails the build.
docs: setup
	$(BIN)/sphinx-build -W --keep-going -q -b html docs build/docs
	@echo "open build/docs/index.html"

# The wheel and the source distribution, into dist/, checked by twine;
# tests/test_packaging.py builds them too and installs the wheel.
dist: setup
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) .typecheck build dist *.egg-info
