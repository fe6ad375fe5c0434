"""The ``egov_page`` check (a coroutine): a portal or sign-in page answers, and with the
text it should show. A portal down for maintenance often still answers 200 with a notice,
and a broken one may answer 200 with an error page: the keyword tells them apart."""

from __future__ import annotations

import unicodedata

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, http, translator

_ = translator(__name__).gettext

MAINTENANCE_TEXT = "Hệ thống đang bảo trì"  # what the portals show (DOMAIN §1.7)


def _fold(text: str) -> str:
    """Compare texts whatever their Unicode form (pages may be NFD) and case."""
    return unicodedata.normalize("NFC", text).casefold()


async def check_page(target: CheckTarget) -> CheckResult:
    """Request the page; OK when the status is the expected one and the keyword is there."""
    url = (target.config.get("url") or "").strip() or target.address
    if not url:
        return CheckResult(CheckStatus.ERROR, _("No address configured."))
    expect = int(target.config.get("expect_status") or 200)
    keyword = (target.config.get("keyword") or "").strip()
    try:
        answer = await http.get(url, timeout=target.timeout)
    except http.HttpError as error:
        return CheckResult(CheckStatus.FAILURE, _("Cannot reach %(url)s (%(error)s)",
                                                  url=url, error=error.reason))
    values = {"latency_ms": answer.latency_ms, "status_code": answer.status}
    body = _fold(answer.text)
    if _fold(MAINTENANCE_TEXT) in body:
        return CheckResult(CheckStatus.WARNING, _("%(url)s shows its maintenance notice",
                                                  url=url), dict(values, maintenance=True))
    if answer.status != expect:
        return CheckResult(CheckStatus.FAILURE, _("%(url)s answered %(status)s instead of "
                                                  "%(expected)s", url=url,
                                                  status=answer.status, expected=expect), values)
    if keyword and _fold(keyword) not in body:
        return CheckResult(CheckStatus.FAILURE, _("%(url)s does not contain “%(keyword)s”",
                                                  url=url, keyword=keyword), values)
    return CheckResult(CheckStatus.OK, _("%(url)s answered in %(ms)s ms", url=url,
                                         ms=answer.latency_ms), values)
