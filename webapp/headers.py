"""Security headers on every response, and no caching of anything but static files.

Written by hand rather than with Flask-Talisman: Talisman has had no release or commit
since 2023, sends HSTS only when the request looks secure to it (not when the deployment
says it is https), and rewrites the session-cookie settings that ``webapp/config.py``
owns. What we need is a handful of constant headers.
"""

from __future__ import annotations

from flask import Flask, Response, request

# No inline script or style anywhere: the templates load app.js, htmx and app.css from
# /static, and htmx's own indicator <style> is turned off (tickets/queue.html).
# SVG presentation attributes (fill="...") are not styles, so the charts need nothing.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "X-Content-Type-Options": "nosniff",
    # URLs carry search terms (?q=...): other sites never see them.
    "Referrer-Policy": "same-origin",
}


# Lowercased once: each response's header names are compared with them.
_FIXED = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS.items())


def register(app: Flask) -> None:
    """Add the headers to every response of *app*."""
    hsts_seconds = int(app.config.get("HSTS_SECONDS") or 0)
    hsts = (f"max-age={hsts_seconds}"
            if app.config.get("PREFERRED_URL_SCHEME") == "https" and hsts_seconds > 0
            else None)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the response's few headers: a view's own value stays (as
        # ``setdefault`` would keep it, without a search of the list per header).
        present = {name.lower() for name, _value in headers.items()}
        for lower, name, value in _FIXED:
            if lower not in present:
                headers.add(name, value)
        if hsts:
            headers["Strict-Transport-Security"] = hsts
        if request.endpoint != "static":
            _no_store(response, "cache-control" in present)
        return response


def _no_store(response: Response, has_cache_control: bool = True) -> None:
    """Pages, fragments, exports and files may show personal data: no cache keeps them.

    Only /static is cacheable; it holds the same files for everyone.
    """
    if not has_cache_control or "no-store" not in (response.headers.get("Cache-Control")
                                                   or ""):
        response.headers["Cache-Control"] = "no-store"
