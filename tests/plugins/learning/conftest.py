"""Fixtures for the example third-party plugin: a real pip install of examples/learning
(made with ``helpdesk plugin new``), loaded through its entry point."""

from __future__ import annotations

import importlib
import pathlib
import shutil
import subprocess
import sys

import pytest

from helpdesk_core import i18n
from helpdesk_core.plugins import PluginRegistry, make_plugin_manager
from helpdesk_core.testing import compile_catalogs

ROOT = pathlib.Path(__file__).resolve().parents[3]
SOURCE = ROOT / "examples" / "learning"
MODULE = "helpdesk_learning"


@pytest.fixture(scope="session")
def learning_site(tmp_path_factory) -> pathlib.Path:
    """examples/learning installed with pip into its own folder (not on sys.path yet)."""
    work = tmp_path_factory.mktemp("learning")
    source = work / "src"
    shutil.copytree(SOURCE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    compile_catalogs(source / MODULE)  # what `make compile` does
    site = work / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--disable-pip-version-check", "--target", str(site),
         str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(site.glob("ward_helpdesk_learning-*.dist-info/entry_points.txt"))
    return site


@pytest.fixture
def learning_installed(learning_site):
    """Put the installed example on sys.path for one test; take every trace away after."""
    directories = list(i18n._directories)
    sys.path.insert(0, str(learning_site))
    importlib.invalidate_caches()
    try:
        yield learning_site
    finally:
        sys.path.remove(str(learning_site))
        importlib.invalidate_caches()
        for name in [m for m in sys.modules if m == MODULE or m.startswith(MODULE + ".")]:
            del sys.modules[name]
        i18n._directories[:] = directories
        i18n.clear_cache()


@pytest.fixture
def learning_registry(learning_installed) -> PluginRegistry:
    """Every plugin found through the entry points, the example among them."""
    failures: list = []
    pm = make_plugin_manager(failures=failures)
    assert not failures, failures
    return PluginRegistry(pm, failures)


@pytest.fixture
def learning_app(learning_installed, app):
    """The kit's web app, built while the example package is installed."""
    return app
