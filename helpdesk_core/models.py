"""Database models: wards, people, assets and their checks, tickets and their history.

Plain SQLAlchemy 2 declarative models, so the core and its tests need no Flask. Times
are stored in UTC and come back timezone-aware on every engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, Date, DateTime, Float,
                        ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint, event, false, text)
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
    # A university's own coordinator: sees that university's students (figures,
    # evaluations, certificates), never a ticket page nor a citizen's data.
    UNIVERSITY = "university"
    SYSTEM = "system"  # the scheduler and other automation; never a login
    ALL = (STAFF, STUDENT, COORDINATOR, ADMIN, UNIVERSITY)


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
# New and nobody's yet: what the dashboard's "waiting, no one on duty" list counts.
_waiting_sql = f"status = '{Status.NEW}' AND assignee_id IS NULL"


def partial_index(name: str, *expressions: Any, where: str, **kw: Any) -> Index:
    """An index of the rows matching *where* (SQL), on SQLite and PostgreSQL alike.

    It gets ``sqlite_where`` or ``postgresql_where`` when it is created on that engine
    (:func:`with_partial_where`): naming a dialect's option here would load that
    SQLAlchemy dialect in every process, the other engine's web workers too (2 MB for
    PostgreSQL's, 0.7 MB for SQLite's).
    """
    return Index(name, *expressions, info={"partial_where": where}, **kw)


def with_partial_where(index: Index, *dialects: str) -> Index:
    """Give a :func:`partial_index` its WHERE on *dialects* (``"sqlite"``,
    ``"postgresql"``: loads each of them)."""
    where = index.info.get("partial_where")
    for dialect in dialects:
        if where is not None and index.dialect_options[dialect]["where"] is None:
            index.dialect_options[dialect]["where"] = text(where)
    return index


def made_on(item: Any, dialect_name: str) -> bool:
    """Whether schema *item* (an index, say) is created on *dialect_name*: false for one
    given ``ddl_if`` another dialect. Alembic does not read ``ddl_if``; comparing the
    models with a database, it would see such an index missing (migrations/env.py)."""
    condition = getattr(item, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect_name)


@event.listens_for(Index, "before_create")
def _partial_where_of_the_engine(index: Index, connection: Any, **kw: Any) -> None:
    if connection.dialect.name in ("postgresql", "sqlite"):
        with_partial_where(index, connection.dialect.name)


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
    __table_args__ = (CheckConstraint(
        "role IN ('staff', 'student', 'coordinator', 'admin', 'university')", name="role"),)

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
    # University coordinators belong to one university (students get one per placement).
    university_id: Mapped[int | None] = mapped_column(ForeignKey("university.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session's id: raising it ends all the account's sessions and
    # "stay logged in" cookies at once (services/users.end_sessions).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ward: Mapped[Ward | None] = relationship()
    university: Mapped["University | None"] = relationship()
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
    # The batch (đợt) the placement belongs to, and the university as an organisation
    # (``university`` keeps its name as typed, for older placements and exports).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    university_id: Mapped[int | None] = mapped_column(ForeignKey("university.id"), index=True)

    student: Mapped[User] = relationship(back_populates="assignments")
    ward: Mapped[Ward] = relationship()
    batch: Mapped["Batch | None"] = relationship()
    university_org: Mapped["University | None"] = relationship()


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
    # City-wide incidents: the shared service this asset reaches ("dvcqg", "vneid", "sso",
    # "motcua"; "" for none), so failures from several wards become one incident.
    service_key: Mapped[str] = mapped_column(String(20), default="", server_default="")
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
        # The latest resolutions of a category in a ward (queries.similar_resolved). On
        # SQLite the index also holds what that query scores and lists, so it reads no
        # ticket row: a write by another process empties a connection's page cache, and
        # 200 rows read again, a page each, cost every ticket page ~1 ms under two web
        # workers (bench/RESULTS.md). Not on PostgreSQL: its index rows are limited to
        # ~2.7 kB (a long description would not fit), and its page cache is shared.
        Index("ix_ticket_similar", "ward_id", "category", "resolved_at"
              ).ddl_if(dialect="postgresql"),
        Index("ix_ticket_similar_rows", "ward_id", "category", "resolved_at", "status",
              "number", "title", "search_text").ddl_if(dialect="sqlite"),
        # New tickets nobody has taken, per ward, oldest first (roster.waiting_list).
        partial_index("ix_ticket_waiting", "ward_id", "created_at", where=_waiting_sql),
        # The same tickets oldest first across wards: the dashboard's first few waiting
        # tickets without walking every older ticket (roster.waiting_list).
        partial_index("ix_ticket_waiting_oldest", "created_at", "id", where=_waiting_sql),
        # The SLA sweep: tickets whose next warning or breach moment has come.
        Index("ix_ticket_sla_next", "sla_next_at"),
        # At most one open health-check ticket per device, enforced by the database.
        partial_index("uq_ticket_open_health_asset", "asset_id", unique=True,
                      where=_open_health_sql),
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
partial_index("ix_ticket_open_queue", Ticket.ward_id, Ticket.priority,
              Ticket.citizen_waiting.desc(), Ticket.resolution_due_at, where=_open_statuses_sql)


class TicketEvent(Base):
    """One entry of a ticket's append-only history.

    ``kind`` is one of: filed, status, assigned, comment, escalated, priority, sla_at_risk,
    sla_breached, checklist, health, recovery, attachment, triage, purged, incident
    (linked to a city-wide incident, or released when it ended).
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


