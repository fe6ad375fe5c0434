"""A web worker imports what it serves, not what only the scheduler needs (issue: pages
in less memory). Checked in a fresh interpreter: the test process has imported it all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCHEDULER_ONLY = ("aiohttp", "pysnmp", "websockets", "dns", "icmplib", "pywebpush",
                  "apscheduler")

PROBE = """
import json, sys
from webapp import create_app
app = create_app()
with app.test_client() as client:
    client.get("/login")
print(json.dumps(sorted(name for name in {names!r} if name in sys.modules)))
"""


def test_a_web_worker_does_not_import_the_checks_libraries(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'web.db'}",
               HELPDESK_SECRET_KEY="imports", HELPDESK_SCHEDULER="false")
    output = subprocess.run([sys.executable, "-c", PROBE.format(names=SCHEDULER_ONLY)],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(output.stdout.strip().splitlines()[-1]) == []
