"""The pytest plugin of the testing kit, registered through the ``pytest11`` entry point.

Any project that installs ward-helpdesk gets these fixtures (see docs/plugins.md,
"Testing a plugin"). Database tests run on SQLite by default; choose engines with
``--helpdesk-db=sqlite,postgresql``, ``HELPDESK_TEST_DATABASES`` or the
``helpdesk_databases`` ini setting.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from .. import http as http_helper
from ..db import make_session_factory
from ..plugins import PluginRegistry, make_plugin_manager
from . import databases, peers, push
from .web import accounts, app, client, logged_in, runner, ward  # noqa: F401 (fixtures)

# Tuesday 10/03/2026, 09:00 in Da Nang: inside working hours.
FIXED_NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc)


class FrozenClock:
    """A clock that stands still until told: ``clock()`` is the time, aware UTC."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        """Move on by ``timedelta(**delta)``; return the new time."""
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, moment: dt.datetime) -> None:
        """Stop at *moment* (aware)."""
        self.now = moment


# --- options --------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("helpdesk", "Ward Helpdesk testing kit")
    group.addoption("--helpdesk-db", dest="helpdesk_db", default=None,
                    help="database engines for the database fixture: sqlite, postgresql "
                         "or both (comma-separated; default sqlite)")
    parser.addini("helpdesk_databases", type="args", default=[],
                  help="database engines for the database fixture (default: sqlite)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definitions = metafunc._arg2fixturedefs.get("database") or ()
    # Only our own ``database`` fixture: a project may define one of its own.
    if definitions and definitions[-1].func.__module__ == __name__:
        engines = databases.chosen_engines(metafunc.config.getoption("helpdesk_db"),
                                           metafunc.config.getini("helpdesk_databases"))
        metafunc.parametrize("database", engines, indirect=True, scope="session")


# --- databases ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def database(request, tmp_path_factory):
    """The engine under test, with the schema: a SQLite file (WAL) or a PostgreSQL
    database of its own (created from ``HELPDESK_TEST_PG_URL``, dropped at the end)."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        db = databases.Database("sqlite", f"sqlite:///{path}")
        yield db
        db.dispose()
    else:
        url, drop = databases.create_pg_database()
        db = databases.Database("postgresql", url)
        yield db
        db.dispose()
        drop()


@pytest.fixture
def postgres_database():
    """A fresh PostgreSQL database with the schema, for tests that only make sense there
    (several processes sharing one database). It does not run on SQLite at all."""
    url, drop = databases.create_pg_database()
    db = databases.Database("postgresql", url)
    yield db
    db.dispose()
    drop()


@pytest.fixture
def db_session(database):
    """A SQLAlchemy session on a clean schema, no Flask involved."""
    session = make_session_factory(database.engine)()
    yield session
    session.close()
    database.clean()


@pytest.fixture
def session_factory(database):
    """For tests that need several independent sessions (concurrency)."""
    yield make_session_factory(database.engine)
    database.clean()


# --- plugins and time -----------------------------------------------------------------

@pytest.fixture
def pm():
    """A plugin manager with the hook specs only: register your test plugins on it."""
    return make_plugin_manager(load_entry_points=False)


@pytest.fixture(scope="session")
def builtin_pm():
    """A plugin manager loaded from the ``ward_helpdesk`` entry points (yours included
    once your package is installed)."""
    return make_plugin_manager()


@pytest.fixture(scope="session")
def registry(builtin_pm):
    """The :class:`PluginRegistry` of ``builtin_pm``."""
    return PluginRegistry(builtin_pm)


@pytest.fixture
def now() -> dt.datetime:
    """A fixed moment inside working hours (Tuesday 10/03/2026, 09:00 in Da Nang)."""
    return FIXED_NOW


@pytest.fixture
def clock() -> FrozenClock:
    """The web app's clock (``app.config["NOW"]``), frozen at ``now`` until moved."""
    return FrozenClock(FIXED_NOW)


