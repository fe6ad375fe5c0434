"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale path)."""

from __future__ import annotations

import contextvars
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` and ``postgres://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def engine_options(url: str) -> dict[str, Any]:
    """Engine options per backend (also used by Flask-SQLAlchemy)."""
    if make_url(url).get_backend_name() == "sqlite":
        # Requests and the scheduler's threads share one file; wait instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers work while one writer writes; SQLite needs foreign keys turned on."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # The sqlite3 module's implicit transactions break SAVEPOINT and BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_READS_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("helpdesk_reads_only",
                                                                   default=False)


def set_reads_only(value: bool) -> contextvars.Token[bool]:
    """Declare that transactions begun in this context only read (e.g. a GET request).

    On SQLite they then begin DEFERRED and take no write lock, so readers in several
    processes run side by side instead of queueing on the lock. Undo with
    :func:`reset_reads_only`. No effect on PostgreSQL.
    """
    return _READS_ONLY.set(value)


def reset_reads_only(token: contextvars.Token[bool]) -> None:
    _READS_ONLY.reset(token)


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """With the driver's own transaction handling off, begin explicitly.

    IMMEDIATE takes the write lock at the start, so two writers queue up instead of
    failing with "database is locked" when one upgrades a read to a write. Contexts
    that declared :func:`set_reads_only` begin DEFERRED: no lock, WAL snapshot reads.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN" if _READS_ONLY.get() else "BEGIN IMMEDIATE")


def upsert_insert(dialect_name: str) -> Any:
    """The ``insert`` of *dialect_name* (``postgresql`` or ``sqlite``), the one with
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``.

    Only that dialect's module is imported: the engine in use has loaded it already, and
    a SQLite process never loads PostgreSQL's (2 MB in each web worker).
    """
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def make_engine(url: str, **overrides: Any) -> Engine:
    """An engine for *url* with the options this project relies on."""
    url = normalize_url(url)
    options = engine_options(url)
    options.update(overrides)
    return create_engine(url, **options)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_schema(engine: Engine) -> list[Any]:
    """Every table on *engine* from the models: the helpdesk's and the installed plugins'
    own (``helpdesk_register_storage``). For test and benchmark databases; a real one is
    made by ``helpdesk db upgrade`` with the migrations. Returns the plugins' metadata."""
    from .models import Base
    from .plugins import load_registry
    Base.metadata.create_all(engine)
    plugin_metadata = [storage.metadata
                       for _name, storage in sorted(load_registry().storages.items())]
    for metadata in plugin_metadata:
        metadata.create_all(engine)
    return plugin_metadata
