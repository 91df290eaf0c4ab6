# Wspólnota — one command to run, one to test. Both set themselves up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,embedded]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## the whole system on this machine: http://127.0.0.1:8000
	$(BIN)/wspolnota run

test: $(STAMP)  ## every test: the unit tests one worker per CPU, then the rest (real broker, PostgreSQL, processes, browser) one at a time
	$(BIN)/python -m tests.prepare
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/python -m pytest -m unit -n auto
	$(BIN)/python -m pytest -m "not unit"
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

test-fast: $(STAMP)  ## unit tests only (`-m unit`, one worker per CPU): SQLite and the in-memory bus; no PostgreSQL, broker or browser
	$(BIN)/python -m pytest -m unit -n auto $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff over all the code; mypy over the packages listed in pyproject.toml ([tool.mypy])
	$(BIN)/ruff check wspolnota services contracts tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## pipeline benchmark (minutes); writes docs/benchmarks.md
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf var .pytest_cache
