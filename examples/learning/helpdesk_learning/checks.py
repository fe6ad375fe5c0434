"""The health check, a coroutine: the scheduler runs it on its event loop."""

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, http, translator

_ = translator(__name__).gettext


async def check_web(target: CheckTarget) -> CheckResult:
    """Request the device's page; OK when it answers the expected status in time."""
    url = target.address.rstrip("/") + (target.config.get("path") or "/")
    expect = int(target.config.get("expect_status") or 200)
    try:
        answer = await http.get(url, timeout=target.timeout, read_body=False)
    except http.HttpError as error:
        message = _("%(url)s does not answer (%(error)s)", url=url, error=error.reason)
        return CheckResult(CheckStatus.FAILURE, message)
    values = {"latency_ms": answer.latency_ms, "status_code": answer.status}
    if answer.status != expect:
        message = _("%(url)s answered %(status)s, expected %(expected)s",
                    url=url, status=answer.status, expected=expect)
        return CheckResult(CheckStatus.FAILURE, message, values)
    message = _("%(url)s answered in %(ms)s ms", url=url, ms=answer.latency_ms)
    return CheckResult(CheckStatus.OK, message, values)
