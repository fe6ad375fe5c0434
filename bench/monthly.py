"""Bench of the city's monthly report: figures (SQL), XLSX and PDF, timed, peak memory.

Runs against a database filled by ``bench.generate`` (the report's own tables are created
if missing), in a fresh process so the peak memory (ru_maxrss) is the report's own.
Targets: 1,000,000 tickets on PostgreSQL <= 30 s and <= 400 MB; 100,000 on SQLite <= 10 s.

    python -m bench.generate sqlite:////tmp/b100k.db --size 100k
    python -m bench.monthly sqlite:////tmp/b100k.db [--month 2026-11]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time


def run(url: str, month: dt.date | None) -> dict[str, object]:
    from sqlalchemy import event, func, select
    from sqlalchemy.orm import Session

    from helpdesk_core import i18n
    from helpdesk_core.db import make_engine
    from helpdesk_core.models import Base, MonthlyReport, Ticket
    from helpdesk_core.monthly_files import render_pdf, render_xlsx
    from helpdesk_core.services import monthly
    from helpdesk_core.stickers import find_font

    engine = make_engine(url)
    Base.metadata.create_all(engine, tables=[MonthlyReport.__table__,
                                             Base.metadata.tables["ticket_rating"]])
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: statements.append(statement))
    font = find_font()
    with Session(engine) as session, i18n.use_locale("vi"):
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        latest = session.scalar(select(func.max(Ticket.created_at)))
        month = month or monthly.previous_month(latest.date())
        statements.clear()
        started = time.perf_counter()
        report = monthly.build_report(session, month)
        figures = time.perf_counter() - started
        queries = len(statements)
        xlsx = render_xlsx(report)
        pdf = render_pdf(report, font)
        total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(f"/tmp/bench-monthly-{engine.dialect.name}.pdf", "wb") as out:
        out.write(pdf)
    return {"engine": engine.dialect.name, "tickets": tickets, "month": f"{month:%m/%Y}",
            "filed": report.summary.get("filed"), "queries": queries,
            "figures_s": round(figures, 2), "total_s": round(total, 2),
            "peak_mb": round(peak_mb), "xlsx_kb": len(xlsx) // 1024, "pdf_kb": len(pdf) // 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.monthly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--month", help="YYYY-MM (default: the month before the latest ticket)")
    args = parser.parse_args(argv)
    month = dt.datetime.strptime(args.month, "%Y-%m").date() if args.month else None
    result = run(args.url, month)
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
