"""philoxinit's modules import one another one way: no import cycle anywhere in the package, and
philoxinit.module's files in a fixed order (tools/import_graph.py reads the graph from the source;
every import counts, at module level or inside a function)."""

import subprocess
import sys
from pathlib import Path

import philoxinit

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "tools" / "import_graph.py"
PACKAGE = Path(philoxinit.__file__).resolve().parent  # the installed package, as the suite tests it

# philoxinit.module's files, each importing only files after it: the public API, then replay, plan,
# recording, then what they share; patch() is separate (only the package's __init__ imports it)
LAYERS = ["", "_api", "_replay", "_plan", "_record", "_patch", "_originals", "_references", "_targets",
          "_streams", "_state"]  # fmt: skip


def run_tool(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), str(directory)], capture_output=True, text=True, timeout=60)


def read_graph(stdout: str) -> dict[str, set[str]]:
    graph = {}
    for line in stdout.splitlines():
        if " -> " in line and not line.startswith("cycle: "):
            name, deps = line.split(" -> ")
            graph[name] = set() if deps == "-" else set(deps.split(", "))
    return graph


def test_no_import_cycle_in_the_package():
    out = run_tool(PACKAGE)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1] == "no cycle"
    graph = read_graph(out.stdout)
    assert "philoxinit._ops" in graph["philoxinit._distributions"]  # the compile path
    assert "philoxinit._fill" in graph["philoxinit._ops"]  # the op runs the core fill


def test_module_package_imports_one_way():
    out = run_tool(PACKAGE / "module")
    assert out.returncode == 0, out.stdout + out.stderr
    graph = read_graph(out.stdout)
    prefix = "philoxinit.module"
    names = {n.removeprefix(prefix).lstrip(".") for n in graph}
    assert names == set(LAYERS)  # a new file gets a place in LAYERS
    for name, deps in graph.items():
        rank = LAYERS.index(name.removeprefix(prefix).lstrip("."))
        for dep in deps:
            assert LAYERS.index(dep.removeprefix(prefix).lstrip(".")) > rank, f"{name} imports {dep}"
    assert {n for n, deps in graph.items() if f"{prefix}._patch" in deps} == {prefix}


def test_the_tool_fails_on_a_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")  # a late import counts
    out = run_tool(pkg)
    assert out.returncode == 1
    assert read_graph(out.stdout) == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    assert out.stdout.splitlines()[-1] == "cycle: pkg.a -> pkg.b -> pkg.a"
