"""Filing a device's health ticket: its title, text, priority and category.

The category follows the device: a network device's certificate ticket lands in the
network queue, not in the certificate check's plugin category. Only an asset whose
category no plugin provides falls back to the check type's.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import i18n
from ...errors import HelpdeskError
from ...i18n import N_
from ...models import AssetCheck, Criticality, Source, Ticket
from ...plugins import PluginRegistry
from .. import tickets
from .rules import UNSTABLE, WARNING

log = logging.getLogger(__name__)

PRIORITY_BY_CRITICALITY = {Criticality.CRITICAL: 1, Criticality.HIGH: 2,
                           Criticality.NORMAL: 3, Criticality.LOW: 4}
WARNING_PRIORITY = 4
CRITICALITY_LABELS = {Criticality.CRITICAL: N_("critical"), Criticality.HIGH: N_("high"),
                      Criticality.NORMAL: N_("normal"), Criticality.LOW: N_("low")}


def check_label(registry: PluginRegistry, check: AssetCheck) -> str:
    """The check type's label, or its key if no plugin provides it any more."""
    check_type = registry.check_types.get(check.check_type)
    return str(check_type.label) if check_type is not None else check.check_type


def category_for(registry: PluginRegistry, check: AssetCheck) -> str | None:
    """The device's category if a plugin provides it, else the check type's."""
    if check.asset.category in registry.categories:
        return check.asset.category
    check_type = registry.check_types.get(check.check_type)
    return check_type.category if check_type is not None else None


def _texts(check: AssetCheck, reason: str, label: str, count: int,
           message: str) -> tuple[int, str, str, str]:
    """(priority, title, description, priority reason) of a ticket filed for *reason*."""
    asset = check.asset
    if reason == WARNING:
        return (WARNING_PRIORITY,
                i18n.gettext("%(asset)s: warning from check “%(check)s”", asset=asset.name,
                             check=label),
                i18n.gettext("The health check “%(check)s” of %(asset)s reports a warning: "
                             "%(detail)s", check=label, asset=asset.name, detail=message),
                i18n.gettext("Health check warning"))
    priority = PRIORITY_BY_CRITICALITY.get(asset.criticality, 3)
    why = i18n.gettext("Device criticality: %(criticality)s", criticality=i18n.gettext(
        CRITICALITY_LABELS.get(asset.criticality, asset.criticality)))
    if reason == UNSTABLE:
        return (priority,
                i18n.gettext("%(asset)s is unstable: check “%(check)s” keeps switching",
                             asset=asset.name, check=label),
                i18n.gettext("The health check “%(check)s” of %(asset)s keeps switching "
                             "between working and failing. Last result: %(detail)s",
                             check=label, asset=asset.name, detail=message), why)
    return (priority,
            i18n.gettext("%(asset)s: check “%(check)s” failed", asset=asset.name, check=label),
            i18n.gettext("The health check “%(check)s” of %(asset)s (%(address)s) failed "
                         "%(count)d times in a row. Last result: %(detail)s",
                         check=label, asset=asset.name, address=asset.address, count=count,
                         detail=message), why)


def file_ticket(session: Session, registry: PluginRegistry, check: AssetCheck, reason: str,
                data: dict[str, Any], now: dt.datetime,
                find_open: Callable[[], Ticket | None]) -> tuple[Ticket | None, bool]:
    """File the device's health ticket; if another process just filed one, add to theirs.

    :param find_open: finds the device's open ticket after the unique index refused ours.
    :return: the ticket (None if none could be filed) and whether this call filed it.
    """
    asset = check.asset
    category = category_for(registry, check)
    if asset.ward is None:
        # A city-wide service has no ward queue to land in; the board shows it red.
        log.warning("check %s of city-wide asset %s is %s; no ward to file a ticket in",
                    check.id, asset.name, reason)
        return None, False
    if category is None:
        log.warning("check %s: no plugin provides %s; no ticket filed", check.id, check.check_type)
        return None, False
    message = data["message"]
    priority, title, description, why = _texts(
        check, reason, check_label(registry, check), check.consecutive_failures or 0, message)
    event_data = dict(data, trigger=reason)
    try:
        with tickets.savepoint(session):  # a refusal undoes the ticket and its events
            ticket = tickets.file_ticket(
                session, registry, ward=asset.ward, category=category,
                title=title[:tickets.TITLE_MAX], description=description, now=now,
                source=Source.HEALTH_CHECK, reporter=None, asset=asset, check=check,
                priority_override=priority, override_reason=why)
            ticket.flapping = reason == UNSTABLE
            tickets.record_event(session, registry, ticket, "health", None, now,
                                 new=data["status"], body=message, data=event_data)
            session.flush()
    except IntegrityError:
        # Another process filed this device's ticket a moment ago: add to theirs instead.
        ticket = find_open()
        if ticket is None:
            raise
        tickets.record_event(session, registry, ticket, "health", None, now,
                             new=data["status"], body=message, data=event_data)
        return ticket, False
    except HelpdeskError as exc:
        log.warning("check %s: could not file a ticket: %s", check.id, exc)
        return None, False
    log.info("check %s (%s) filed %s (%s)", check.id, check.check_type, ticket.number, reason)
    return ticket, True
