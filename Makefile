# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= examples/demo-config.yaml

.PHONY: serve test lint typecheck unit contract browser docs bench bench-smoke bench-mcp image-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The stamp files re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# The embeddings extra needs torch; install a CPU build first so pip does not pick a CUDA one. On this
# project's machines pip finds the CPU wheel locally; elsewhere use, for example,
# TORCH='torch --index-url https://download.pytorch.org/whl/cpu'.
TORCH ?= torch==2.13.0

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/routeiq serve --config $(CONFIG)

test: $(VENV)/.installed-dev lint typecheck unit contract

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/hadolint Dockerfile

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Core and app logic without I/O (seconds).
unit: $(VENV)/.installed-dev
	$(BIN)/pytest -q tests/unit

# The dashboard's browser tests drive the machine's Chromium (never `playwright install`): install the
# Debian package when it is missing and we are root; otherwise those tests skip (and fail under CI).
browser:
	@$(PYTHON) -c 'import shutil, sys; sys.exit(shutil.which("chromium") is None)' || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q chromium; \
	else \
		echo "chromium is missing (apt-get install -y chromium as root): the dashboard browser tests skip"; \
	fi

# The MCP conformance suite (npm, pinned by its lockfile, a Node 24 binary included): installed when npm
# exists; otherwise tests/contract/test_mcp_conformance.py skips (and fails under CI).
MCP_CONFORMANCE := tests/conformance/mcp/node_modules/.package-lock.json
$(MCP_CONFORMANCE): tests/conformance/mcp/package-lock.json
	@if command -v npm >/dev/null; then cd tests/conformance/mcp && npm ci --no-audit --no-fund; \
	else echo "npm is missing (install Node.js): the MCP conformance tests skip"; fi

# Ports against every adapter, real Redis/PostgreSQL, the app over HTTP, real processes and SDKs.
contract: $(VENV)/.installed-dev browser $(MCP_CONFORMANCE)
	$(BIN)/pytest -q tests/contract

# Side-by-side performance run (RouteIQ, LiteLLM proxy, the floor, direct); see benchmarks/README.md.
bench: $(VENV)/.installed-dev benchmarks/.venv-litellm/bin/litellm
	@command -v wrk >/dev/null || echo "wrk not found (apt-get install wrk): using the Python load generator"
	cd benchmarks && ../$(BIN)/python harness.py $(BENCH_ARGS)

bench-smoke: $(VENV)/.installed-dev
	cd benchmarks && ../$(BIN)/python harness.py --smoke --out /tmp/routeiq-bench-smoke

# MCP tools/call through RouteIQ vs the floor vs a fast upstream, c=1 and c=16 (benchmarks/mcp_bench.py).
bench-mcp: $(VENV)/.installed-dev
	cd benchmarks && ../$(BIN)/python mcp_bench.py $(BENCH_ARGS)

benchmarks/.venv-litellm/bin/litellm:
	$(PYTHON) -m venv benchmarks/.venv-litellm
	benchmarks/.venv-litellm/bin/python -m pip install -q 'litellm[proxy]'

# Build the container image with podman and smoke-test it (needs podman; see docs/deploy.md).
image-smoke:
	deploy/docker/smoke.sh

docs: $(VENV)/.installed
	$(BIN)/routeiq config docs

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
