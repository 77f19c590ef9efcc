# Quick start: `make run` (set-up + daemon on the bundled plans) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config/reminderd.yaml

.PHONY: run test lint typecheck pytest bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reminderd check --config $(CONFIG)
	exec $(VENV)/bin/reminderd run --config $(CONFIG)

lint: $(STAMP)
	$(VENV)/bin/ruff check reminderd tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) node-deps
	$(VENV)/bin/pytest -q

# Mozilla ical.js, pinned by tests/node/package-lock.json, for the feed consumer tests.
# Where node/npm are absent those checks skip with a reason; where they exist, they run.
.PHONY: node-deps
node-deps:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/node --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the ical.js feed checks will be skipped"; \
	fi

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) bench/bench_core.py

clean:
	rm -rf $(VENV) var build *.egg-info
