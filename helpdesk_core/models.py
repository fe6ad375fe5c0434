"""Database models: wards, people, assets and their checks, tickets and their history.

Plain SQLAlchemy 2 declarative models, so the core and its tests need no Flask. Times
are stored in UTC and come back timezone-aware on every engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Float,
                        ForeignKey, Index, Integer, MetaData, String, Text,
                        UniqueConstraint, false, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite has no tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON})


# --- Roles, statuses and other vocabularies (stored as short strings) -------------

class Role:
    STAFF = "staff"
    STUDENT = "student"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    SYSTEM = "system"  # the scheduler and other automation; never a login
    ALL = (STAFF, STUDENT, COORDINATOR, ADMIN)


class Status:
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_REPORTER = "waiting_reporter"
    WAITING_VENDOR = "waiting_vendor"
    WAITING_CITY = "waiting_city"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ALL = (NEW, ASSIGNED, IN_PROGRESS, WAITING_REPORTER, WAITING_VENDOR, WAITING_CITY,
           RESOLVED, CLOSED, CANCELLED)
    OPEN = (NEW, ASSIGNED, IN_PROGRESS, WAITING_REPORTER, WAITING_VENDOR, WAITING_CITY)
    # The SLA clock stops while the ticket waits on someone outside the helpdesk.
    PAUSED = (WAITING_REPORTER, WAITING_VENDOR)
    DONE = (RESOLVED, CLOSED, CANCELLED)


class Source:
    FRONT_DESK = "front_desk"
    PHONE = "phone"
    HEALTH_CHECK = "health_check"
    API = "api"
    ALL = (FRONT_DESK, PHONE, HEALTH_CHECK, API)


class Criticality:
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"
    ALL = (LOW, NORMAL, HIGH, CRITICAL)


_open_statuses_sql = "status IN ({})".format(", ".join(f"'{s}'" for s in Status.OPEN))
_open_health_sql = f"source = '{Source.HEALTH_CHECK}' AND {_open_statuses_sql}"


# --- Wards and their calendars ---------------------------------------------------

class Ward(Base):
    """A ward, commune or special zone with its public administration service centre."""

    __tablename__ = "ward"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)  # ticket number prefix
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255), default="")
    morning_start: Mapped[str] = mapped_column(String(5), default="07:30")
    morning_end: Mapped[str] = mapped_column(String(5), default="11:30")
    afternoon_start: Mapped[str] = mapped_column(String(5), default="13:30")
    afternoon_end: Mapped[str] = mapped_column(String(5), default="17:00")
    saturday_morning: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    calendar_days: Mapped[list["CalendarDay"]] = relationship(
        back_populates="ward", cascade="all, delete-orphan", order_by="CalendarDay.day")

    def __repr__(self) -> str:
        return f"<Ward {self.code}>"


class CalendarDay(Base):
    """An exception to a ward's week: a declared day off or a make-up working day.

    ``ward_id`` NULL applies to every ward (a city-wide swap decided by the government).
    """

    __tablename__ = "calendar_day"
    __table_args__ = (UniqueConstraint("ward_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")

    ward: Mapped[Ward | None] = relationship(back_populates="calendar_days")


# --- People ------------------------------------------------------------------------

class User(Base):
    """Anyone who logs in: ward staff, students, coordinators, administrators."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (CheckConstraint("role IN ('staff', 'student', 'coordinator', 'admin')",
                                      name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # Staff belong to one ward; students get wards through assignments.
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session's id: raising it ends all the account's sessions and
    # "stay logged in" cookies at once (services/users.end_sessions).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ward: Mapped[Ward | None] = relationship()
    assignments: Mapped[list["StudentAssignment"]] = relationship(
        back_populates="student", cascade="all, delete-orphan")

    # The account protocol Flask-Login (and any other front end) expects.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """``"<id>:<session version>"``: what a session or remember cookie holds."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"


