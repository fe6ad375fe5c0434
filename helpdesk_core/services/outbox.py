"""The notification outbox: rows written in the transaction of what causes them.

Callers never send anything themselves. :func:`on_event` (called by
:func:`.tickets.record_event` for every ticket event) and :func:`notify_users` (for any
other message, such as a monthly report) add :class:`~helpdesk_core.models.Notification`
rows to the caller's session; they commit or roll back with the caller's change. The
scheduler's delivery job (:mod:`.delivery`) hands each row to its channel afterwards.

Who gets what is decided by :mod:`.notify_rules` (pure); the words come from
:mod:`.notify_render`. Everything a row carries is masked
(:func:`helpdesk_core.privacy.mask_personal_data`) and links only to the ticket.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (Notification, NotificationPreference, Role, Source,
                      Ticket, TicketEvent, User, Ward)
from ..models import NotificationStatus as NS
from ..plugins import PluginRegistry
from ..privacy import mask_personal_data
from . import events, readahead
from . import notify_render as render
from . import roster
from . import notify_rules as rules

# Ticket events the rules may act on; the others cost nothing.
RELEVANT_EVENTS = frozenset({"filed", "priority", "sla_at_risk", "sla_breached",
                             "escalated", "status"})
TICKET_PATH = "/tickets/{id}"
Words = render.Rendered | Callable[[str], render.Rendered]


# --- the people of the rules -----------------------------------------------------

def on_duty_student_ids(session: Session, ward_id: int, now: dt.datetime) -> tuple[int, ...]:
    """Who hears of a ward's new tickets: the students on its roster at *now*
    (:func:`.roster.on_duty`); when nobody is (the centre is closed, a gap in the
    roster), every student placed in the ward today, so that a P1 at night still reaches
    someone and a held message has someone's morning digest to wait in."""
    return tuple(on_duty_students(session, ward_id, now))


def on_duty_students(session: Session, ward_id: int, now: dt.datetime) -> dict[int, User]:
    """:func:`on_duty_student_ids` with the users (active, by id): read together, they
    need no second read (:func:`active_users`) when the message goes to them."""
    return readahead.remembered(session, ("on_duty", ward_id, now),
                                lambda: _read_on_duty(session, ward_id, now))


def _read_on_duty(session: Session, ward_id: int, now: dt.datetime) -> dict[int, User]:
    from . import sla  # sla imports tickets, which imports this module

    ward = session.get(Ward, ward_id)
    if ward is None:
        return {}
    calendar = sla.calendar_for(session, ward)
    if not readahead.keeping(session):
        # The ward's calendar of the SLA (read once per filing): it says which half-day
        # *now* falls in, with no read of the ward's hours and declared day of its own.
        return roster.on_duty_or_placed(session, ward_id, calendar, now)
    # Reading ahead for a filing: the students' notification preferences come along
    # (what preferences() will ask), for everyone placed (a few people).
    chosen: dict[int, dict[tuple[int, str, str], bool]] = {}

    def receive(user_id: int, values: tuple) -> None:
        channel, kind, enabled = values
        mine = chosen.setdefault(user_id, {})
        if channel is not None:
            mine[(user_id, channel, kind)] = enabled
    students = roster.on_duty_or_placed(session, ward_id, calendar, now,
                                        along=_WITH_PREFERENCES, receive=receive)
    for user_id, choices in chosen.items():
        readahead.seed(session, ("preferences", user_id), choices)
    return students


# What the on-duty students' query reads along when reading ahead (one object: the
# statement is built once).
_WITH_PREFERENCES = (NotificationPreference, NotificationPreference.user_id == User.id,
                     (NotificationPreference.channel, NotificationPreference.kind,
                      NotificationPreference.enabled))


def coordinator_ids(session: Session) -> tuple[int, ...]:
    """Every active coordinator (they watch the whole city)."""
    return readahead.remembered(session, ("coordinators",), lambda: tuple(session.scalars(
        select(User.id).where(User.role == Role.COORDINATOR, User.active.is_(True))
        .order_by(User.id))))


def active_users(session: Session, user_ids: Iterable[int]) -> dict[int, User]:
    """Id -> user, for the active ones of *user_ids* (each read once inside
    :func:`.readahead.kept`)."""
    found = readahead.remembered_each(session, "user", user_ids, lambda ids: {
        u.id: u for u in session.scalars(select(User).where(User.id.in_(ids),
                                                            User.active.is_(True)))})
    return {uid: user for uid, user in found.items() if user is not None}


