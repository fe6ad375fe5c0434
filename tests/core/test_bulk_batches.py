"""Bulk import of placements with their batch (column "Đợt"): a known batch is set and
the university linked by its name; an unknown batch is refused with the row and column."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from helpdesk_core.models import StudentAssignment
from helpdesk_core.services import batches, bulk

from .test_bulk import ACCOUNTS, WARDS, run, xlsx


def _sheets(batch_name: str) -> dict:
    placements = [["Tên đăng nhập sinh viên", "Mã phường", "Trường", "Từ ngày", "Đến ngày",
                   "Đợt"],
                  ["sv.tranthib", "HCH", "Đại học Duy Tân", "02/03/2026", "30/05/2026",
                   batch_name]]
    return {"Phường xã": WARDS, "Tài khoản": ACCOUNTS, "Phân công sinh viên": placements}


def test_placements_take_their_batch_and_university(db_session, registry):
    assert run(db_session, registry, xlsx({"Phường xã": WARDS})).errors == []
    from helpdesk_core.models import Ward
    hch = db_session.scalar(select(Ward).where(Ward.code == "HCH"))
    dtu = batches.save_university(db_session, None, code="DTU", name="Đại học Duy Tân")
    batch = batches.save_batch(db_session, None, name="Đợt 1 – 2026",
                               starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 5, 30),
                               wards=[hch])
    db_session.commit()
    unknown = run(db_session, registry, xlsx(_sheets("Đợt 9")), apply=True)
    assert [(e.sheet, e.row, e.column) for e in unknown.errors] == [
        ("Phân công sinh viên", 2, "Đợt")]
    assert not unknown.applied
    outcome = run(db_session, registry, xlsx(_sheets("Đợt 1 – 2026")))
    assert outcome.errors == [] and outcome.applied
    placement = db_session.scalar(select(StudentAssignment))
    assert (placement.batch_id, placement.university_id) == (batch.id, dtu.id)
    again = run(db_session, registry, xlsx(_sheets("Đợt 1 – 2026")))
    assert again.count(bulk.CREATED) == 0 and again.count(bulk.CHANGED) == 0
