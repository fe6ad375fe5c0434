"""Install tests/webapp/pagetest_plugin.py through a real ``ward_helpdesk`` entry point."""

from __future__ import annotations

import importlib
import pathlib
import sys
from typing import Iterator

from tests.plugins.distributions import write_distribution


def installed(site: pathlib.Path) -> Iterator[pathlib.Path]:
    """Put a distribution whose entry point ``pagetest`` is the test plugin on sys.path."""
    write_distribution(site, "helpdesk-pagetest", {"pagetest": "tests.webapp.pagetest_plugin"},
                       {})
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()