class PasswordLink(Base):
    """A one-time link to set an account's password (accounts made by a bulk import).

    Only the SHA-256 of the token is stored; the link works once, until it expires.
    """

    __tablename__ = "password_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class StudentAssignment(Base):
    """A student placed in a ward for a period, from a university."""

    __tablename__ = "student_assignment"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                            index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    university: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)

    student: Mapped[User] = relationship(back_populates="assignments")
    ward: Mapped[Ward] = relationship()


# --- Assets and health checks ------------------------------------------------------

class Asset(Base):
    """A device or service a ward depends on: printer, router, kiosk, portal endpoint..."""

    __tablename__ = "asset"
    __table_args__ = (Index("ix_asset_ward_active", "ward_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))  # NULL: city-wide service
    category: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    location: Mapped[str] = mapped_column(String(120), default="")
    vendor: Mapped[str] = mapped_column(String(80), default="")
    model: Mapped[str] = mapped_column(String(80), default="")
    serial: Mapped[str] = mapped_column(String(80), default="")
    address: Mapped[str] = mapped_column(String(255), default="")  # host, host:port or URL
    criticality: Mapped[str] = mapped_column(String(10), default=Criticality.NORMAL)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The device this one sits behind (a ward's router): while it fails, this one's
    # failures go on its ticket (services/health/rules.py). Same ward; NULL: none.
    depends_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), index=True)

    ward: Mapped[Ward | None] = relationship()
    depends_on: Mapped["Asset | None"] = relationship(remote_side="Asset.id")
    checks: Mapped[list["AssetCheck"]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="AssetCheck.id")

    def __repr__(self) -> str:
        return f"<Asset {self.id} {self.name}>"


class AssetCheck(Base):
    """One health check configured on an asset, with its latest state kept for the board."""

    __tablename__ = "asset_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    check_type: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=5.0)
    failure_threshold: Mapped[int] = mapped_column(Integer, default=3)
    recovery_threshold: Mapped[int] = mapped_column(Integer, default=2)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Latest state, updated with every result so the status board reads one row.
    last_status: Mapped[str | None] = mapped_column(String(10))
    last_message: Mapped[str] = mapped_column(Text, default="")
    last_latency_ms: Mapped[float | None] = mapped_column(Float)
    last_checked_at: Mapped[dt.datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_successes: Mapped[int] = mapped_column(Integer, default=0)
    # The last 21 results as up/down ("u"/"d"), oldest first, for the flapping rule.
    state_history: Mapped[str] = mapped_column(String(32), default="", server_default="")
    flapping: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A confirmed outage: failure_threshold reached, recovery_threshold not yet.
    confirmed_down: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=false())

    asset: Mapped[Asset] = relationship(back_populates="checks")


class CheckRecord(Base):
    """One result of one asset check (kept for a bounded time)."""

    __tablename__ = "check_record"
    __table_args__ = (Index("ix_check_record_check_time", "check_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("asset_check.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text, default="")
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- SLA -------------------------------------------------------------------------

class SlaPolicy(Base):
    """Response and resolution targets, in working minutes, per priority (and category)."""

    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("priority", "category"),
                      CheckConstraint("priority BETWEEN 1 AND 4", name="priority"))

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(40))  # NULL: any category
    response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    at_risk_ratio: Mapped[float] = mapped_column(Float, default=0.8)
    escalate_on_breach: Mapped[bool] = mapped_column(Boolean, default=False)


# --- Tickets -------------------------------------------------------------------------

