# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo
DEMO_AS_OF ?= 2025-12-31
# pytest-xdist workers of `make test` (many tests wait on servers, subprocesses and installs;
# two workers overlap that waiting on a 2-core machine). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

.PHONY: demo test lint typecheck install clean bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	# uv resolves and installs the same pins as pip in under a minute (pip took about four on
	# this 2-core machine); it is itself a pinned package from PyPI, installed into the venv.
	$(BIN)/pip install --quiet 'uv>=0.13,<0.14'
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
