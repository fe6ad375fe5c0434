"""A web worker imports what it serves, not what only the scheduler, an export or the
command line needs (issue: pages in less memory). Checked in a fresh interpreter: the
test process has imported it all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCHEDULER_ONLY = ("aiohttp", "pysnmp", "websockets", "dns", "icmplib", "pywebpush",
                  "apscheduler")
# Loaded on first use: PDFs (stickers, certificates, monthly reports), spreadsheets, QR
# codes, Web Push keys and channel secrets, migrations (`helpdesk db`), the channels'
# outgoing requests.
ON_FIRST_USE = ("reportlab", "openpyxl", "segno", "PIL", "cryptography", "alembic",
                "flask_migrate", "mako", "requests", "helpdesk_core.monthly_files",
                "helpdesk_core.stickers", "helpdesk_core.certificates")
# The REST API's libraries: its routes are built on the first request under /api/.
API_ONLY = ("flask_smorest", "marshmallow", "apispec", "webargs", "yaml", "webapp.api.document")
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

# Served as gunicorn serves it (the test client itself loads flask.testing).
WSGI_PROBE = """
import json, sys
from werkzeug.test import create_environ, run_wsgi_app
from webapp import create_app
app = create_app()
assert run_wsgi_app(app, create_environ("/login"))[1].startswith("200")
loaded = sorted(name for name in {names!r} if name in sys.modules)
from flask_login import FlaskLoginClient
from flask_wtf import RecaptchaField
import flask_wtf
assert flask_wtf.__version__ and FlaskLoginClient and RecaptchaField
print(json.dumps(loaded))
"""

MASTER_PROBE = """
import json, sys
import webapp.gunicorn_conf, webapp.request_log
print(json.dumps(sorted(name for name in {names!r} if name in sys.modules)))
"""


def _imported(tmp_path, probe: str, names: tuple[str, ...], url: str | None = None) -> list[str]:
    env = dict(os.environ, DATABASE_URL=url or f"sqlite:///{tmp_path / 'web.db'}",
               HELPDESK_SECRET_KEY="imports", HELPDESK_SCHEDULER="false")
    output = subprocess.run([sys.executable, "-c", probe.format(names=names)],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_a_web_worker_does_not_import_the_checks_libraries(tmp_path):
    assert _imported(tmp_path, PROBE, SCHEDULER_ONLY) == []


def test_a_web_worker_loads_exports_crypto_and_migrations_on_first_use(tmp_path):
    assert _imported(tmp_path, PROBE, ON_FIRST_USE) == []


def test_a_web_worker_builds_the_api_on_its_first_request_under_api(tmp_path):
    assert _imported(tmp_path, PROBE, API_ONLY) == []
    api_call = '\n    assert client.get("/api/v1/openapi.json").status_code == 200'
    after_a_page = PROBE.replace('client.get("/login")', 'client.get("/login")' + api_call)
    assert _imported(tmp_path, after_a_page, API_ONLY) == sorted(API_ONLY)


def test_a_web_worker_loads_no_test_client_debugger_or_recaptcha(tmp_path):
    # flask_login's and flask_wtf's packages import them (webapp/lean_imports.py).
    assert _imported(tmp_path, WSGI_PROBE, ("flask.testing", "click.testing", "pdb",
                                            "flask_login.test_client", "flask_wtf.recaptcha",
                                            "urllib.request", "limits.aio")) == []


def test_a_sqlite_web_worker_does_not_load_postgresql(tmp_path):
    # The models' partial indexes name PostgreSQL's WHERE only when created there, and
    # the upserts import their own engine's insert (2 MB of dialect in each worker).
    assert _imported(tmp_path, PROBE, ("sqlalchemy.dialects.postgresql", "psycopg")) == []


@pytest.mark.skipif(not os.environ.get("HELPDESK_TEST_PG_URL"), reason="no PostgreSQL")
def test_a_postgresql_web_worker_does_not_load_sqlite(tmp_path):
    # The partial indexes name SQLite's WHERE only when created there.
    assert _imported(tmp_path, PROBE, ("sqlalchemy.dialects.sqlite", "sqlite3"),
                     url=os.environ["HELPDESK_TEST_PG_URL"]) == []


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
