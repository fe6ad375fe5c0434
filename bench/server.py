"""Serve the app with gunicorn on loopback and watch its memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(root_pid: int) -> list[int]:
    """A process and its children."""
    pids = [root_pid]
    try:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        if int(handle.read().rsplit(")", 1)[1].split()[1]) == root_pid:
                            pids.append(int(entry))
                except (OSError, ValueError, IndexError):
                    continue
    except OSError:
        pass
    return pids


def _proc_field_kb(path: str, field: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_rss_kb(pid: int) -> int:
    """VmRSS of one process (kB): its shared pages counted in full."""
    return _proc_field_kb(f"/proc/{pid}/status", "VmRSS:")


def process_pss_kb(pid: int) -> int:
    """PSS of one process (kB): each shared page divided among the processes that map it."""
    return _proc_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def process_tree_rss_kb(root_pid: int) -> int:
    """Resident memory of a process and its children, from /proc (kB)."""
    return sum(process_rss_kb(pid) for pid in process_tree(root_pid))


class MemoryWatcher:
    """Samples the RSS of a process tree every 100 ms and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, process_tree_rss_kb(self.pid))
            self._stop.wait(0.1)

    def __enter__(self) -> "MemoryWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Gunicorn:
    """``gunicorn -w 2`` on 127.0.0.1:<free port>: the app for *database_url* with
    production's settings (``bench.gunicorn_bench``: webapp/gunicorn_conf.py, quiet), or
    the bare reference route (``app="bench.bare:app"``, the same worker settings)."""

    def __init__(self, database_url: str, workers: int = 2, instance_path: str | None = None,
                 app: str = "webapp:create_app()", preload: bool = False) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ready_log = tempfile.NamedTemporaryFile(prefix="hd_ready_", delete=False).name
        env = dict(os.environ, DATABASE_URL=database_url, HELPDESK_SECRET_KEY="bench-secret",
                   HELPDESK_SCHEDULER="false", HELPDESK_RATELIMIT_ENABLED="false",
                   BENCH_READY_LOG=self.ready_log)
        # Workers import from byte code, as an installed package does (pip compiles it):
        # with PYTHONDONTWRITEBYTECODE each would compile the project's modules again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        command = [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--max-requests", "0",
                   "--access-logfile", "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null"]
        if app.startswith("webapp:"):
            command += ["-c", "python:bench.gunicorn_bench"]
            env["BENCH_PRELOAD"] = "1" if preload else "0"
        elif preload:
            command.append("--preload")
        self.process = subprocess.Popen(command + [app], env=env)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz/web", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("gunicorn did not answer /healthz/web")

    def workers(self) -> list[int]:
        """The pids of the master's children."""
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        if int(handle.read().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                            children.append(int(entry))
                except (OSError, ValueError, IndexError):
                    continue
        return children

    def ready_seconds(self, cpu: bool = False) -> dict[int, float]:
        """Per worker pid: seconds from its fork to ready to serve (bench.gunicorn_bench);
        with *cpu*, the CPU seconds the worker spent in between."""
        forks: dict[int, float] = {}
        ready: dict[int, float] = {}
        try:
            with open(self.ready_log, encoding="ascii") as handle:
                for line in handle:
                    kind, pid, at, cpu_at = line.split()
                    (forks if kind == "fork" else ready)[int(pid)] = float(cpu_at if cpu else at)
        except OSError:
            return {}
        return {pid: ready[pid] - forks[pid] for pid in ready if pid in forks}

    def replace_a_worker(self, timeout: float = 60.0) -> float:
        """kill -9 one worker, as a crash would, and return the seconds its replacement
        took from fork to ready (its CPU seconds: ``ready_seconds(cpu=True)``)."""
        victim = self.workers()[0]
        known = set(self.ready_seconds())
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = {pid: s for pid, s in self.ready_seconds().items() if pid not in known}
            if fresh:
                return next(iter(fresh.values()))
            time.sleep(0.05)
        raise TimeoutError("no worker replaced the killed one")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.ready_log)

    def __enter__(self) -> "Gunicorn":
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