class TicketCounter(Base):
    """The last ticket sequence used per ward and year; incremented atomically."""

    __tablename__ = "ticket_counter"

    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """A request for help, from the front desk, the phone, an API or a health check."""

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("ward_id", "year", "seq"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
        # A ward's queue: open tickets by due time.
        Index("ix_ticket_queue", "ward_id", "status", "resolution_due_at"),
        # City-wide counts per ward and status; with the SLA columns the dashboard's
        # open / at-risk / breached figures come from the index alone (reports.ward_load).
        Index("ix_ticket_open_load", "status", "ward_id", "at_risk", "response_breached",
              "resolution_breached", "paused_at", "resolution_due_at", "responded_at",
              "response_due_at"),
        Index("ix_ticket_assignee_status", "assignee_id", "status"),
        # Tickets filed in a period, per category and ward (reports.weekly_volumes).
        Index("ix_ticket_created_category", "created_at", "category", "ward_id"),
        # Tickets resolved in a period and whether they met their target (sla_compliance).
        Index("ix_ticket_resolved", "resolved_at", "status", "ward_id", "resolution_breached",
              "resolution_due_at"),
        # ix_ticket_open_queue: after the class (it orders one column descending).
        # The latest resolutions of a category in a ward (queries.similar_resolved).
        Index("ix_ticket_similar", "ward_id", "category", "resolved_at"),
        # The SLA sweep: tickets whose next warning or breach moment has come.
        Index("ix_ticket_sla_next", "sla_next_at"),
        # At most one open health-check ticket per device, enforced by the database.
        Index("uq_ticket_open_health_asset", "asset_id", unique=True,
              sqlite_where=text(_open_health_sql), postgresql_where=text(_open_health_sql)),
        # A filing form sent twice files one ticket (tickets.file_ticket's form_key).
        Index("uq_ticket_form_key", "form_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    triage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Accent-folded title + description + number, for search that ignores diacritics.
    search_text: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(String(20), default="person")
    urgency: Mapped[str] = mapped_column(String(20), default="normal")
    # urgency == "citizen_waiting", kept as a plain column so the queue's index can order
    # by it (SQLite does not reflect expression indexes, so one could not be checked).
    citizen_waiting: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    priority: Mapped[int] = mapped_column(Integer, default=3)
    priority_reason: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default=Status.NEW)
    source: Mapped[str] = mapped_column(String(20), default=Source.FRONT_DESK)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"), index=True)
    check_id: Mapped[int | None] = mapped_column(ForeignKey("asset_check.id"))
    # The one-time key of the form that filed it (NULL: scheduler, API, older tickets).
    form_key: Mapped[str | None] = mapped_column(String(64))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    worked_by_person: Mapped[bool] = mapped_column(Boolean, default=False)
    # Checklist picked from a resolution template: {"template": key, "done": [index, ...]}
    checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # SLA: due times in UTC, computed on the ward's working calendar.
    response_due_at: Mapped[dt.datetime | None]
    resolution_due_at: Mapped[dt.datetime | None]
    # When the at-risk warnings are due (the policy's at_risk_ratio of each target).
    response_at_risk_at: Mapped[dt.datetime | None]
    resolution_at_risk_at: Mapped[dt.datetime | None]
    responded_at: Mapped[dt.datetime | None]
    # Set while the clock stands still (waiting on reporter or vendor, resolved, closed).
    paused_at: Mapped[dt.datetime | None]
    # Working minutes the clock stood still so far (resolution; response before responding).
    paused_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    response_paused_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    # Warnings already given: ``at_risk`` is the resolution target's, the other the response's.
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    response_at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    # The earliest pending at-risk or breach moment; NULL when none is pending (closed,
    # paused, all given). The SLA sweep reads only rows with sla_next_at <= now.
    sla_next_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    # When the scheduler erased the citizens' data of this done ticket (services/purge.py).
    personal_data_purged_at: Mapped[dt.datetime | None]

    ward: Mapped[Ward] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    asset: Mapped[Asset | None] = relationship()
    check: Mapped[AssetCheck | None] = relationship()
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in Status.OPEN

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status}>"


# A ward's queue of open tickets, most urgent first (priority, then a citizen waiting,
# then soonest due): read in order, page by page (queries.list_tickets).
Index("ix_ticket_open_queue", Ticket.ward_id, Ticket.priority, Ticket.citizen_waiting.desc(),
      Ticket.resolution_due_at,
      sqlite_where=text(_open_statuses_sql), postgresql_where=text(_open_statuses_sql))


