"""Liveness of background processes, read by ``/healthz``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..models import Heartbeat

SCHEDULER = "scheduler"


def beat(session: Session, name: str, now: dt.datetime, detail: str = "") -> None:
    """Record that *name* is alive at *now* (the caller commits)."""
    row = session.get(Heartbeat, name)
    if row is None:
        session.add(Heartbeat(name=name, beat_at=now, detail=detail))
    else:
        row.beat_at = now
        row.detail = detail


def last_beat(session: Session, name: str) -> dt.datetime | None:
    row = session.get(Heartbeat, name)
    return row.beat_at if row else None
