# The two commands of the README. Both build .venv from nothing on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt

.PHONY: demo test lint typecheck unit unit-webui bench score clean

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

# A second venv with AUTOMATIC1111 1.10's pins (requirements/webui.txt): the extension's own install.py runs in
# it as the WebUI runs it at start-up, then the unit suite, so CI sees what breaks inside the host's environment
# (and test_webui_pins checks that install.py kept every pin).
WEBUI_VENV := .venv-webui
WEBUI_PY := $(WEBUI_VENV)/bin/python

$(WEBUI_PY):
	$(PYTHON) -m venv $(WEBUI_VENV)
	$(WEBUI_PY) -m pip install -q --upgrade pip

$(WEBUI_VENV)/.ready: $(WEBUI_PY) requirements/webui.txt install.py $(CONSTRAINTS)
	$(WEBUI_PY) -m pip install -q torch==2.13.0
	$(WEBUI_PY) -m pip install -q -c $(CONSTRAINTS) -r requirements/webui.txt
	$(WEBUI_PY) install.py
	$(WEBUI_PY) -m pip install -q -c $(CONSTRAINTS) -c requirements/webui.txt "pytest>=8" "hypothesis>=6.100"
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

unit-webui: $(WEBUI_VENV)/.ready
	SMOOTHIE_WEBUI_PINS=requirements/webui.txt $(WEBUI_PY) -m pytest -q -p no:cacheprovider tests/unit

test: lint typecheck unit unit-webui

score: $(VENV)/.dev
	$(BIN)/python ../shared/bench/score_paraphrases.py ../shared/data/prompts-dev.jsonl --python $(BIN)/python

bench: $(VENV)/.dev
	$(BIN)/python -m tests.bench.bench_prompt

clean:
	rm -rf $(VENV) $(WEBUI_VENV) .pytest_cache .mypy_cache .ruff_cache
