"""Delivering the outbox: claim due rows, hand them to their channels, record the outcome.

The scheduler's delivery job calls :func:`drain` every second. One round:

1. :func:`claim` takes up to ``batch`` due rows in one short transaction: ``queued`` rows
   whose ``next_attempt_at`` has come, and ``sending`` rows whose lease ran out (their
   drainer died). They become ``sending`` with ``next_attempt_at = now + lease`` and one
   more attempt. On PostgreSQL the ``SELECT ... FOR UPDATE SKIP LOCKED`` lets several
   drainers claim side by side without taking each other's rows; SQLite transactions
   begin IMMEDIATE, so the select and the update run under the one write lock.
2. Each claimed row is sent by a worker thread (no database access there) through its
   channel's ``send``, within the channel's ``timeout``.
3. Each outcome is recorded and committed at once, one row per transaction: ``sent``;
   ``queued`` again after an exponential backoff with jitter (or the receiver's
   ``retry_after``); ``dead`` after a permanent error or ``max_attempts``;
   :class:`~helpdesk_core.channels.AddressGone` also calls the channel's ``forget``.

Delivery is at least once. A drainer killed between the receiver's acceptance and the
commit of ``sent`` leaves the row ``sending``; when the lease runs out it is sent again
with the same ``Message.key`` (the e-mail's Message-ID, the webhook's delivery id), so
the receiving side can recognise it. Committing each outcome on its own, as soon as it
comes, with at most ``workers`` sends in flight, keeps that window to at most
``workers`` messages per crash (the ones accepted but not yet recorded). A drainer killed before the receiver accepted
(an e-mail whose DATA was not ended by the final dot) loses nothing: the SMTP server
drops the unfinished message, and the row is sent again.

Held rows (outside working hours) are gathered by :func:`release_digests`: when the
ward's next opening comes, each user gets one digest per channel and address.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import i18n
from ..channels import AddressGone, Channel, DeliveryError, Message
from ..models import Notification, User
from ..models import NotificationStatus as NS
from ..plugins import PluginRegistry
from ..privacy import mask_personal_data
from . import channel_settings, webhooks
from . import notify_render as render
from . import notify_rules as rules

log = logging.getLogger(__name__)

SessionScope = Callable[[], ContextManager[Session]]


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the outbox tries (``NOTIFY_*`` settings)."""

    max_attempts: int = 8          # then the row is a dead letter
    base_delay: float = 10.0       # seconds before the second attempt
    max_delay: float = 3600.0      # backoff ceiling
    lease: float = 120.0           # a claimed row's lease; longer than any channel timeout
    batch: int = 100
    workers: int = 8               # sends at the same time in one drainer


@dataclass(frozen=True)
class Outgoing:
    """A claimed row, detached from the session (worker threads read it)."""

    id: int
    channel: str
    endpoint_id: int | None
    message: Message
    attempts: int  # this one included


@dataclass
class Outcome:
    """What one send did."""

    error: DeliveryError | None = None


@dataclass
class DrainReport:
    """What :func:`drain` did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    rounds: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, policy: DeliveryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from ``base_delay``, capped at
    ``max_delay``, drawn between half and all of it (jitter, so retries spread out)."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(0, attempts - 1)))
    return ceiling * (0.5 + 0.5 * rng())


def absolute(base_url: str, url: str) -> str:
    """*url* made absolute on *base_url* (absolute URLs are kept)."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def message_of(row: Notification, base_url: str) -> Message:
    """The :class:`Message` of a row: the link filled in, everything masked once more."""
    url = absolute(base_url, row.url)

    def fill(value: str | None, html: bool = False) -> str | None:
        value = render.with_link(value, url, html=html)
        if value is not None:
            value = value.replace(render.BASE, base_url.rstrip("/"))
        return None if value is None else mask_personal_data(value)
    return Message(key=row.key, kind=row.kind, address=row.address,
                   subject=fill(row.subject) or "", text=fill(row.text) or "", url=url,
                   html=fill(row.html, html=True), urgent=row.urgent, locale=row.locale,
                   data=dict(row.data or {}, url=url))


