"""Package boundaries: the core never imports the web; plugins import only the public core."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB_MODULES = {"flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "flask_babel",
               "flask_migrate", "flask_limiter", "webapp"}
# The testing kit's web fixtures (app, client, logged-in clients) need the app; they
# import it inside the fixtures, so importing helpdesk_core (or the kit, for a core-only
# test) never loads Flask. This one module may; at module level it may not either.
LAZY_WEB_MODULE = ROOT / "helpdesk_core" / "testing" / "web.py"


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def module_level_imports(path: pathlib.Path) -> set[str]:
    """Modules imported when *path* is imported (not inside its functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "helpdesk_core").rglob("*.py")), ids=str)
def test_core_does_not_import_the_web(path):
    imported = module_level_imports(path) if path == LAZY_WEB_MODULE else imported_modules(path)
    bad = {name for name in imported if name.split(".")[0] in WEB_MODULES}
    assert not bad, f"{path} imports {bad}"


def test_only_the_kits_web_fixtures_import_the_web_and_only_inside_functions():
    lazy = {path for path in (ROOT / "helpdesk_core").rglob("*.py")
            if any(name.split(".")[0] in WEB_MODULES for name in imported_modules(path))}
    assert lazy == {LAZY_WEB_MODULE}
    assert not any(name.split(".")[0] in WEB_MODULES for name in module_level_imports(LAZY_WEB_MODULE))


def test_importing_the_core_and_its_testing_kit_loads_no_flask():
    code = ("import sys, helpdesk_core, helpdesk_core.testing, helpdesk_core.testing.plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (WEB_MODULES,))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


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
