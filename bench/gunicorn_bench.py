"""gunicorn settings of the page benchmark: production's (webapp/gunicorn_conf.py), quiet,
and a note of how long each worker takes from its fork to being ready to serve.

Each worker writes, to ``BENCH_READY_LOG``, the moment it starts after the fork and the
moment it is ready to serve (one line each: ``fork|ready <pid> <monotonic seconds>
<CPU seconds of the worker>``);
without ``preload_app`` (production's default) the second includes building the app.
``bench.server`` reads them.
"""

from __future__ import annotations

import os
import time

from webapp.gunicorn_conf import *  # noqa: F401,F403 - production's settings
from webapp.gunicorn_conf import post_fork as _production_post_fork

accesslog = None
loglevel = "warning"
# BENCH_PRELOAD=1 measures the app preloaded in the master (gunicorn --preload).
preload_app = os.environ.get("BENCH_PRELOAD", "0") == "1"
_LOG = os.environ.get("BENCH_READY_LOG")


def _note(kind: str, pid: int) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="ascii") as handle:
            # CPU time too: on a busy machine the wall time mostly waits for a core.
            handle.write(f"{kind} {pid} {time.monotonic():.6f} {time.process_time():.6f}\n")


def post_fork(server, worker) -> None:
    _note("fork", worker.pid)
    _production_post_fork(server, worker)


def post_worker_init(worker) -> None:
    _note("ready", worker.pid)
