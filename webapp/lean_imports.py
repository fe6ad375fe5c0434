"""Packages a web worker imports without the parts it never runs.

flask_login's package imports its test client (and with it flask.testing, click.testing
and pdb: 0.5 MB in each web worker); flask_wtf's imports its reCAPTCHA field (and with
it urllib.request: 0.4 MB), which no form of the app has; that of limits (Flask-Limiter's
counters) its asyncio storages (0.4 MB), which Flask-Limiter does not use.
:func:`install` makes them lazy packages (helpdesk_core/lazy_packages.py): ``from
flask_login import current_user`` loads ``flask_login.utils`` alone, ``FlaskLoginClient``
the test client when asked for, and any other name the whole package, so nothing changes
but what is loaded.

Only packages whose ``__init__`` does nothing but import and name things qualify: that of
SQLAlchemy's PostgreSQL dialects (which imports four other drivers' dialects, 0.5 MB)
also sets the default driver, so it cannot be one.
"""

from __future__ import annotations

from helpdesk_core.lazy_packages import make_lazy

LEAN_PACKAGES = ("flask_login", "flask_wtf", "limits")


def install() -> None:
    """Before the app's modules import them (webapp.create_app); one imported already
    stays as it is."""
    make_lazy(*LEAN_PACKAGES)
