"""Widgets get their data from the domain: no module under console/ui reads the database or the resource
files itself (issue 12). Checked on the source, so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "console" / "ui"
FORBIDDEN = ("sqlite3", "sqlite_utils", "db", "resources")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) \
                == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            names.append(str(node.args[0].value))
    return names


def test_no_widget_module_imports_the_database_or_the_resource_files() -> None:
    modules = sorted(UI.rglob("*.py"))
    assert len(modules) > 30
    offenders = [
        f"{path.relative_to(UI.parent.parent)}: {name}"
        for path in modules
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []
