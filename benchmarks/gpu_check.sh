#!/usr/bin/env bash
# The GPU check (the CUDA kernels and the Triton path on a real GPU), in one go (about 8 minutes on one H200; at most 12):
#   1. build and install philoxinit with the CUDA kernels required (PHILOXINIT_CUDA=ON),
#   2. run the GPU tests (CUDA == CPU bits for every distribution, dtype, layout, batch; streams;
#      graph capture) and the host emulation tests,
#   3. run the Triton path's tests on the GPU, compiled, not interpreted (tests/test_triton.py with
#      TRITON_INTERPRET unset: Triton == CPU bits, which checks what Triton's interpreter cannot:
#      the code generated for div_rn / sqrt_rn, float64 / and sqrt, no FMA contraction, integer
#      ops; each kernel variant compiles once, a few seconds each, on first use),
#   4. print the benchmark table against torch.nn.init and fill_ (benchmarks/gpu_bench.py), for the
#      CUDA kernels and the Triton path, each forced in turn.
# Needs: a CUDA GPU, a CUDA build of torch, a CUDA toolkit (>= 12.1) with nvcc on PATH or in
# CUDACXX, and pybind11 + scikit-build-core for the build (installed if missing).
# Usage: benchmarks/gpu_check.sh [extra gpu_bench.py arguments]; PYTHON=... picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step "environment"
"$PY" - <<'PYEOF'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(), "capability", torch.cuda.get_device_capability())
PYEOF
command -v nvcc >/dev/null && nvcc --version | tail -n 2 || echo "nvcc not on PATH (CUDACXX=${CUDACXX:-unset})"

step "build (PHILOXINIT_CUDA=ON)"
if ! "$PY" -c "import scikit_build_core, pybind11" 2>/dev/null; then
  "$PY" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12"
fi
"$PY" -m pip install -q pytest numpy scipy hypothesis 2>/dev/null || true
"$PY" -c "import triton; print('triton', triton.__version__)" 2>/dev/null || echo "triton not importable: the Triton path is not checked"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
PHILOXINIT_CUDA=ON "$PY" -m pip install --no-build-isolation --no-deps -q .
(cd /tmp && "$PY" -c "import philoxinit, philoxinit._C as C; print(philoxinit.backend()); print(C.cuda_info())")

step "GPU tests"
tests_rc=0
(cd /tmp && "$PY" -m pytest -q -rs -p no:cacheprovider \
  "$OLDPWD/tests/test_cuda_device.py" "$OLDPWD/tests/test_cuda_host.py") || tests_rc=$?

step "Triton path on the GPU (compiled kernels, not the interpreter)"
triton_rc=0
(cd /tmp && env -u TRITON_INTERPRET "$PY" -m pytest -q -rs -p no:cacheprovider "$OLDPWD/tests/test_triton.py") || triton_rc=$?

step "benchmark"
"$PY" benchmarks/gpu_bench.py "$@" || true

step "done: tests exit code $tests_rc, Triton tests exit code $triton_rc"
[ "$tests_rc" -eq 0 ] && exit "$triton_rc"
exit "$tests_rc"
