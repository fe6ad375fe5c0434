"""Generate a city's worth of data fast: wards, people, assets, tickets and their events.

Bulk inserts through SQLAlchemy Core (executemany) on SQLite and PostgreSQL's COPY on
PostgreSQL. Ages, states and categories follow a plausible mix; due times use the
default SLA targets stretched to wall-clock time (working hours are ~31% of a week).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Iterable, Iterator

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from helpdesk_core.db import create_schema
from helpdesk_core.db import make_engine
from helpdesk_core.models import (Asset, AssetCheck, Base, Role, SlaPolicy, Status, StudentAssignment,
                                  Ticket, TicketCounter, TicketEvent, User, Ward)
from helpdesk_core.services.sla import DEFAULT_AT_RISK_RATIO, DEFAULT_TARGETS, pending_moments
from helpdesk_core.services.users import hash_password
from helpdesk_core.text import fold

PASSWORD = "bench-pass-1"
CATEGORIES = ["printer", "network", "signing", "vneid"]
CATEGORY_WEIGHTS = [40, 30, 15, 15]
TITLES = {
    "printer": ["Máy in quầy {n} kẹt giấy", "Máy in báo hết mực", "Máy quét không nhận",
                "Máy in mờ chữ", "Không in được từ máy khác"],
    "network": ["Mất mạng quầy {n}", "Wi-Fi chập chờn", "Không vào được hệ thống một cửa",
                "Mất internet toàn trung tâm"],
    "signing": ["Không nhận USB token", "Chứng thư số hết hạn", "Không ký được văn bản đi"],
    "vneid": ["Công dân quên mật khẩu VNeID", "Không nhận được OTP", "Kích hoạt VNeID mức 2"],
}
# Share of tickets per status among old (> 14 days) and recent tickets.
OLD_MIX = [(Status.CLOSED, 80), (Status.RESOLVED, 4), (Status.CANCELLED, 6),
           (Status.IN_PROGRESS, 3), (Status.WAITING_VENDOR, 3), (Status.WAITING_CITY, 2),
           (Status.NEW, 1), (Status.ASSIGNED, 1)]
RECENT_MIX = [(Status.CLOSED, 35), (Status.RESOLVED, 15), (Status.CANCELLED, 5),
              (Status.IN_PROGRESS, 15), (Status.WAITING_VENDOR, 5), (Status.WAITING_REPORTER, 5),
              (Status.WAITING_CITY, 5), (Status.NEW, 8), (Status.ASSIGNED, 7)]
WALL_PER_WORKING_MINUTE = 168 / 37.5  # a week's hours over its working hours


@dataclass(frozen=True)
class Size:
    wards: int = 94
    students: int = 200
    staff: int = 300
    coordinators: int = 10
    assets: int = 5000
    tickets: int = 100_000
    events_per_ticket: int = 4


SIZES = {"quick": Size(tickets=10_000, assets=1000), "100k": Size(), "1m": Size(tickets=1_000_000)}


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Writer:
    """executemany on SQLite; COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"

    def write(self, model: type, rows: Iterable[dict[str, Any]], columns: list[str]) -> int:
        count = 0
        table = model.__table__
        with self.engine.begin() as conn:
            if self.pg:
                raw = conn.connection.driver_connection
                cols = ", ".join(f'"{c}"' for c in columns)
                with raw.cursor() as cur:
                    with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row([_pg_value(table.c[c], row[c]) for c in columns])
                            count += 1
            else:
                for batch in _batches(rows, 5000):
                    conn.execute(insert(table), batch)
                    count += len(batch)
        return count


def _pg_value(column, value):
    import json
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _next_moment(row: dict[str, Any]) -> dt.datetime | None:
    """``sla_next_at`` as :func:`helpdesk_core.services.sla.refresh_next` would store it."""
    moments = pending_moments(SimpleNamespace(**row)).values()
    return min(moments) if moments else None


