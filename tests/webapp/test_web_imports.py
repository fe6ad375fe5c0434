"""A web worker imports what it serves, not what only the scheduler, an export or the
command line needs (issue: pages in less memory). Checked in a fresh interpreter: the
test process has imported it all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCHEDULER_ONLY = ("aiohttp", "pysnmp", "websockets", "dns", "icmplib", "pywebpush",
                  "apscheduler")
# Loaded on first use: PDFs (stickers, certificates, monthly reports), spreadsheets, QR
# codes, Web Push keys and channel secrets, migrations (`helpdesk db`), the channels'
# outgoing requests.
ON_FIRST_USE = ("reportlab", "openpyxl", "segno", "PIL", "cryptography", "alembic",
                "flask_migrate", "mako", "requests", "helpdesk_core.monthly_files",
                "helpdesk_core.stickers", "helpdesk_core.certificates")
# gunicorn's master reads its settings and its logger class and never serves a page.
NOT_IN_THE_MASTER = ("flask", "werkzeug", "sqlalchemy", "helpdesk_core", "webapp.factory")

PROBE = """
import json, sys
from webapp import create_app
app = create_app()
with app.test_client() as client:
    client.get("/login")
print(json.dumps(sorted(name for name in {names!r} if name in sys.modules)))
"""

MASTER_PROBE = """
import json, sys
import webapp.gunicorn_conf, webapp.request_log
print(json.dumps(sorted(name for name in {names!r} if name in sys.modules)))
"""


def _imported(tmp_path, probe: str, names: tuple[str, ...]) -> list[str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'web.db'}",
               HELPDESK_SECRET_KEY="imports", HELPDESK_SCHEDULER="false")
    output = subprocess.run([sys.executable, "-c", probe.format(names=names)],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_a_web_worker_does_not_import_the_checks_libraries(tmp_path):
    assert _imported(tmp_path, PROBE, SCHEDULER_ONLY) == []


def test_a_web_worker_loads_exports_crypto_and_migrations_on_first_use(tmp_path):
    assert _imported(tmp_path, PROBE, ON_FIRST_USE) == []


def test_a_sqlite_web_worker_does_not_load_postgresql(tmp_path):
    # The models' partial indexes name PostgreSQL's WHERE only when created there, and
    # the upserts import their own engine's insert (2 MB of dialect in each worker).
    assert _imported(tmp_path, PROBE, ("sqlalchemy.dialects.postgresql", "psycopg")) == []


def test_the_gunicorn_master_does_not_import_the_app(tmp_path):
    assert _imported(tmp_path, MASTER_PROBE, NOT_IN_THE_MASTER) == []


CALENDAR_PROBE = """
import json, sys
import holidays
from helpdesk_core.calendar import vietnam_holidays, vietnam_makeup_days
same = (vietnam_holidays(2025) == frozenset(holidays.country_holidays("VN", years=2025))
        and vietnam_makeup_days(2025) == frozenset(
            d for d in holidays.country_holidays("VN", years=2025).weekend_workdays
            if d.year == 2025) != frozenset())
print(json.dumps([same]))
"""


def test_the_calendar_loads_vietnam_alone_with_the_same_days(tmp_path):
    # The same days as the library's usual way (which then loads every country).
    assert _imported(tmp_path, CALENDAR_PROBE, ()) == [True]
    probe = ("import json, sys\nfrom helpdesk_core.calendar import vietnam_holidays\n"
             "vietnam_holidays(2025)\nprint(json.dumps(sorted(name for name in {names!r} "
             "if name in sys.modules)))\n")
    # Neither the other countries nor the calendars Vietnam does not use (their tables).
    assert _imported(tmp_path, probe, ("holidays.countries.japan", "holidays.calendars.islamic",
                                       "holidays.calendars.hebrew", "holidays.groups.islamic",
                                       "holidays.registry")) == []
