#!/usr/bin/env bash
# Build philoxinit._C with AddressSanitizer + UndefinedBehaviorSanitizer (CMake option
# PHILOXINIT_SANITIZE) into a separate place, and run the test suite against that build.
#
#   tools/sanitize.sh [PYTEST-ARGS...]        (default: the whole tests/ directory, -q)
#
# Nothing is installed into the environment you run it from: the sanitized package goes to
# build/asan/site, and the tests run in a small virtual environment (build/asan/venv) that sees
# that package first and the current environment's packages (torch, pytest, ...) after it, without
# their .pth start-up hooks (so an editable install of philoxinit there cannot shadow the build).
# The CUDA kernels are not built (PHILOXINIT_CUDA=OFF); the host code of csrc/cuda is.
#
# The sanitizer runtime is preloaded (gcc -print-file-name=libasan.so, then libstdc++). Leak detection is off:
# CPython does not free everything at exit, by design. Reports go to build/asan/reports/.
# Exit status 0 and "clean" only when the tests pass and no sanitizer report was written.
#
# Environment: PYTHON (default python3, must import torch and pytest), JOBS (build jobs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
out="$root/build/asan"
site="$out/site"
venv="$out/venv"
reports="$out/reports"

libasan="$(gcc -print-file-name=libasan.so)"
if [[ ! -e "$libasan" || "$libasan" == "libasan.so" ]]; then
  echo "sanitize: gcc has no libasan.so (install gcc's sanitizer runtime, e.g. the libasan package)" >&2
  exit 2
fi

echo "== building the sanitized extension into build/asan"
rm -rf "$site"
PHILOXINIT_CUDA=OFF CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-2}" \
  "$python" -m pip install -q --no-build-isolation --no-deps --target "$site" \
  -C build-dir="$out/cmake" -C cmake.define.PHILOXINIT_SANITIZE=ON -C cmake.build-type=RelWithDebInfo .
# The build must really be instrumented.
so="$(ls "$site"/philoxinit/_C*.so)"
if [[ $(nm -D "$so" | grep -c __asan_) -eq 0 ]]; then
  echo "sanitize: $so has no ASan instrumentation" >&2
  exit 2
fi

echo "== test environment build/asan/venv"
if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv --without-pip "$venv"
fi
base_site="$("$python" -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))')"
venv_site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# Plain paths in a .pth are appended to sys.path; the .pth files inside them are not run.
printf '%s\n%s\n' "$site" "$base_site" >"$venv_site/philoxinit_asan.pth"

rm -rf "$reports"
mkdir -p "$reports"
# libstdc++ too: ASan hooks __cxa_throw only if libstdc++ is loaded at start-up; torch, loaded
# later, throws C++ exceptions for ordinary Python errors.
libstdcxx="$(gcc -print-file-name=libstdc++.so.6)"
export LD_PRELOAD="$libasan:$libstdcxx${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$reports/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan:${UBSAN_OPTIONS:-}"
export PHILOXINIT_SANITIZED=1

"$venv/bin/python" - <<'EOF'
import philoxinit, philoxinit._C as C
assert "build/asan/site" in C.__file__, C.__file__
print("using", philoxinit.backend().name, "kernels from", C.__file__.split("/build/")[-1], "; ISAs", C.cpu_isas())
EOF

echo "== pytest under ASan + UBSan"
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(-q tests)
set +e
"$venv/bin/python" -m pytest -p no:cacheprovider "${args[@]}"
rc=$?
set -e

n_reports=$(find "$reports" -type f | wc -l)
if [[ $n_reports -gt 0 ]]; then
  echo "== sanitizer reports ($n_reports):"
  for f in "$reports"/*; do
    echo "--- $f"
    head -40 "$f"
  done
fi
if [[ $rc -eq 0 && $n_reports -eq 0 ]]; then
  echo "sanitize: clean (tests passed, no ASan/UBSan reports)"
else
  echo "sanitize: NOT clean (pytest exit $rc, $n_reports sanitizer report files in build/asan/reports)"
  [[ $rc -eq 0 ]] && rc=1
fi
exit $rc
