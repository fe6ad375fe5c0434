"""Demo data: three real Da Nang wards, their people, devices and tickets in every state.

Loaded by ``helpdesk demo``; running it again changes nothing. The demo health checks
watch real endpoints on this machine (the app's own /healthz, and a closed port), so a
newcomer sees the scheduler raise a ticket by itself within a few minutes. The national
public-service portal, watched from every ward, is down: one open city-wide incident.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calendar import DEFAULT_TIMEZONE
from .models import Asset, AssetCheck, Criticality, Role, Source, User, Ward
from .plugins import PluginRegistry
from .services import tickets as ticket_service
from .services import users

PASSWORD = "demo12345"
UNIVERSITIES = ("Đại học Duy Tân", "Đại học FPT Đà Nẵng", "Trường ĐH CNTT&TT Việt - Hàn")

WARDS = [
    ("HCH", "Phường Hải Châu", "Trung tâm Phục vụ hành chính công phường Hải Châu, TP. Đà Nẵng"),
    ("HKH", "Phường Hòa Khánh", "Trung tâm Phục vụ hành chính công phường Hòa Khánh, TP. Đà Nẵng"),
    ("STR", "Phường Sơn Trà", "Trung tâm Phục vụ hành chính công phường Sơn Trà, TP. Đà Nẵng"),
]

# login, role, ward code (staff and students), display name
PEOPLE = [
    ("quantri", Role.ADMIN, None, "Quản trị hệ thống"),
    ("dieuphoi", Role.COORDINATOR, None, "Nguyễn Thị Lan (Sở KH&CN)"),
    ("canbo.haichau", Role.STAFF, "HCH", "Trần Văn Minh"),
    ("canbo.hoakhanh", Role.STAFF, "HKH", "Lê Thị Hoa"),
    ("canbo.sontra", Role.STAFF, "STR", "Phạm Quốc Bảo"),
    ("sv.haichau1", Role.STUDENT, "HCH", "Võ Minh Tuấn"),
    ("sv.haichau2", Role.STUDENT, "HCH", "Đặng Thu Trang"),
    ("sv.hoakhanh1", Role.STUDENT, "HKH", "Huỳnh Gia Huy"),
    ("sv.hoakhanh2", Role.STUDENT, "HKH", "Ngô Bảo Ngọc"),
    ("sv.sontra1", Role.STUDENT, "STR", "Bùi Đức Anh"),
]

LOGINS = [
    ("canbo.haichau", "staff", "Phường Hải Châu"),
    ("sv.haichau1", "student", "Phường Hải Châu"),
    ("dieuphoi", "coordinator", "toàn thành phố"),
    ("quantri", "admin", "toàn thành phố"),
    ("dtu.dieuphoi", "university", "sinh viên Đại học Duy Tân"),
]


def load(session: Session, registry: PluginRegistry, base_url: str = "http://127.0.0.1:5000",
         now: dt.datetime | None = None) -> bool:
    """Load the demo data unless it is there already. Returns True if it created it."""
    if session.scalar(select(Ward).where(Ward.code == WARDS[0][0])) is not None:
        return False
    now = now or dt.datetime.now(dt.timezone.utc)
    wards = {code: Ward(code=code, name=name, address=address) for code, name, address in WARDS}
    session.add_all(wards.values())
    session.flush()

    # The demo password is public (README) and too easy for the password rule, on
    # purpose: the demo accounts get its hash directly, not through users.create_user.
    password_hash = users.hash_password(PASSWORD)
    people: dict[str, User] = {}
    for index, (login, role, code, name) in enumerate(PEOPLE):
        people[login] = User(login=login, name=name, password_hash=password_hash, role=role,
                             ward=wards[code] if role == Role.STAFF else None)
        session.add(people[login])
        session.flush()
        if role == Role.STUDENT:
            users.assign_student(session, people[login], wards[code],
                                 UNIVERSITIES[index % len(UNIVERSITIES)],
                                 starts_on=(now - dt.timedelta(days=60)).date(),
                                 ends_on=(now + dt.timedelta(days=120)).date())

    host = urlsplit(base_url).hostname or "127.0.0.1"
    assets: dict[str, Asset] = {}
    for code, ward in wards.items():
        printer = Asset(ward=ward, category="printer", kind="printer",
                        name=f"Máy in quầy 1 ({code})", location="Quầy tiếp nhận số 1",
                        vendor="HP", model="LaserJet Pro M404dn", serial=f"VNB{code}0001",
                        address=f"{host}:631", criticality=Criticality.HIGH)
        router = Asset(ward=ward, category="network", kind="router",
                       name=f"Modem internet ({code})", location="Phòng máy chủ",
                       vendor="VNPT", model="iGate GW040-H", address=host,
                       criticality=Criticality.CRITICAL)
        kiosk = Asset(ward=ward, category="kiosk", kind="queue_kiosk",
                      name=f"Máy bốc số thứ tự ({code})", location="Sảnh chờ",
                      vendor="QMS", address=f"{host}:9", criticality=Criticality.HIGH)
        session.add_all([printer, router, kiosk])
        assets[code + ":printer"], assets[code + ":router"], assets[code + ":kiosk"] = (
            printer, router, kiosk)
    # Real endpoints on this machine: the app itself (healthy) and a closed port (down).
    portal = Asset(ward=None, category="network", kind="service_endpoint",
                   name="Ward Helpdesk /healthz", address=base_url.rstrip("/") + "/healthz",
                   criticality=Criticality.NORMAL,
                   checks=[AssetCheck(check_type="http", config={"expect_status": 200},
                                      interval_seconds=60, failure_threshold=3)])
    # Stands in for a public service portal: the same check, with its keyword, on the app's
    # own login page (the real portals need the Internet).
    portal_page = Asset(ward=None, category="public_portal", kind="service_endpoint",
                        name="Cổng dịch vụ công (mô phỏng: trang đăng nhập)",
                        address=base_url.rstrip("/") + "/login", criticality=Criticality.NORMAL,
                        checks=[AssetCheck(check_type="egov_page",
                                           config={"keyword": "Đăng nhập",
                                                   "expect_status": 200},
                                           interval_seconds=300, failure_threshold=3)])
    # The national public-service portal as each ward reaches it (a shared service): a
    # closed port stands in for it being down, so the incident stays open while served.
    for code, ward in wards.items():
        assets[code + ":dvcqg"] = Asset(
            ward=ward, category="public_portal", kind="service_endpoint",
            name=f"Cổng dịch vụ công quốc gia ({code})", service_key="dvcqg",
            address=f"http://{host}:9/", criticality=Criticality.HIGH,
            checks=[AssetCheck(check_type="egov_page",
                               config={"keyword": "Dịch vụ công", "expect_status": 200},
                               interval_seconds=120, timeout_seconds=5, failure_threshold=3)])
        session.add(assets[code + ":dvcqg"])
    assets["HCH:kiosk"].checks.append(
        AssetCheck(check_type="tcp", config={"port": 9}, interval_seconds=60,
                   timeout_seconds=3, failure_threshold=3))
    session.add_all([portal, portal_page])
    session.flush()

    _demo_tickets(session, registry, wards, people, assets, now)
    _demo_incident(session, registry, wards, people, assets, now)
    _demo_programme(session, wards, people, password_hash, now)
    _demo_duty(session, registry, wards, people, now)
    session.commit()
    return True


def _demo_programme(session: Session, wards: dict[str, Ward], people: dict[str, User],
                    password_hash: str, now: dt.datetime) -> None:
    """Universities, the current batch (every placement above), a past batch for the
    end-of-batch evaluation and certificates, one university coordinator."""
    from .models import Evaluation, EvaluationScore, StudentAssignment
    from .services import batches
    orgs = {name: batches.save_university(session, None, code=code, name=name)
            for code, name in zip(("DTU", "FPT", "VKU"), UNIVERSITIES)}
    today = now.date()
    criteria = ("Tinh thần trách nhiệm, đúng giờ; 5\nKỹ năng xử lý sự cố; 10\n"
                "Hướng dẫn người dân (VNeID, dịch vụ công); 10\nGiao tiếp, thái độ phục vụ; 5")
    unit = "Sở Khoa học và Công nghệ thành phố Đà Nẵng"
    current = batches.save_batch(session, None, name="Đợt 2 – Chuyển đổi số phường, xã",
                                 starts_on=today - dt.timedelta(days=60),
                                 ends_on=today + dt.timedelta(days=120),
                                 wards=list(wards.values()), issuing_unit=unit, criteria=criteria)
    for placement in session.scalars(select(StudentAssignment)):
        placement.batch, placement.university_org = current, orgs.get(placement.university)
    past = batches.save_batch(session, None, name="Đợt 1 – Hỗ trợ sau sáp nhập",
                              starts_on=today - dt.timedelta(days=160),
                              ends_on=today - dt.timedelta(days=70),
                              wards=[wards["HCH"], wards["HKH"]], issuing_unit=unit,
                              criteria=criteria)
    for login, code, org in (("sv.haichau1", "HCH", UNIVERSITIES[0]),
                             ("sv.hoakhanh1", "HKH", UNIVERSITIES[0]),
                             ("sv.hoakhanh2", "HKH", UNIVERSITIES[1])):
        session.add(StudentAssignment(student=people[login], ward=wards[code], university=org,
                                      university_org=orgs[org], batch=past,
                                      starts_on=past.starts_on, ends_on=past.ends_on))
    # Hòa Khánh has evaluated its students of the past batch; Hải Châu not yet (try it
    # as canbo.haichau).
    for login, marks in (("sv.hoakhanh1", (5, 8, 9, 4)), ("sv.hoakhanh2", (4, 9, 7, 5))):
        evaluation = Evaluation(batch=past, student=people[login], ward=wards["HKH"],
                                evaluator=people["canbo.hoakhanh"], submitted_at=now,
                                comment="Nhiệt tình, hỗ trợ người dân tận tình.")
        evaluation.scores = [EvaluationScore(criterion=c, score=m)
                             for c, m in zip(past.criteria, marks)]
        session.add(evaluation)
    session.add(User(login="dtu.dieuphoi", name="Điều phối Đại học Duy Tân",
                     password_hash=password_hash, role=Role.UNIVERSITY,
                     university_id=orgs[UNIVERSITIES[0]].id))
    session.flush()


def _demo_tickets(session: Session, registry: PluginRegistry, wards: dict[str, Ward],
                  people: dict[str, User], assets: dict[str, Asset], now: dt.datetime) -> None:
    """A spread of tickets: new, claimed, in progress, waiting, escalated, resolved, closed."""
    day = dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)
    S = ticket_service

    def file(code: str, category: str, title: str, triage: dict, at: dt.datetime,
             urgency: str = "normal", impact: str = "person", asset: str | None = None,
             description: str = ""):
        return S.file_ticket(session, registry, ward=wards[code], category=category, title=title,
                             description=description, triage=triage, impact=impact,
                             urgency=urgency, reporter=people[_staff(code)],
                             asset=assets.get(f"{code}:{asset}") if asset else None,
                             source=Source.FRONT_DESK, now=at)

    printer_jam = {"symptom": "paper_jam", "connection": "network", "error_code": "13.B2"}
    no_net = {"scope": "whole_center", "connection": "wired", "what_fails": "internet",
              "since": "8 giờ sáng"}
    token = {"kind": "token", "error_text": "Không kết nối được phần mềm ký số Ban Cơ yếu"}
    vneid = {"level": "2", "step": "forgot_password", "phone_os": "android", "nfc": "yes",
             "chip_card": "yes", "citizen_waiting": True}

    # New, waiting in the queue.
    file("HCH", "printer", "Máy in quầy 1 kẹt giấy", printer_jam, now - 2 * hour,
         urgency="citizen_waiting", asset="printer",
         description="Công dân đang chờ nhận phiếu hẹn, máy báo kẹt giấy khay 2.")
    file("HKH", "vneid", "Công dân quên mật khẩu VNeID", vneid, now - 30 * dt.timedelta(minutes=1),
         description="Công dân không đăng nhập được VNeID để nộp hồ sơ trực tuyến.")
    file("STR", "network", "Mất mạng toàn bộ trung tâm", no_net, now - hour,
         urgency="today", impact="center", asset="router")
    # Claimed, not started yet.
    t = file("HCH", "printer", "Máy quét không quét được vào thư mục chung",
             {"symptom": "scan_to_folder", "connection": "network", "error_code": ""},
             now - 3 * hour, urgency="today", impact="several")
    S.perform(session, registry, t, people["sv.haichau2"], "claim", now - 2 * hour)
    # Claimed and in progress.
    t = file("HCH", "signing", "Không ký số được văn bản đi", token, now - day,
             urgency="today", impact="several")
    S.perform(session, registry, t, people["sv.haichau1"], "claim", now - day + hour)
    S.perform(session, registry, t, people["sv.haichau1"], "start", now - day + 2 * hour)
    S.choose_template(session, registry, t, people["sv.haichau1"], "token_not_recognized",
                      now - day + 2 * hour)
    S.tick_step(session, registry, t, people["sv.haichau1"], 0, True, now - day + 3 * hour)
    # Waiting on a vendor (clock paused).
    t = file("HKH", "printer", "Máy in mờ chữ, có vệt đen", {"symptom": "faded",
             "connection": "usb", "error_code": ""}, now - 3 * day)
    S.perform(session, registry, t, people["sv.hoakhanh1"], "claim", now - 3 * day + hour)
    S.perform(session, registry, t, people["sv.hoakhanh1"], "wait_vendor", now - 3 * day + 2 * hour,
              reason="Cần thay cụm trống (drum), đã báo nhà cung cấp.")
    # Escalated to the city hotline 1022.
    t = file("STR", "network", "Không truy cập được hệ thống một cửa",
             {"scope": "one_room", "connection": "wired", "what_fails": "internal", "since": ""},
             now - 2 * day, urgency="today", impact="several")
    S.perform(session, registry, t, people["sv.sontra1"], "claim", now - 2 * day + hour)
    S.perform(session, registry, t, people["sv.sontra1"], "escalate", now - 2 * day + 2 * hour,
              reason="Lỗi phía máy chủ thành phố, đã gọi 1022.")
    # Resolved, waiting for the staff member to confirm.
    t = file("HCH", "vneid", "Hướng dẫn công dân kích hoạt VNeID mức 2",
             {"level": "not_activated", "step": "activation", "phone_os": "ios", "nfc": "yes",
              "chip_card": "yes"}, now - 4 * day)
    S.perform(session, registry, t, people["sv.haichau2"], "claim", now - 4 * day + hour)
    S.perform(session, registry, t, people["sv.haichau2"], "resolve", now - 4 * day + 3 * hour,
              reason="Đã hướng dẫn công dân kích hoạt thành công trên ứng dụng.")
    # Closed after confirmation.
    t = file("HKH", "printer", "Máy in báo hết mực", {"symptom": "toner", "connection": "network",
             "error_code": ""}, now - 10 * day)
    S.perform(session, registry, t, people["sv.hoakhanh2"], "claim", now - 10 * day + hour)
    S.perform(session, registry, t, people["sv.hoakhanh2"], "resolve", now - 10 * day + 2 * hour,
              reason="Đã thay hộp mực mới.")
    S.perform(session, registry, t, people["canbo.hoakhanh"], "confirm", now - 9 * day)
    _egov_tickets(file, now)

    # Cancelled by the reporter.
    t = file("STR", "printer", "Máy in không in được", {"symptom": "offline",
             "connection": "usb", "error_code": ""}, now - 5 * day)
    S.perform(session, registry, t, people["canbo.sontra"], "cancel", now - 5 * day + hour,
              reason="Máy đã in lại được sau khi khởi động lại.")


def _egov_tickets(file, now: dt.datetime) -> None:
    """New tickets at the buttons of the kiosk, e-government and "other" plugins."""
    minute = dt.timedelta(minutes=1)
    file("HCH", "kiosk", "Máy bốc số không ra phiếu",
         {"unit": "kiosk", "symptom": "no_ticket", "all_counters": False, "since": "7 giờ 45"},
         now - 20 * minute, urgency="citizen_waiting", impact="center", asset="kiosk")
    file("HKH", "one_stop", "Không chuyển được hồ sơ sang bước thẩm định",
         {"step": "process", "procedure": "1.013995", "record_code": "000.00.25.H17-260310-0042",
          "browser": "chrome", "error_text": "Lỗi 500 khi bấm Chuyển xử lý"}, now - 90 * minute,
         urgency="today", impact="several")
    file("STR", "public_portal", "Công dân đăng nhập VNeID bị quay lại trang đăng nhập",
         {"portal": "national", "step": "login", "filer": "citizen", "browser": "chrome",
          "citizen_waiting": True}, now - 40 * minute, urgency="citizen_waiting")
    file("HCH", "documents", "Không phát hành được văn bản đi",
         {"system": "ioffice", "action": "send", "document": "125/UBND-VP",
          "error_text": "Không tìm thấy chữ ký số"}, now - 5 * dt.timedelta(hours=1))
    file("HKH", "smart_city", "Công dân không thấy giấy tờ trong kho dữ liệu",
         {"feature": "data_store", "phone": "android", "app_version": "3.2.1"},
         now - 3 * dt.timedelta(hours=1))
    file("STR", "other", "Máy chiếu phòng họp không nhận tín hiệu",
         {"kind": "device", "subject": "Máy chiếu Epson phòng họp"}, now - 6 * dt.timedelta(hours=1))


def _demo_incident(session: Session, registry: PluginRegistry, wards: dict[str, Ward],
                   people: dict[str, User], assets: dict[str, Asset],
                   now: dt.datetime) -> None:
    """The portal fails three times from Hải Châu and Hòa Khánh: the checks file the two
    wards' tickets and open one city-wide incident; a coordinator links a Sơn Trà clerk's
    ticket about it by hand. All through the services, as it happens when served."""
    from .contracts import CheckResult, CheckStatus
    from .services import health, incidents
    minute = dt.timedelta(minutes=1)
    down = CheckResult(CheckStatus.FAILURE, "Không kết nối được Cổng dịch vụ công quốc gia")
    for code in ("HCH", "HKH"):
        check = assets[code + ":dvcqg"].checks[0]
        for ago in (14, 12, 10):
            health.record_result(session, registry, check.id, down, None, now - ago * minute)
    (incident,) = incidents.open_incidents(session)
    ticket = ticket_service.file_ticket(
        session, registry, ward=wards["STR"], category="public_portal",
        title="Công dân không nộp được hồ sơ trên Cổng dịch vụ công quốc gia",
        description="Trang nộp hồ sơ không tải được, công dân đang chờ tại quầy.",
        triage={"portal": "national", "step": "attach", "filer": "citizen",
                "browser": "chrome", "citizen_waiting": True},
        impact="person", urgency="citizen_waiting", reporter=people["canbo.sontra"],
        source=Source.FRONT_DESK, now=now - 8 * minute)
    incidents.link_by_hand(session, registry, people["dieuphoi"], incident, ticket,
                           now - 6 * minute)


# Weekly pattern: login -> (weekday, half-day) pairs (0 = Monday). Sơn Trà has one
# student, mornings only: its afternoon tickets wait "with no one on duty".
ROSTER = {
    "sv.haichau1": [(0, "morning"), (1, "afternoon"), (2, "morning"), (3, "afternoon"),
                    (4, "morning")],
    "sv.haichau2": [(0, "afternoon"), (1, "morning"), (2, "afternoon"), (3, "morning"),
                    (4, "afternoon")],
    "sv.hoakhanh1": [(d, "morning") for d in range(5)],
    "sv.hoakhanh2": [(d, "afternoon") for d in range(5)],
    "sv.sontra1": [(d, "morning") for d in range(5)],
}
# login -> categories declared; the first of each list is confirmed by the coordinator.
SKILLS = {"sv.haichau1": ["signing", "printer"], "sv.haichau2": ["vneid", "network"],
          "sv.hoakhanh1": ["printer"], "sv.hoakhanh2": ["vneid", "smart_city"],
          "sv.sontra1": ["network", "kiosk"]}
# login, ward, kind, people, hours ago
COUNTER_HELP = [("sv.haichau1", "HCH", "vneid_level2", 3, 2),
                ("sv.haichau1", "HCH", "online_filing", 1, 5),
                ("sv.haichau2", "HCH", "digital_literacy", 4, 26),
                ("sv.hoakhanh1", "HKH", "smart_city", 2, 3),
                ("sv.hoakhanh2", "HKH", "staff_question", 1, 1),
                ("sv.sontra1", "STR", "vneid_level2", 5, 28)]


def _demo_duty(session: Session, registry: PluginRegistry, wards: dict[str, Ward],
               people: dict[str, User], now: dt.datetime) -> None:
    """The roster, skills and a few entries of help at the counter."""
    from .models import Shift, Skill
    from .services import counter_help
    today = now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
    for login, slots in ROSTER.items():
        # The current placement (the past batch's ended before today).
        (placement,) = [p for p in people[login].assignments if p.starts_on <= today <= p.ends_on]
        session.add_all(Shift(assignment=placement, weekday=weekday, part=part)
                        for weekday, part in slots)
    coordinator = people["dieuphoi"]
    for login, categories in SKILLS.items():
        for index, category in enumerate(c for c in categories if c in registry.categories):
            session.add(Skill(student_id=people[login].id, category=category, declared_at=now,
                              confirmed_by_id=coordinator.id if index == 0 else None,
                              confirmed_at=now if index == 0 else None))
    kinds = counter_help.kinds(registry.categories)
    for login, code, kind, count, hours in COUNTER_HELP:
        counter_help.log_help(session, people[login], wards[code], kind, kinds, people=count,
                              now=now - dt.timedelta(hours=hours))
    session.flush()


def _staff(code: str) -> str:
    return {"HCH": "canbo.haichau", "HKH": "canbo.hoakhanh", "STR": "canbo.sontra"}[code]
