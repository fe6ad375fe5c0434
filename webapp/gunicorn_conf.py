"""gunicorn settings for production: ``gunicorn -c python:webapp.gunicorn_conf 'webapp:create_app()'``.

Every value can still be overridden on the command line (``-w 8``, ``-b 0.0.0.0:8000``)
or in ``GUNICORN_CMD_ARGS``. See README.md, "Production".
"""

from __future__ import annotations

import os
import sys

from gunicorn.http import wsgi as _gunicorn_wsgi

bind = os.environ.get("HELPDESK_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))

# Each worker builds the app after the fork; the master only watches them (about 25 MB,
# not a third copy of the app: with preload_app the master holds one and every worker
# counts it again, its pages soon copied as Python touches their reference counts;
# bench/RESULTS.md). A broken configuration still stops the start: gunicorn halts when
# a worker fails to boot. Setting preload_app = True (or --preload) still works: post_fork
# then drops the database connections the master opened.
preload_app = False
# An app built in the master must not start the scheduler there: its threads would not
# survive the fork and the master would hold the election lock. Each worker stands for
# election after the fork instead (post_fork), and one of them leads.
os.environ["HELPDESK_SCHEDULER_AFTER_FORK"] = "true"

# A request that takes longer than this (a worker stuck on a hung database) is killed
# and the worker replaced; the city-wide dashboard takes well under a second.
timeout = 60
# On restart or deploy (SIGHUP, SIGTERM), requests in flight get this long to finish:
# a filing with its photo is not cut off halfway.
graceful_timeout = 30
keepalive = 5  # behind a reverse proxy that reuses connections
# Replace each worker after about this many requests, so no slow leak builds up.
max_requests = 2000
max_requests_jitter = 200

# Logs to stderr/stdout for the service manager; URLs are masked (item: personal data
# never reaches the access log), and the response time in ms ends each line.
accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = "webapp.request_log.MaskedGunicornLogger"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def post_fork(server, worker) -> None:
    """Each worker builds its app (unless the master preloaded it) and opens its own
    database connections, never the master's; it stands for scheduler leader when
    ``HELPDESK_SCHEDULER`` is on."""
    from webapp.extensions import db
    app = worker.app.wsgi()  # built here, in the worker, unless the master preloaded it
    if server.cfg.preload_app:  # this file's setting, or --preload
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
    if app.config["SCHEDULER"]:
        from webapp import scheduler
        scheduler.start(app)


def worker_exit(server, worker) -> None:
    """A worker standing for the scheduler stops standing before its interpreter exits:
    a leader's job handed to an executor while the interpreter shuts down failed with a
    traceback, and the lead is given up at once for another worker to take."""
    scheduler = sys.modules.get("webapp.scheduler")
    if scheduler is None:  # this worker never stood (HELPDESK_SCHEDULER off)
        return
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None) or {}
    candidate = extensions.get(scheduler.ELECTION_KEY)
    if candidate is not None:
        candidate.stop()


def post_request(worker, req, environ, resp) -> None:
    """The memory the worker freed serving the request goes back to the system."""
    from webapp.malloc_trim import trim
    trim()


def _without_server_header(default_headers):
    """gunicorn always sends ``Server: gunicorn``; nothing in its settings turns it off."""

    def headers(self):
        return [line for line in default_headers(self)
                if not line.lower().startswith("server:")]
    headers.__doc__ = default_headers.__doc__
    return headers


if not getattr(_gunicorn_wsgi.Response.default_headers, "helpdesk_patched", False):
    _gunicorn_wsgi.Response.default_headers = _without_server_header(
        _gunicorn_wsgi.Response.default_headers)
    _gunicorn_wsgi.Response.default_headers.helpdesk_patched = True