class TicketEvent(Base):
    """One entry of a ticket's append-only history.

    ``kind`` is one of: filed, status, assigned, comment, escalated, priority, sla_at_risk,
    sla_breached, checklist, health, recovery, attachment, triage, purged.
    """

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket", "ticket_id", "id"),
                      Index("ix_ticket_event_actor_kind", "actor_id", "kind"),
                      # A comment form sent twice adds one comment (tickets.comment).
                      Index("uq_ticket_event_form_key", "form_key", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # NULL: system
    old_value: Mapped[str | None] = mapped_column(String(100))
    new_value: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The one-time key of the form that made it (comments), else NULL.
    form_key: Mapped[str | None] = mapped_column(String(64))

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Attachment(Base):
    """Metadata of a file attached to a ticket; the bytes live in the instance folder."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


# --- Personal data: who viewed it -------------------------------------------------

class AccessKind:
    """What an :class:`AccessRecord` says was opened (or done to citizens' data)."""

    TICKET = "ticket"            # a ticket page
    ATTACHMENT = "attachment"    # an attached file
    EXPORT = "export"            # a CSV export
    PURGE = "purge"              # the scheduler erased a closed ticket's citizen data
    ALL = (TICKET, ATTACHMENT, EXPORT, PURGE)


class AccessRecord(Base):
    """Who opened personal data, when and from where (Law 91/2025 on personal data).

    Written by ``services/access_log.py``; kept ``ACCESS_LOG_RETENTION_DAYS``. No foreign
    key to the ticket, so the record of an access outlives what was accessed.
    """

    __tablename__ = "access_record"
    __table_args__ = (Index("ix_access_record_at", "at"),
                      Index("ix_access_record_user_at", "user_id", "at"),
                      Index("ix_access_record_ticket_at", "ticket_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: the system (the scheduler's purge).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    # What exactly: the attachment's id and name, the export's name and its filters.
    target: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str] = mapped_column(String(45), default="")  # IPv4 or IPv6
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()


# --- Operations ----------------------------------------------------------------------

class Heartbeat(Base):
    """Liveness of background processes (the scheduler), read by /healthz."""

    __tablename__ = "heartbeat"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    beat_at: Mapped[dt.datetime]
    detail: Mapped[str] = mapped_column(String(200), default="")


class PluginSetting(Base):
    """An administrator's switch for a plugin (applied when the app starts)."""

    __tablename__ = "plugin_setting"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --- Integrations -----------------------------------------------------------------

class ApiScope:
    """What an :class:`ApiToken` may do: read, or read and write (file, comment, act)."""

    READ = "read"
    WRITE = "write"
    ALL = (READ, WRITE)


class ApiToken(Base):
    """A bearer token of one integration (the 1022 hotline, the Smart City app, ...).

    Only the SHA-256 of the secret is kept (the secret is 256 random bits, shown once).
    The token reaches the wards in ``ward_ids``, or every ward with ``all_wards``; it
    acts as the system, and what it records carries its id (services/api_tokens.py).
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's start, to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10), default=ApiScope.READ)
    all_wards: Mapped[bool] = mapped_column(Boolean, default=False)
    ward_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    last_used_address: Mapped[str] = mapped_column(String(45), default="")
    revoked_at: Mapped[dt.datetime | None]

    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == ApiScope.WRITE

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} {self.scope}>"


# --- Health: device outage history (issue 16) ---------------------------------------

class CheckOutage(Base):
    """One period a check was down, from its first bad result to its first good one.

    Kept whether or not a ticket was filed, so the device's page shows outages shorter
    than the failure threshold too. ``confirmed``: the outage reached the threshold.
    """

    __tablename__ = "check_outage"
    __table_args__ = (Index("ix_check_outage_asset_start", "asset_id", "started_at"),
                      Index("ix_check_outage_check_end", "check_id", "ended_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("asset_check.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    message: Mapped[str] = mapped_column(Text, default="")
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))

    check: Mapped[AssetCheck] = relationship()
