"""Give back to the system the memory a web worker freed (glibc's ``malloc_trim``).

A page's request allocates and frees a few MB (query results, the rendered page). glibc
keeps what was freed inside its heap for later and, after the large blocks of a page,
raises the bar above which it would give memory back by itself: a worker that served
pages holds 2 to 4 MB more than it uses. ``malloc_trim`` returns those pages. It takes
about 0.07 ms, under 1% of a page's CPU, so gunicorn's workers call it after each request
(webapp/gunicorn_conf.py): every 10th request instead left 1 MB more in each worker
after a burst (python -m bench, PostgreSQL).

Where the C library has no ``malloc_trim`` (musl, macOS), nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Callable


@functools.lru_cache(maxsize=1)
def _libc_trim() -> Callable[[int], int] | None:
    try:  # the process's own symbols, the C library's among them
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


def trim() -> bool:
    """Return the freed memory to the system; False where the C library cannot."""
    libc_trim = _libc_trim()
    if libc_trim is None:
        return False
    libc_trim(0)  # keep no free pages at the top of the heap either
    return True
