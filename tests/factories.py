"""Small factories for tests: make_ward(), make_user(), make_ticket(...)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from helpdesk_core.models import Role, Ward
from helpdesk_core.services import tickets, users

_counter = itertools.count(1)
PASSWORD = "correct horse"


def make_ward(session, **overrides: Any) -> Ward:
    n = next(_counter)
    values = {"code": f"W{n:02d}", "name": f"Phường Thử {n}", "address": "Đà Nẵng"}
    values.update(overrides)
    ward = Ward(**values)
    session.add(ward)
    session.flush()
    return ward


def make_user(session, role: str = Role.STAFF, ward: Ward | None = None, **overrides: Any):
    n = next(_counter)
    values = {"login": f"{role}{n}", "name": f"Người dùng {n}", "password": PASSWORD,
              "role": role, "ward": ward}
    values.update(overrides)
    return users.create_user(session, **values)


def make_student(session, ward: Ward, today: dt.date, **overrides: Any):
    student = make_user(session, Role.STUDENT, **overrides)
    users.assign_student(session, student, ward, "Đại học Duy Tân",
                         today - dt.timedelta(days=30), today + dt.timedelta(days=90))
    return student


def make_ticket(session, registry, ward: Ward, now: dt.datetime, **overrides: Any):
    values: dict[str, Any] = {
        "category": "network", "title": "Mất mạng quầy 2",
        "triage": {"scope": "one_device", "connection": "wired", "what_fails": "one_site"},  # no plugin suggestion: priority from the matrix alone
        "impact": "person", "urgency": "normal"}
    values.update(overrides)
    return tickets.file_ticket(session, registry, ward=ward, now=now, **values)
