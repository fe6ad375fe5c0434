"""Fixtures for the example third-party plugin: a real pip install of examples/kiosk,
loaded through its entry point, and a TCP peer that answers like a thermal printer."""

from __future__ import annotations

import importlib
import pathlib
import shutil
import socket
import subprocess
import sys
import threading

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from helpdesk_core import i18n
from helpdesk_core.plugins import PluginRegistry, make_plugin_manager

ROOT = pathlib.Path(__file__).resolve().parents[3]
KIOSK_SOURCE = ROOT / "examples" / "kiosk"


def _compile_catalogs(package: pathlib.Path) -> None:
    """What `make compile` does, so the test does not depend on it having run."""
    for po_path in package.glob("translations/*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        with po_path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


@pytest.fixture(scope="session")
def kiosk_site(tmp_path_factory) -> pathlib.Path:
    """examples/kiosk installed with pip into its own folder (not on sys.path yet)."""
    work = tmp_path_factory.mktemp("kiosk")
    source = work / "src"
    shutil.copytree(KIOSK_SOURCE, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _compile_catalogs(source / "helpdesk_kiosk")
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
def kiosk_app(kiosk_installed, database, tmp_path):
    """The web app built while the kiosk package is installed."""
    from webapp import create_app
    from webapp.extensions import db
    app = create_app({"TESTING": True, "DATABASE_URL": database.url, "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    database.clean()


class EscPosPeer:
    """A TCP peer on 127.0.0.1 that answers DLE EOT 4 like a thermal ticket printer.

    ``status`` is the byte it answers (None: stays silent, b"": closes at once).
    """

    def __init__(self, status: int | None | bytes) -> None:
        self.status = status
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                if self.status == b"":
                    continue
                try:
                    request = b""
                    while len(request) < 3:
                        chunk = conn.recv(3 - len(request))
                        if not chunk:
                            break
                        request += chunk
                except OSError:
                    continue
                self.requests.append(request)
                if request == b"\x10\x04\x04" and isinstance(self.status, int):
                    try:
                        conn.sendall(bytes([self.status]))
                        conn.recv(1)  # wait for the client to hang up
                    except OSError:
                        pass
                else:
                    self._stop.wait(5)  # a silent printer: answer nothing

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)


@pytest.fixture
def escpos_printer():
    """Factory: ``escpos_printer(0x12)`` starts a printer peer; all stop after the test."""
    peers: list[EscPosPeer] = []

    def start(status):
        peer = EscPosPeer(status)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.close()