# --- loopback peers -------------------------------------------------------------------

@pytest.fixture
def http_server():
    """An HTTP server on 127.0.0.1; script it with ``answer``, ``slow``, ``hang``..."""
    server = peers.HttpServer().start()
    yield server
    server.stop()


@pytest.fixture
def https_server(tmp_path):
    """``https_server(days=90)``: an HTTPS server with a self-signed certificate valid
    *days* more (negative: expired); ``server.cert_file`` is the certificate."""
    servers: list[peers.HttpServer] = []

    def start(days: float = 90, cn: str = "localhost") -> peers.HttpServer:
        folder = tmp_path / f"https{len(servers)}"
        folder.mkdir()
        cert, key = peers.make_cert(folder, days, cn)
        servers.append(peers.HttpServer(peers.server_context(cert, key), cert).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def tcp_server():
    """``tcp_server(reply=None, read=1, silent=False)``: a scripted TCP server
    (see :class:`~helpdesk_core.testing.peers.TcpServer`)."""
    servers: list[peers.TcpServer] = []

    def start(reply: peers.Reply = None, *, read: int = 1,
              silent: bool = False) -> peers.TcpServer:
        servers.append(peers.TcpServer(reply, read=read, silent=silent))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def tls_server(tmp_path):
    """``tls_server(days, cn="localhost")``: a TLS server presenting a self-signed
    certificate valid *days* more (negative: expired)."""
    servers: list[peers.TlsServer] = []

    def start(days: float, cn: str = "localhost") -> peers.TlsServer:
        folder = tmp_path / f"tls{len(servers)}"
        folder.mkdir()
        servers.append(peers.TlsServer(peers.server_context(*peers.make_cert(folder, days, cn))))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def push_service():
    """A loopback Web Push service (:class:`~helpdesk_core.testing.push.PushService`):
    ``push_service.subscribe(vapid_public_key)`` gives a browser's subscription; it
    checks VAPID, decrypts and records each push in ``deliveries``."""
    service = push.PushService().start()
    yield service
    service.stop()


@pytest.fixture
def plugin_sessions(database, db_session):
    """Points :func:`helpdesk_core.plugin_session` at the test database (what the app
    factory does for a running app); after the test, back to nothing. Tables are emptied
    with ``db_session``'s, after it is closed."""
    from ..db import make_session_factory
    from ..plugin_db import install_session_source
    install_session_source(make_session_factory(database.engine))
    yield
    install_session_source(None)


@pytest.fixture
def smtp_server(tmp_path):
    """``smtp_server(security="none", login=None)``: a real SMTP server on loopback
    (aiosmtpd) recording what it accepts; ``security`` is ``"none"``, ``"starttls"`` or
    ``"tls"`` (self-signed, its certificate in ``server.cert_file``). See
    :class:`~helpdesk_core.testing.smtp.SmtpServer`."""
    from .smtp import SmtpServer  # aiosmtpd is a test dependency
    servers: list[SmtpServer] = []

    def start(security: str = "none", login: tuple[str, str] | None = None) -> SmtpServer:
        context, cert = None, None
        if security != "none":
            folder = tmp_path / f"smtp{len(servers)}"
            folder.mkdir()
            cert, key = peers.make_cert(folder, 90)
            context = peers.server_context(cert, key)
        server = SmtpServer(security=security, context=context, login=login)
        server.cert_file = str(cert) if cert else ""
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nothing listens on: connections are refused."""
    return peers.closed_port()


@pytest.fixture
def silent_port():
    """A loopback TCP port that accepts connections and never says anything (hung)."""
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def http_environment():
    """Makes :mod:`helpdesk_core.http` read the environment afresh (after
    ``monkeypatch.setenv("HTTPS_PROXY", ...)``, call the fixture's value) and forget it
    after the test."""
    http_helper.reset_environment()
    yield http_helper.reset_environment
    http_helper.reset_environment()
