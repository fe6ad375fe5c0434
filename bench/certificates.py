"""Bench of the certificates: a batch of 200 students, issued and printed in one go.

In a fresh database on each engine: 10 wards, 200 students placed in one batch, 1,000
resolved tickets among them, an evaluation each. Times issuing the batch's certificates
(figures of every student, one number each) and rendering the one PDF of all 200 pages,
then checks the PDF has 200 pages. Target: both together <= 60 s.

    python -m bench.certificates [--engines sqlite,postgresql] [--students 200]
    make bench BENCH_ARGS="--certificates"
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
from helpdesk_core.db import create_schema

START, END = dt.date(2026, 3, 2), dt.date(2026, 5, 29)
NOW = dt.datetime(2026, 6, 1, 3, 0, tzinfo=dt.timezone.utc)
WARDS, TICKETS_PER_STUDENT = 10, 5


def populate(session, students: int) -> tuple[int, int]:
    """The batch and its people; returns (batch id, coordinator id)."""
    from helpdesk_core.models import (Evaluation, EvaluationScore, Role, Status,
                                      StudentAssignment, Ticket, User, Ward)
    from helpdesk_core.services import batches
    wards = [Ward(code=f"P{n:02d}", name=f"Phường Hòa Xuân {n}") for n in range(WARDS)]
    session.add_all(wards)
    session.flush()
    university = batches.save_university(session, None, code="DTU", name="Đại học Duy Tân")
    batch = batches.save_batch(session, None, name="Đợt 2 – 2026", starts_on=START, ends_on=END,
                               wards=wards, issuing_unit="Sở Khoa học và Công nghệ Đà Nẵng",
                               criteria="Tinh thần trách nhiệm; 5\nKỹ năng kỹ thuật; 10")
    coordinator = User(login="dieuphoi", name="Điều phối", password_hash="x",
                       role=Role.COORDINATOR)
    people = [User(login=f"sv{n:04d}", name=f"Nguyễn Thị Ánh Tuyết {n}", password_hash="x",
                   role=Role.STUDENT) for n in range(students)]
    session.add_all([coordinator, *people])
    session.flush()
    rng = random.Random(17)
    seq = 0
    for n, person in enumerate(people):
        ward = wards[n % WARDS]
        session.add(StudentAssignment(student_id=person.id, ward_id=ward.id,
                                      university=university.name, university_id=university.id,
                                      batch_id=batch.id, starts_on=START, ends_on=END))
        for _ in range(TICKETS_PER_STUDENT):
            seq += 1
            resolved = NOW - dt.timedelta(days=rng.randint(4, 80))
            session.add(Ticket(ward_id=ward.id, year=2026, seq=seq, number=f"B-2026-{seq:05d}",
                               category=rng.choice(["printer", "network", "vneid"]),
                               title="Máy in kẹt giấy", status=Status.RESOLVED,
                               assignee_id=person.id, created_at=resolved - dt.timedelta(hours=3),
                               resolved_at=resolved, resolution_breached=rng.random() < 0.2))
        evaluation = Evaluation(batch_id=batch.id, student_id=person.id, ward_id=ward.id,
                                comment="Nhiệt tình")
        evaluation.scores = [EvaluationScore(criterion_id=c.id, score=rng.randint(3, c.scale_max))
                             for c in batch.criteria]
        session.add(evaluation)
    session.commit()
    return batch.id, coordinator.id


def run(url: str, students: int, tmp: str) -> dict:
    from helpdesk_core import stickers
    from helpdesk_core.db import make_engine, make_session_factory
    from helpdesk_core.models import Batch, User
    from helpdesk_core.services import certificates
    engine = make_engine(url)
    create_schema(engine)
    session = make_session_factory(engine)()
    try:
        batch_id, coordinator_id = populate(session, students)
        batch, coordinator = session.get(Batch, batch_id), session.get(User, coordinator_id)
        font = stickers.find_font()
        start = time.perf_counter()
        issued = certificates.issue_for_batch(session, batch, coordinator, NOW)
        session.commit()
        issue_s = time.perf_counter() - start
        start = time.perf_counter()
        pdf = certificates.render_pdf(certificates.batch_certificates(session, batch),
                                      "https://helpdesk.danang.example", font, title=batch.name)
        render_s = time.perf_counter() - start
    finally:
        session.close()
        engine.dispose()
    path = os.path.join(tmp, "certificates.pdf")
    with open(path, "wb") as handle:
        handle.write(pdf)
    pages = _pages(path)
    return {"issued": len(issued), "issue_s": issue_s, "render_s": render_s,
            "pages": pages, "kib": len(pdf) // 1024}


def _pages(path: str) -> int:
    import subprocess
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--students", type=int, default=200)
    args = parser.parse_args(argv)
    from bench.__main__ import pg_create, pg_drop, pg_url
    tmp = tempfile.mkdtemp(prefix="hd_certs_")
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        name = f"hd_certs_{os.getpid()}"
        if engine == "sqlite":
            url = f"sqlite:///{os.path.join(tmp, 'certs.db')}"
        else:
            pg_create(name)
            url = pg_url(name)
        try:
            r = run(url, args.students, tmp)
        finally:
            if engine != "sqlite":
                pg_drop(name)
        total = r["issue_s"] + r["render_s"]
        print(f"{engine}: {r['issued']} certificates issued in {r['issue_s']:.1f} s, PDF of "
              f"{r['pages']} pages ({r['kib']} KiB) rendered in {r['render_s']:.1f} s; total "
              f"{total:.1f} s (target <= 60 s: {'met' if total <= 60 else 'MISSED'})",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
