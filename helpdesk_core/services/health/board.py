"""The status board: every device with checks a user may see, grouped by ward."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...contracts import CheckStatus
from ...models import Asset, AssetCheck, CheckOutage, Ticket, User, Ward
from .. import scope
from .recording import open_tickets_for
from .rules import is_bad


@dataclass
class BoardWard:
    """One block of the board: a ward (or ``ward=None``: city-wide services)."""

    ward: Ward | None
    assets: list[Asset]


@dataclass
class Board:
    wards: list[BoardWard]
    open_tickets: dict[int, Ticket]  # asset id -> the device's open health ticket

    def ticket_for(self, check: AssetCheck) -> Ticket | None:
        """The open health ticket of the check's device (one per device)."""
        return self.open_tickets.get(check.asset_id)


def colour_of(status: str | None) -> str:
    """green (ok), amber (warning), red (failure or error), grey (never checked)."""
    if status == CheckStatus.OK.value:
        return "green"
    if status == CheckStatus.WARNING.value:
        return "amber"
    if is_bad(status):
        return "red"
    return "grey"


def status_board(session: Session, user: User | None, today: dt.date,
                 ward_id: int | None = None,
                 only_wards: frozenset[int] | None = None) -> Board:
    """Every active asset with checks that *user* may see, grouped by ward.

    Staff see their ward, students their assigned wards, coordinators and
    administrators every ward and the city-wide services. *only_wards* narrows it further
    (an integration's token). A fixed number of queries, whatever the number of wards,
    assets and checks.
    """
    wards = scope.ward_ids_for(session, user, today)
    if only_wards is not None:
        wards = only_wards if wards is None else wards & only_wards
    query = (select(Asset).where(Asset.active.is_(True), Asset.checks.any())
             .options(selectinload(Asset.checks), joinedload(Asset.ward))
             .order_by(Asset.ward_id.is_(None), Asset.ward_id, Asset.name, Asset.id))
    if wards is not None:
        query = query.where(Asset.ward_id.in_(wards or [-1]))
    if ward_id is not None:
        query = query.where(Asset.ward_id == ward_id)
    assets = list(session.scalars(query).unique())
    open_tickets = open_tickets_for(session, [asset.id for asset in assets])
    blocks: list[BoardWard] = []
    for asset in assets:
        if not blocks or blocks[-1].ward is not asset.ward:
            blocks.append(BoardWard(asset.ward, []))
        blocks[-1].assets.append(asset)
    return Board(blocks, open_tickets)


def outage_history(session: Session, asset_id: int, limit: int = 30) -> list[CheckOutage]:
    """The device's latest outages, newest first (with their checks), however short:
    also those that never reached a check's failure threshold."""
    return list(session.scalars(select(CheckOutage).where(CheckOutage.asset_id == asset_id)
                                .options(joinedload(CheckOutage.check))
                                .order_by(CheckOutage.started_at.desc(), CheckOutage.id.desc())
                                .limit(limit)))
