"""How many health-check runs a scheduler can have in progress: each holds a socket, and
a process may hold only so many open files (``ulimit -n``; 1,024 by default in a
systemd service or a login shell, with a hard limit far above it)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Files a scheduler holds beside its checks' sockets: database connections, logs, the
# web's own sockets when it runs inside a web worker, the interpreter's modules.
RESERVED = 256


def check_slots(wanted: int) -> int:
    """*wanted* runs at once, as far as the open-file limit allows.

    The soft limit is raised toward the hard one first, as servers do (nothing here
    uses ``select()``, which cannot watch a descriptor above 1,023). If the hard limit
    is lower still, fewer runs go at once (a warning says so) rather than checks
    failing with "too many open files", which would file tickets for healthy devices.
    """
    try:
        import resource
    except ImportError:  # not a POSIX system: no limit to read
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %s to %s", soft, raised)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    usable = max(1, soft - RESERVED)
    log.warning("open-file limit %s: %s health-check runs at once instead of %s "
                "(HELPDESK_HEALTH_MAX_CONCURRENT); raise the limit (LimitNOFILE= in a "
                "systemd unit, ulimit -n) to run them all", soft, usable, wanted)
    return usable
