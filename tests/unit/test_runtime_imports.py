"""The shared runtime (wspolnota/) imports no service: read from the source, nothing is imported.

A service is reached from the runtime only by a module path string (wspolnota/registry.py), so `wspolnota`
can be type-checked, tested and reused without any service present."""
from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "wspolnota"


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import statement, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def is_a_service(module: str) -> bool:
    return module == "services" or module.startswith("services.")


def test_no_module_of_the_shared_runtime_imports_a_service() -> None:
    modules = sorted(RUNTIME.rglob("*.py"))
    assert len(modules) > 10 and RUNTIME / "cli.py" in modules
    offenders = [f"{path.relative_to(RUNTIME.parent)}:{line} imports {module}"
                 for path in modules
                 for line, module in imported_modules(path.read_text(encoding="utf-8"))
                 if is_a_service(module)]
    assert offenders == [], "the shared runtime must reach services by module path string (wspolnota/registry.py)"


def test_the_check_sees_every_form_of_importing_a_service() -> None:
    source = ("import services\nimport services.needs.db as db\nfrom services.front import pages\n"
              "def f():\n    from services.needs.seed import main\n"
              "import servicesx\nfrom wspolnota import services_table\n")
    assert [m for _, m in imported_modules(source) if is_a_service(m)] == [
        "services", "services.needs.db", "services.front", "services.needs.seed"]
