"""The page benchmark's table: each page beside the bare Flask route of the same run,
its targets, and bench/RESULTS.md rewritten with them (between two markers, so the
hand-written history below stays)."""

from __future__ import annotations

import importlib.metadata
import pathlib
import platform
import statistics
import subprocess
from dataclasses import dataclass

from .load import Measured, PageRuns, Shape

RESULTS = pathlib.Path(__file__).with_name("RESULTS.md")
START = "<!-- make bench: start (written by bench/report.py; do not edit by hand) -->"
END = "<!-- make bench: end -->"

LABELS = {"queue": "student queue", "ticket": "ticket page", "dashboard": "coord. dashboard",
          "file": "filing (POST)", "list": "ward's open tickets (web)",
          "api_list": "ward's open tickets (API)", "api_ticket": "ticket (API)"}
# Share of the bare route's req/s each page must reach (issue "a quarter of the ceiling").
SHARE_TARGET = {"queue": 0.25, "ticket": 0.25, "dashboard": 0.15, "file": 0.10}
FILE_P99_MS = 250
PG_P95_MS = {"queue": 50, "ticket": 50}  # on PostgreSQL with 1,000,000 tickets
MEMORY_TARGET_MB = 200  # master + 2 workers after the run
READY_TARGET_S = 1.5  # a worker from fork to ready


@dataclass
class Row:
    engine: str
    size: str
    name: str
    rps: float
    rps_low: float
    rps_high: float
    share: float | None
    p50: float
    p95: float
    p99: float
    errors: int
    peak_mb: float
    notes: list[str]

    def verdict(self) -> str:
        checks = []
        if self.name in SHARE_TARGET and self.share is not None:
            checks.append((f">= {SHARE_TARGET[self.name]:.0%} of bare",
                           self.share >= SHARE_TARGET[self.name]))
        if self.name == "file":
            checks.append(("0 errors", self.errors == 0))
            checks.append((f"p99 < {FILE_P99_MS} ms", self.p99 < FILE_P99_MS))
        if self.engine == "postgresql" and self.size == "1m" and self.name in PG_P95_MS:
            checks.append((f"p95 < {PG_P95_MS[self.name]} ms", self.p95 < PG_P95_MS[self.name]))
        if not checks:
            return ""
        return ", ".join(text for text, _ in checks) + (
            " ok" if all(ok for _, ok in checks) else " MISSED")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def rows(engine: str, size: str, runs: PageRuns) -> list[Row]:
    """One row per scenario: medians over the runs, the spread of req/s."""
    bare = _median([r.rps for r in runs.bare]) if runs.bare else None
    out = [Row(engine, size, "bare", bare or 0.0, min(r.rps for r in runs.bare),
               max(r.rps for r in runs.bare), 1.0, _median([r.p50_ms for r in runs.bare]),
               _median([r.p95_ms for r in runs.bare]), _median([r.p99_ms for r in runs.bare]),
               sum(r.errors for r in runs.bare), 0.0, [])] if runs.bare else []
    for name, measured in runs.scenarios.items():
        results = [m.result for m in measured]
        rps = _median([r.rps for r in results])
        out.append(Row(engine, size, name, rps, min(r.rps for r in results),
                       max(r.rps for r in results), rps / bare if bare else None,
                       _median([r.p50_ms for r in results]), _median([r.p95_ms for r in results]),
                       _median([r.p99_ms for r in results]), sum(r.errors for r in results),
                       max(m.peak_rss_mb for m in measured), [m.note for m in measured if m.note]))
    return out


def table(all_rows: list[Row]) -> list[str]:
    lines = ["| engine | size | page | req/s (median) | min-max | share of bare | p50 ms | "
             "p95 ms | p99 ms | errors | peak MB | target |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in all_rows:
        label = "bare Flask route" if r.name == "bare" else LABELS.get(r.name, r.name)
        share = "" if r.share is None else f"{r.share:.0%}"
        peak = "" if r.name == "bare" else f"{r.peak_mb:.0f}"
        lines.append(f"| {r.engine} | {r.size} | {label} | {r.rps:.0f} | "
                     f"{r.rps_low:.0f}-{r.rps_high:.0f} | {share} | {r.p50:.1f} | {r.p95:.1f} | "
                     f"{r.p99:.1f} | {r.errors} | {peak} | {r.verdict()} |")
        lines += [f"| | | note: {note} | | | | | | | | | |" for note in r.notes]
    return lines


def process_lines(engine: str, runs: PageRuns) -> list[str]:
    ready = max(runs.ready_s) if runs.ready_s else float("nan")
    memory_ok = "ok" if runs.rss_after_mb <= MEMORY_TARGET_MB else "MISSED"
    ready_ok = "ok" if ready <= READY_TARGET_S else "MISSED"
    return [f"- {engine}: master + workers after the run **{runs.rss_after_mb:.0f} MB** "
            f"(<= {MEMORY_TARGET_MB} MB {memory_ok}); a worker from fork to ready, slowest of "
            f"{len(runs.ready_s)} (the last one replacing a worker killed with -9): "
            f"**{ready:.2f} s** (<= {READY_TARGET_S} s {ready_ok})",
            f"  - RSS of the master, then each worker: "
            f"{', '.join(f'{mb:.0f}' for mb in runs.rss_each_mb)} MB; PSS (shared pages "
            f"counted once) {runs.pss_after_mb:.0f} MB in all; from fork to ready, each: "
            f"{', '.join(f'{s:.2f}' for s in runs.ready_s)} s, CPU of the slowest worker "
            f"{max(runs.ready_cpu_s, default=float('nan')):.2f} s"]


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.split("\n")[0].strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions(pg_version: str) -> str:
    libs = ", ".join(f"{name} {importlib.metadata.version(name)}"
                     for name in ("flask", "gunicorn", "sqlalchemy", "jinja2", "babel"))
    return (f"Python {platform.python_version()}, {libs}, PostgreSQL {pg_version}, "
            f"{_version(['wrk', '--version']) or 'wrk'}")


def write_results(machine: str, versions_line: str, command: str, shape: Shape, runs: int,
                  lines: list[str]) -> None:
    """Replace the generated part of bench/RESULTS.md (at its top when there is none)."""
    body = "\n".join([
        START, "## Pages beside the bare Flask route (`make bench`)", "",
        f"- Machine: {machine}", f"- Versions: {versions_line}", f"- Command: `{command}`",
        f"- Load: gunicorn -w 2 sync workers (production settings, webapp/gunicorn_conf.py), "
        f"wrk -t{shape.threads} -c{shape.connections} for {shape.seconds} s per page, "
        f"{runs} runs back to back; req/s is the median, min-max the run-to-run spread; "
        f"\"share of bare\" divides by the bare route's median of the same run.", "",
        *lines, END])
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{body}\n{rest}"
    RESULTS.write_text(text, encoding="utf-8")


__all__ = ["Measured", "rows", "table", "process_lines", "versions", "write_results"]
