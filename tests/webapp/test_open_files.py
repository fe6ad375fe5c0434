"""A scheduler runs as many checks at once as its open-file limit allows (each holds a
socket): it raises the soft limit toward the hard one, and runs fewer when it cannot."""

from __future__ import annotations

import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")  # POSIX: the CI machine has it

PROBE = """
import logging, resource, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
from webapp.open_files import check_slots
print("slots", check_slots({wanted}))
print("soft", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def _probe(soft: int, hard: int, wanted: int) -> str:
    """check_slots in a process of its own: it changes the process's limit."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(soft=soft, hard=hard,
                                                                 wanted=wanted)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _hard_limit() -> int:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1 << 20 if hard == resource.RLIM_INFINITY else hard


def test_the_soft_limit_is_raised_for_the_runs():
    hard = _hard_limit()
    if hard < 5256:
        pytest.fail(f"this machine's hard open-file limit ({hard}) is below the test's need")
    out = _probe(1024, hard, 5000)
    assert "slots 5000" in out and "soft 5256" in out, out
    assert "warning" not in out.lower() and "limit" not in out.split("soft")[0], out


def test_a_low_hard_limit_means_fewer_runs_at_once_and_a_warning():
    out = _probe(400, 400, 5000)
    assert "slots 144" in out, out  # 400 less the 256 kept for the process itself
    assert "open-file limit 400: 144 health-check runs at once instead of 5000" in out, out


def test_a_limit_high_enough_is_left_alone():
    hard = _hard_limit()
    out = _probe(min(hard, 20000), hard, 1000)
    assert "slots 1000" in out and f"soft {min(hard, 20000)}" in out, out
