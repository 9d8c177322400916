"""Checks that philoxinit's extension runs wherever torch's manylinux_2_28 wheels do.

    python tools/check_wheel.py wheelhouse/philoxinit-*.whl      (every .so in the wheel)
    python tools/check_wheel.py path/to/_C.cpython-311-x86_64-linux-gnu.so

For each shared object it prints the highest GLIBC_ version its dynamic symbols need and the
libraries it needs, and fails (exit 1) when it needs a GLIBC_ version above 2.28, any versioned
symbol of the C++ runtime (GLIBCXX_, CXXABI_) or of libgcc_s (GCC_), or any library beyond glibc's
own (so no libstdc++, libtorch, libc10, libpython or libcudart). Needs pyelftools (which auditwheel
depends on).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from typing import Iterable, List, Tuple

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

MAX_GLIBC = (2, 28)
GLIBC_LIBRARIES = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-[\w-]+\.so\.\d)$"
)


def _version(tag: str) -> Tuple[int, ...]:
    return tuple(int(x) for x in tag.split("_", 1)[1].split("."))


def inspect(elf: ELFFile) -> Tuple[List[str], List[str]]:
    """(libraries needed, version tags needed) of one shared object."""
    needed: List[str] = []
    versions: List[str] = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            needed += [t.needed for t in section.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
        elif isinstance(section, GNUVerNeedSection):
            for _, auxiliaries in section.iter_versions():
                versions += [a.name for a in auxiliaries]
    return needed, versions


def problems(needed: Iterable[str], versions: Iterable[str]) -> List[str]:
    out = [f"needs {lib}" for lib in needed if not GLIBC_LIBRARIES.match(lib)]
    for tag in versions:
        if tag.startswith(("GLIBCXX_", "CXXABI_", "GCC_")):
            out.append(f"needs the C++ runtime's {tag}")
        elif tag.startswith("GLIBC_") and _version(tag) > MAX_GLIBC:
            out.append(f"needs {tag} (above GLIBC_{'.'.join(map(str, MAX_GLIBC))})")
    return out


def highest_glibc(versions: Iterable[str]) -> str:
    tags = [t for t in versions if t.startswith("GLIBC_") and t[6:7].isdigit()]
    return max(tags, key=_version) if tags else "none"


def shared_objects(path: str):
    """(name, ELFFile) of the path itself, or of every .so inside a wheel."""
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            for name in wheel.namelist():
                if re.search(r"\.so(\.|$)", name):
                    yield name, ELFFile(io.BytesIO(wheel.read(name)))
    else:
        with open(path, "rb") as f:
            yield path, ELFFile(io.BytesIO(f.read()))


def main(paths: List[str]) -> int:
    failed = False
    seen = 0
    for path in paths:
        for name, elf in shared_objects(path):
            seen += 1
            needed, versions = inspect(elf)
            print(f"{name}: highest {highest_glibc(versions)}; needs {', '.join(needed) or 'nothing'}")
            for p in problems(needed, versions):
                print(f"  FAIL: {p}")
                failed = True
    if seen == 0:
        print("no shared object found")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
