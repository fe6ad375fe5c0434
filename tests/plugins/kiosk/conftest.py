"""Fixtures for the example third-party plugin: a real pip install of examples/kiosk,
loaded through its entry point, and the kit's TCP server answering like a thermal printer."""

from __future__ import annotations

import importlib
import pathlib
import shutil
import subprocess
import sys

import pytest

from helpdesk_core import i18n
from helpdesk_core.plugins import PluginRegistry, make_plugin_manager
from helpdesk_core.testing import TcpServer, compile_catalogs

ROOT = pathlib.Path(__file__).resolve().parents[3]
KIOSK_SOURCE = ROOT / "examples" / "kiosk"


@pytest.fixture(scope="session")
def kiosk_site(tmp_path_factory) -> pathlib.Path:
    """examples/kiosk installed with pip into its own folder (not on sys.path yet)."""
    work = tmp_path_factory.mktemp("kiosk")
    source = work / "src"
    shutil.copytree(KIOSK_SOURCE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    compile_catalogs(source / "helpdesk_kiosk")  # what `make compile` does
    site = work / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--disable-pip-version-check", "--target", str(site),
         str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(site.glob("ward_helpdesk_kiosk-*.dist-info/entry_points.txt"))
    return site


@pytest.fixture
def kiosk_installed(kiosk_site):
    """Put the installed kiosk on sys.path for one test; take every trace away after."""
    directories = list(i18n._directories)
    sys.path.insert(0, str(kiosk_site))
    importlib.invalidate_caches()
    try:
        yield kiosk_site
    finally:
        sys.path.remove(str(kiosk_site))
        importlib.invalidate_caches()
        for name in [m for m in sys.modules if m == "helpdesk_kiosk"
                     or m.startswith("helpdesk_kiosk.")]:
            del sys.modules[name]
        i18n._directories[:] = directories
        i18n.clear_cache()


@pytest.fixture
def kiosk_registry(kiosk_installed) -> PluginRegistry:
    """Every plugin found through the entry points, the kiosk among them."""
    failures: list = []
    pm = make_plugin_manager(failures=failures)
    assert not failures, failures
    return PluginRegistry(pm, failures)


@pytest.fixture
def kiosk_app(kiosk_installed, app):
    """The kit's web app, built while the kiosk package is installed."""
    return app


ESCPOS_PAPER_STATUS = b"\x10\x04\x04"  # DLE EOT 4: "how is the paper?"


@pytest.fixture
def escpos_printer(tcp_server):
    """``escpos_printer(0x12)``: the kit's TCP server answering DLE EOT 4 like a thermal
    ticket printer with that status byte (None: stays silent, b"": hangs up at once)."""

    def start(status: int | None | bytes) -> TcpServer:
        if status == b"":
            return tcp_server()
        return tcp_server(lambda request: bytes([status]) if request == ESCPOS_PAPER_STATUS
                          and isinstance(status, int) else None, read=3)

    return start
