"""The database goes away: pages still answer, in the right language, and nothing typed is lost.

The outage is real: a logged-in browser session (its cookies) is carried over to the same
deployment whose database can no longer be reached: on SQLite the database file has been
replaced by something that cannot be opened, on PostgreSQL the server's port is closed.
Each failed request must log one line, not a storm of chained tracebacks.
"""

from __future__ import annotations

import logging
import socket

import pytest
from sqlalchemy.engine import make_url

from tests.webapp.conftest import World

UNAVAILABLE_VI = "Không kết nối được cơ sở dữ liệu"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: refused


@pytest.fixture
def dead_url(database, tmp_path) -> str:
    if database.kind == "sqlite":
        gone = tmp_path / "helpdesk.db"
        gone.mkdir()  # the database file was replaced: SQLite cannot open it
        return f"sqlite:///{gone}"
    return make_url(database.url).set(port=_closed_port()).render_as_string(
        hide_password=False)


@pytest.fixture
def down(app, client, dead_url, tmp_path):
    """``down()``: a test client of the same deployment with the database gone, carrying
    *client*'s cookies (its login, its language)."""
    from webapp import create_app
    from webapp.extensions import db
    config = {k: app.config[k] for k in ("TESTING", "SECRET_KEY", "WTF_CSRF_ENABLED",
                                         "RATELIMIT_ENABLED", "UPLOAD_FOLDER", "NOW",
                                         "SCHEDULER_EXPECTED")}
    dead_app = create_app({**config, "DATABASE_URL": dead_url})

    def carry_over():
        dead = dead_app.test_client()
        for name in ("session", "remember_token"):
            cookie = client.get_cookie(name)
            if cookie is not None:
                dead.set_cookie(name, cookie.value)
        return dead
    yield carry_over
    with dead_app.app_context():
        db.session.remove()
        db.engine.dispose()


def _problems(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def _assert_one_line(caplog) -> None:
    problems = _problems(caplog)
    assert len(problems) == 1, [r.getMessage() for r in problems]
    assert problems[0].exc_info is None and "Traceback" not in problems[0].getMessage()


def test_a_logged_in_page_answers_503_in_vietnamese_with_one_log_line(
        login, down, caplog):
    login("student_a")
    dead = down()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = dead.get("/tickets/queue")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE_VI in page and "Traceback" not in page
    assert response.headers["Cache-Control"] == "no-store"
    _assert_one_line(caplog)


def test_the_error_page_keeps_the_language_chosen_in_the_session(client, down, caplog):
    client.post("/language/en")
    dead = down()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = dead.post("/login", data={"login": "someone", "password": "x" * 10})
    assert response.status_code == 503
    assert "The database cannot be reached" in response.get_data(as_text=True)
    _assert_one_line(caplog)


def test_filing_during_an_outage_comes_back_with_everything_typed(
        login, down, caplog):
    login("staff_a")
    dead = down()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = dead.post("/tickets/new/printer", data={
            "title": "Máy in quầy 1 kẹt giấy liên tục",
            "description": "Công dân đang chờ lấy bản sao",
            "citizen_waiting": "y", "asset": "7",
            "triage-symptom": "paper_jam", "triage-connection": "network",
            "triage-error_code": "13.B2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE_VI in page
    assert 'value="Máy in quầy 1 kẹt giấy liên tục"' in page
    assert "Công dân đang chờ lấy bản sao</textarea>" in page
    assert 'value="13.B2"' in page
    assert '<option selected value="paper_jam">' in page
    assert '<input checked id="citizen_waiting"' in page
    assert '<option selected value="7">' in page  # the device chosen stays chosen
    assert 'class="card file-form"' in page  # the real form, to send again as it is
    _assert_one_line(caplog)


def test_a_comment_during_an_outage_comes_back_with_its_text(
        login, down, caplog, world: World):
    login("student_a")
    dead = down()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = dead.post(f"/tickets/{world.ticket_a}/comment",
                             data={"body": "Đã thay dây mạng, chờ kiểm tra lại", "internal": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE_VI in page
    assert "Đã thay dây mạng, chờ kiểm tra lại</textarea>" in page
    assert f'action="/tickets/{world.ticket_a}/comment"' in page
    _assert_one_line(caplog)


def test_a_resolution_note_during_an_outage_comes_back(login, down, caplog, world: World):
    login("student_a")
    dead = down()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = dead.post(f"/tickets/{world.ticket_a}/do/resolve",
                             data={"resolve-reason": "Đã khởi động lại bộ định tuyến"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE_VI in page
    assert "Đã khởi động lại bộ định tuyến</textarea>" in page
    assert 'name="resolve-reason"' in page and 'name="csrf_token"' in page
    _assert_one_line(caplog)


def test_a_resolution_note_sent_by_htmx_during_an_outage_takes_the_tab(login, down, caplog,
                                                                       world: World):
    """htmx would swap the answer into the ticket: the kept form takes the page's body."""
    login("student_a")
    dead = down()
    with caplog.at_level(logging.INFO):
        response = dead.post(f"/tickets/{world.ticket_a}/do/resolve",
                             data={"resolve-reason": "Đã khởi động lại bộ định tuyến"},
                             headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert response.headers["HX-Retarget"] == "body"
    assert "Đã khởi động lại bộ định tuyến</textarea>" in response.get_data(as_text=True)


def test_healthz_reports_the_outage(down, caplog):
    dead = down()
    for path in ("/healthz", "/healthz/web"):
        response = dead.get(path)
        assert response.status_code == 503
        assert response.get_json()["status"] == "down"


def test_a_real_bug_still_logs_one_traceback(app, client, login, caplog):
    def broken():
        raise RuntimeError("a bug")
    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    login("staff_a")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get("/broken-for-test")
    assert response.status_code == 500
    problems = _problems(caplog)
    assert len(problems) == 1 and problems[0].exc_info is not None


def test_a_connection_cut_while_filing_keeps_the_form(app, client, database, login, caplog):
    """PostgreSQL drops the connection in the middle of the filing transaction."""
    if database.kind != "postgresql":
        pytest.skip("a SQLite file has no server connection to cut")
    from sqlalchemy import event, text

    from webapp.extensions import db
    login("staff_a")
    with app.app_context():
        engine = db.engine
    cut = []

    def cut_the_connection(conn, cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO TICKET ") and not cut:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with database.engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            cut.append(pid)
    event.listen(engine, "before_cursor_execute", cut_the_connection)
    try:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = client.post("/tickets/new/network", data={
                "title": "Mất mạng toàn bộ quầy", "triage-scope": "one_room",
                "triage-connection": "wifi", "triage-what_fails": "internet"})
    finally:
        event.remove(engine, "before_cursor_execute", cut_the_connection)
    assert cut, "the filing never reached its INSERT"
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page
    assert UNAVAILABLE_VI in page and 'value="Mất mạng toàn bộ quầy"' in page
    assert '<option selected value="wifi">' in page
    _assert_one_line(caplog)
    # The database is back: the same form goes through.
    response = client.post("/tickets/new/network", data={
        "title": "Mất mạng toàn bộ quầy", "triage-scope": "one_room",
        "triage-connection": "wifi", "triage-what_fails": "internet"})
    assert response.status_code == 302
