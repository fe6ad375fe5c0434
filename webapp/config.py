"""Configuration: defaults, then instance/config.py, then HELPDESK_* and DATABASE_URL."""

from __future__ import annotations

import os
import secrets
from typing import Any

from helpdesk_core.db import engine_options, normalize_url

DEFAULTS: dict[str, Any] = {
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "DEFAULT_LOCALE": "vi",
    "SCHEDULER": False,              # run APScheduler inside this process
    # A scheduler process (this one, or `helpdesk scheduler`) should be beating: /healthz
    # answers 503 when none has for 3 minutes. False only for a deployment that runs
    # no scheduler on purpose (then nothing watches devices or deadlines).
    "SCHEDULER_EXPECTED": True,
    # How often a standby scheduler tries to take over, and a leader checks its lock.
    "SCHEDULER_ELECTION_SECONDS": 10,
    # Set by the shipped gunicorn configuration: the scheduler's threads and its election
    # lock belong in a worker, started after the fork (webapp/gunicorn_conf.py post_fork),
    # never in a master that preloaded the app.
    "SCHEDULER_AFTER_FORK": False,
    "DISABLED_PLUGINS": "",          # comma-separated entry-point names
    "TRACE_HOOKS": False,            # log every plugin hook call
    # A whole request; well above the per-file limit so that a too-large photo is
    # refused by the form, with everything typed kept, not by a bare 413 page.
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "ATTACHMENT_MAX_BYTES": 8 * 1024 * 1024,
    "UPLOAD_FOLDER": "",             # default: <instance>/uploads
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Strict-Transport-Security max-age, sent only when PREFERRED_URL_SCHEME is "https"
    # (0: never). A year, the usual value; browsers then refuse plain http to this host.
    "HSTS_SECONDS": 365 * 24 * 3600,
    "LOGIN_RATE_LIMIT": "10 per minute",
    # "Stay logged in" lasts this many seconds (Flask-Login's default is a year); logging
    # out, a new password and the other events of users.end_sessions end it sooner.
    "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
    # Login rate limits (webapp/auth.py), in Flask-Limiter's notation ("; " between
    # several). Only failed logins count. Per account: the login name tried, from any
    # address. Per client address: higher, since a ward office's staff share one NAT
    # address.
    "LOGIN_RATE_LIMIT_ACCOUNT": "10 per minute; 30 per hour",
    "LOGIN_RATE_LIMIT_ADDRESS": "30 per minute; 300 per hour",
    # Where the counters live: each worker's memory, or a storage of the limits library
    # shared by all workers (e.g. "redis://host:6379" with the redis package installed).
    "RATELIMIT_STORAGE_URI": "memory://",
    # Reverse proxies in front of the app that append the client's address to
    # X-Forwarded-For: 0 uses the connection's address and ignores the header; more than
    # there really are lets clients choose their own address.
    "TRUSTED_PROXIES": 0,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Requests per REST API token (webapp/api), in Flask-Limiter's notation ("; " between
    # several); clients without a token count per address.
    "API_RATE_LIMIT": "300 per minute; 10000 per hour",
    "QUEUE_REFRESH_SECONDS": 30,
    # City-wide incidents (services/incident_rules.py): a shared service confirmed down in
    # this many wards, with results at most this old, is one incident; staff tickets alike
    # (category and error text), this many from this many wards within this period, are
    # suggested to coordinators.
    "INCIDENT_MIN_WARDS": 2,
    "INCIDENT_CHECK_WINDOW_MINUTES": 30,
    "INCIDENT_SUGGEST_TICKETS": 3,
    "INCIDENT_SUGGEST_WARDS": 2,
    "INCIDENT_SUGGEST_WINDOW_MINUTES": 30,
    "DASHBOARD_CACHE_SECONDS": 60,   # dashboard's SLA compliance and weekly volumes (0: off)
    "DASHBOARD_LIVE_SECONDS": 10,    # its live figures while no ticket changes (0: off)
    "AUTO_CLOSE_WORKING_DAYS": 3,    # resolved tickets close after this many working days
    "SQLALCHEMY_RECORD_QUERIES": False,
    # Health checks (webapp/scheduler.py, helpdesk_core/services/health/)
    # Blocking checks (a plugin's ``run``) running at the same time in one scheduler: they
    # wait on the network, not the CPU, and a hung device holds a worker until its timeout.
    "HEALTH_MAX_WORKERS": 128,
    # Runs in progress at once, coroutine checks (``run_async``, like http) included; they
    # wait on the scheduler's event loop without a thread (bench/sweep.py). All of a
    # city's 5,000 at once finish a sweep sooner on an idle machine, but on a busy one the
    # loop reads healthy devices' answers after their timeout (false failures); each run
    # holds a socket (webapp/open_files.py).
    "HEALTH_MAX_CONCURRENT": 1000,
    "HEALTH_RECONCILE_SECONDS": 60,  # how often jobs follow the checks in the database
    "HEALTH_JITTER_SECONDS": 15,     # spread of each check's start, at most 10% of its interval
    "HEALTH_RETENTION_DAYS": 14,     # check results kept (the latest per check always)
    "HEALTH_PRUNE_SECONDS": 3600,
    "HEALTH_EVENT_MINUTES": 30,      # at most one history entry per ticket per period
    # Flapping: weighted state changes in a check's last 21 results (services/health/rules.py)
    "HEALTH_FLAP_HIGH_PERCENT": 30.0,  # starts above this
    "HEALTH_FLAP_LOW_PERCENT": 25.0,   # stops below this
    "HEALTH_MIN_INTERVAL_SECONDS": 10,  # the shortest check interval an admin may set
    # Personal data (README "Personal data"; helpdesk_core/services/access_log.py, purge.py)
    # Who opened a ticket page, an attachment or an export is kept this long (Law 91/2025
    # asks the centre to account for access; a year covers an inspection's usual window).
    "ACCESS_LOG_RETENTION_DAYS": 365,
    # Days after a ticket is closed or cancelled before its citizen data is erased, per
    # category: "printer=90,signing=30,*=365" ("*" or a bare number: every other
    # category). Empty: never (off by default: the centre decides its own periods).
    "PERSONAL_DATA_PURGE_DAYS": "",
    "PRIVACY_JOB_MINUTES": 60,       # how often the scheduler prunes and purges
    # QR stickers (webapp/stickers.py): where phones reach the app, e.g.
    # "https://helpdesk.danang.gov.vn" (empty: SERVER_NAME, else the admin's own request),
    # and a TrueType font with Vietnamese letters (empty: Noto Sans or DejaVu Sans).
    "PUBLIC_URL": "",
    "STICKER_FONT": "",
    # Web Push: the push services a browser's subscription may point at (comma-separated
    # hosts, subdomains included); the server POSTs to them, so nothing else is accepted.
    # Empty: the browsers' own (FCM, Mozilla, Apple, Windows; services/push.py).
    "PUSH_SERVICE_HOSTS": "",
    # Notifications (README "Notifications"; helpdesk_core/services/outbox.py, delivery.py)
    "NOTIFY_INTERVAL_SECONDS": 1,    # how often the delivery job drains the outbox
    "NOTIFY_MAX_ATTEMPTS": 8,        # then a message is a dead letter (retry by hand)
    "NOTIFY_BASE_DELAY_SECONDS": 10, # first retry; doubles each time, with jitter
    "NOTIFY_MAX_DELAY_SECONDS": 3600,
    "NOTIFY_LEASE_SECONDS": 120,     # a claimed message whose drainer died is sent again after
    "NOTIFY_BATCH": 100,             # messages claimed per transaction
    "NOTIFY_WORKERS": 8,             # sends at the same time in one drainer
}


