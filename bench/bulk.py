"""Bench of the bulk import: a whole city in one workbook, dry run and import timed.

Generates 94 wards, 500 accounts (300 ward staff, 200 students with their placements),
5,000 devices and 8,000 checks (a ping on every device, a TCP port on 3,000), then on
each engine, in a fresh database, times a dry run and the import (each in its own
process, so the peak memory is the import's own: ru_maxrss). Targets: import <= 60 s and
<= 300 MB, dry run <= 30 s.

    python -m bench.bulk [--engines sqlite,postgresql]
    make bench BENCH_ARGS="--bulk"
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from helpdesk_core.db import create_schema

WARDS, STAFF, STUDENTS, DEVICES, TCP_CHECKS = 94, 300, 200, 5000, 3000


def workbook() -> bytes:
    """The city's workbook, in the import's own format."""
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    wards = book.create_sheet("Phường xã")
    wards.append(["Mã phường", "Tên", "Địa chỉ"])
    codes = [f"P{n:03d}" for n in range(WARDS)]
    for n, code in enumerate(codes):
        wards.append([code, f"Phường số {n}", f"{n} Trần Phú, Đà Nẵng"])
    accounts = book.create_sheet("Tài khoản")
    accounts.append(["Tên đăng nhập", "Họ và tên", "Vai trò", "Mã phường", "E-mail"])
    for n in range(STAFF):
        accounts.append([f"cb{n:04d}", f"Cán bộ {n}", "cán bộ", codes[n % WARDS],
                         f"cb{n}@danang.gov.vn"])
    for n in range(STUDENTS):
        accounts.append([f"sv{n:04d}", f"Sinh viên {n}", "sinh viên", "", ""])
    placements = book.create_sheet("Phân công sinh viên")
    placements.append(["Tên đăng nhập sinh viên", "Mã phường", "Trường", "Từ ngày", "Đến ngày"])
    for n in range(STUDENTS):
        placements.append([f"sv{n:04d}", codes[n % WARDS], "Đại học Duy Tân", "02/03/2026",
                           "30/05/2026"])
    devices = book.create_sheet("Thiết bị")
    devices.append(["Mã phường", "Tên thiết bị", "Nhóm", "Loại", "Số serial", "Địa chỉ mạng"])
    checks = book.create_sheet("Kiểm tra")
    checks.append(["Mã phường", "Thiết bị", "Kiểu kiểm tra", "Cài đặt"])
    for n in range(DEVICES):
        code, serial = codes[n % WARDS], f"SN{n:06d}"
        devices.append([code, f"Thiết bị {n}", "network", "router", serial,
                        f"10.{n // 250 % 250}.{n % 250}.1"])
        checks.append([code, serial, "ping", ""])
        if n < TCP_CHECKS:
            checks.append([code, serial, "tcp", json.dumps({"port": 9100})])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def one(url: str, path: str, apply: bool) -> None:
    """Run one import in this process; print seconds, peak MB and counts as JSON."""
    from helpdesk_core.db import make_engine, make_session_factory
    from helpdesk_core.plugins import load_registry
    from helpdesk_core.services import bulk
    engine = make_engine(url)
    create_schema(engine)
    session = make_session_factory(engine)()
    registry = load_registry()
    data = open(path, "rb").read()
    start = time.perf_counter()
    outcome = bulk.import_file(session, registry, data, "city.xlsx",
                               dt.datetime.now(dt.timezone.utc), apply=apply)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 1), "peak_mb": round(peak_mb),
                      "created": outcome.count(bulk.CREATED), "errors": len(outcome.errors),
                      "applied": outcome.applied}))


def measure(url: str, path: str, apply: bool) -> dict:
    result = subprocess.run([sys.executable, "-m", "bench.bulk", "--one", url, path]
                            + (["--apply"] if apply else []),
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--one", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--apply", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        one(args.one[0], args.one[1], args.apply)
        return 0
    from bench.__main__ import pg_create, pg_drop, pg_url
    tmp = tempfile.mkdtemp(prefix="hd_bulk_")
    path = os.path.join(tmp, "city.xlsx")
    with open(path, "wb") as handle:
        handle.write(workbook())
    rows = WARDS + STAFF + 2 * STUDENTS + DEVICES + DEVICES + TCP_CHECKS
    print(f"bulk: {rows} rows, {os.path.getsize(path) // 1024} KiB")
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        name = f"hd_bulk_{os.getpid()}"
        if engine == "sqlite":
            url = f"sqlite:///{os.path.join(tmp, 'bulk.db')}"
        else:
            pg_create(name)
            url = pg_url(name)
        try:
            dry = measure(url, path, apply=False)
            real = measure(url, path, apply=True)
            again = measure(url, path, apply=True)
        finally:
            if engine != "sqlite":
                pg_drop(name)
        print(f"{engine}: dry run {dry['seconds']} s ({dry['peak_mb']} MB), import "
              f"{real['seconds']} s ({real['peak_mb']} MB, {real['created']} created, "
              f"errors {real['errors']}), same file again {again['seconds']} s "
              f"({again['created']} created)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
