"""Package boundaries: the core never imports the web; plugins import only the public core."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB_MODULES = {"flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "flask_babel",
               "flask_migrate", "flask_limiter", "webapp"}


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "helpdesk_core").rglob("*.py")), ids=str)
def test_core_does_not_import_the_web(path):
    bad = {name for name in imported_modules(path) if name.split(".")[0] in WEB_MODULES}
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("path", sorted((ROOT / "plugins").rglob("*.py")), ids=str)
def test_plugins_use_only_the_public_core(path):
    plugin = path.relative_to(ROOT / "plugins").parts[0]
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in WEB_MODULES, f"{path} imports {name}"
        if top == "helpdesk_core":
            assert name == "helpdesk_core", f"{path} imports private core module {name}"
        if top == "plugins":
            assert name.startswith(f"plugins.{plugin}"), f"{path} imports sibling {name}"