def claim(session: Session, now: dt.datetime, policy: DeliveryPolicy,
          base_url: str) -> list[Outgoing]:
    """Claim up to ``policy.batch`` due rows and commit; return them detached."""
    due = (select(Notification)
           .where(Notification.status.in_((NS.QUEUED, NS.SENDING)),
                  Notification.next_attempt_at <= now)
           .order_by(Notification.next_attempt_at, Notification.id)
           .limit(policy.batch)
           .with_for_update(skip_locked=True))
    rows = list(session.scalars(due))
    if not rows:
        session.rollback()
        return []
    lease_until = now + dt.timedelta(seconds=policy.lease)
    for row in rows:
        row.status, row.next_attempt_at, row.attempts = NS.SENDING, lease_until, row.attempts + 1
    claimed = [Outgoing(row.id, row.channel, row.endpoint_id, message_of(row, base_url),
                        row.attempts) for row in rows]
    session.commit()
    return claimed


def send_one(channel: Channel | None, message: Message, settings: Mapping[str, Any]) -> Outcome:
    """Call the channel's ``send`` within its timeout; any failure becomes an Outcome."""
    if channel is None:
        return Outcome(DeliveryError(i18n.gettext(
            "The channel is not loaded (its plugin is disabled or missing).")))
    result: list[Outcome] = []

    def run() -> None:
        try:
            channel.send(message, settings)
            result.append(Outcome())
        except DeliveryError as exc:
            result.append(Outcome(exc))
        except Exception as exc:  # a broken plugin is a failed attempt, not a dead drainer
            log.exception("channel %s failed on %s", channel.key, message.key)
            result.append(Outcome(DeliveryError(f"{type(exc).__name__}: {exc}")))
    # A thread of its own, so a hung send cannot hold the drainer past the timeout.
    worker = threading.Thread(target=run, name=f"send-{message.key}", daemon=True)
    worker.start()
    worker.join(channel.timeout)
    if not result:
        return Outcome(DeliveryError(i18n.gettext("No answer within %(seconds)s s.",
                                                  seconds=f"{channel.timeout:g}")))
    return result[0]


def record(session: Session, registry: PluginRegistry, item: Outgoing, outcome: Outcome,
           now: dt.datetime, policy: DeliveryPolicy) -> str:
    """Store what happened to one claimed row and commit; return its new status.

    One conditional ``UPDATE`` (still ``sending``: not retried by hand meanwhile) and the
    commit, so the row is ``sent`` a single statement after the receiver accepted it.
    """
    error = outcome.error
    if error is None:
        status, values = NS.SENT, {"sent_at": now, "last_error": ""}
    else:
        values = {"last_error": mask_personal_data(str(error.reason))[:2000]}
        if error.permanent or item.attempts >= policy.max_attempts:
            status = NS.DEAD
        else:
            status = NS.QUEUED
            delay = max(backoff(item.attempts, policy), error.retry_after or 0.0)
            values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
    matched = session.execute(
        update(Notification)
        .where(Notification.id == item.id, Notification.status == NS.SENDING)
        .values(status=status, **values)).rowcount  # also updates a loaded object
    if matched and status == NS.DEAD and isinstance(error, AddressGone):
        _forget(session, registry, item.channel, item.message.address)
    session.commit()
    return status if matched else "gone"


def _forget(session: Session, registry: PluginRegistry, key: str, address: str) -> None:
    channel = registry.channels.get(key)
    if channel is None or channel.forget is None:
        return
    try:
        with session.begin_nested():
            channel.forget(session, address)
    except Exception:
        log.exception("channel %s could not forget an address", key)


class SettingsCache:
    """Each channel's (and endpoint's) settings, read once per drain round."""

    def __init__(self, registry: PluginRegistry, secret_key: str) -> None:
        self.registry, self.secret_key = registry, secret_key
        self._values: dict[tuple[str, int | None], Mapping[str, Any]] = {}

    def get(self, session: Session, item: Outgoing) -> Mapping[str, Any]:
        key = (item.channel, item.endpoint_id)
        if key not in self._values:
            values: dict[str, Any] = {}
            if item.channel in self.registry.channels:
                values = channel_settings.settings_of(session, self.registry, item.channel,
                                                      self.secret_key)
            if item.endpoint_id is not None:
                values.update(webhooks.delivery_settings(session, item.endpoint_id,
                                                         self.secret_key))
            self._values[key] = values
        return self._values[key]