def facts_of(ticket: Ticket, event: TicketEvent) -> rules.EventFacts:
    """The rules' view of one event on one ticket."""
    reporter = ticket.reporter
    return rules.EventFacts(
        event=event.kind, new=event.new_value, old=event.old_value,
        actor_id=event.actor.id if event.actor is not None else event.actor_id,
        priority=ticket.priority, citizen_waiting=bool(ticket.citizen_waiting),
        from_health_check=ticket.source == Source.HEALTH_CHECK,
        reporter_id=reporter.id if reporter is not None else None,
        reporter_is_staff=reporter is not None and reporter.role == Role.STAFF,
        assignee_id=ticket.assignee.id if ticket.assignee is not None else ticket.assignee_id)


# --- preferences --------------------------------------------------------------------

def preferences(session: Session, user_ids: Iterable[int]) -> dict[tuple[int, str, str], bool]:
    """``(user id, channel, kind) -> enabled`` for the choices these users made (each
    user's read once inside :func:`.readahead.kept`)."""
    def read(ids: set[int]) -> dict[int, dict[tuple[int, str, str], bool]]:
        chosen: dict[int, dict[tuple[int, str, str], bool]] = {uid: {} for uid in ids}
        for uid, channel, kind, enabled in session.execute(select(
                NotificationPreference.user_id, NotificationPreference.channel,
                NotificationPreference.kind, NotificationPreference.enabled)
                .where(NotificationPreference.user_id.in_(ids))):
            chosen[uid][(uid, channel, kind)] = enabled
        return chosen
    found = readahead.remembered_each(session, "preferences", user_ids, read)
    return {key: enabled for choices in found.values() for key, enabled in choices.items()}


def user_channels(registry: PluginRegistry) -> list[str]:
    """Keys of the channels that deliver to users (they have ``addresses``)."""
    return [key for key, channel in registry.channels.items() if channel.addresses is not None]


