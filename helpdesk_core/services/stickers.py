"""QR stickers on devices: which devices get one, and what scanning a code leads to.

A sticker's code is a URL with the device's id and nothing secret: whoever scans it must
still log in, and sees only what their role and wards allow.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound, PermissionDenied
from ..models import Asset, Role, Status, Ticket, User, Ward
from . import scope

# Database ids are 32-bit integers; a longer "code" is nobody's (and never reaches SQL).
_CODE = re.compile(r"[0-9]{1,9}")
RECENT_TICKETS = 20


@dataclass(frozen=True)
class Scan:
    """What a scanned code leads to: ``file`` (staff of the device's ward: the filing
    form) or ``view`` (students, coordinators, administrators: the device's page)."""

    action: str
    asset: Asset


def ward_by_code(session: Session, code: str) -> Ward:
    """The ward whose code is *code* (any case); :class:`NotFound` otherwise."""
    ward = session.scalar(select(Ward).where(Ward.code == code.strip().upper()[:10]))
    if ward is None:
        raise NotFound("There is no ward with the code %(code)s.", code=code.strip()[:10])
    return ward


def sticker_assets(session: Session, ward: Ward) -> list[Asset]:
    """The ward's devices in service, by location then name: one sticker each."""
    return list(session.scalars(
        select(Asset).where(Asset.ward_id == ward.id, Asset.active.is_(True))
        .order_by(Asset.location, Asset.name, Asset.id)))


def asset_code(asset: Asset) -> str:
    """The short public code a sticker carries (and prints) for *asset*."""
    return str(asset.id)


def scan(session: Session, user: User, code: str, today: dt.date,
         categories: frozenset[str] | set[str]) -> Scan:
    """What *user* gets from scanning *code*, or a domain error that says why not.

    Unknown code or removed device: :class:`NotFound`; a device outside the user's wards
    (named in no way) or of a category no loaded plugin handles: :class:`PermissionDenied`.
    Each message tells the person what to do instead.
    """
    asset = session.get(Asset, int(code)) if _CODE.fullmatch(code or "") else None
    if asset is None:
        raise NotFound("This code is not one of our devices. Please choose the device "
                       "at the front desk instead.")
    wards = scope.ward_ids_for(session, user, today)
    if wards is not None and asset.ward_id not in wards:
        # Neither its name nor its ward: what is outside one's wards is not shown.
        raise PermissionDenied("This device belongs to a ward you do not work for. If it "
                               "has moved here, please tell the administrator.")
    if not asset.active:
        raise NotFound("The device %(name)s has been taken out of service. If it is still "
                       "in use, please tell the administrator and choose it at the front "
                       "desk.", name=asset.name)
    if user.role == Role.STAFF:
        if asset.category not in categories:
            raise PermissionDenied("Requests about the device %(name)s cannot be filed "
                                   "right now (its kind is switched off). Please call the "
                                   "students of your ward.", name=asset.name)
        return Scan("file", asset)
    return Scan("view", asset)


def asset_tickets(session: Session, asset: Asset, limit: int = RECENT_TICKETS) -> list[Ticket]:
    """The device's latest tickets, open ones first, then newest first."""
    return list(session.scalars(
        select(Ticket)
        .where(Ticket.asset_id == asset.id)
        .order_by(Ticket.status.in_(Status.OPEN).desc(), Ticket.created_at.desc(),
                  Ticket.id.desc()).limit(limit)))
