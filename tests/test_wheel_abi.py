"""The installed extension needs nothing beyond glibc: no C++ runtime, no torch, Python or CUDA
library; and a release build (zig's clang against glibc 2.28, `make wheel`) needs no GLIBC_ symbol
above 2.28, so the wheel installs wherever torch's manylinux_2_28 wheels do."""

import importlib.util
import io
import pathlib

import pytest

elftools = pytest.importorskip("elftools", reason="pyelftools (the test extra) reads the ELF file")
from elftools.elf.elffile import ELFFile  # noqa: E402

from philoxinit import _backend  # noqa: E402

if _backend._C is None:
    pytest.skip("compiled extension not built", allow_module_level=True)

_spec = importlib.util.spec_from_file_location(
    "check_wheel", pathlib.Path(__file__).resolve().parent.parent / "tools" / "check_wheel.py"
)
check_wheel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_wheel)

SO = _backend._C.__file__


def _elf():
    with open(SO, "rb") as f:
        return ELFFile(io.BytesIO(f.read()))


def _built_by_gcc() -> bool:
    comment = _elf().get_section_by_name(".comment")
    return comment is not None and b"GCC:" in comment.data() and b"clang" not in comment.data()


def test_needs_only_glibc_and_no_cxx_runtime():
    needed, versions = check_wheel.inspect(_elf())
    found = [p for p in check_wheel.problems(needed, versions) if "above GLIBC" not in p]
    assert found == [], f"{SO}: {found}"


def test_glibc_at_most_2_28():
    if _built_by_gcc():
        pytest.skip(
            "built by GCC against this machine's glibc (pip install .): only the release "
            "toolchain (make wheel) targets glibc 2.28"
        )
    needed, versions = check_wheel.inspect(_elf())
    assert check_wheel.problems(needed, versions) == [], check_wheel.highest_glibc(versions)
