"""Hostile input on every route, for every role: nothing may answer 500 or cut a stream.

The routes come from ``app.url_map``, so a new page is fuzzed without touching this file.
Path parameters get real ids (from the ``world`` fixture) and hostile values; query
strings and POSTed forms get NUL bytes, control characters, integers past 32 and 64 bits,
dates at the ends of the calendar, invalid UTF-8 and a 1 MB field. POSTed forms carry
every field the route's page shows (read from its HTML), so hostile values reach the
views' validation and the services behind them.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Iterator
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import select

from helpdesk_core.models import (AssetCheck, CalendarDay, Incident, Shift, ShiftChange, Skill,
                                  SlaPolicy, StudentAssignment, Ticket, User)
from helpdesk_core.services import attachments, incidents
from tests.conftest import FIXED_NOW
from webapp import api

from .conftest import World

ROLES = ("anonymous", "staff_a", "student_a", "coordinator", "admin")
BIG = "x" * 1_000_000

# Hostile values for query strings and form fields (already decoded text).
HOSTILE = {
    "nul": "Máy in\x00hỏng",
    "control": "Máy\x1b[31m in\x07\x08",
    "int31": str(2 ** 31),
    "int63": str(2 ** 63),
    "int20": str(10 ** 20),
    "negative": "-1",
    "date_min": "01/01/0001",
    "date_max": "31/12/9999",
    "formula": "=HYPERLINK(\"http://evil\")",
    "superscript": "²",
}
# Query parameters the views read (and a few they don't).
QUERY_NAMES = ("q", "ward", "page", "status", "category", "start", "end", "type", "next")
# Path segments for parameters: percent-encoded, as a browser would send them.
HOSTILE_SEGMENTS = ("%00", "2147483648", "9223372036854775808", "100000000000000000000",
                    "%ff%fe")
# Form fields always posted, besides those read from the page.
COMMON_FIELDS = ("title", "description", "body", "reason", "assignee", "asset", "q",
                 "login", "password", "name", "ward", "student", "template", "done")

class _FormReader(HTMLParser):
    """Form fields of a page: name -> (kind, a real value: the first option, the default)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, tuple[str, str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "option" and self._select:
            kind, value = self.fields[self._select]
            if not value and a.get("value"):
                self.fields[self._select] = (kind, a["value"])
        if not name or name == "csrf_token" or name in self.fields:
            return
        if tag == "input":
            self.fields[name] = (a.get("type", "text").lower(), a.get("value", ""))
        elif tag == "textarea":
            self.fields[name] = ("textarea", "")
        elif tag == "select":
            self.fields[name] = ("select", "")
            self._select = name

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _form_fields(html: str) -> dict[str, tuple[str, str]]:
    reader = _FormReader()
    reader.feed(html)
    return reader.fields


def _real_values(app, world: World) -> dict[str, list[str]]:
    """Real values for each path parameter name (ids of things that exist)."""
    from webapp.extensions import db
    with app.app_context():
        s = db.session
        ticket = s.get(Ticket, world.ticket_a)
        staff = s.get(User, world.user_ids["staff_a"])
        item = attachments.add_attachment(
            s, None, ticket, staff, "note.pdf", b"%PDF-1.4\n%%EOF\n", FIXED_NOW,
            folder=app.config["UPLOAD_FOLDER"], max_bytes=10_000_000)
        day = CalendarDay(ward_id=world.ward_a, day=dt.date(2026, 4, 30), is_working=False,
                          note="Lễ")
        policy = SlaPolicy(priority=4, category="printer", response_minutes=60,
                           resolution_minutes=480)
        placement = s.scalar(select(StudentAssignment).where(
            StudentAssignment.student_id == world.user_ids["student_a"]))
        shift = Shift(assignment=placement, weekday=3, part="morning")
        change = ShiftChange(ward_id=world.ward_a, day=dt.date(2026, 3, 12), part="morning",
                             off_id=world.user_ids["student_a"],
                             on_id=world.user_ids["student_a2"])
        skill = Skill(student_id=world.user_ids["student_a"], category="printer")
        # A city-wide incident with ward A's ticket waiting on it.
        incident = Incident(service_key="dvcqg", title="Cổng DVC", started_at=FIXED_NOW,
                            ward_ids=[world.ward_a])
        s.add_all([day, policy, shift, change, skill, incident])
        s.flush()
        incidents.link(s, None, incident, ticket, None, FIXED_NOW)
        s.commit()
        check_id = s.scalar(select(AssetCheck.id))
        assignment_id = s.scalar(select(StudentAssignment.id))
        roster_ids = {"shift_id": [str(shift.id)], "change_id": [str(change.id)],
                      "skill_id": [str(skill.id)]}
        ids = {"attachment_id": item.id, "day_id": day.id, "policy_id": policy.id,
               "incident_id": incident.id,
               "check_id": check_id, "assignment_id": assignment_id}
        ids.update(_programme(s, world))
    return {
        "ticket_id": [str(world.ticket_a)], "attachment_id": [str(ids["attachment_id"])],
        "step": ["0"], "ward_id": [str(world.ward_a)], "day_id": [str(ids["day_id"])],
        "user_id": [str(world.user_ids["staff_a"])],
        "assignment_id": [str(ids["assignment_id"])], "asset_id": [str(world.printer_a)],
        "check_id": [str(ids["check_id"])], "policy_id": [str(ids["policy_id"])],
        "category": ["network", "printer"], "action": ["assign", "resolve", "cancel", "claim"],
        "locale": ["vi"], "name": ["printer"], "filename": ["app.css"],
        # Routes added since: bulk import/export, one-time links, API tokens, the
        # kiosk's pages (ids that need not exist: hostile values matter there).
        "kind": ["wards", "devices"], "fmt": ["csv", "xlsx"], "token": ["x" * 43],
        "token_id": ["1"], "counter_id": ["1"],
        **roster_ids,  # the duty roster and skills
        "incident_id": [str(ids["incident_id"])],
        # The monthly report (issue 17): a month and its files.
        "month": ["2026-03"],
        # The students' programme: a batch of ward A (student A placed in it), its
        # university, student A, and a certificate number (nobody's, then a real one).
        "batch_id": [str(ids["batch_id"])], "university_id": [str(ids["university_id"])],
        "student_id": [str(world.user_ids["student_a"])],
        "number": ["CN-2026-AAAA-BBBB-CCCC", ids["number"]],
        # Notifications: a channel with a settings form and one without; ids that need
        # not exist.
        "channel": ["email", "webhook"], "notification_id": ["1"], "endpoint_id": ["1"],
    }


def _programme(s, world: World) -> dict[str, object]:
    from helpdesk_core.models import Ward
    from helpdesk_core.services import admin as admin_service
    from helpdesk_core.services import batches, certificates
    ward = s.get(Ward, world.ward_a)
    university = batches.save_university(s, None, code="DHT", name="Đại học Thử")
    batch = batches.save_batch(s, None, name="Đợt thử", starts_on=dt.date(2026, 1, 5),
                               ends_on=dt.date(2026, 3, 13), wards=[ward], criteria="Thái độ; 5")
    student = s.get(User, world.user_ids["student_a"])
    admin_service.save_assignment(s, None, student=student, ward=ward, university="",
                                  starts_on=batch.starts_on, ends_on=batch.ends_on, batch=batch,
                                  university_org=university)
    coordinator = s.get(User, world.user_ids["coordinator"])
    issued = certificates.issue_for_batch(s, batch, coordinator, FIXED_NOW)
    s.commit()
    return {"batch_id": batch.id, "university_id": university.id, "number": issued[0].number}


def _paths(rule, real: dict[str, list[str]]) -> Iterator[tuple[str, bool]]:
    """Concrete paths of *rule*: all real values, then one parameter hostile at a time.

    Yields (path, all_real).
    """
    names = sorted(rule.arguments)

    def build(values: dict[str, str]) -> str:
        return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)

    base = {name: real[name][0] for name in names}
    variants = [base] + [dict(base, **{name: value}) for name in names
                         for value in real[name][1:]]
    for values in variants:
        yield build(values), True
    for name in names:
        for segment in HOSTILE_SEGMENTS:
            yield build(dict(base, **{name: segment})), False