def save_preferences(session: Session, registry: PluginRegistry, user: User,
                     chosen: Iterable[tuple[str, str]]) -> None:
    """Store *user*'s choices: *chosen* holds the (channel, kind) pairs switched on; every
    other pair of a user channel and a preference kind is switched off."""
    on = set(chosen)
    existing = {(p.channel, p.kind): p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for channel in user_channels(registry):
        for kind in rules.PREFERENCE_KINDS:
            row = existing.get((channel, kind))
            if row is None:
                row = NotificationPreference(user_id=user.id, channel=channel, kind=kind)
                session.add(row)
            row.enabled = (channel, kind) in on
    session.flush()


def enabled_pairs(session: Session, registry: PluginRegistry, user: User) -> set[tuple[str, str]]:
    """The (channel, kind) pairs *user* receives (their choices, else the defaults)."""
    prefs = preferences(session, [user.id])
    return {(channel, kind) for channel in user_channels(registry)
            for kind in rules.PREFERENCE_KINDS
            if prefs.get((user.id, channel, kind), rules.default_enabled(kind, channel))}


# --- writing rows ------------------------------------------------------------------

def new_key() -> str:
    """A fresh idempotency key (the row's, for its whole life)."""
    return "n" + uuid.uuid4().hex


def enqueue(session: Session, *, channel: str, address: str, kind: str,
            words: render.Rendered, now: dt.datetime, url: str = "",
            user_id: int | None = None, ticket: Ticket | None = None,
            endpoint_id: int | None = None, urgent: bool = False, locale: str = "vi",
            data: Mapping[str, Any] | None = None, key: str | None = None,
            hold_until: dt.datetime | None = None) -> Notification:
    """Add one outbox row to *session* (masked again here); *hold_until* holds it for the
    digest at that moment."""
    words = render.masked(words)
    row = Notification(
        channel=channel, address=address, kind=kind, subject=words.subject[:255],
        text=words.text, html=words.html, url=url, user_id=user_id, ticket=ticket,
        endpoint_id=endpoint_id, urgent=urgent, locale=locale, data=dict(data or {}),
        key=key or new_key(), status=NS.HELD if hold_until else NS.QUEUED,
        attempts=0, next_attempt_at=hold_until or now, last_error="", created_at=now)
    session.add(row)
    return row


def _addresses_of(session: Session, registry: PluginRegistry, channel_key: str,
                  users: Iterable[User]) -> dict[int, list[str]]:
    """Where each of *users* is reached on the channel: one read for them all when the
    channel has ``addresses_many``, else a read per user (remembered inside
    :func:`.readahead.kept` either way)."""
    channel = registry.channels[channel_key]
    by_id = {user.id: user for user in users}

    def read(ids: set[int]) -> dict[int, list[str]]:
        if channel.addresses_many is not None:
            found = channel.addresses_many(session, [by_id[i] for i in sorted(ids)]) or {}
            return {i: list(found.get(i) or []) for i in ids}
        return {i: list(channel.addresses(session, by_id[i]) or []) for i in ids}

    return readahead.remembered_each(session, f"addresses:{channel_key}", by_id, read)


def read_ahead_filing(session: Session, registry: PluginRegistry | None, ward_id: int,
                      now: dt.datetime) -> None:
    """Inside :func:`.readahead.kept`, read what :func:`on_event` will read when a ticket
    of *ward_id* is filed at *now*: who is on duty (or placed) with their accounts, the
    webhooks, and those students' preferences and channels. (A new ticket tells no
    coordinator: :func:`.notify_rules.needs_coordinators`.)"""
    from . import webhooks  # it imports this module

    if registry is None or not registry.channels:
        return
    users = on_duty_students(session, ward_id, now)
    webhooks.matching(session, "", ward_id)
    preferences(session, users)
    for channel_key in user_channels(registry):
        _addresses_of(session, registry, channel_key, users.values())


def _to_users(session: Session, registry: PluginRegistry, people: list[tuple[User, str, bool]],
              words_for: Callable[[User], render.Rendered], *, now: dt.datetime,
              priority: int | None, working_time: bool, hold_until: dt.datetime | None,
              url: str, ticket: Ticket | None, data: Mapping[str, Any],
              digestible: bool, key: str | None) -> list[Notification]:
    """Rows for (user, kind, urgent) triples on every user channel they want; with a
    *key*, none for a user and channel that already had that key (a job run again)."""
    prefs = preferences(session, [user.id for user, _, _ in people])
    taken = set(session.scalars(select(Notification.key).where(
        Notification.key.like(f"{key}-u%")))) if key else set()
    channels = user_channels(registry)
    decisions = {(user.id, kind, channel_key): rules.decide(
        kind=kind, priority=priority, enabled=prefs.get((user.id, channel_key, kind)),
        working_time=working_time, digestible=digestible)
        for user, kind, _ in people for channel_key in channels}
    reached = {channel_key: _addresses_of(session, registry, channel_key, [
        user for user, kind, _ in people
        if decisions[(user.id, kind, channel_key)] != rules.SKIP]) for channel_key in channels}
    rows: list[Notification] = []
    for user, kind, urgent in people:
        for channel_key in channels:
            decision = decisions[(user.id, kind, channel_key)]
            if decision == rules.SKIP:
                continue
            for index, address in enumerate(reached[channel_key][user.id]):
                if key and f"{key}-u{user.id}-{channel_key}-{index}" in taken:
                    continue
                rows.append(enqueue(
                    session, channel=channel_key, address=address, kind=kind,
                    words=words_for(user), now=now, url=url, user_id=user.id, ticket=ticket,
                    urgent=urgent, locale=user.locale or "vi", data=data,
                    key=f"{key}-u{user.id}-{channel_key}-{index}" if key else None,
                    hold_until=hold_until if decision == rules.HOLD else None))
    return rows


@events.on_record
def on_event(session: Session, registry: PluginRegistry | None, ticket: Ticket,
             event: TicketEvent, now: dt.datetime) -> list[Notification]:
    """Write the outbox rows one ticket event calls for (none for most events).

    Called by :func:`.events.record_event` (registered with :func:`.events.on_record`),
    inside the event's transaction.
    """
    if registry is None or event.kind not in RELEVANT_EVENTS or not registry.channels:
        return []
    facts = facts_of(ticket, event)
    if rules.event_kind(facts) is None:
        return []
    from . import sla, webhooks  # these import tickets, which imports us

    if ticket.id is None:  # being filed: the link needs its id
        session.flush()
    people, on_duty = rules.People(), {}
    if rules.needs_people(facts):
        on_duty = on_duty_students(session, ticket.ward_id, now)
        people = rules.People(tuple(on_duty), coordinator_ids(session)
                              if rules.needs_coordinators(facts) else ())
    chosen = rules.recipients(facts, people)
    kind = rules.event_kind(facts)
    url = TICKET_PATH.format(id=ticket.id)
    rows = webhooks.enqueue_for(session, registry, ticket, kind, url, now)
    if not chosen:
        return rows
    # The on-duty students were read with their accounts; only the others are read here.
    users = {r.user_id: on_duty[r.user_id] for r in chosen if r.user_id in on_duty}
    others = [r.user_id for r in chosen if r.user_id not in on_duty]
    if others:
        users.update(active_users(session, others))
    calendar = sla.calendar_for(session, ticket.ward)
    working = calendar.is_working_time(now)
    label = str(registry.categories[ticket.category].label) \
        if ticket.category in registry.categories else ticket.category
    kinds = {r.user_id: r.kind for r in chosen}
    rows += _to_users(
        session, registry, [(users[r.user_id], r.kind, r.urgent) for r in chosen
                            if r.user_id in users],
        lambda user: render.ticket_message(kinds[user.id], ticket, user.locale or "vi", label),
        now=now, priority=ticket.priority, working_time=working,
        hold_until=None if working else calendar.add(now, 0), url=url, ticket=ticket,
        data=render.ticket_data(kind, ticket), digestible=True, key=None)
    return rows


def notify_users(session: Session, registry: PluginRegistry, users: Iterable[User], kind: str,
                 words: Words, *, now: dt.datetime, url: str = "",
                 data: Mapping[str, Any] | None = None, key: str | None = None,
                 urgent: bool = False) -> list[Notification]:
    """Queue one message to each of *users* on every channel they want *kind* on.

    For messages that are not about one ticket event (a monthly report): *words* is a
    :class:`~.notify_render.Rendered` or ``locale -> Rendered`` (each user gets their
    language); *url* a path of the app (``/reports/2026-11``) or an absolute URL. They go
    out at once (no digest). *key* makes it idempotent: the same key again for the same
    user and channel is refused by the unique index (so a job run twice sends once).
    Does not commit.
    """
    people = [(user, kind, urgent) for user in users if user.active]

    def words_for(user: User) -> render.Rendered:
        return words(user.locale or "vi") if callable(words) else words
    return _to_users(session, registry, people, words_for, now=now, priority=None,
                     working_time=True, hold_until=None, url=url, ticket=None,
                     data=data or {"event": kind}, digestible=False, key=key)


def send_test(session: Session, registry: PluginRegistry, channel: str, address: str,
              now: dt.datetime, locale: str = "vi", user_id: int | None = None,
              endpoint_id: int | None = None) -> Notification:
    """Queue the administrators' test message to *address* on *channel*."""
    return enqueue(session, channel=channel, address=address, kind=rules.TEST,
                   words=render.test_message(locale), now=now, url="/", user_id=user_id,
                   endpoint_id=endpoint_id, locale=locale, data={"event": rules.TEST})


# --- administration -------------------------------------------------------------------

def retry(session: Session, notification_id: int, now: dt.datetime) -> Notification:
    """Put a dead letter back in the queue, due now, with its attempts reset."""
    from ..errors import NotFound, TransitionNotAllowed
    row = session.get(Notification, notification_id)
    if row is None:
        raise NotFound("Notification not found.")
    if row.status != NS.DEAD:
        raise TransitionNotAllowed("Only dead letters can be retried.")
    row.status, row.attempts, row.next_attempt_at = NS.QUEUED, 0, now
    session.flush()
    return row


def listing(session: Session, *, status: str | None = None, channel: str | None = None,
            kind: str | None = None):
    """The query of the administrators' outbox page, newest first."""
    query = select(Notification).order_by(Notification.id.desc())
    if status:
        query = query.where(Notification.status == status)
    if channel:
        query = query.where(Notification.channel == channel)
    if kind:
        query = query.where(Notification.kind == kind)
    return query


def counts(session: Session) -> dict[str, int]:
    """How many rows are in each status."""
    return dict(session.execute(select(Notification.status, func.count())
                                .group_by(Notification.status)).all())


def forget_mask(text: str) -> str:
    """Mask for a free text going into the outbox (errors shown to administrators)."""
    return mask_personal_data(text or "")[:2000]

