"""The import graph: every service is sealed, and the published contracts stand on their own.

A service reaches another only over the bus (and HTTP); what it needs of another's events it imports from
`contracts/`. The modules are read with `ast`, never imported, so a forbidden import is found wherever it is:
in a module no test loads, inside a function, in a seed or a migration.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DYNAMIC_IMPORTS = {"import_module", "__import__"}


def imported_names(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module a file imports, `from a import b` giving both `a` and `a.b`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[:-1]  # a module's package; for an __init__.py, the package itself
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base_parts = package[:len(package) - node.level + 1] if node.level else []
            base = ".".join([*base_parts, *(node.module.split(".") if node.module else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in DYNAMIC_IMPORTS:
                yield node.lineno, node.args[0].value


def service_named(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "services" else None


def services_under(root: Path) -> list[Path]:
    return sorted(p for p in (root / "services").iterdir() if p.is_dir() and (p / "__init__.py").exists())


def imports_of_other_services(root: Path) -> list[str]:
    found = []
    for service in services_under(root):
        for path in sorted(service.rglob("*.py")):
            for line, module in imported_names(path, root):
                other = service_named(module)
                if other is not None and other != service.name:
                    found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def imports_of_services(root: Path, package: str) -> list[str]:
    return [f"{path.relative_to(root)}:{line} imports {module}"
            for path in sorted((root / package).rglob("*.py"))
            for line, module in imported_names(path, root) if module.split(".")[0] == "services"]


def test_no_service_imports_another_service() -> None:
    assert len(services_under(ROOT)) >= 4
    assert imports_of_other_services(ROOT) == []


def test_the_published_contracts_import_no_service() -> None:
    assert (ROOT / "contracts" / "__init__.py").exists()
    assert imports_of_services(ROOT, "contracts") == []


def test_the_check_finds_every_way_of_importing_another_service(tmp_path: Path) -> None:
    for name in ("needs", "matching"):
        (tmp_path / "services" / name).mkdir(parents=True)
        (tmp_path / "services" / name / "__init__.py").write_text("")
    (tmp_path / "services" / "needs" / "handlers.py").write_text(
        "from services.needs import model\n"          # its own: allowed
        "from contracts import matching\n"            # a contract: allowed
        "from services.matching import schemas\n"
        "import services.matching.engine\n"
        "from services import matching\n"
        "from .. import matching as m\n"
        "def later():\n"
        "    import importlib\n"
        "    return importlib.import_module('services.matching.db')\n")

    assert imports_of_other_services(tmp_path) == [
        "services/needs/handlers.py:3 imports services.matching",
        "services/needs/handlers.py:3 imports services.matching.schemas",
        "services/needs/handlers.py:4 imports services.matching.engine",
        "services/needs/handlers.py:5 imports services.matching",
        "services/needs/handlers.py:6 imports services.matching",
        "services/needs/handlers.py:9 imports services.matching.db",
    ]


def import_cycles(root: Path) -> list[str]:
    """Modules of one service that import each other round (directly or through others), wherever the import
    stands: a module-level one, or one hidden inside a function to dodge the circle at import time."""
    found: list[str] = []
    for service in services_under(root):
        paths = {".".join(p.relative_to(root).with_suffix("").parts): p
                 for p in sorted(service.rglob("*.py")) if "migrations" not in p.parts}
        graph = {m: sorted({n for _, n in imported_names(p, root) if n in paths and n != m}) for m, p in paths.items()}
        done: set[str] = set()
        for module in sorted(graph):
            _visit(graph, module, [], done, found)
    return found


def _visit(graph: dict[str, list[str]], module: str, path: list[str], done: set[str], found: list[str]) -> None:
    if module in path:
        found.append(" → ".join([*path[path.index(module):], module]))
        return
    if module in done:
        return
    for other in graph[module]:
        _visit(graph, other, [*path, module], done, found)
    done.add(module)


def test_no_service_has_an_import_cycle() -> None:
    assert import_cycles(ROOT) == []


def test_the_cycle_check_finds_a_circle_closed_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "services" / "needs").mkdir(parents=True)
    (tmp_path / "services" / "needs" / "__init__.py").write_text("")
    (tmp_path / "services" / "needs" / "api.py").write_text("from services.needs import csv\n")
    (tmp_path / "services" / "needs" / "csv.py").write_text(
        "def later():\n    from services.needs import api\n    return api\n")
    assert import_cycles(tmp_path) == ["services.needs.api → services.needs.csv → services.needs.api"]