def _query_strings() -> Iterator[str]:
    for value in HOSTILE.values():
        yield urlencode({name: value for name in QUERY_NAMES})
    yield "&".join(f"{name}=%ff%fe" for name in QUERY_NAMES)      # invalid UTF-8
    yield "&".join(f"{name}=1&{name}=2147483648" for name in QUERY_NAMES)  # repeated
    yield urlencode({"q": BIG, "ward": BIG, "page": BIG, "start": BIG})


class Fuzzer:
    """Sends requests and collects every 500 and every stream that breaks off."""

    def __init__(self, client) -> None:
        self.client = client
        self.failures: list[str] = []
        self.count = 0

    def send(self, who: str, method: str, path: str, **kwargs) -> tuple[int, str]:
        """Status and body text of one request (0 and "" on a failure, which is recorded)."""
        self.count += 1
        label = f"{who} {method} {path[:120]}"
        try:
            response = self.client.open(path, method=method, **kwargs)
            try:
                body = response.get_data()  # reads a streamed body to its end
            finally:
                response.close()
        except Exception as exc:  # a stream cut after its headers, or worse
            self.failures.append(f"{label}: raised {exc!r:.200}")
            return 0, ""
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code}")
        if response.status_code in (401, 403) or "/login" in response.headers.get(
                "Location", ""):
            return 403, ""  # not this role's page: no point fuzzing behind the door
        return response.status_code, body.decode("utf-8", "replace")