def database_url(app_config: dict[str, Any], instance_path: str) -> str:
    url = (app_config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
           or "sqlite:///" + os.path.join(instance_path, "helpdesk.db"))
    return normalize_url(url)


def ensure_secret_key(app_config: dict[str, Any], instance_path: str) -> None:
    """Use the configured key, else one generated on first run and kept in the instance."""
    if app_config.get("SECRET_KEY"):
        return
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    with open(path) as handle:
        app_config["SECRET_KEY"] = handle.read().strip()


def finish(app_config: dict[str, Any], instance_path: str) -> None:
    """Derive the settings that depend on others."""
    url = database_url(app_config, instance_path)
    app_config["SQLALCHEMY_DATABASE_URI"] = url
    options = engine_options(url)
    options.update(app_config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app_config.get("UPLOAD_FOLDER"):
        app_config["UPLOAD_FOLDER"] = os.path.join(instance_path, "uploads")
    app_config["BABEL_DEFAULT_LOCALE"] = app_config["DEFAULT_LOCALE"]
    app_config["BABEL_DEFAULT_TIMEZONE"] = app_config["TIMEZONE"]
    if app_config.get("PREFERRED_URL_SCHEME") == "https":
        app_config["SESSION_COOKIE_SECURE"] = True
        app_config["REMEMBER_COOKIE_SECURE"] = True
    ensure_secret_key(app_config, instance_path)
