"""The testing kit: pytest fixtures and helpers for the helpdesk and its plugins.

Installed with ward-helpdesk and loaded by pytest through the ``pytest11`` entry point
(:mod:`helpdesk_core.testing.plugin`): the fixtures need no import. The helpers do::

    from helpdesk_core.testing import run_check, assert_catalog

Nothing here imports Flask until a web fixture (``app``, ``client``...) is used.
"""

from .catalogs import assert_catalog, catalog_problems, compile_catalogs
from .checks import registry_for, run_check
from .databases import Database, missing
from .peers import (HttpServer, Request, TcpServer, TlsServer, closed_port, make_cert,
                    server_context)
from .plugin import FIXED_NOW, FrozenClock
from .push import BrowserSubscription, Delivery, PushService
from .web import TEST_PASSWORD

__all__ = [
    "assert_catalog", "catalog_problems", "compile_catalogs", "registry_for", "run_check",
    "Database", "missing", "HttpServer", "Request", "TcpServer", "TlsServer",
    "closed_port", "make_cert", "server_context", "FIXED_NOW", "FrozenClock",
    "TEST_PASSWORD", "PushService", "BrowserSubscription", "Delivery",
]
