"""Migration 0012 puts existing placements into a default batch and turns their
university names into universities; the new role is allowed; a downgrade undoes it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text

from helpdesk_core.db import make_engine

from .test_migrations import empty_database_url  # noqa: F401  (fixture: both engines)


def test_placements_move_into_a_default_batch(empty_database_url):  # noqa: F811
    from webapp import create_app
    app = create_app({"DATABASE_URL": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    runner = app.test_cli_runner()
    engine = make_engine(empty_database_url)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    try:
        assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
        with engine.begin() as conn:
            for code in ("HC", "ST"):
                conn.execute(text("INSERT INTO ward (code, name, address, morning_start, "
                                  "morning_end, afternoon_start, afternoon_end, "
                                  "saturday_morning, auto_assign, active, created_at) VALUES "
                                  "(:c, :c, '', '07:30', '11:30', '13:30', '17:00', false, "
                                  "false, true, :now)"), {"c": code, "now": now})
            wards = dict(conn.execute(text("SELECT code, id FROM ward")).all())
            for n in range(3):
                conn.execute(text(
                    "INSERT INTO user_account (login, name, password_hash, role, locale, email, "
                    "phone, active, session_version, created_at) VALUES (:l, :l, 'x', "
                    "'student', 'vi', '', '', true, 1, :now)"), {"l": f"sv{n}", "now": now})
            ids = conn.execute(text("SELECT id FROM user_account ORDER BY id")).scalars().all()
            rows = [(ids[0], wards["HC"], "Đại học Duy Tân", "2025-08-18", "2025-10-31"),
                    (ids[1], wards["ST"], "Đại học FPT", "2025-09-01", "2025-12-15"),
                    (ids[2], wards["HC"], "Đại học Duy Tân", "2025-08-25", "2025-11-30")]
            for student, ward, uni, start, end in rows:
                conn.execute(text(
                    "INSERT INTO student_assignment (student_id, ward_id, university, starts_on, "
                    "ends_on, on_duty) VALUES (:s, :w, :u, :a, :b, true)"),
                    {"s": student, "w": ward, "u": uni, "a": dt.date.fromisoformat(start),
                     "b": dt.date.fromisoformat(end)})
        assert runner.invoke(args=["db", "upgrade", "0012"]).exit_code == 0
        with engine.begin() as conn:
            batch = conn.execute(text("SELECT id, starts_on, ends_on FROM batch")).one()
            assert str(batch[1])[:10] == "2025-08-18" and str(batch[2])[:10] == "2025-12-15"
            served = set(conn.execute(text("SELECT ward_id FROM batch_ward")).scalars())
            assert served == set(wards.values())
            unis = dict(conn.execute(text("SELECT name, id FROM university")).all())
            assert set(unis) == {"Đại học Duy Tân", "Đại học FPT"}
            placed = conn.execute(text("SELECT batch_id, university, university_id "
                                       "FROM student_assignment")).all()
            assert len(placed) == 3 and {p[0] for p in placed} == {batch[0]}
            assert all(unis[name] == uid for _, name, uid in placed)
            conn.execute(text(
                "INSERT INTO user_account (login, name, password_hash, role, locale, email, "
                "phone, active, session_version, created_at, university_id) VALUES "
                "('dtu', 'DTU', 'x', 'university', 'vi', '', '', true, 1, :now, :u)"),
                {"now": now, "u": unis["Đại học Duy Tân"]})
        assert runner.invoke(args=["db", "downgrade", "0010"]).exit_code == 0
        assert not inspect(engine).has_table("batch")
        columns = {c["name"] for c in inspect(engine).get_columns("student_assignment")}
        assert "batch_id" not in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM student_assignment")).scalar() == 3
    finally:
        engine.dispose()
        from webapp.extensions import db
        with app.app_context():
            db.engine.dispose()
