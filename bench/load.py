"""Load the main pages of the app served by gunicorn (2 workers) on loopback.

Scenarios, each logged in as the role that uses the page:

* ``queue``: a student's queue (``/tickets/queue``);
* ``ticket``: the page of an open ticket of that student's ward (``/tickets/<id>``);
* ``dashboard``: the coordinators' dashboard (``/dashboard/``);
* ``file``: filing a printer ticket at the front desk (POST ``/tickets/new/printer``) as
  ward staff, with the form's CSRF token; afterwards the number of tickets in the
  database must have grown by exactly the number of filings wrk saw succeed;
* ``list``: the list of the student's ward's open tickets (``/tickets/?ward=<id>``);
* ``api_list`` and ``api_ticket``: the same list and the same ticket through the REST API
  (``/api/v1/tickets?ward_id=<id>``, ``/api/v1/tickets/<id>``) with a read token of the
  ward, beside the web pages in the same run.

Each scenario runs wrk for a bounded time and a bounded number of requests.
"""

from __future__ import annotations

import contextlib
import html.parser
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import func, select, text

from helpdesk_core.db import make_engine
from helpdesk_core.models import Status, StudentAssignment, Ticket, User

from . import generate
from .loadgen import LoadResult, run_wrk
from .server import (Gunicorn, MemoryWatcher, process_pss_kb, process_rss_kb, process_tree,
                     process_tree_rss_kb)

FILE_CATEGORY = "printer"


class _FormParser(html.parser.HTMLParser):
    """The fields of the first <form method=post> with a title field: name -> value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "fields": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a and name not in fields:
                    fields[name] = a.get("value", "y")
            elif kind not in ("file", "submit", "button"):
                fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            # The selected option, else the first real one (a blank placeholder is no answer).
            value = a.get("value", "")
            if "selected" in a or not fields.get(self._select):
                fields[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def post_form_fields(page: str) -> dict[str, str]:
    parser = _FormParser()
    parser.feed(page)
    for form in parser.forms:
        if form["method"] == "post" and "title" in form["fields"]:
            return dict(form["fields"])
    raise RuntimeError("no filing form on the page")


def login(base_url: str, user: str) -> requests.Session:
    """A logged-in session (cookie jar) for *user*, through the real login form."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30)
    page.raise_for_status()
    fields = _FormParser()
    fields.feed(page.text)
    data = next(f["fields"] for f in fields.forms if f["method"] == "post")
    data.update({"login": user, "password": generate.PASSWORD})
    response = session.post(f"{base_url}/login", data=data, timeout=30, allow_redirects=False)
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise RuntimeError(f"could not log in as {user}: HTTP {response.status_code}")
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


@dataclass
class Subjects:
    """Who and what the scenarios use, picked from the generated data."""

    student: str
    ticket_id: int
    staff: str
    coordinator: str = "coord0"
    ward_id: int = 0


def pick_subjects(url: str) -> Subjects:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            student_id, ward_id = conn.execute(
                select(StudentAssignment.student_id, StudentAssignment.ward_id)
                .order_by(StudentAssignment.id).limit(1)).one()
            student = conn.scalar(select(User.login).where(User.id == student_id))
            ticket_id = conn.scalar(
                select(Ticket.id).where(Ticket.ward_id == ward_id,
                                        Ticket.status.in_(Status.OPEN))
                .order_by(Ticket.id.desc()).limit(1))
            # Staff of another ward file the tickets, so that runs on a kept database do
            # not pile filings into the measured student's queue.
            staff = conn.scalar(select(User.login).where(User.ward_id != ward_id,
                                                         User.ward_id.is_not(None),
                                                         User.role == "staff")
                                .order_by(User.id).limit(1))
    finally:
        engine.dispose()
    if ticket_id is None or staff is None:
        raise RuntimeError("the generated data has no open ticket or no staff in the ward")
    return Subjects(student=student, ticket_id=ticket_id, staff=staff, ward_id=ward_id)


def make_api_token(url: str, ward_id: int) -> str:
    """A read token of the ward (the REST API scenarios), made through the service."""
    import datetime as dt

    from helpdesk_core.db import make_session_factory
    from helpdesk_core.services import api_tokens
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            _, secret = api_tokens.create_token(
                session, name="bench", scope="read", ward_ids=[ward_id], all_wards=False,
                created_by=None, now=dt.datetime.now(dt.timezone.utc))
            session.commit()
    finally:
        engine.dispose()
    return secret


def count_tickets(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Ticket)))
    finally:
        engine.dispose()


@dataclass
class Measured:
    result: LoadResult
    peak_rss_mb: float
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Shape:
    """How wrk loads each page: threads, connections, seconds."""

    threads: int
    connections: int
    seconds: int


# The reference measurement (wrk -t2 -c8, 20 s), and the shape of the earlier
# benches (one connection per worker, 10 s), kept to compare with older results.
SHAPES = {"reference": Shape(2, 8, 20), "legacy": Shape(1, 2, 10)}


@dataclass
class PageRuns:
    """Every run of every scenario, with the bare route's beside them."""

    scenarios: dict[str, list[Measured]] = field(default_factory=dict)
    bare: list[LoadResult] = field(default_factory=list)
    rss_after_mb: float = 0.0  # master + workers after the last run
    rss_each_mb: list[float] = field(default_factory=list)  # master first, then workers
    pss_after_mb: float = 0.0  # the same processes' PSS: shared pages counted once
    ready_s: list[float] = field(default_factory=list)  # fork -> ready, per worker
    ready_cpu_s: list[float] = field(default_factory=list)  # the CPU seconds of the same

    def runs(self, name: str) -> list[Measured]:
        return self.scenarios.setdefault(name, [])


