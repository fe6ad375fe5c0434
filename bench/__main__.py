"""``make bench``: generate data, load the main pages on SQLite and PostgreSQL beside a
bare Flask route served the same way, sweep 1,000 health-check targets, print the tables
and rewrite the generated part of bench/RESULTS.md.

    python -m bench                       # quick size (10k tickets) on both engines
    python -m bench --size 1m             # 1,000,000 tickets on both engines
    python -m bench --sqlite-size 100k --pg-size 1m
    python -m bench --pg-db hd_bench_1m --reuse   # keep and reuse a generated database
    python -m bench --phone               # the student's journey on a phone (bench/phone.py)

PostgreSQL: ``HELPDESK_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/test)
is only used to create and drop the benchmark's own database.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from sqlalchemy.engine import make_url

from . import generate, load, report, sweep

PG_ADMIN_URL = os.environ.get("HELPDESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SWEEP_RATIO_TARGET = 1.3  # issue 16: one sweep of 5,000 mixed devices
SWEEP_MEMORY_TARGET_MB = 250
ROW = "| {:<10} | {:<6} | {:<28} | {:>8} | {:>7} | {:>7} | {:>7} | {:>6} | {:>8} | {:<27} |"


def ensure_wrk() -> None:
    """wrk drives the load; install it from Debian when it is missing (as .ci/run does)."""
    if shutil.which("wrk"):
        return
    print("bench: wrk is missing; installing it with apt-get (Debian package `wrk`)", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    try:
        subprocess.run(sudo + ["apt-get", "update", "-q"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"],
                       check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"bench: could not install wrk ({exc}); install it: apt-get install wrk")
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk is still missing; install it: apt-get install wrk")


def _pg_admin():
    import psycopg
    url = make_url(PG_ADMIN_URL)
    try:
        return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                               user=url.username or "postgres", password=url.password,
                               dbname=url.database or "postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"bench: PostgreSQL is not reachable at HELPDESK_BENCH_PG_URL "
                         f"({url.render_as_string(hide_password=True)}): {exc}\n"
                         f"Start it (as .ci/run does) or run `make bench "
                         f"BENCH_ARGS=\"--engines sqlite\"`.") from exc


def pg_url(name: str) -> str:
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def pg_create(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_exists(name: str) -> bool:
    with _pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def pg_version() -> str:
    try:
        with _pg_admin() as conn:
            return conn.execute("SHOW server_version").fetchone()[0].split()[0]
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - only a label for the table
        return f"unavailable ({type(exc).__name__})"


def machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as handle:
        mem_kb = int(next(l for l in handle if l.startswith("MemTotal")).split()[1])
    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((l.split(":", 1)[1].strip() for l in handle if l.startswith("model name")), "")
    except OSError:
        pass
    return (f"{cores} cores ({cpu or platform.machine()}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
            f"Python {platform.python_version()}, PostgreSQL {pg_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def header() -> list[str]:
    return [ROW.format("engine", "size", "scenario", "req/s", "p50 ms", "p95 ms", "p99 ms",
                       "errors", "peak MB", "target"),
            ROW.format(*["-" * 10, "-" * 6, "-" * 28, "-" * 8, "-" * 7, "-" * 7, "-" * 7, "-" * 6,
                         "-" * 8, "-" * 27]).replace(" ", "-").replace("|-", "| ").replace("-|", " |")]


def sweep_row(engine: str, s: sweep.SweepResult, warm: bool = False) -> str:
    """The first sweep of a new database, or (*warm*) the same devices again with their
    last results known, as when a scheduler starts again."""
    wall, ratio = (s.warm_wall_s, s.warm_ratio) if warm else (s.wall_s, s.ratio)
    ok = (ratio <= SWEEP_RATIO_TARGET and s.recorded == s.targets
          and s.peak_rss_mb < SWEEP_MEMORY_TARGET_MB)
    what = f"{s.targets} checks/{s.hung} hung/max {s.pool}" + (", again" if warm else "")
    return ROW.format(engine, "sweep", what, "", f"{wall:.2f}s", f"x{ratio:.2f}", "",
                      s.targets - s.recorded, f"{s.peak_rss_mb:.0f}",
                      f"<= x{SWEEP_RATIO_TARGET}, < {SWEEP_MEMORY_TARGET_MB} MB {'ok' if ok else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=generate.SIZES, default="quick",
                        help="tickets generated for both engines (default quick = 10k)")
    parser.add_argument("--sqlite-size", choices=generate.SIZES, help="override --size for SQLite")
    parser.add_argument("--pg-size", choices=generate.SIZES, help="override --size for PostgreSQL")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--scenarios",
                        default="queue,ticket,dashboard,file,list,api_list,api_ticket")
    parser.add_argument("--shape", choices=sorted(load.SHAPES), default="reference",
                        help="wrk load: reference = -t2 -c8 for 20 s per page (default), "
                             "legacy = -t1 -c2 for 10 s (the earlier benches)")
    parser.add_argument("--seconds", type=int, help="per page (default: the shape's)")
    parser.add_argument("--connections", type=int, help="wrk connections (default: the shape's)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of every page, back to back, for the spread (default 3)")
    parser.add_argument("--max-requests", type=int, default=100000, help="per page and run")
    parser.add_argument("--preload", action="store_true",
                        help="the master builds the app before the fork (gunicorn --preload); "
                             "production's workers build it after the fork")
    parser.add_argument("--no-preload", action="store_true",
                        help="workers build the app after the fork: the default, as production")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table only; do not rewrite bench/RESULTS.md")
    parser.add_argument("--pg-db", help="PostgreSQL database name (default: a fresh one, dropped)")
    parser.add_argument("--sqlite-path", help="SQLite file (default: a fresh one, deleted)")
    parser.add_argument("--reuse", action="store_true",
                        help="use the existing --pg-db/--sqlite-path data, do not generate")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--sweep-only", action="store_true")
    parser.add_argument("--bulk", action="store_true",
                        help="bench the bulk import instead (bench/bulk.py)")
    parser.add_argument("--certificates", action="store_true",
                        help="bench a batch's 200 certificates instead (bench/certificates.py)")
    parser.add_argument("--phone", action="store_true",
                        help="the student's journey on a phone in Chromium instead (bench/phone.py)")
    parser.add_argument("--notify", action="store_true",
                        help="bench notifications instead (bench/notify.py)")
    args = parser.parse_args(argv)
    if args.bulk:
        from bench import bulk
        return bulk.main(["--engines", args.engines])
    if args.certificates:
        from bench import certificates
        return certificates.main(["--engines", args.engines])
    if args.phone:
        from bench import phone
        return phone.main(["--runs", str(args.runs)])
    if args.notify:
        from bench import notify
        return notify.main(["--engines", args.engines])

    ensure_wrk()
    shape = load.SHAPES[args.shape]
    shape = load.Shape(shape.threads, args.connections or shape.connections,
                       args.seconds or shape.seconds)
    page_rows: list[report.Row] = []
    process: list[str] = []
    engines = [] if args.sweep_only else [e.strip() for e in args.engines.split(",") if e.strip()]
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    lines = header()
    tmpdir = tempfile.mkdtemp(prefix="hd_bench_")
    try:
        for engine in engines:
            size = (args.sqlite_size if engine == "sqlite" else args.pg_size) or args.size
            if engine == "sqlite":
                path = args.sqlite_path or os.path.join(tmpdir, f"bench_{size}.db")
                url = f"sqlite:///{os.path.abspath(path)}"
                fresh = not (args.reuse and os.path.exists(path))
            elif engine == "postgresql":
                name = args.pg_db or f"hd_bench_{size}_{os.getpid()}"
                url = pg_url(name)
                fresh = not (args.reuse and pg_exists(name))
                if fresh:
                    pg_create(name)
            else:
                raise SystemExit(f"unknown engine {engine}")
            try:
                if fresh:
                    print(f"bench: generating {size} on {engine} ...", flush=True)
                    timings = generate.generate(url, generate.SIZES[size])
                    print(f"bench: generated {timings['tickets']} tickets, {timings['events']} "
                          f"events in {timings['tickets_s'] + timings['events_s']:.0f} s", flush=True)
                if not fresh:
                    tickets = load.count_tickets(url)
                    size = f"{tickets / 1e6:.2g}m" if tickets >= 1e6 else f"{tickets // 1000}k"
                print(f"bench: loading {engine} ({size}) ...", flush=True)
                runs = load.run(url, seconds=shape.seconds, max_requests=args.max_requests,
                                connections=shape.connections, threads=shape.threads,
                                scenarios=scenarios, runs=args.runs, reference=True,
                                preload=args.preload and not args.no_preload)
                page_rows += report.rows(engine, size, runs)
                process += report.process_lines(engine, runs)
            finally:
                if not args.keep and not args.reuse:
                    if engine == "postgresql":
                        pg_drop(name)
                    elif not args.sqlite_path and os.path.exists(path):
                        os.unlink(path)
        sweep_engines = [] if args.no_sweep else (
            [e.strip() for e in args.engines.split(",") if e.strip()] or ["sqlite"])
        for engine in sweep_engines:
            print(f"bench: sweeping {sweep.TARGETS:,} health-check targets on {engine} ...", flush=True)
            if engine == "postgresql":
                name = f"hd_sweep_{os.getpid()}"
                pg_create(name)
                try:
                    swept = sweep.run(pg_url(name))
                finally:
                    pg_drop(name)
            else:
                swept = sweep.run()  # a fresh SQLite file
            lines.append(sweep_row(engine, swept))
            lines.append(sweep_row(engine, swept, warm=True))
            lines.append(f"|   note: scheduler CPU {swept.cpu_s:.2f} s, again "
                         f"{swept.warm_cpu_s:.2f} s (the devices "
                         f"{swept.peers_cpu_s:.2f} s); results recorded in {swept.batches} "
                         f"transactions; statuses {swept.statuses}")
        if sweep_engines:
            print("bench: scripting an outage under a running scheduler ...", flush=True)
            lines.append(f"|   {sweep.outage()}")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print()
    print(f"Machine: {machine()}")
    page_lines = report.table(page_rows) + [""] + process if page_rows else []
    print("\n".join(page_lines))
    if len(lines) > 2:
        print("\n".join(lines))
    if page_rows and not args.no_write:
        report.write_results(machine(), report.versions(pg_version()),
                             "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
                             shape, args.runs, page_lines)
        print(f"bench: wrote {report.RESULTS}")
    if not args.no_sweep:
        print("sweep row: p50 column = wall time of one run of every check, p95 column = wall "
              "time / per-check timeout (2 s), errors = checks without a result, peak MB = "
              "the scheduler process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
