"""Liveness of background processes, read by ``/healthz``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..db import upsert_insert
from ..models import Heartbeat

SCHEDULER = "scheduler"


def beat(session: Session, name: str, now: dt.datetime, detail: str = "") -> None:
    """Record that *name* is alive at *now* (the caller commits).

    One upsert: several scheduler processes may beat at the same moment.
    """
    insert = upsert_insert(session.get_bind().dialect.name)
    statement = insert(Heartbeat).values(name=name, beat_at=now, detail=detail)
    session.execute(statement.on_conflict_do_update(
        index_elements=[Heartbeat.name],
        set_={"beat_at": statement.excluded.beat_at, "detail": statement.excluded.detail}))


def last_beat(session: Session, name: str) -> dt.datetime | None:
    row = session.get(Heartbeat, name, populate_existing=True)
    return row.beat_at if row else None


def detail(session: Session, name: str) -> str | None:
    """What *name* said at its last beat; the scheduler's is its leader, ``host:pid``."""
    row = session.get(Heartbeat, name, populate_existing=True)
    return row.detail if row else None
