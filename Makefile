# The two commands of the README. Both build .venv from nothing on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt

.PHONY: demo test lint typecheck unit bench score clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The product's own dependencies (the prompt engine needs no torch).
$(VENV)/.core: $(BIN)/python requirements/core.txt $(CONSTRAINTS)
	$(PIP) install -q -c $(CONSTRAINTS) -r requirements/core.txt
	touch $@

# Test and benchmark tools; torch first, pinned, so nothing pulls a CUDA build.
$(VENV)/.dev: $(VENV)/.core requirements/dev.txt requirements/nodeps.txt
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -c $(CONSTRAINTS) -r requirements/dev.txt
	$(PIP) install -q --no-deps -c $(CONSTRAINTS) -r requirements/nodeps.txt
	touch $@

demo: $(VENV)/.core
	$(BIN)/python -m smoothie demo

lint: $(VENV)/.dev
	$(BIN)/ruff check smoothie scripts tests install.py
	$(BIN)/ruff format --check smoothie scripts tests install.py

typecheck: $(VENV)/.dev
	$(BIN)/mypy

unit: $(VENV)/.dev
	$(BIN)/python -m pytest -q

test: lint typecheck unit

score: $(VENV)/.dev
	$(BIN)/python ../shared/bench/score_paraphrases.py ../shared/data/prompts-dev.jsonl --python $(BIN)/python

bench: $(VENV)/.dev
	$(BIN)/python -m tests.bench.bench_prompt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
