"""Request logs without personal data, and servers that do not name their version.

The shipped gunicorn configuration is tested by running the real gunicorn with it on a
loopback port; the development server (``helpdesk run``) by serving through its handler.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from helpdesk_core.db import create_schema
from tests.conftest import missing
from webapp.dev_server import MaskedRequestHandler
from webapp.request_log import mask_request_line, mask_target

CITIZEN_ID = "048095001234"
PHONE = "0905123456"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target, expected", [
    (f"/tickets/?q={CITIZEN_ID}", "/tickets/?q=***"),
    (f"/tickets/?status=open&q=Nguy%E1%BB%85n+V%C4%83n+A&page=2",
     "/tickets/?status=open&q=***&page=2"),
    ("/tickets/?q=&status=", "/tickets/?q=&status="),
    ("/tickets/42?tab=history", "/tickets/42?tab=history"),          # nothing to mask
    (f"/khong-co/{PHONE}", "/khong-co/%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2456"),
    (f"/admin/assets?ward=3&x=%30%34%38095001234", None),           # percent-encoded digits
    (f"/login?next=%2Ftickets%2F%3Fq%3D{CITIZEN_ID}", "/login?next=/tickets/?q=***"),
    (f"http://helpdesk.example/tickets/?q={PHONE}", "http://helpdesk.example/tickets/?q=***"),
])
def test_urls_are_masked_for_the_logs(target, expected):
    masked = mask_target(target)
    if expected is not None:
        assert masked == expected
    assert CITIZEN_ID not in masked and PHONE not in masked
    assert "048095001234" not in requests.utils.unquote(masked)


def test_request_lines_keep_method_and_protocol():
    assert (mask_request_line(f"GET /tickets/?q={CITIZEN_ID} HTTP/1.1")
            == "GET /tickets/?q=*** HTTP/1.1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, attempts: int = 300) -> None:
    for _ in range(attempts):
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):
            # gunicorn listens before its worker has built the app (no preload): wait.
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


@pytest.mark.slow
def test_gunicorn_with_the_shipped_config_masks_the_access_log(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        missing("gunicorn is not installed next to the interpreter")
    from helpdesk_core.db import make_engine
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "HELPDESK_SECRET_KEY": "gunicorn-test",
           "HELPDESK_UPLOAD_FOLDER": str(tmp_path / "uploads"), "WEB_CONCURRENCY": "1"}
    env.pop("GUNICORN_CMD_ARGS", None)
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "python:webapp.gunicorn_conf", "-b", f"127.0.0.1:{port}",
             "webapp:create_app()"], cwd=tmp_path, env=env, stdout=stdout, stderr=stderr)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_serving(base + "/healthz", process)
            response = requests.get(f"{base}/tickets/?q={CITIZEN_ID}&status=open",
                                    headers={"Referer": f"{base}/tickets/?q={PHONE}"},
                                    allow_redirects=False, timeout=10)
            assert response.status_code == 302
            login = requests.get(base + response.headers["Location"], timeout=10)
            assert login.status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    access_log = out.read_text() + err.read_text()
    assert "/tickets/?q=***&status=open" in access_log, access_log
    assert "/login?next=" in access_log
    assert CITIZEN_ID not in access_log and PHONE not in access_log, access_log
    assert "%3D048095001234" not in access_log
    # No server name or version, and the security headers are on.
    assert "Server" not in response.headers and "Server" not in login.headers
    assert login.headers["X-Frame-Options"] == "DENY"
    assert login.headers["Cache-Control"] == "no-store"


def test_the_development_server_masks_its_request_log_and_sends_no_version(
        app, caplog):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True,
                         request_handler=MaskedRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            response = requests.get(
                f"http://127.0.0.1:{server.server_port}/tickets/?q={CITIZEN_ID}",
                allow_redirects=False, timeout=10)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/tickets/?q=*** " in line for line in lines), lines
    assert not any(CITIZEN_ID in line for line in lines), lines
    assert "Server" not in response.headers


def test_the_gunicorn_config_is_shipped_and_used_by_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "gunicorn -c python:webapp.gunicorn_conf" in readme
    import webapp.gunicorn_conf as conf
    assert conf.preload_app is False and conf.timeout > 0 and conf.graceful_timeout > 0
    assert conf.logger_class == "webapp.request_log.MaskedGunicornLogger"


def _gunicorn_atoms(log_format: str) -> dict:
    """What the shipped logger gives gunicorn's line for one request with a citizen's ID
    in its query and in its referrer."""
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from webapp.request_log import MaskedGunicornLogger
    config = Config()
    config.set("access_log_format", log_format)
    logger = MaskedGunicornLogger(config)
    query = f"q={CITIZEN_ID}&status=open"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/tickets/?{query}",
               "PATH_INFO": "/tickets/", "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "10.0.0.7", "HTTP_REFERER": f"http://h.example/tickets/?q={PHONE}",
               "HTTP_USER_AGENT": "test"}
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[("Content-Type", "text/html")])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    return logger.atoms(response, request, environ, dt.timedelta(milliseconds=12))


def test_the_gunicorn_logger_keeps_only_the_atoms_of_its_format_each_url_masked():
    from webapp import gunicorn_conf
    atoms = _gunicorn_atoms(gunicorn_conf.access_log_format)
    assert atoms["r"] == "GET /tickets/?q=***&status=open HTTP/1.1"
    assert atoms["f"] == "http://h.example/tickets/?q=***"
    assert {"h", "t", "s", "b", "a", "M"} <= set(atoms)
    assert "{raw_uri}e" not in atoms and "U" not in atoms  # not in the line: not kept
    assert CITIZEN_ID not in repr(atoms) and PHONE not in repr(atoms)
    # A format that shows them gets them masked too.
    atoms = _gunicorn_atoms('%(U)s %(q)s "%({raw_uri}e)s" "%({Referer}i)s" %({query_string}e)s')
    assert atoms["U"] == "/tickets/" and atoms["q"] == "q=***&status=open"
    assert atoms["{raw_uri}e"] == "/tickets/?q=***&status=open"
    assert atoms["{referer}i"] == "http://h.example/tickets/?q=***"
    assert atoms["{query_string}e"] == "q=***&status=open"
    assert CITIZEN_ID not in repr(atoms) and PHONE not in repr(atoms)
