"""The ``kiosk_status`` check: ask the kiosk's own status endpoint (a coroutine).

Kiosk software that can report its state answers ``GET /status`` (the path is a
setting) with JSON. Every key is optional; a kiosk that only answers 200 passes::

    {
      "app": "running",              # or "stopped": the ticket application is closed
      "server": "connected",         # or "disconnected": no link to the queue server
      "printer": {
        "online": true,              # false: the ticket printer does not answer
        "paper": "ok",               # "ok", "near_end" or "out"
        "cover_open": false
      },
      "last_ticket": "2026-12-05T08:14:00+07:00"   # shown, not judged
    }

Paper near its end is a warning; anything that stops citizens taking a number (paper
out, cover open, printer offline, application stopped, server lost) is a failure.
"""

from __future__ import annotations

import json

from helpdesk_core import CheckResult, CheckStatus, CheckTarget, http, translator

_ = translator(__name__).gettext

PAPER_STATES = ("ok", "near_end", "out")


def _report(answer: http.HttpAnswer) -> dict:
    """The JSON object the kiosk answered, or {} if it answered something else."""
    try:
        report = json.loads(answer.text)
    except ValueError:
        return {}
    return report if isinstance(report, dict) else {}


def _troubles(report: dict) -> list[str]:
    """What in *report* stops citizens taking a number, in the current locale."""
    printer = report.get("printer") if isinstance(report.get("printer"), dict) else {}
    found = []
    if report.get("app") == "stopped":
        found.append(_("the ticket application is stopped"))
    if report.get("server") == "disconnected":
        found.append(_("no link to the queue server"))
    if printer.get("online") is False:
        found.append(_("the ticket printer is offline"))
    if printer.get("paper") == "out":
        found.append(_("the ticket printer is out of paper"))
    if printer.get("cover_open") is True:
        found.append(_("the printer cover is open"))
    return found


async def check_status(target: CheckTarget) -> CheckResult:
    """Request the kiosk's status page and judge what it reports."""
    if not target.address:
        return CheckResult(CheckStatus.ERROR, _("No kiosk address configured."))
    url = target.address.rstrip("/") + (target.config.get("path") or "/status")
    try:
        answer = await http.get(url, timeout=target.timeout, max_body=64 * 1024)
    except http.HttpError as error:
        return CheckResult(CheckStatus.FAILURE, _("The kiosk at %(url)s does not answer "
                                                  "(%(error)s)", url=url, error=error.reason))
    values: dict = {"latency_ms": answer.latency_ms, "status_code": answer.status}
    if answer.status != 200:
        return CheckResult(CheckStatus.FAILURE, _("The kiosk at %(url)s answered %(status)s",
                                                  url=url, status=answer.status), values)
    report = _report(answer)
    printer = report.get("printer") if isinstance(report.get("printer"), dict) else {}
    if printer.get("paper") in PAPER_STATES:
        values["paper"] = printer["paper"]
    if isinstance(report.get("last_ticket"), str):
        values["last_ticket"] = report["last_ticket"][:40]
    troubles = _troubles(report)
    if troubles:
        return CheckResult(CheckStatus.FAILURE, _("Kiosk: %(troubles)s",
                                                  troubles="; ".join(troubles)), values)
    if values.get("paper") == "near_end":
        return CheckResult(CheckStatus.WARNING, _("The paper roll is nearly used up"), values)
    return CheckResult(CheckStatus.OK, _("The kiosk answered in %(ms)s ms",
                                         ms=answer.latency_ms), values)
