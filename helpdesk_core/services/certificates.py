"""Certificates of a batch: issued in bulk by a coordinator, verified by anyone.

A number is ``CN-<year>-XXXX-XXXX-XXXX``: 60 random bits in Crockford's base32 (no I, L,
O, U), so numbers cannot be guessed or enumerated. Issuing again keeps a student's
number and refreshes the figures snapshot. The public verification tells only the
name, the batch and the date of issue.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..calendar import DEFAULT_TIMEZONE
from ..errors import NotFound, PermissionDenied
from ..models import Batch, Certificate, Role, StudentAssignment, User
from . import evaluations

if TYPE_CHECKING:
    from .. import certificates as layout

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
NUMBER = re.compile(r"^CN-[0-9]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-"
                    r"[0-9A-HJKMNP-TV-Z]{4}$")
VERIFY_PREFIX = "/verify/"


def new_number(year: int) -> str:
    """A fresh certificate number: the year and 60 random bits."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"CN-{year}-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise_number(value: str | None) -> str | None:
    """*value* as a certificate number (spaces dropped, capitals, o→0, i/l→1 as
    Crockford reads them), or None when it cannot be one."""
    text = re.sub(r"\s+", "", value or "").upper()[:40]
    if not text.startswith("CN-"):
        return None
    head, tail = text[:8], text[8:].translate(str.maketrans("OIL", "011"))
    text = head + tail
    return text if NUMBER.match(text) else None


def issue_for_batch(session: Session, batch: Batch, issuer: User, now: dt.datetime,
                    tz: ZoneInfo | None = None) -> list[Certificate]:
    """A certificate for every student placed in *batch* (coordinators, administrators).

    Existing certificates keep their number; their figures and date of issue are renewed.
    """
    if issuer.role not in (Role.COORDINATOR, Role.ADMIN):
        raise PermissionDenied("Only coordinators issue certificates.")
    results = evaluations.student_results(session, issuer, batch_id=batch.id, tz=tz)
    existing = {c.student_id: c for c in session.scalars(
        select(Certificate).where(Certificate.batch_id == batch.id))}
    taken = set(session.scalars(select(Certificate.number)))
    issued = []
    for result in results:
        certificate = existing.get(result.student_id)
        if certificate is None:
            number = new_number(now.year)
            while number in taken:  # 60 random bits: practically never
                number = new_number(now.year)
            taken.add(number)
            certificate = Certificate(number=number, batch_id=batch.id,
                                      student_id=result.student_id)
            session.add(certificate)
        share = result.on_time_share
        certificate.issued_at, certificate.issued_by_id = now, issuer.id
        certificate.figures = {
            "name": result.name, "university": result.university, "batch": batch.name,
            "wards": list(result.wards), "starts_on": batch.starts_on.isoformat(),
            "ends_on": batch.ends_on.isoformat(), "issuing_unit": batch.issuing_unit,
            "resolved": result.resolved, "on_time": result.on_time,
            "on_time_percent": None if share is None else round(100 * share, 1),
            "hours": result.hours, "categories": dict(result.categories),
            "evaluation": result.evaluation}
        issued.append(certificate)
    session.flush()
    return issued


def batch_certificates(session: Session, batch: Batch) -> list[Certificate]:
    """The batch's certificates, by student name."""
    rows = session.scalars(select(Certificate).options(joinedload(Certificate.student))
                           .where(Certificate.batch_id == batch.id))
    return sorted(rows, key=lambda c: (c.figures.get("name", ""), c.id))


def certificate_for(session: Session, viewer: User, number: str) -> Certificate:
    """The certificate with *number* if *viewer* may download it: coordinators and
    administrators, the student, their university's coordinators; else :class:`NotFound`."""
    found = normalise_number(number)
    certificate = session.scalar(select(Certificate).where(Certificate.number == found)) \
        if found else None
    if certificate is None or not _may_see(session, viewer, certificate):
        raise NotFound("There is no such certificate.")
    return certificate


def _may_see(session: Session, viewer: User, certificate: Certificate) -> bool:
    if viewer.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    if viewer.role == Role.STUDENT:
        return viewer.id == certificate.student_id
    if viewer.role == Role.UNIVERSITY and viewer.university_id is not None:
        return bool(session.scalar(select(StudentAssignment.id).where(
            StudentAssignment.student_id == certificate.student_id,
            StudentAssignment.batch_id == certificate.batch_id,
            StudentAssignment.university_id == viewer.university_id).limit(1)))
    return False


@dataclass(frozen=True)
class Verification:
    """All a public verification shows."""

    number: str
    name: str
    batch: str
    issued_on: dt.date


def verify(session: Session, number: str | None, tz: ZoneInfo | None = None) -> Verification:
    """The public answer for *number*.

    :raises NotFound: not a number of ours (malformed, forged, or unknown).
    """
    found = normalise_number(number)
    row = session.execute(select(Certificate.number, Certificate.figures, Certificate.issued_at)
                          .where(Certificate.number == found)).first() if found else None
    if row is None:
        raise NotFound("No certificate has this number. Check it letter by letter; a "
                       "certificate whose number is not found here was not issued by us.")
    tz = tz or ZoneInfo(DEFAULT_TIMEZONE)
    return Verification(row[0], row[1].get("name", ""), row[1].get("batch", ""),
                        row[2].astimezone(tz).date())


def verification_url(base: str, certificate: Certificate) -> str:
    """The public page a certificate's QR code leads to."""
    return base.rstrip("/") + VERIFY_PREFIX + certificate.number


def texts(certificates: list[Certificate], base: str,
          tz: ZoneInfo | None = None) -> list[layout.CertificateText]:
    """What each certificate prints, from its stored figures."""
    from .. import certificates as layout  # ReportLab: loaded when a PDF is made
    tz = tz or ZoneInfo(DEFAULT_TIMEZONE)
    out = []
    for c in certificates:
        f = c.figures
        out.append(layout.CertificateText(
            number=c.number, name=f.get("name", ""), university=f.get("university", ""),
            batch=f.get("batch", ""), wards=list(f.get("wards", [])),
            starts_on=dt.date.fromisoformat(f["starts_on"]),
            ends_on=dt.date.fromisoformat(f["ends_on"]),
            issued_on=c.issued_at.astimezone(tz).date(), issuing_unit=f.get("issuing_unit", ""),
            resolved=int(f.get("resolved", 0)), on_time_percent=f.get("on_time_percent"),
            hours=float(f.get("hours", 0)), url=verification_url(base, c)))
    return out


def render_pdf(certificates: list[Certificate], base: str, font_path: str, title: str = "",
               tz: ZoneInfo | None = None) -> bytes:
    """The PDF of *certificates* (one page each)."""
    from .. import certificates as layout
    return layout.render(texts(certificates, base, tz), font_path, title=title)
