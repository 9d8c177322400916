"""The portable vec128 kernels outside this process: tools/check_vec128.cpp compiled natively and,
where a cross compiler and qemu-user are installed, for AArch64 (NEON) and run under emulation.

Each build compares the vec128 kernels with the scalar kernel byte for byte over every distribution
and dtype, and prints a digest of all it wrote; the contract makes that digest the same on every
platform, so AArch64's must equal x86-64's.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tools" / "check_vec128.cpp"
FLAGS = ["-O2", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", f"-I{ROOT / 'csrc'}"]


def _build_and_run(tmp_path, compiler, runner=(), extra=()):
    exe = tmp_path / "check_vec128"
    subprocess.run([compiler, *FLAGS, *extra, str(SOURCE), "-o", str(exe)], check=True, timeout=600)
    out = subprocess.run([*runner, str(exe)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    m = re.search(r"(\d+) of (\d+) cases identical; digest of all outputs ([0-9a-f]{16})", out.stdout)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) == 1040, out.stdout
    return m.group(3)


@pytest.fixture(scope="module")
def native_digest(tmp_path_factory):
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    return _build_and_run(tmp_path_factory.mktemp("native"), compiler)


def test_vec128_equals_scalar_natively(native_digest):
    assert len(native_digest) == 16


def test_aarch64_neon_kernels_write_the_same_bits(native_digest, tmp_path):
    cross, qemu = shutil.which("aarch64-linux-gnu-g++"), shutil.which("qemu-aarch64")
    if cross is None or qemu is None:
        pytest.skip("needs aarch64-linux-gnu-g++ and qemu-aarch64 (Debian: g++-aarch64-linux-gnu qemu-user)")
    assert _build_and_run(tmp_path, cross, (qemu,), ("-static",)) == native_digest
