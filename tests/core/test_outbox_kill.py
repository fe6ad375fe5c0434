"""kill -9 while draining: a real drainer process (``helpdesk outbox drain``) sends to a
real SMTP server on loopback; it is killed twice with messages in flight and restarted.
At the server: every message arrived, none twice.

Where exactly the kill lands matters (docs/notifications.md, "At least once"). The
server holds its answers to DATA from a moment on, so messages are in flight (claimed,
``sending``, their whole content sent, not yet accepted); the test waits until every
message the server *did* accept is recorded as ``sent`` by the drainer, then kills it.
So the kill falls where a crash must lose nothing and duplicate nothing: the server
drops what it had not accepted, and the leases of the claimed rows run out and they go
again. The one window that can duplicate (accepted by the server, the drainer killed
before its commit of ``sent``) cannot be closed from the sending side (RFC 1047); it is
bounded by the sends in flight (``NOTIFY_WORKERS``), and is what ``Message-ID`` (the
row's key) is for; bench/notify.py kills at random moments and counts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import Notification, NotificationStatus as NS, Role, User
from helpdesk_core.services import channel_settings, notify_render, notify_rules, outbox

from ..webapp.test_scheduler import wait_for

pytestmark = pytest.mark.slow

MESSAGES = 60
SECRET = "kill-test-secret"


def _env(database) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(DATABASE_URL=database.url, HELPDESK_SECRET_KEY=SECRET,
               HELPDESK_PUBLIC_URL="https://hd.test", HELPDESK_NOTIFY_LEASE_SECONDS="2",
               HELPDESK_NOTIFY_BATCH="10", HELPDESK_NOTIFY_WORKERS="4",
               HELPDESK_NOTIFY_INTERVAL_SECONDS="0.2")
    return env


def _drainer(database, log: Path) -> subprocess.Popen:
    helpdesk = str(Path(sys.executable).with_name("helpdesk"))
    with log.open("a") as out:
        return subprocess.Popen([helpdesk, "outbox", "drain", "--forever"], env=_env(database),
                                stdout=out, stderr=subprocess.STDOUT)


def _status_count(factory, status: str) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.status == status))


def _fill(factory, registry, server, now) -> set[str]:
    with factory() as session:
        people = []
        for n in range(MESSAGES):
            user = User(login=f"kill{n}", name=f"Sinh viên {n}", password_hash="x",
                        role=Role.COORDINATOR, email=f"sv{n}@danang.test")
            session.add(user)
            people.append(user)
        session.flush()
        channel_settings.save_settings(session, registry, "email", server.settings(), SECRET)
        rows = outbox.notify_users(session, registry, people, notify_rules.REPORT,
                                   notify_render.Rendered("Báo cáo tháng", "Nội dung"), now=now)
        session.commit()
        return {f"<{row.key}@danang.test>" for row in rows if row.channel == "email"}


def _kill_in_flight(proc, server, factory, accepted_at_least: int) -> None:
    wait_for(lambda: server.accepted >= accepted_at_least, timeout=120)
    server.hold()
    # Messages in flight (DATA received, not answered), and every accepted one recorded.
    wait_for(lambda: server.data_count - server.accepted - server.abandoned >= 1, timeout=60)
    wait_for(lambda: _status_count(factory, NS.SENT) == server.accepted, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    wait_for(lambda: server.data_count == server.accepted + server.abandoned, timeout=30)
    server.release()


def test_kill_9_mid_drain_loses_nothing_and_sends_nothing_twice(database, session_factory,
                                                                registry, smtp_server, now,
                                                                tmp_path):
    server = smtp_server()
    expected = _fill(session_factory, registry, server, now)
    assert len(expected) == MESSAGES
    log = tmp_path / "drainer.log"
    for accepted in (10, 30):
        _kill_in_flight(_drainer(database, log), server, session_factory, accepted)
        assert _status_count(session_factory, NS.SENDING) >= 1  # claimed when killed
    proc = _drainer(database, log)
    try:
        wait_for(lambda: _status_count(session_factory, NS.SENT) == MESSAGES, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    ids = server.message_ids()
    assert len(ids) == MESSAGES, log.read_text()[-3000:]     # none lost, none twice
    assert set(ids) == expected                            # the keys we wrote
    assert server.abandoned >= 2                           # each kill had DATA in flight
    assert server.data_count == MESSAGES + server.abandoned  # every DATA accounted for