# --- Duty roster, skills and help at the counter (issue 17, sections 2 and 5) ---------

class ShiftPart:
    """Half-days of a ward's working day: its first and its second opening period."""

    MORNING = "morning"
    AFTERNOON = "afternoon"
    ALL = (MORNING, AFTERNOON)


class Shift(Base):
    """A half-day a placed student is on duty every week (the weekly pattern).

    Tied to the placement, so it ends when the placement ends. ``weekday``: 0 Monday ...
    5 Saturday (Sunday is never worked).
    """

    __tablename__ = "shift"
    __table_args__ = (UniqueConstraint("assignment_id", "weekday", "part"),
                      CheckConstraint("weekday BETWEEN 0 AND 5", name="weekday"),
                      CheckConstraint("part IN ('morning', 'afternoon')", name="part"))

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("student_assignment.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    assignment: Mapped[StudentAssignment] = relationship()


class ChangeStatus:
    """Where a dated roster change stands. Coordinators' own changes start approved."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    ALL = (PENDING, APPROVED, REFUSED)


class ShiftChange(Base):
    """A dated exception to the weekly pattern of a ward: one half-day.

    ``off_id`` does not come (NULL: nobody), ``on_id`` comes instead (NULL: nobody).
    Both set: a swap or a stand-in; only ``on_id``: an extra shift; only ``off_id``: a day
    off. A student's request waits for a coordinator; only approved changes count.
    """

    __tablename__ = "shift_change"
    __table_args__ = (Index("ix_shift_change_ward_day", "ward_id", "day"),
                      CheckConstraint("part IN ('morning', 'afternoon')", name="part"),
                      CheckConstraint("off_id IS NOT NULL OR on_id IS NOT NULL", name="someone"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    part: Mapped[str] = mapped_column(String(10))
    off_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"))
    on_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default=ChangeStatus.PENDING)
    note: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    off: Mapped[User | None] = relationship(foreign_keys=[off_id])
    on: Mapped[User | None] = relationship(foreign_keys=[on_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])


class Skill(Base):
    """A category a student says they can handle; counts fully once a coordinator confirms."""

    __tablename__ = "skill"
    __table_args__ = (UniqueConstraint("student_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    confirmed_at: Mapped[dt.datetime | None]

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class CounterHelp(Base):
    """Help a student gave at the counter without a ticket: a kind, how many people.

    No personal data: the note is masked when stored (privacy.mask_personal_data).
    """

    __tablename__ = "counter_help"
    __table_args__ = (Index("ix_counter_help_ward_at", "ward_id", "at"),
                      Index("ix_counter_help_student_at", "student_id", "at"),
                      CheckConstraint("people BETWEEN 1 AND 100", name="people"))

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    people: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    student: Mapped[User] = relationship()
    ward: Mapped[Ward] = relationship()
# --- Web Push: phones that asked for notifications (issue 14) ---------------------------

class PushSubscription(Base):
    """One browser's push subscription (a phone, a laptop) of one user.

    What the browser's ``PushManager.subscribe()`` gave: the push service's
    ``endpoint`` and the keys the payload is encrypted to (RFC 8291). Nothing else about
    the device but its user agent, so the user can tell their devices apart.
    """

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))  # the browser's public key, base64url
    auth: Mapped[str] = mapped_column(String(64))  # the 16-byte auth secret, base64url
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PushSubscription {self.id} user={self.user_id}>"


class VapidKey(Base):
    """The application server's VAPID key pair (RFC 8292), made once on first use.

    One row (``id`` 1): every process signs with the same key, because browsers bind
    each subscription to the public key it was made with. The primary key makes two
    processes generating at once harmless: one insert wins, the other reads it.
    """

    __tablename__ = "vapid_key"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    private_key: Mapped[str] = mapped_column(Text)  # PEM (PKCS#8), P-256
    public_key: Mapped[str] = mapped_column(String(128))  # uncompressed point, base64url
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
# --- City-wide incidents ------------------------------------------------------------

class IncidentStatus:
    OPEN = "open"
    RESOLVED = "resolved"  # the service works again (its checks recovered)
    CLOSED = "closed"      # a coordinator closed it by hand
    ALL = (OPEN, RESOLVED, CLOSED)


_open_incident_sql = "status = 'open' AND service_key <> ''"


class Incident(Base):
    """One outage of a shared service (or one problem) seen from several wards at once.

    Opened by the health checks of a service's assets (``source`` "health") or by a
    coordinator confirming a suggestion from staff tickets (``source`` "tickets").
    Ward tickets link to it (:class:`IncidentTicket`) and their SLA clocks wait on it.
    """

    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_status", "status", "started_at"),
        # At most one open incident per service, even when two processes open it at once.
        partial_index("uq_incident_open_service", "service_key", unique=True,
                      where=_open_incident_sql),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_key: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(20), default="health")
    # Suggestions from staff tickets: the category and the normalised error text matched.
    category: Mapped[str] = mapped_column(String(40), default="")
    match_text: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=IncidentStatus.OPEN)
    ward_ids: Mapped[list[Any]] = mapped_column(default=list)  # wards affected so far
    started_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    # When every check of the service worked again; after a close by hand, no new
    # incident opens for the service before this is set.
    recovered_at: Mapped[dt.datetime | None]
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    links: Mapped[list["IncidentTicket"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentTicket.id")

    @property
    def is_open(self) -> bool:
        return self.status == IncidentStatus.OPEN

    def __repr__(self) -> str:
        return f"<Incident {self.id} {self.service_key or self.category} {self.status}>"


class IncidentTicket(Base):
    """A ward ticket linked to an incident; its SLA clock waits while the incident is open."""

    __tablename__ = "incident_ticket"
    __table_args__ = (UniqueConstraint("incident_id", "ticket_id"),
                      Index("ix_incident_ticket_ticket", "ticket_id", "released_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    linked_at: Mapped[dt.datetime]
    # When the incident ended for this ticket (its clock may run again); NULL: still waiting.
    released_at: Mapped[dt.datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="links")
    ticket: Mapped[Ticket] = relationship()


class IncidentDismissal(Base):
    """A coordinator's "not an incident" for a suggestion: tickets of this category and
    text filed up to ``dismissed_at`` are not suggested again."""

    __tablename__ = "incident_dismissal"
    __table_args__ = (Index("ix_incident_dismissal_key", "category", "match_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    match_text: Mapped[str] = mapped_column(String(200))
    dismissed_at: Mapped[dt.datetime]
    dismissed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
# --- Ratings at confirmation and the city's monthly report (issue 17) ----------------

class TicketRating(Base):
    """How ward staff rated a resolution when they confirmed it (1 poor - 5 very good).

    One row per confirmation that carried a rating (a reopened ticket confirmed again may
    be rated again). ``student_id`` is the ticket's assignee at that moment, so a student's
    average does not change when the ticket is later reassigned. The comment is stored
    masked (``privacy.mask_personal_data``).
    """

    __tablename__ = "ticket_rating"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
                      # A student's ratings in a period (ratings.ratings_for_students).
                      Index("ix_ticket_rating_student_at", "student_id", "created_at"),
                      Index("ix_ticket_rating_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    rater_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship()


class MonthlyReport(Base):
    """The city's report of one month, as generated: the XLSX and PDF files themselves.

    The bytes live in the database (a few hundred kB a month): every web worker and the
    scheduler's host see the same files, database backups keep them, and there is no
    file to lose or clean up apart from its row. One row per month (unique): the
    scheduler never makes a second one; regenerating on demand replaces it.
    """

    __tablename__ = "monthly_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, unique=True)  # the month's first day
    generated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))  # NULL: the scheduler
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    # The headline figures, to list reports without opening the files.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)

    generated_by: Mapped[User | None] = relationship()
# --- Student programme: batches, universities, evaluations, certificates ------------

class University(Base):
    """A university sending students, with its own coordinator accounts."""

    __tablename__ = "university"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # DTU, FPT, VKU...
    name: Mapped[str] = mapped_column(String(160), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<University {self.code}>"


batch_ward = Table(
    "batch_ward", Base.metadata,
    Column("batch_id", ForeignKey("batch.id", ondelete="CASCADE"), primary_key=True),
    Column("ward_id", ForeignKey("ward.id", ondelete="CASCADE"), primary_key=True))


class Batch(Base):
    """A batch (đợt) of students: its dates, the wards it serves, its evaluation criteria."""

    __tablename__ = "batch"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    # Printed on the certificates as the issuing unit (e.g. the city's science department).
    issuing_unit: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    wards: Mapped[list[Ward]] = relationship(secondary=batch_ward, order_by="Ward.name")
    criteria: Mapped[list["EvaluationCriterion"]] = relationship(
        back_populates="batch", cascade="all, delete-orphan",
        order_by="(EvaluationCriterion.position, EvaluationCriterion.id)")

    def __repr__(self) -> str:
        return f"<Batch {self.name}>"


class EvaluationCriterion(Base):
    """One criterion a ward scores its students on at the end of a batch (1..scale_max)."""

    __tablename__ = "evaluation_criterion"
    __table_args__ = (CheckConstraint("scale_max BETWEEN 2 AND 10", name="scale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    scale_max: Mapped[int] = mapped_column(Integer, default=5)
    position: Mapped[int] = mapped_column(Integer, default=0)

    batch: Mapped[Batch] = relationship(back_populates="criteria")


class Evaluation(Base):
    """A ward's evaluation of one student placed there in one batch."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("batch_id", "student_id", "ward_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"))
    evaluator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship()
    student: Mapped[User] = relationship(foreign_keys=[student_id])
    ward: Mapped[Ward] = relationship()
    evaluator: Mapped[User | None] = relationship(foreign_keys=[evaluator_id])
    scores: Mapped[list["EvaluationScore"]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", order_by="EvaluationScore.id")


class EvaluationScore(Base):
    """One criterion's score (and comment) in an evaluation."""

    __tablename__ = "evaluation_score"
    __table_args__ = (UniqueConstraint("evaluation_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_criterion.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="scores")
    criterion: Mapped[EvaluationCriterion] = relationship()


class Certificate(Base):
    """A student's certificate for a batch. The number has a random part (not guessable)
    and stays the same when the certificate is issued again; ``figures`` keeps what was
    printed (name, wards, dates, numbers) as it was on the day of issue."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("batch_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)

    batch: Mapped[Batch] = relationship()
    student: Mapped[User] = relationship(foreign_keys=[student_id])
# --- Notifications: the outbox, preferences, channel settings, webhooks --------------

class NotificationStatus:
    """Where an outbox row stands (services/outbox.py)."""

    QUEUED = "queued"      # waiting for the delivery job (``next_attempt_at``)
    SENDING = "sending"    # claimed by a drainer until ``next_attempt_at`` (its lease)
    SENT = "sent"          # the channel accepted it (or it went out in a digest)
    DEAD = "dead"          # gave up: permanent error or too many attempts; retry by hand
    HELD = "held"          # outside working hours: waits for the morning digest
    ALL = (QUEUED, SENDING, SENT, DEAD, HELD)


class Notification(Base):
    """One message to one address on one channel: a row of the durable outbox.

    Written in the transaction of the ticket event that causes it, so a rolled-back
    change notifies nobody and a committed one is never forgotten; the scheduler's
    delivery job hands it to its channel. ``key`` (unique) is the idempotency key the
    channel receives as ``Message.key``.
    """

    __tablename__ = "notification"
    __table_args__ = (
        # The drain: due rows of a status, oldest due first.
        Index("ix_notification_drain", "status", "next_attempt_at"),
        # The morning digest: one user's held rows on one channel.
        Index("ix_notification_held", "status", "user_id", "channel"),
        Index("ix_notification_created", "created_at"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'dead', 'held')",
                        name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # An administrator-registered webhook endpoint (its URL and secret at delivery).
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=NotificationStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # A held row that went out inside a digest: the digest's row.
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.channel} {self.kind} {self.status}>"


class NotificationPreference(Base):
    """A user's choice for one kind of notification on one channel (none: the default)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "channel", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean)


class ChannelSetting(Base):
    """A channel's settings as the administrators saved them; secrets encrypted
    (services/channel_settings.py)."""

    __tablename__ = "channel_setting"

    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """A city system that receives signed webhooks (services/webhooks.py).

    ``secret`` is encrypted with the application's secret; ``kinds`` lists the
    notification kinds it subscribes to; ``ward_ids`` its wards, unless ``all_wards``.
    """

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list[Any]] = mapped_column(default=list)
    all_wards: Mapped[bool] = mapped_column(Boolean, default=True)
    ward_ids: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
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
