"""Temporary databases for tests: a SQLite file, or a PostgreSQL database of its own."""

from __future__ import annotations

import os
import uuid
from typing import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ..db import create_schema, make_engine
from ..models import Base

ENGINES = ("sqlite", "postgresql")
PG_ADMIN_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_admin_url() -> str:
    """Where to create test databases: ``HELPDESK_TEST_PG_URL`` or the local default."""
    return os.environ.get("HELPDESK_TEST_PG_URL", PG_ADMIN_URL_DEFAULT)


def in_ci() -> bool:
    """True when ``CI`` is set (to 1, true or yes)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """A needed tool or service is absent: skip the test locally, fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


class Database:
    """One engine under test with the helpdesk schema, and a way to empty it."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.engine = make_engine(url)
        self.plugin_metadata = create_schema(self.engine)

    def clean(self) -> None:
        """Delete every row (PostgreSQL: and restart the sequences)."""
        tables = [t.name for metadata in self.plugin_metadata
                  for t in reversed(metadata.sorted_tables)]
        tables += [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as conn:
            if self.kind == "postgresql":
                conn.execute(text("TRUNCATE {} RESTART IDENTITY CASCADE".format(
                    ", ".join(f'"{t}"' for t in tables))))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))

    def dispose(self) -> None:
        self.engine.dispose()


def create_pg_database() -> tuple[str, Callable[[], None]]:
    """A new, empty PostgreSQL database: its URL and a function that drops it.

    Skips the test (fails it in CI) when the server cannot be reached.
    """
    admin_url = make_url(pg_admin_url())
    name = f"hdtest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down or not installed
        missing(f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {exc!r}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def chosen_engines(option: str | None, ini: list[str]) -> list[str]:
    """The engines to run database tests on: the command line's ``--helpdesk-db``, else
    ``HELPDESK_TEST_DATABASES``, else the ``helpdesk_databases`` ini value, else SQLite.

    Each is a list separated by commas or spaces, e.g. ``sqlite,postgresql``.
    """
    for value in (option, os.environ.get("HELPDESK_TEST_DATABASES"), " ".join(ini or [])):
        names = [n for n in (value or "").replace(",", " ").split() if n]
        if names:
            unknown = sorted(set(names) - set(ENGINES))
            if unknown:
                raise pytest.UsageError(f"unknown test database(s) {unknown}; use {ENGINES}")
            return list(dict.fromkeys(names))
    return ["sqlite"]
