"""Ticket events and the transaction around them: record, commit (then tell plugins), roll back.

The lowest layer of the ticket services: :mod:`.tickets`, :mod:`.sla` and the health
rules all record events through :func:`record_event`, and none of them needs the others
for it (so the modules import in one direction only).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Callable, Iterator, Mapping

from sqlalchemy.orm import Session

from ..models import Ticket, TicketEvent, User
from ..plugins import PluginRegistry

_PENDING = "helpdesk_pending_events"
# session.info key: who the system acts for (an integration's token, api_tokens.acting_as).
VIA_KEY = "helpdesk_via"

# What must happen in the transaction of every recorded event, registered by the layers
# above (the notifications outbox: services/outbox.py), so this module needs none of them.
Listener = Callable[[Session, "PluginRegistry | None", Ticket, TicketEvent, dt.datetime], Any]
_listeners: list[Listener] = []


def on_record(listener: Listener) -> Listener:
    """Call *listener(session, registry, ticket, event, now)* for every event recorded,
    inside its transaction (a decorator; registering twice is harmless)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def record_event(session: Session, registry: PluginRegistry | None, ticket: Ticket, kind: str,
                 actor: User | None, now: dt.datetime, *, old: str | None = None,
                 new: str | None = None, body: str = "", internal: bool = False,
                 data: Mapping[str, Any] | None = None) -> TicketEvent:
    """Append one entry to the ticket's history (and queue it for plugins), and let the
    :func:`on_record` listeners act in the same transaction (the outbox writes the
    notifications the event calls for).

    Inside :func:`.api_tokens.acting_as`, the entry's ``data["via"]`` names the
    integration the system acts for.
    """
    data = dict(data or {})
    via = session.info.get(VIA_KEY)
    if via is not None:
        data["via"] = dict(via)
    event = TicketEvent(ticket=ticket, kind=kind, actor=actor, old_value=old, new_value=new,
                        body=body, internal=internal, data=data, created_at=now)
    session.add(event)
    ticket.updated_at = now
    if registry is not None:
        session.info.setdefault(_PENDING, []).append((registry, ticket, event))
    for listener in _listeners:
        listener(session, registry, ticket, event, now)
    return event


def commit(session: Session) -> None:
    """Commit, then run the plugins' ``helpdesk_on_ticket_event`` for what was recorded."""
    pending = session.info.pop(_PENDING, [])
    session.commit()
    for registry, ticket, event in pending:
        registry.notify_ticket_event(ticket, event)


def rollback(session: Session) -> None:
    """Roll back, forgetting the events queued for plugins."""
    session.info.pop(_PENDING, None)
    session.rollback()


@contextlib.contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """Run a block in a SAVEPOINT: on error, undo its changes and its queued events.

    Batch jobs (the SLA sweep, auto-close) use it so one bad ticket does not undo the
    others.
    """
    pending = session.info.setdefault(_PENDING, [])
    mark = len(pending)
    nested = session.begin_nested()
    try:
        yield
    except BaseException:
        nested.rollback()
        del session.info.setdefault(_PENDING, [])[mark:]
        raise
    else:
        nested.commit()
