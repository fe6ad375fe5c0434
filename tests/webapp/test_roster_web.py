"""The roster, skills and counter-help pages, on both engines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from helpdesk_core.models import ChangeStatus, CounterHelp, Shift, ShiftChange, Skill

TUESDAY = dt.date(2026, 3, 10)  # FIXED_NOW's local day


def _placement(app, world, who):
    from helpdesk_core.models import StudentAssignment
    from webapp.extensions import db
    with app.app_context():
        return db.session.scalar(select(StudentAssignment.id).where(
            StudentAssignment.student_id == world.user_ids[who]))


def test_coordinator_sets_a_shift_student_swaps_coordinator_approves(app, client, world, login):
    login("coordinator")
    page = client.get(f"/roster/{world.ward_a}")
    assert page.status_code == 200 and "Không có ai trực" in page.get_data(as_text=True)
    tuan = _placement(app, world, "student_a")
    response = client.post(f"/roster/{world.ward_a}/shifts", data={
        "shift-assignment": str(tuan), "shift-weekday": "3", "shift-part": "morning"})
    assert response.status_code == 302
    # A Sunday shift is refused with a message, nothing stored.
    refused = client.post(f"/roster/{world.ward_a}/shifts", data={
        "shift-assignment": str(tuan), "shift-weekday": "5", "shift-part": "afternoon"})
    assert refused.status_code == 400
    assert "Phường không làm việc" in refused.get_data(as_text=True)
    week = client.get(f"/roster/{world.ward_a}").get_data(as_text=True)
    assert "Võ Minh Tuấn" in week

    login("student_a")
    trang = world.user_ids["student_a2"]
    thursday = (TUESDAY + dt.timedelta(days=2)).strftime("%d/%m/%Y")
    response = client.post(f"/roster/{world.ward_a}/changes", data={
        "change-day": thursday, "change-part": "morning",
        "change-off": str(world.user_ids["student_a"]), "change-on": str(trang),
        "change-note": "Lịch thi, gọi 0905 123 456"})
    assert response.status_code == 302
    # Someone else's shift: the form refuses the choice.
    other = client.post(f"/roster/{world.ward_a}/changes", data={
        "change-day": thursday, "change-part": "morning", "change-off": str(trang),
        "change-on": str(world.user_ids["student_a"])})
    assert other.status_code == 400
    assert client.post(f"/roster/{world.ward_a}/shifts", data={
        "shift-assignment": str(tuan), "shift-weekday": "1", "shift-part": "morning"}
    ).status_code == 403
    from webapp.extensions import db
    with app.app_context():
        (change,) = db.session.scalars(select(ShiftChange)).all()
        assert change.status == ChangeStatus.PENDING and "0905 123 456" not in change.note
        change_id = change.id

    login("coordinator")
    response = client.post(f"/roster/{world.ward_a}/changes/{change_id}",
                           data={"decision": "approve"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ShiftChange, change_id).status == ChangeStatus.APPROVED
    again = client.post(f"/roster/{world.ward_a}/changes/{change_id}", data={"decision": "refuse"})
    assert again.status_code == 409

    login("staff_b")  # another ward's staff: not found
    assert client.get(f"/roster/{world.ward_a}").status_code == 404
    login("staff_a")  # the ward's staff see who is on duty, change nothing
    assert "Đặng Thu Trang" in client.get(f"/roster/{world.ward_a}").get_data(as_text=True)
    assert client.post(f"/roster/{world.ward_a}/changes", data={}).status_code == 403


def test_skills_are_declared_then_confirmed(app, client, world, login):
    login("student_a")
    response = client.post("/skills/", data={"category": ["printer", "vneid", "nonsense"]})
    assert response.status_code == 302
    assert "Chờ xác nhận" in client.get("/skills/").get_data(as_text=True)
    from webapp.extensions import db
    with app.app_context():
        rows = db.session.scalars(select(Skill).order_by(Skill.category)).all()
        assert [s.category for s in rows] == ["printer", "vneid"]
        skill_id = rows[0].id
    assert client.post(f"/skills/{skill_id}", data={"confirmed": "1"}).status_code == 403
    login("coordinator")
    page = client.get(f"/skills/?ward={world.ward_a}").get_data(as_text=True)
    assert "Võ Minh Tuấn" in page
    assert client.post(f"/skills/{skill_id}", data={"confirmed": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Skill, skill_id).confirmed_by_id == world.user_ids["coordinator"]
    login("staff_a")
    assert client.get("/skills/").status_code == 403


def test_counter_help_two_taps_from_the_queue(app, client, world, login):
    login("student_a")
    queue = client.get("/tickets/queue").get_data(as_text=True)
    assert 'href="/counter/"' in queue  # tap one
    page = client.get("/counter/").get_data(as_text=True)
    assert "Không nhập dữ liệu cá nhân" in page and 'value="vneid_level2"' in page
    # Tap two: the button's kind, one person by default.
    response = client.post("/counter/", data={"kind": "vneid_level2", "people": "1",
                                              "ward": str(world.ward_a), "note": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tickets/queue")
    response = client.post("/counter/", data={"kind": "printer", "people": "3",
                                              "ward": str(world.ward_a),
                                              "note": "CCCD 048095012345"})
    assert response.status_code == 302
    bad = client.post("/counter/", data={"kind": "juggling", "people": "0",
                                         "ward": str(world.ward_a), "note": "giữ nguyên"})
    assert bad.status_code == 400 and "giữ nguyên" in bad.get_data(as_text=True)
    from webapp.extensions import db
    with app.app_context():
        rows = db.session.scalars(select(CounterHelp).order_by(CounterHelp.id)).all()
        assert [(r.kind, r.people) for r in rows] == [("vneid_level2", 1), ("printer", 3)]
        assert "048095012345" not in rows[1].note
    mine = client.get("/counter/").get_data(as_text=True)
    assert 'id="my-counter-help"' in mine and "Kích hoạt VNeID mức 2" in mine
    login("coordinator")
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="counter-help-by-ward"' in dashboard and "Phường Hải Châu" in dashboard
    assert client.get("/counter/").status_code == 403


def test_dashboard_lists_tickets_waiting_with_nobody_on_duty(app, client, world, login):
    login("coordinator")
    page = client.get("/dashboard/").get_data(as_text=True)
    section = page.split('id="waiting-no-one-on-duty"')[1].split("</section>")[0]
    assert world.number_a in section and world.number_b in section
    from helpdesk_core.models import StudentAssignment
    from webapp.extensions import db
    with app.app_context():
        placement = db.session.scalar(select(StudentAssignment).where(
            StudentAssignment.ward_id == world.ward_a))
        db.session.add(Shift(assignment=placement, weekday=TUESDAY.weekday(), part="morning"))
        db.session.commit()
    page = client.get("/dashboard/").get_data(as_text=True)
    section = page.split('id="waiting-no-one-on-duty"')[1].split("</section>")[0]
    assert world.number_a not in section and world.number_b in section


def test_the_dashboard_lists_the_oldest_waiting_and_says_how_many(app, client, world, login,
                                                                  monkeypatch):
    import webapp.roster
    monkeypatch.setattr(webapp.roster, "DASHBOARD_WAITING_ROWS", 1)
    login("coordinator")
    page = client.get("/dashboard/").get_data(as_text=True)
    section = page.split('id="waiting-no-one-on-duty"')[1].split("</section>")[0]
    assert section.count("<tr data-ticket=") == 1
    assert 'id="waiting-more">Đang liệt kê 1 yêu cầu cũ nhất trong số 2.' in section


def test_the_demo_has_a_roster_skills_and_counter_help(app, runner):
    from helpdesk_core.models import User, Ward
    from tests.webapp.admin.conftest import login_as
    from webapp.extensions import db
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        assert db.session.query(Shift).count() == 25
        assert db.session.query(Skill).filter(Skill.confirmed_at.isnot(None)).count() == 5
        assert db.session.query(CounterHelp).count() == 6
        ward_id = db.session.scalar(select(Ward.id).where(Ward.code == "HCH"))
        coordinator = db.session.scalar(select(User.id).where(User.login == "dieuphoi"))
        db.session.remove()
    client = app.test_client()
    login_as(client, coordinator)
    # The demo places its students around the real date (the app's clock is frozen).
    this_week = dt.date.today().strftime("%d/%m/%Y")
    page = client.get(f"/roster/{ward_id}?start={this_week}").get_data(as_text=True)
    assert "Võ Minh Tuấn" in page and "Đặng Thu Trang" in page
