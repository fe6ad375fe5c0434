"""The city-wide incident rules, as tables of cases (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from helpdesk_core.services.incident_rules import (IncidentPolicy, ServiceCheck, TicketSignal,
                                                   error_text, match_text, service_state,
                                                   suggest)

NOW = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.timezone.utc)
AGO = lambda minutes: NOW - dt.timedelta(minutes=minutes)  # noqa: E731


def down(ward, minutes=1):
    return ServiceCheck(ward, bad=True, failing=True, checked_at=AGO(minutes))


def first_bad(ward, minutes=1):  # one bad result: not confirmed yet
    return ServiceCheck(ward, bad=True, failing=False, checked_at=AGO(minutes))


def up(ward, minutes=1):
    return ServiceCheck(ward, bad=False, failing=False, checked_at=AGO(minutes))


@pytest.mark.parametrize("checks, incident, recovered, failing", [
    ([], False, True, set()),
    ([up(1), up(2), up(3)], False, True, set()),
    ([down(1), up(2), up(3)], False, False, {1}),            # one ward: its own problem
    ([down(1), down(2), up(3)], True, False, {1, 2}),        # K = 2 wards: city-wide
    ([down(1), first_bad(2)], False, False, {1}),            # the second is not confirmed
    ([down(1), down(1)], False, False, {1}),                 # two checks, one ward
    ([down(1), down(None)], True, False, {1, None}),         # the central server counts
    ([down(1), down(2, minutes=31)], False, False, {1}),     # stale result: ignored
    ([up(1), up(2), first_bad(3)], False, False, set()),     # still bad: not recovered
    ([up(1), down(2, minutes=45)], False, True, set()),      # only stale checks are bad
    ([ServiceCheck(1, True, True, None), up(2)], False, True, set()),  # never ran
])
def test_service_state(checks, incident, recovered, failing):
    state = service_state(checks, NOW)
    assert (state.incident, state.recovered, set(state.failing_wards)) == \
        (incident, recovered, failing)


def test_the_number_of_wards_and_the_window_are_settings():
    checks = [down(1), down(2, minutes=40)]
    assert not service_state(checks, NOW).incident
    assert service_state(checks, NOW, IncidentPolicy(check_window=dt.timedelta(hours=1))).incident
    assert not service_state([down(1), down(2)], NOW, IncidentPolicy(min_wards=3)).incident
    assert service_state([down(1)], NOW, IncidentPolicy(min_wards=1)).incident


@pytest.mark.parametrize("text, key", [
    ("Lỗi 502: Không kết nối được!", "loi khong ket noi duoc"),
    ("loi 503 khong ket noi duoc", "loi khong ket noi duoc"),
    ("  LỖI   đăng nhập VNeID (mã E-1021) ", "loi dang nhap vneid ma e"),
    ("Cổng DVC báo lỗi hệ thống đang bận vui lòng thử lại sau", "cong dvc bao loi he thong"),
    ("12345 !!!", ""),
    ("", ""),
])
def test_match_text(text, key):
    assert match_text(text) == key


@pytest.mark.parametrize("title, triage, expected", [
    ("Không nộp được hồ sơ", {"error_text": "Hệ thống đang bận"}, "Hệ thống đang bận"),
    ("Máy in kẹt giấy", {"error_code": "E-02", "since": "sáng nay"}, "E-02"),
    ("Máy in kẹt giấy", {"error_code": "  "}, "Máy in kẹt giấy"),
    ("Không nộp được hồ sơ", {}, "Không nộp được hồ sơ"),
    ("Không nộp được hồ sơ", None, "Không nộp được hồ sơ"),
])
def test_error_text(title, triage, expected):
    assert error_text(title, triage) == expected


def sig(ticket_id, ward, minutes, category="egov_portal", text="he thong dang ban"):
    return TicketSignal(ticket_id, ward, category, text, AGO(minutes))


@pytest.mark.parametrize("signals, groups", [
    ([], []),
    # N = 3 tickets in M = 2 wards within T = 30 minutes.
    ([sig(1, 1, 20), sig(2, 2, 10), sig(3, 1, 0)], [(1, 2, 3)]),
    ([sig(1, 1, 20), sig(2, 2, 10)], []),                                    # two tickets
    ([sig(1, 1, 20), sig(2, 1, 10), sig(3, 1, 0)], []),                      # one ward
    ([sig(1, 1, 50), sig(2, 2, 10), sig(3, 3, 0)], []),                      # spread over 50'
    ([sig(1, 1, 20), sig(2, 2, 10), sig(3, 3, 0, category="vneid")], []),    # other category
    ([sig(1, 1, 20), sig(2, 2, 10), sig(3, 3, 0, text="may in ket giay")], []),
    ([sig(1, 1, 20, text=""), sig(2, 2, 10, text=""), sig(3, 3, 0, text="")], []),
    # The busiest period wins: ticket 1 is too old for it.
    ([sig(1, 1, 90), sig(2, 2, 25), sig(3, 3, 20), sig(4, 1, 0)], [(2, 3, 4)]),
    # Two groups: the bigger first.
    ([sig(1, 1, 5), sig(2, 2, 4), sig(3, 3, 3),
      sig(4, 1, 5, category="vneid"), sig(5, 2, 4, category="vneid"),
      sig(6, 3, 3, category="vneid"), sig(7, 4, 2, category="vneid")],
     [(4, 5, 6, 7), (1, 2, 3)]),
])
def test_suggest(signals, groups):
    assert [s.ticket_ids for s in suggest(signals)] == groups


def test_suggestion_numbers_are_settings():
    signals = [sig(1, 1, 20), sig(2, 2, 10)]
    policy = IncidentPolicy(suggest_tickets=2, suggest_wards=2)
    [found] = suggest(signals, policy)
    assert found.key == "egov_portal:he thong dang ban"
    assert found.ward_ids == {1, 2} and found.first_at == AGO(20) and found.last_at == AGO(10)
    assert suggest(signals, IncidentPolicy(suggest_tickets=2, suggest_window=dt.timedelta(
        minutes=5))) == []
