# Everything from a fresh machine: a virtual environment, torch 2.13.0 (CPU build) first, then
# philoxinit built from source with its test and bench extras.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.philoxinit-installed
SOURCES := pyproject.toml CMakeLists.txt $(shell find csrc python -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: install test bench clean

install: $(STAMP)

$(STAMP): $(SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q ".[test,bench]"
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python -m philoxinit bench

clean:
	rm -rf $(VENV) build dist
