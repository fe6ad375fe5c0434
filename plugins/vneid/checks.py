"""The ``portal`` health check: is the VNeID or public service portal endpoint up?

There is no public status endpoint (DOMAIN §2), so the check requests the page, compares
the status code and looks for the maintenance notice the portals show.
"""

from __future__ import annotations

import unicodedata

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, http, translator

_ = translator(__name__).gettext

DEFAULT_MAINTENANCE_TEXT = "Hệ thống đang bảo trì"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


async def check_portal(target: CheckTarget) -> CheckResult:
    """Request the portal page; a maintenance notice is a warning, a wrong status a failure.

    A coroutine, on :mod:`helpdesk_core.http`."""
    config = target.config
    url = (config.get("url") or "").strip() or target.address
    if not url:
        return CheckResult(CheckStatus.ERROR, _("No address configured."))
    expect = int(config.get("expect_status") or 200)
    keyword = (config.get("keyword") or "").strip()
    maintenance = config.get("maintenance_text")
    maintenance = DEFAULT_MAINTENANCE_TEXT if maintenance is None else maintenance.strip()
    try:
        response = await http.get(url, timeout=target.timeout,
                                  headers={"User-Agent": "ward-helpdesk-healthcheck"})
    except http.HttpError as exc:
        if exc.kind == "timeout":
            return CheckResult(CheckStatus.FAILURE,
                               _("%(url)s did not answer within %(seconds)s s",
                                 url=url, seconds=f"{target.timeout:g}"))
        return CheckResult(CheckStatus.FAILURE,
                           _("Cannot reach %(url)s (%(error)s)", url=url, error=exc.reason))
    latency = response.latency_ms
    values = {"latency_ms": latency, "status_code": response.status}
    body = _fold(response.text or "")
    if maintenance and _fold(maintenance) in body:
        return CheckResult(CheckStatus.WARNING,
                           _("%(url)s shows its maintenance notice", url=url),
                           dict(values, maintenance=True))
    if response.status != expect:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s answered %(status)s instead of %(expected)s",
                             url=url, status=response.status, expected=expect), values)
    if keyword and _fold(keyword) not in body:
        return CheckResult(CheckStatus.FAILURE,
                           _("%(url)s does not contain “%(keyword)s”", url=url, keyword=keyword),
                           values)
    return CheckResult(CheckStatus.OK, _("%(url)s answered %(status)s in %(ms)s ms",
                                         url=url, status=response.status, ms=latency),
                       values)
