"""``plugin_session()``: a database session for plugin code that runs outside a page.

A channel's ``send(message, settings)`` runs in the scheduler with no session handed
to it, yet some channels keep state between sends (Zalo's rotating refresh token, the
Web Push VAPID key and a subscription's last success). The application installs where
sessions come from when it starts (the web app's factory does), as for
``plugin_settings``, so the core keeps no global database handle of its own.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from sqlalchemy.orm import Session

SessionSource = Callable[[], Session]
_source: list[SessionSource] = []


def install_session_source(source: SessionSource | None) -> None:
    """Make *source* (a ``sessionmaker``) give :func:`plugin_session` its sessions;
    None forgets it (tests)."""
    _source[:] = [source] if source is not None else []


@contextlib.contextmanager
def plugin_session() -> Iterator[Session]:
    """A session of its own, on the application's database, closed at the end.

    It is not the caller's transaction: commit what you change (``session.commit()``),
    and keep it short (on SQLite one writer at a time holds the database).

    :raises RuntimeError: no application is running to give one.
    """
    if not _source:
        raise RuntimeError("plugin_session() needs a running Ward Helpdesk application")
    session = _source[0]()
    try:
        yield session
    finally:
        session.close()