def _form_variants(fields: dict[str, tuple[str, str]]) -> Iterator[dict[str, str]]:
    """Every field hostile; then the text fields hostile and the others real (so the
    text reaches the service), and the reverse."""
    texts = [n for n, (k, _) in fields.items() if k in ("text", "textarea", "password", "email",
                                                        "search", "number", "date")]
    others = {n: v or "1" for n, (k, v) in fields.items() if n not in texts and k != "file"}
    for key, value in HOSTILE.items():
        yield {name: value for name in fields if fields[name][0] != "file"}
        if key in ("nul", "control", "formula"):
            yield {**others, **{n: value for n in texts}}
        else:
            yield {**{n: "Máy in" for n in texts}, **{n: value for n in others}}
    yield {**others, **{name: BIG for name in texts or ["title"]}}


def _source_page(app, path: str) -> str | None:
    """The nearest page a browser shows the form of a POST-only *path* on."""
    adapter = app.url_map.bind("localhost")
    parts = path.split("?")[0].rstrip("/").split("/")
    while len(parts) > 1:
        candidate = "/".join(parts) or "/"
        try:
            adapter.match(candidate, method="GET")
            return candidate
        except Exception:
            parts = parts[:-1]
    return None


def test_no_hostile_input_gives_500_or_a_cut_stream(app, client, world, login):
    """Fails if any route, for any role, answers 500 or breaks off a response body."""
    real = _real_values(app, world)
    fuzz = Fuzzer(client)
    api.build(app)  # the REST API's routes, otherwise added on the first call to /api/
    rules = sorted(app.url_map.iter_rules(),
                   key=lambda r: (r.endpoint in ("auth.logout", "auth.set_language"), r.rule))
    for who in ROLES:
        login(who)
        for rule in rules:
            methods = rule.methods - {"HEAD", "OPTIONS"}
            for path, all_real in _paths(rule, real):
                status, page = 200, ""
                if "GET" in methods:
                    status, page = fuzz.send(who, "GET", path)
                    if all_real and status != 403:
                        for query in _query_strings():
                            fuzz.send(who, "GET", f"{path}?{query}")
                if "POST" not in methods:
                    continue
                if not all_real:
                    fuzz.send(who, "POST", path, data={"title": HOSTILE["nul"]})
                    continue
                source = path if "GET" in methods else _source_page(app, path)
                if source != path:
                    status, page = fuzz.send(who, "GET", source) if source else (200, "")
                if status == 403:
                    fuzz.send(who, "POST", path, data={"title": HOSTILE["nul"]})
                    continue
                fields = dict.fromkeys(COMMON_FIELDS, ("text", "")) | _form_fields(page)
                for data in _form_variants(fields):
                    fuzz.send(who, "POST", path, data=data)
                raw = "&".join(f"{quote(n)}=%ff%fe" for n in fields).encode()
                fuzz.send(who, "POST", path, data=raw,
                          content_type="application/x-www-form-urlencoded")
                fuzz.send(who, "POST", path, data=b"title=\xff\xfe&body=\xff",
                          content_type="application/x-www-form-urlencoded")
        # Invalid UTF-8 and NUL in cookies (latin-1 in the WSGI environ = raw bytes).
        for cookie in ("session=\xff\xfe", "locale=\xff\x00", "session=%00; remember_token=\xff"):
            fuzz.send(who, "GET", "/tickets/", headers={"Cookie": cookie})
    print(f"{fuzz.count} requests")
    assert not fuzz.failures, f"{len(fuzz.failures)} failures:\n" + "\n".join(
        fuzz.failures[:80])