def drain(session_scope: SessionScope, registry: PluginRegistry, *, secret_key: str,
          base_url: str, clock: Callable[[], dt.datetime],
          policy: DeliveryPolicy = DeliveryPolicy(), max_rounds: int = 1000) -> DrainReport:
    """Deliver due rows until none is left (or *max_rounds* batches); see the module."""
    report = DrainReport()
    with concurrent.futures.ThreadPoolExecutor(policy.workers,
                                               thread_name_prefix="outbox") as pool:
        for _ in range(max_rounds):
            with session_scope() as session:
                batch = claim(session, clock(), policy, base_url)
                if not batch:
                    break
                report.rounds += 1
                report.claimed += len(batch)
                cache = SettingsCache(registry, secret_key)
                settings = {item.id: cache.get(session, item) for item in batch}
                session.rollback()
                _send_batch(pool, session, registry, batch, settings, clock, policy, report)
            if len(batch) < policy.batch:
                break
    return report


def _send_batch(pool: concurrent.futures.ThreadPoolExecutor, session: Session,
                registry: PluginRegistry, batch: list[Outgoing],
                settings: Mapping[int, Mapping[str, Any]], clock: Callable[[], dt.datetime],
                policy: DeliveryPolicy, report: DrainReport) -> None:
    """Send a claimed batch, at most ``policy.workers`` at a time, recording each outcome
    as soon as it comes. Bounding what is in flight bounds what a crash can send twice:
    at most ``workers`` messages accepted by their receiver and not yet recorded."""
    waiting = iter(batch)
    pending: dict[concurrent.futures.Future, Outgoing] = {}

    def submit_next() -> None:
        item = next(waiting, None)
        if item is not None:
            pending[pool.submit(send_one, registry.channels.get(item.channel), item.message,
                                settings[item.id])] = item

    for _ in range(policy.workers):
        submit_next()
    while pending:
        done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            item = pending.pop(future)
            status = record(session, registry, item, future.result(), clock(), policy)
            _count(report, status, item, future.result())
            submit_next()


def _count(report: DrainReport, status: str, item: Outgoing, outcome: Outcome) -> None:
    if status == NS.SENT:
        report.sent += 1
    elif status == NS.DEAD:
        report.dead += 1
    elif status == NS.QUEUED:
        report.retried += 1
    if outcome.error is not None:
        report.errors.append(f"{item.channel} {item.message.key}: {outcome.error.reason}")


# --- the morning digest ---------------------------------------------------------------

def release_digests(session: Session, now: dt.datetime, limit: int = 500) -> int:
    """Turn held rows whose moment has come into one digest per user, channel and address.

    Every held row of such a user on that channel goes into the digest (also the ones
    of another ward due a little later), so a user gets one message per morning. The
    held rows become ``sent`` and point at the digest (``digest_id``). Does not commit;
    returns how many digests were queued.
    """
    due = session.execute(
        select(Notification.user_id, Notification.channel).where(
            Notification.status == NS.HELD, Notification.next_attempt_at <= now)
        .distinct().limit(limit)).all()
    made = 0
    for user_id, channel in due:
        held = list(session.scalars(
            select(Notification).where(Notification.status == NS.HELD,
                                       Notification.user_id.is_(user_id) if user_id is None
                                       else Notification.user_id == user_id,
                                       Notification.channel == channel)
            .order_by(Notification.id).with_for_update(skip_locked=True)))
        by_address: dict[str, list[Notification]] = {}
        for row in held:
            by_address.setdefault(row.address, []).append(row)
        for address, rows in by_address.items():
            made += _digest(session, user_id, channel, address, rows, now)
    session.flush()
    return made


def _digest(session: Session, user_id: int | None, channel: str, address: str,
            rows: list[Notification], now: dt.datetime) -> int:
    from .outbox import enqueue  # outbox imports notify modules only; no cycle at import

    user = session.get(User, user_id) if user_id is not None else None
    locale = (user.locale if user is not None else rows[0].locale) or "vi"
    items = [{"subject": row.subject, "url": render.BASE + "/" + row.url.lstrip("/")}
             for row in rows]
    digest = enqueue(session, channel=channel, address=address, kind=rules.DIGEST,
                     words=render.digest_message(items, locale), now=now, url="/tickets/queue",
                     user_id=user_id, locale=locale,
                     data={"event": rules.DIGEST, "count": len(rows)})
    session.flush()
    for row in rows:
        row.status, row.digest_id, row.sent_at = NS.SENT, digest.id, now
    return 1