def run(url: str, *, seconds: int = 10, max_requests: int = 20000, connections: int = 2,
        scenarios: tuple[str, ...] = ("queue", "ticket", "dashboard", "file"),
        workers: int = 2, threads: int = 1, runs: int = 1, reference: bool = False,
        preload: bool = False) -> PageRuns:
    """Serve *url* with gunicorn and load each scenario in turn, *runs* times; with
    *reference*, the bare Flask route (bench.bare) first in each run, same settings."""
    subjects = pick_subjects(url)
    out = PageRuns()
    with contextlib.ExitStack() as stack:
        # The reference first, ready before the app's workers boot: they would share the
        # cores and their fork-to-ready times would count the other server's start.
        bare = (stack.enter_context(Gunicorn(url, workers=workers, app="bench.bare:app"))
                if reference else None)
        server = stack.enter_context(Gunicorn(url, workers=workers, preload=preload))
        base = server.base_url
        # Warm the workers (imports, caches, first connections) outside the measurement.
        sessions = {role: login(base, who) for role, who in
                    (("student", subjects.student), ("coordinator", subjects.coordinator),
                     ("staff", subjects.staff))}
        gets = {"queue": ("student", "/tickets/queue"),
                "ticket": ("student", f"/tickets/{subjects.ticket_id}"),
                "dashboard": ("coordinator", "/dashboard/"),
                "list": ("student", f"/tickets/?ward={subjects.ward_id}"),
                "api_list": ("api", f"/api/v1/tickets?ward_id={subjects.ward_id}"),
                "api_ticket": ("api", f"/api/v1/tickets/{subjects.ticket_id}")}
        if any(name.startswith("api_") for name in scenarios):
            token = {"Authorization": f"Bearer {make_api_token(url, subjects.ward_id)}"}
            sessions["api"] = requests.Session()
            sessions["api"].headers.update(token)
        wrk = dict(seconds=seconds, connections=connections, threads=threads,
                   max_requests=max_requests)
        for _ in range(runs):
            if bare is not None:
                out.bare.append(run_wrk("bare", bare.base_url + "/", "", **wrk))
            for name in scenarios:
                if name in gets:
                    out.runs(name).append(_run_get(name, gets[name], sessions, base, server, wrk))
                elif name == "file":
                    out.runs(name).append(_run_filing(url, base, sessions["staff"], server, wrk))
        out.rss_after_mb = process_tree_rss_kb(server.process.pid) / 1024
        tree = process_tree(server.process.pid)
        out.rss_each_mb = [process_rss_kb(pid) / 1024 for pid in tree]
        out.pss_after_mb = sum(process_pss_kb(pid) for pid in tree) / 1024
        out.ready_s = list(server.ready_seconds().values())
        out.ready_s.append(server.replace_a_worker())
        out.ready_cpu_s = list(server.ready_seconds(cpu=True).values())
    return out


def _run_get(name: str, role_path: tuple[str, str], sessions: dict[str, requests.Session],
             base: str, server: Gunicorn, wrk: dict[str, int]) -> Measured:
    role, path = role_path
    for _ in range(4):
        r = sessions[role].get(base + path, timeout=60, allow_redirects=False)
        if r.status_code != 200:
            raise RuntimeError(f"{name}: {path} answered HTTP {r.status_code}")
    api = role == "api"
    with MemoryWatcher(server.process.pid) as memory:
        result = run_wrk(name, base + path, "" if api else cookie_header(sessions[role]),
                         extra_headers={"Authorization": sessions["api"].headers["Authorization"]}
                         if api else None, **wrk)
    return Measured(result, memory.peak_kb / 1024)


def _run_filing(url: str, base: str, session: requests.Session, server: Gunicorn,
                wrk: dict[str, int]) -> Measured:
    path = f"/tickets/new/{FILE_CATEGORY}"
    page = session.get(base + path, timeout=60)
    page.raise_for_status()
    fields = post_form_fields(page.text)
    fields["title"] = "Máy in quầy 2 kẹt giấy (đo tải)"
    fields["description"] = "Giấy kẹt ở khay 2, đã thử rút ra nhưng không được."
    # A trial filing through requests: it must redirect to the confirmation page.
    trial = session.post(base + path, data=fields, timeout=60, allow_redirects=False)
    if trial.status_code != 302 or "/filed" not in trial.headers.get("Location", ""):
        raise RuntimeError(f"filing failed: HTTP {trial.status_code}; fields {sorted(fields)}")
    # Every filing a new form: the form key says "the same filing again" otherwise
    # (a prefix of this run's own: the runs after the first would repeat the keys).
    fields["form_key"] = f"r{secrets.token_hex(4)}__UNIQUE__"
    body = urllib.parse.urlencode(fields)
    before = count_tickets(url)
    with MemoryWatcher(server.process.pid) as memory:
        result = run_wrk("file", base + path, cookie_header(session), method="POST", body=body,
                         content_type="application/x-www-form-urlencoded",
                         ok_status=(302,), **wrk)
    # wrk stops with up to one request in flight per connection: the server still files it.
    created = count_tickets(url) - before
    answered_ok = result.requests - result.errors
    note = ""
    if created < answered_ok:
        note = f"only {created} tickets created for {answered_ok} successful filings"
        result.errors += answered_ok - created
    elif created > result.requests + wrk["connections"]:
        note = f"{created} tickets created for {result.requests} filings"
        result.errors += created - result.requests - wrk["connections"]
    return Measured(result, memory.peak_kb / 1024, note, {"created": created})


def analyze(url: str) -> None:
    """Fresh planner statistics after a run that filed tickets."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
