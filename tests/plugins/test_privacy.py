"""Citizen ID and phone numbers typed into any free text of any ticket are masked when
stored and when shown; numbers that only look alike are left alone."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re

import pytest
from sqlalchemy import select
from wtforms import (BooleanField, DateField, DecimalField, FloatField, IntegerField,
                     PasswordField, SelectField, SelectMultipleField, StringField)
from wtforms.validators import NumberRange

from helpdesk_core import ENTRY_POINT_GROUP, mask_personal_data
from helpdesk_core.models import Role, Ticket, TicketEvent
from helpdesk_core.privacy import mask_in
from helpdesk_core.services import tickets
from tests.factories import PASSWORD, make_student, make_user, make_ward

# --- the masking function ------------------------------------------------------------


@pytest.mark.parametrize("text, masked", [
    ("CCCD 048095012345", "CCCD ••••••••2345"),
    ("cccd:048095012345.", "cccd:••••••••2345."),
    ("so 048 095 012 345", "so ••• ••• ••2 345"),
    ("048.095.012.345", "•••.•••.••2.345"),
    ("048-095-012-345", "•••-•••-••2-345"),
    ("048 2 95 012345", "••• • •• ••2345"),
    ("048  095  012  345", "•••  •••  ••2  345"),
    ("048 - 095 - 012 - 345", "••• - ••• - ••2 - 345"),
    ("0482\u00a09501\u00a02345", "••••\u00a0••••\u00a02345"),
    ("0905123456", "•••••••456"),
    ("0905.123.456", "••••.•••.456"),
    ("0905 123 456", "•••• ••• 456"),
    ("090-512-3456", "•••-•••-•456"),
    ("+84 90 512 3456", "+•• •• ••• •456"),
    ("+84905123456", "+••••••••456"),
    ("(+84) 905 123 456", "(+••) ••• ••• 456"),
    ("84905123456", "••••••••456"),
    ("0084 905 123 456", "•••• ••• ••• 456"),
    ("sđt0905123456", "sđt•••••••456"),
    ("0236 3821 234", "•••• •••• 234"),
    ("02363821234", "••••••••234"),
    ("gọi 0905123456, 0912345678", "gọi •••••••456, •••••••678"),
])
def test_masks_ids_and_phones_in_the_forms_people_type(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "HKH-2026-00042", "Xem HKH-2026-00042 và STR-2025-12345",
    "10/03/2026", "10.03.2026 09.00", "2026-03-10 09:00:00", "10-03-2026",
    "192.168.100.200", "10.0.0.1:631", "172.16.0.0/12", "ipp://192.168.1.20:631/ipp/print",
    "0x0000011b", "lỗi 0x80070005", "mã 0x00000709 khi in",
    "in 12 bản", "Số hồ sơ 000.00.12.H17-260310-0001", "thủ tục 1.013995",
    "lệ phí 120.000.000.000 đồng", "0123456789", "Mã lỗi 13.B2", "máy HP M404dn",
    "", "Không có số nào",
])
def test_leaves_ordinary_numbers_alone(text):
    assert mask_personal_data(text) == text


def test_ordinary_numbers_survive_next_to_masked_ones():
    text = ("Máy 192.168.1.20 lỗi 0x0000011b từ 10/03/2026, phiếu HKH-2026-00042; "
            "công dân CCCD 048095012345, ĐT 0905.123.456")
    assert mask_personal_data(text) == (
        "Máy 192.168.1.20 lỗi 0x0000011b từ 10/03/2026, phiếu HKH-2026-00042; "
        "công dân CCCD ••••••••2345, ĐT ••••.•••.456")


def test_mask_in_walks_json_like_values():
    value = {"a": "0905123456", "b": ["048095012345", 7, None], "c": {"d": True}}
    assert mask_in(value) == {"a": "•••••••456", "b": ["••••••••2345", 7, None],
                              "c": {"d": True}}


# --- every free text of every ticket, stored and shown ------------------------------

# Every category of the built-in plugins (one plugin may have several: egov has four).
BUILTIN_CATEGORIES = sorted(
    category.key for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    if ep.value.startswith("plugins.")
    for category in getattr(ep.load(), "helpdesk_register_categories", list)())
PII = "CCCD 048095012345 ĐT 0905.123.456"
RAW = ["048095012345", "0905.123.456", "0905123456"]
OTHER_PII = "số 048 095 012 345, +84 90 512 3456"
OTHER_RAW = ["048 095 012 345", "048095012345", "+84 90 512 3456", "84905123456"]


def _is_free_text(field) -> bool:
    return isinstance(field, StringField)


def _valid_value(field):
    if isinstance(field, SelectMultipleField):
        return [next(c[0] for c in field.iter_choices() if c[0])]
    if isinstance(field, SelectField):
        return next(c[0] for c in field.iter_choices() if c[0])
    if isinstance(field, BooleanField):
        return True
    if isinstance(field, (IntegerField, DecimalField, FloatField)):
        low = [v.min for v in field.validators if isinstance(v, NumberRange) and v.min is not None]
        return low[0] if low else 1
    if isinstance(field, DateField):
        return "2026-03-10"
    return None


def triage_with_pii(registry, category: str) -> tuple[dict, list[str]]:
    """Valid triage answers with PII in every free-text field that accepts free text."""
    form_class = registry.triage_form(category)
    if form_class is None:
        return {}, []
    form = form_class(meta={"csrf": False})
    assert not any(isinstance(f, PasswordField) for f in form), category
    data, free = {}, []
    for field in form:
        if _is_free_text(field):
            data[field.name] = PII
            free.append(field.name)
        else:
            value = _valid_value(field)
            if value is not None:
                data[field.name] = value
    checked = form_class(data=data, meta={"csrf": False})
    if not checked.validate():
        # A field that refuses the text (e.g. "last 4 digits", an IP address) cannot
        # store it: fine. Give it a value of the shape it wants instead.
        for name in checked.errors:
            assert name in free, (category, checked.errors)
            free.remove(name)
            for candidate in ("", "192.168.1.10", "2345", "1", "10:00", "2026-03-10", "x"):
                data[name] = candidate
                trial = form_class(data=data, meta={"csrf": False})
                if not trial.validate() and name in trial.errors:
                    continue
                break
        final = form_class(data=data, meta={"csrf": False})
        assert final.validate(), (category, final.errors)
    return data, free


def stored_text(session) -> str:
    """Every text value of every ticket and event row, as stored."""
    parts = []
    for ticket in session.scalars(select(Ticket)):
        parts += [ticket.title, ticket.description, ticket.priority_reason or "",
                  ticket.search_text or "", repr(ticket.triage)]
    for event in session.scalars(select(TicketEvent)):
        parts += [event.body or "", event.old_value or "", event.new_value or "",
                  repr(event.data)]
    return "\n".join(parts)


def assert_no_pii(text: str) -> None:
    for raw in RAW + OTHER_RAW:
        assert raw not in text, raw
    digits = re.sub(r"\D", "", text)
    assert "048095012345" not in digits and "905123456" not in digits


def test_every_category_has_free_text_covered(registry):
    assert set(registry.categories) == set(BUILTIN_CATEGORIES)
    # The test below is only worth something if it reaches real free-text fields.
    covered = {cat: triage_with_pii(registry, cat)[1] for cat in registry.categories}
    assert covered["vneid"] == ["error_text"]
    assert sum(len(fields) for fields in covered.values()) >= 3, covered


@pytest.mark.parametrize("category", BUILTIN_CATEGORIES)
def test_pii_in_any_free_text_is_masked_when_stored(db_session, registry, now, category):
    assert category in registry.categories
    today = now.date()
    ward = make_ward(db_session)
    staff = make_user(db_session, Role.STAFF, ward=ward)
    student = make_student(db_session, ward, today)
    coordinator = make_user(db_session, Role.COORDINATOR)
    triage, free = triage_with_pii(registry, category)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category=category,
                                 title=f"Lỗi {PII}", description=f"Mô tả {OTHER_PII}",
                                 triage=triage, reporter=staff, now=now,
                                 priority_override=1, override_reason=f"Gấp {PII}")
    for name in free:
        assert ticket.triage[name] == "CCCD ••••••••2345 ĐT ••••.•••.456", name
    tickets.comment(db_session, registry, ticket, staff, f"Bình luận {OTHER_PII}", now)
    tickets.perform(db_session, registry, ticket, student, "claim", now)
    tickets.perform(db_session, registry, ticket, student, "start", now)
    tickets.comment(db_session, registry, ticket, student, f"Nội bộ {PII}", now, internal=True)
    tickets.perform(db_session, registry, ticket, student, "wait_reporter", now,
                    reason=f"Chờ {PII}")
    tickets.perform(db_session, registry, ticket, student, "resume", now)
    tickets.perform(db_session, registry, ticket, student, "wait_vendor", now,
                    reason=f"Nhà cung cấp {OTHER_PII}")
    tickets.perform(db_session, registry, ticket, student, "resume", now)
    tickets.change_priority(db_session, registry, ticket, coordinator, 2,
                            f"Hạ mức {OTHER_PII}", now)
    tickets.perform(db_session, registry, ticket, student, "escalate", now,
                    reason=f"Chuyển {PII}")
    tickets.perform(db_session, registry, ticket, student, "resolve", now,
                    reason=f"Đã xong {PII}")
    tickets.perform(db_session, registry, ticket, staff, "reopen", now,
                    reason=f"Chưa xong {OTHER_PII}")
    second = tickets.file_ticket(db_session, registry, ward=ward, category=category,
                                 title="Phiếu thứ hai", triage=triage, reporter=staff, now=now)
    tickets.perform(db_session, registry, second, staff, "cancel", now,
                    reason=f"Hủy {OTHER_PII}")
    tickets.commit(db_session)
    db_session.expire_all()

    text = stored_text(db_session)
    assert_no_pii(text)
    # The masks kept the last digits, so people can still tell numbers apart.
    assert text.count("••••••••2345") >= 4 and "456" in text
    bodies = [e.body for e in db_session.scalars(select(TicketEvent)) if e.body]
    assert len(bodies) >= 9 and all("•" in b for b in bodies), bodies


def test_ticket_page_shows_only_the_last_digits(app, client):
    from webapp.extensions import db
    with app.app_context():
        registry = app.extensions["helpdesk"]
        ward = make_ward(db.session)
        staff = make_user(db.session, Role.STAFF, ward=ward)
        now = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.timezone.utc)
        triage, free = triage_with_pii(registry, "vneid")
        ticket = tickets.file_ticket(
            db.session, registry, ward=ward, category="vneid", title=f"VNeID {PII}",
            description=f"Công dân {OTHER_PII}; máy 192.168.1.20, lỗi 0x0000011b",
            triage=triage, reporter=staff, now=now)
        tickets.comment(db.session, registry, ticket, staff, f"Gọi lại {PII}", now)
        tickets.commit(db.session)
        ticket_id, number, login = ticket.id, ticket.number, staff.login
    client.post("/login", data={"login": login, "password": PASSWORD})
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert_no_pii(html)
    assert "••••••••2345" in html and "••••.•••.456" in html
    assert "192.168.1.20" in html and "0x0000011b" in html and number in html
    listing = client.get("/tickets/?status=").get_data(as_text=True)
    assert number in listing
    assert_no_pii(listing)


# --- properties ----------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

@settings(max_examples=100, deadline=None)
@given(digits=st.text("0123456789", min_size=11, max_size=11),
       groups=st.sampled_from([(12,), (3, 3, 3, 3), (4, 4, 4), (3, 1, 2, 6), (6, 6), (3, 9)]),
       sep=st.sampled_from([" ", ".", "-", "  ", " - ", "\u00a0"]),
       before=st.sampled_from(["", "CCCD ", "số: ", "(", "cccd"]),
       after=st.sampled_from(["", ".", ", ", ")", " ok", " ngày 10/03/2026"]))
def test_any_written_citizen_id_keeps_only_its_last_four_digits(digits, groups, sep, before,
                                                                after):
    number, parts, at = "0" + digits, [], 0
    for size in groups:
        parts.append(number[at:at + size])
        at += size
    text = before + sep.join(parts) + after
    masked = mask_personal_data(text)
    assert re.sub(r"\D", "", masked) == number[-4:] + re.sub(r"\D", "", after)
    assert len(masked) == len(text)


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_masking_is_idempotent_and_keeps_the_length(text):
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
    assert len(once) == len(text)
