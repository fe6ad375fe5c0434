"""The ``portal`` health check: is the VNeID or public service portal endpoint up?

There is no public status endpoint (DOMAIN §2), so the check requests the page, compares
the status code and looks for the maintenance notice the portals show.
"""

from __future__ import annotations

import time
import unicodedata

import requests

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, translator

_ = translator(__name__).gettext

DEFAULT_MAINTENANCE_TEXT = "Hệ thống đang bảo trì"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def check_portal(target: CheckTarget) -> CheckResult:
    """Request the portal page; a maintenance notice is a warning, a wrong status a failure."""
    config = target.config
    url = (config.get("url") or "").strip() or target.address
    if not url:
        return CheckResult(CheckStatus.ERROR, _("No address configured."))
    expect = int(config.get("expect_status") or 200)
    keyword = (config.get("keyword") or "").strip()
    maintenance = config.get("maintenance_text")
    maintenance = DEFAULT_MAINTENANCE_TEXT if maintenance is None else maintenance.strip()
    started = time.monotonic()
    try:
        response = requests.get(url, timeout=target.timeout, allow_redirects=True,
                                headers={"User-Agent": "ward-helpdesk-healthcheck"})
    except requests.Timeout:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s did not answer within %(seconds)s s",
                             url=url, seconds=f"{target.timeout:g}"))
    except requests.RequestException as exc:
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot reach %(url)s (%(error)s)", url=url,
                             error=exc.__class__.__name__))
    latency = round((time.monotonic() - started) * 1000, 2)
    values = {"latency_ms": latency, "status_code": response.status_code}
    body = _fold(response.text or "")
    if maintenance and _fold(maintenance) in body:
        return CheckResult(CheckStatus.WARNING,
                           _("%(url)s shows its maintenance notice", url=url),
                           dict(values, maintenance=True))
    if response.status_code != expect:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s answered %(status)s instead of %(expected)s",
                             url=url, status=response.status_code, expected=expect), values)
    if keyword and _fold(keyword) not in body:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s does not contain “%(keyword)s”", url=url, keyword=keyword),
                           values)
    return CheckResult(CheckStatus.OK, _("%(url)s answered %(status)s in %(ms)s ms",
                                         url=url, status=response.status_code, ms=latency),
                       values)
