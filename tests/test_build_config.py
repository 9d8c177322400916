"""Configuring the build on a machine without a CUDA toolkit: the CPU kernels only, said in one
line; PHILOXINIT_CUDA=ON fails at configure time, saying why. (CMake configure only, no compile.)"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_TOOLKIT_PATH = "/usr/bin:/bin"

pybind11 = pytest.importorskip("pybind11", reason="pybind11 (the test extra) provides its CMake package")
if shutil.which("cmake", path=NO_TOOLKIT_PATH) is None or shutil.which("c++", path=NO_TOOLKIT_PATH) is None:
    pytest.skip(f"needs cmake and c++ in {NO_TOOLKIT_PATH}", allow_module_level=True)
if shutil.which("nvcc", path=NO_TOOLKIT_PATH) is not None:
    pytest.skip(f"nvcc is in {NO_TOOLKIT_PATH}: no toolkit-free PATH to test with", allow_module_level=True)


def configure(tmp_path, **env):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("CUDACXX", "CUDA_HOME", "CUDA_PATH", "PHILOXINIT_CUDA", "CXX")
    }
    clean.update(PATH=NO_TOOLKIT_PATH, **env)
    return subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(tmp_path / "build"), f"-Dpybind11_DIR={pybind11.get_cmake_dir()}"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_toolkit_builds_cpu_kernels_only_and_says_so(tmp_path):
    r = configure(tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if "philoxinit: CUDA kernels" in line]
    assert len(lines) == 1 and "OFF (no CUDA toolkit found" in lines[0] and "CPU kernels only" in lines[0], lines


def test_cuda_on_without_toolkit_fails_at_configure(tmp_path):
    r = configure(tmp_path, PHILOXINIT_CUDA="ON")
    assert r.returncode != 0
    message = " ".join(r.stderr.split())
    assert "PHILOXINIT_CUDA=ON but no CUDA toolkit found" in message and "PHILOXINIT_CUDA=OFF" in message, r.stderr
