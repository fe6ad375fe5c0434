"""The intake case end to end: the 1022 hotline's system files a ticket for a ward, then
follows it (by number and by id, with its history) while the helpdesk works it."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk_core.models import AccessRecord, Source, Ticket, TicketEvent

PRINTER_ANSWERS = {"symptom": "paper_jam", "device": "Quầy 3, Canon LBP 2900",
                   "connection": "usb", "affected": "one_pc", "blocks_counter": True}


def test_hotline_files_and_follows_a_ticket(app, client, world, bearer, login):
    from webapp.extensions import db
    filed = client.post("/api/v1/tickets", headers=bearer, json={
        "ward_id": world.ward_a, "category": "printer",
        "title": "Máy in quầy 3 kẹt giấy, công dân gọi 0905 123 456",
        "description": "CCCD 048090001234 của công dân bị kẹt trong máy.",
        "urgency": "citizen_waiting", "triage": PRINTER_ANSWERS})
    assert filed.status_code == 201, filed.get_json()
    ticket = filed.get_json()
    assert filed.headers["Location"].endswith(f"/api/v1/tickets/{ticket['id']}")
    assert ticket["source"] == Source.API and ticket["status"] == "new"
    assert ticket["ward"]["id"] == world.ward_a
    # Personal data is masked exactly as on the web (the service does it at filing).
    assert "0905 123 456" not in ticket["title"] and "048090001234" not in ticket["description"]
    assert ticket["triage"]["symptom"] == "paper_jam"
    assert ticket["citizen_waiting"] is True

    # Polling by number, then by id.
    by_number = client.get(f"/api/v1/tickets?number={ticket['number']}", headers=bearer)
    assert [t["id"] for t in by_number.get_json()["items"]] == [ticket["id"]]
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer).status_code == 200

    # A student of the ward claims it on the web; the hotline sees the change.
    login("student_a")
    assert client.post(f"/tickets/{ticket['id']}/do/claim").status_code == 302
    client.post("/logout")
    polled = client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer).get_json()
    assert polled["status"] == "assigned" and polled["assigned"] is True

    # The hotline adds what the citizen said on the phone, then the history shows all.
    commented = client.post(f"/api/v1/tickets/{ticket['id']}/comments", headers=bearer,
                            json={"body": "Công dân gọi lại: vẫn kẹt, số 0911222333."})
    assert commented.status_code == 201
    assert "0911222333" not in commented.get_json()["body"]
    events = client.get(f"/api/v1/tickets/{ticket['id']}/events", headers=bearer).get_json()
    kinds = [(e["kind"], e["via"]) for e in events["items"]]
    assert ("filed", "Tổng đài 1022") in kinds and ("comment", "Tổng đài 1022") in kinds
    assert ("status", None) in kinds  # the student's claim
    claim = next(e for e in events["items"] if e["kind"] == "status")
    assert claim["actor"] and claim["new_value"] == "assigned"

    with app.app_context():
        stored = db.session.get(Ticket, ticket["id"])
        recorded = db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == stored.id, TicketEvent.kind == "filed")).one()
        assert recorded.actor_id is None and recorded.data["via"]["integration"] == "Tổng đài 1022"
        # Each read of the ticket by the integration is in the access log.
        reads = db.session.scalars(select(AccessRecord).where(
            AccessRecord.ticket_id == stored.id)).all()
        assert len(reads) == 2 and all(r.details["integration"] == "Tổng đài 1022"
                                       for r in reads)


def test_the_system_actions_are_recorded_with_the_token(app, client, world, bearer):
    resolved = client.post(f"/api/v1/tickets/{world.ticket_a}/actions", headers=bearer,
                           json={"action": "resolve", "reason": "Thành phố đã khắc phục."})
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "resolved"
    events = client.get(f"/api/v1/tickets/{world.ticket_a}/events", headers=bearer).get_json()
    last = events["items"][-1]
    assert (last["kind"], last["new_value"], last["via"]) == ("status", "resolved", "Tổng đài 1022")
    # Not the system's to do: confirming is the ward's.
    refused = client.post(f"/api/v1/tickets/{world.ticket_a}/actions", headers=bearer,
                          json={"action": "confirm"})
    assert refused.status_code == 422


def test_an_idempotency_key_files_once(client, world, bearer):
    body = {"ward_id": world.ward_a, "category": "printer", "title": "Máy in kẹt giấy",
            "triage": PRINTER_ANSWERS}
    headers = {**bearer, "Idempotency-Key": "1022-call-778899"}
    first = client.post("/api/v1/tickets", headers=headers, json=body)
    again = client.post("/api/v1/tickets", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]


def test_the_ticket_page_names_the_integration(client, world, bearer, login):
    client.post(f"/api/v1/tickets/{world.ticket_a}/comments", headers=bearer,
                json={"body": "Công dân gọi lại lần hai."})
    login("staff_a")
    page = client.get(f"/tickets/{world.ticket_a}").get_data(as_text=True)
    assert "Hệ thống · Tổng đài 1022" in page
