"""Print the import graph of a Python package's source and fail on an import cycle.

    python tools/import_graph.py [PACKAGE_DIR]     (default: python/philoxinit)

Prints ``module -> the package's modules it imports`` for every module under PACKAGE_DIR, then
``no cycle`` (exit 0) or the cycle (exit 1). Every import counts, at module level or inside a
function: a late import is still a cycle of design. Imports of modules outside PACKAGE_DIR are left
out. Standard library only (``ast``): it reads the source, it imports nothing.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def package_name(directory: Path) -> str:
    """Dotted name of a package directory: its parents count while they are packages too."""
    parts = [directory.name]
    parent = directory.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


def modules(directory: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (source file, is a package) for every ``.py`` file under ``directory``."""
    root = package_name(directory)
    out = {}
    for path in sorted(directory.rglob("*.py")):
        parts = path.relative_to(directory).with_suffix("").parts
        package = parts[-1] == "__init__"
        out[".".join((root,) + (parts[:-1] if package else parts))] = (path, package)
    return out


def _bound_names(path: Path) -> set[str]:
    """Names a module's source binds anywhere (assignments, definitions, imports)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).partition(".")[0] for a in node.names)
    return out


def _from_target(module: str, name: str, mods: dict) -> str | None:
    """What ``from module import name`` imports: the submodule ``module.name`` when there is one;
    nothing for a name the package does not bind (a compiled extension module, not in the source);
    else ``module`` itself."""
    sub = f"{module}.{name}"
    if sub in mods:
        return sub
    hit = mods.get(module)
    if hit is not None and hit[1] and name not in _bound_names(hit[0]):
        return None
    return module


def import_graph(directory: Path) -> dict[str, set[str]]:
    """Each module -> the modules under ``directory`` it imports."""
    mods = modules(directory)

    def known(name: str | None) -> str | None:  # the longest prefix that is one of the modules
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, package) in mods.items():
        deps = graph.setdefault(name, set())
        here = name if package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                module = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
                targets = [_from_target(module, a.name, mods) for a in node.names]
            else:
                continue
            deps.update(t for t in map(known, targets) if t and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def main(argv: list[str]) -> int:
    directory = Path(argv[0] if argv else Path(__file__).resolve().parent.parent / "python" / "philoxinit")
    if not (directory / "__init__.py").is_file():
        print(f"import_graph: {directory} is not a package directory (no __init__.py)", file=sys.stderr)
        return 2
    graph = import_graph(directory.resolve())
    for name in sorted(graph):
        print(f"{name} -> {', '.join(sorted(graph[name])) or '-'}")
    cycle = find_cycle(graph)
    print("cycle: " + " -> ".join(cycle) if cycle else "no cycle")
    return 1 if cycle else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