def generate(url: str, size: Size, seed: int = 2025, now: dt.datetime | None = None,
             reset: bool = True) -> dict[str, float]:
    """Fill the database at *url*; returns counts and seconds per step."""
    rng = random.Random(seed)
    now = now or dt.datetime.now(dt.timezone.utc)
    engine = make_engine(url)
    if reset:
        Base.metadata.drop_all(engine)
        create_schema(engine)
    writer = Writer(engine)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    password_hash = hash_password(PASSWORD)  # one hash: hashing 500 passwords is not the point

    wards = [{"id": i, "code": f"P{i:02d}", "name": f"Phường {i:02d}", "address": "TP. Đà Nẵng",
              "morning_start": "07:30", "morning_end": "11:30", "afternoon_start": "13:30",
              "afternoon_end": "17:00", "saturday_morning": i % 10 == 0, "auto_assign": False,
              "active": True, "created_at": now} for i in range(1, size.wards + 1)]
    writer.write(Ward, wards, list(wards[0]))
    users: list[dict[str, Any]] = []
    uid = 0

    def person(login: str, role: str, ward_id: int | None) -> dict[str, Any]:
        nonlocal uid
        uid += 1
        return {"id": uid, "login": login, "name": login.replace(".", " ").title(),
                "password_hash": password_hash, "role": role, "locale": "vi", "email": "",
                "phone": "", "ward_id": ward_id, "active": True, "created_at": now}

    users.append(person("admin", Role.ADMIN, None))
    for i in range(size.coordinators):
        users.append(person(f"coord{i}", Role.COORDINATOR, None))
    for i in range(size.staff):
        users.append(person(f"staff{i}", Role.STAFF, i % size.wards + 1))
    student_ids = []
    for i in range(size.students):
        users.append(person(f"student{i}", Role.STUDENT, None))
        student_ids.append(uid)
    writer.write(User, users, list(users[0]))
    assignments = [{"id": n + 1, "student_id": sid, "ward_id": n % size.wards + 1,
                    "university": ["Đại học Duy Tân", "Đại học FPT", "VKU"][n % 3],
                    "starts_on": (now - dt.timedelta(days=90)).date(),
                    "ends_on": (now + dt.timedelta(days=90)).date(), "on_duty": True}
                   for n, sid in enumerate(student_ids)]
    writer.write(StudentAssignment, assignments, list(assignments[0]))
    students_of: dict[int, list[int]] = {}
    for a in assignments:
        students_of.setdefault(a["ward_id"], []).append(a["student_id"])
    staff_of = {w: [u["id"] for u in users if u["ward_id"] == w] for w in range(1, size.wards + 1)}

    kinds = [("printer", "printer"), ("printer", "scanner"), ("network", "router"),
             ("network", "access_point"), ("network", "queue_kiosk"), ("signing", "signing_token")]
    assets = []
    for i in range(1, size.assets + 1):
        category, kind = kinds[i % len(kinds)]
        assets.append({"id": i, "ward_id": i % size.wards + 1, "category": category, "kind": kind,
                       "name": f"{kind} {i}", "location": f"Quầy {i % 8 + 1}", "vendor": "",
                       "model": "", "serial": f"SN{i:06d}", "address": f"10.{i // 250}.{i % 250}.10",
                       "criticality": ["low", "normal", "high", "critical"][i % 4], "active": True,
                       "created_at": now})
    writer.write(Asset, assets, list(assets[0]))
    timings["setup_s"] = time.perf_counter() - started

    # Tickets and events.
    started = time.perf_counter()
    seq_of: dict[tuple[int, int], int] = {}
    open_health_assets: set[int] = set()
    ticket_columns = [c.name for c in Ticket.__table__.columns]
    events: list[dict[str, Any]] = []

    def tickets() -> Iterator[dict[str, Any]]:
        event_id = 0
        for tid in range(1, size.tickets + 1):
            ward_id = rng.randint(1, size.wards)
            age_days = rng.random() ** 2 * 365  # more recent tickets than old ones
            created = now - dt.timedelta(days=age_days, minutes=rng.randint(0, 600))
            status = _weighted(rng, OLD_MIX if age_days > 14 else RECENT_MIX)
            category = rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS)[0]
            priority = rng.choices([1, 2, 3, 4], weights=[10, 25, 45, 20])[0]
            year = created.year
            seq = seq_of[(ward_id, year)] = seq_of.get((ward_id, year), 0) + 1
            number = f"P{ward_id:02d}-{year}-{seq:05d}"
            title = rng.choice(TITLES[category]).format(n=rng.randint(1, 8))
            response_min, resolution_min = DEFAULT_TARGETS[priority]
            response_due = created + dt.timedelta(minutes=response_min * WALL_PER_WORKING_MINUTE)
            resolution_due = created + dt.timedelta(minutes=resolution_min * WALL_PER_WORKING_MINUTE)
            assigned = status != Status.NEW and status != Status.CANCELLED
            assignee = rng.choice(students_of.get(ward_id) or student_ids) if assigned else None
            reporter = rng.choice(staff_of.get(ward_id) or [1])
            responded = created + dt.timedelta(minutes=rng.randint(3, 240)) if assigned else None
            done = status in (Status.RESOLVED, Status.CLOSED)
            resolved = (created + dt.timedelta(hours=rng.randint(1, 72))) if done else None
            if resolved and resolved > now:
                resolved = now
            closed = resolved + dt.timedelta(days=1) if status == Status.CLOSED else None
            open_ = status in Status.OPEN
            source = "front_desk" if rng.random() < 0.9 else "health_check"
            asset_id = rng.randint(1, size.assets) if rng.random() < 0.4 else None
            if source == "health_check" and open_:
                # One open health ticket per device (the database's rule): a device
                # already down files no second one.
                if asset_id is None or asset_id in open_health_assets:
                    source = "front_desk"
                else:
                    open_health_assets.add(asset_id)
            row = {
                "id": tid, "ward_id": ward_id, "year": year, "seq": seq, "number": number,
                "category": category, "title": title,
                "description": "Mô tả sự cố do cán bộ tiếp nhận ghi lại.", "triage": {},
                "search_text": fold(f"{number} {title}"), "impact": "person", "urgency": "normal",
                "priority": priority, "priority_reason": "", "status": status,
                "source": source,
                "reporter_id": reporter, "assignee_id": assignee,
                "asset_id": asset_id,
                "check_id": None, "escalation_level": 1 if status == Status.WAITING_CITY else 0,
                "flapping": False, "worked_by_person": assigned, "checklist": {},
                "response_due_at": response_due, "resolution_due_at": resolution_due,
                "responded_at": responded,
                "paused_at": now if status in Status.PAUSED else None,
                "at_risk": open_ and now > resolution_due - dt.timedelta(minutes=resolution_min * 0.2 * WALL_PER_WORKING_MINUTE),
                "response_breached": bool(responded and responded > response_due) or (open_ and not responded and now > response_due),
                "resolution_breached": (resolved or now) > resolution_due and status != Status.CANCELLED,
                "created_at": created, "updated_at": closed or resolved or responded or created,
                "resolved_at": resolved, "closed_at": closed,
            }
            # The SLA sweep's columns (migration 0002): at-risk moments at 80% of each target,
            # the flags once passed, and sla_next_at = the earliest moment still pending.
            row["response_at_risk_at"] = created + dt.timedelta(
                minutes=DEFAULT_AT_RISK_RATIO * response_min * WALL_PER_WORKING_MINUTE)
            row["resolution_at_risk_at"] = created + dt.timedelta(
                minutes=DEFAULT_AT_RISK_RATIO * resolution_min * WALL_PER_WORKING_MINUTE)
            row["at_risk"] = open_ and now >= row["resolution_at_risk_at"]
            row["response_at_risk"] = open_ and not responded and now >= row["response_at_risk_at"]
            row["paused_minutes"] = row["response_paused_minutes"] = 0.0
            row["sla_next_at"] = _next_moment(row)
            for column in ticket_columns:  # columns added later keep their defaults
                if column not in row:
                    default = Ticket.__table__.c[column].default
                    row[column] = default.arg if default is not None and not callable(default.arg) else None
            yield row
            # ~4 events: filed, then claims/status changes/comments in order.
            moments = sorted(created + dt.timedelta(minutes=rng.randint(1, 4000))
                             for _ in range(size.events_per_ticket - 1))
            kinds_seq = ["filed"] + [rng.choice(["status", "comment", "assigned", "checklist"])
                                     for _ in moments]
            for kind, at in zip(kinds_seq, [created] + moments):
                event_id += 1
                events.append({"id": event_id, "ticket_id": tid, "kind": kind,
                               "actor_id": reporter if kind == "filed" else assignee,
                               "old_value": None, "new_value": status if kind == "status" else None,
                               "body": "Đã kiểm tra tại chỗ." if kind == "comment" else "",
                               "internal": False, "data": {}, "created_at": min(at, now)})

    count = writer.write(Ticket, tickets(), ticket_columns)
    timings["tickets_s"] = time.perf_counter() - started
    started = time.perf_counter()
    event_count = writer.write(TicketEvent, events, list(events[0]))
    timings["events_s"] = time.perf_counter() - started
    counters = [{"ward_id": w, "year": y, "last_seq": s} for (w, y), s in seq_of.items()]
    writer.write(TicketCounter, counters, ["ward_id", "year", "last_seq"])
    with engine.begin() as conn:
        if writer.pg:
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement is not False and table.name != "heartbeat":
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                      f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 1))"))
        else:
            conn.execute(text("ANALYZE"))
    if writer.pg:
        # A settled database: autovacuum would have set the visibility map by now, which
        # index-only scans rely on.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    timings.update({"tickets": count, "events": event_count})
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--size", choices=SIZES, default="quick")
    args = parser.parse_args()
    print(generate(args.url, SIZES[args.size]))


if __name__ == "__main__":
    main()
