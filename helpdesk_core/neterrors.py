"""Why a connection failed, in the user's language, for health-check messages.

Operating-system and library errors read "Connection refused", "[Errno 113] No route to
host", "certificate verify failed" in English whatever the locale. Checks put
:func:`describe_error` in their messages instead, so a Vietnamese board says it in
Vietnamese, and every plugin says the same thing the same way.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Callable, Iterator

from .i18n import N_, gettext

REFUSED = N_("the connection was refused: nothing answers on that port")
TIMED_OUT = N_("no answer in time")
NAME_NOT_RESOLVED = N_("the name could not be found (DNS)")
HOST_UNREACHABLE = N_("the device cannot be reached on the network")
NETWORK_UNREACHABLE = N_("the network cannot be reached")
RESET = N_("the connection was cut off")
CERTIFICATE = N_("the certificate is not valid or not trusted")
# OpenSSL's verify codes that have a plain explanation.
CERTIFICATE_CODES = {10: N_("the certificate has expired"),
                     18: N_("the certificate is self-signed"),
                     19: N_("the certificate is self-signed"),
                     20: N_("the certificate's issuer is not trusted"),
                     62: N_("the certificate is for another name")}
TLS = N_("the encrypted (TLS/HTTPS) connection failed")
PERMISSION = N_("permission denied")
NOT_FOUND = N_("the file was not found")
OTHER = N_("unexpected error (%(kind)s)")


def _errno_is(*codes: int) -> Callable[[BaseException], bool]:
    return lambda e: isinstance(e, OSError) and e.errno in codes


def _is_timeout(e: BaseException) -> bool:
    return (isinstance(e, TimeoutError) or _errno_is(errno.ETIMEDOUT)(e)
            or "Timeout" in type(e).__name__)


# Most telling first: a refused connection wrapped in a library's own error is "refused".
RULES: list[tuple[Callable[[BaseException], bool], str]] = [
    (lambda e: isinstance(e, ssl.SSLCertVerificationError), CERTIFICATE),
    (lambda e: isinstance(e, ConnectionRefusedError)
     or _errno_is(errno.ECONNREFUSED)(e), REFUSED),
    (lambda e: isinstance(e, socket.gaierror)
     or "NameResolution" in type(e).__name__ or "DNSError" in type(e).__name__,
     NAME_NOT_RESOLVED),
    (_errno_is(errno.EHOSTUNREACH, errno.EHOSTDOWN), HOST_UNREACHABLE),
    (_errno_is(errno.ENETUNREACH, errno.ENETDOWN), NETWORK_UNREACHABLE),
    (lambda e: isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))
     or _errno_is(errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED)(e), RESET),
    (_is_timeout, TIMED_OUT),
    (lambda e: isinstance(e, ssl.SSLError), TLS),
    (lambda e: isinstance(e, PermissionError) or _errno_is(errno.EACCES, errno.EPERM)(e),
     PERMISSION),
    (lambda e: isinstance(e, FileNotFoundError) or _errno_is(errno.ENOENT)(e), NOT_FOUND),
]


def _chain(error: BaseException) -> Iterator[BaseException]:
    """*error* and every error behind it (causes, wrapped reasons), outermost first."""
    seen: set[int] = set()
    queue: list[object] = [error]
    while queue:
        current = queue.pop(0)
        # ``reason`` is a string on some errors (ssl.SSLError): only errors are followed.
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        queue += [getattr(current, "os_error", None), getattr(current, "reason", None),
                  getattr(current, "certificate_error", None),
                  current.__cause__, current.__context__]
        queue += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]


def describe_error(error: BaseException) -> str:
    """Why *error* happened, in the current locale: refused, timed out, name not found,
    unreachable, cut off, certificate or TLS failure, permission, file not found; any
    other error by its kind (the exception's class name)."""
    causes = list(_chain(error))
    for cause in causes:
        code = getattr(cause, "verify_code", None)
        if isinstance(cause, ssl.SSLCertVerificationError) and code in CERTIFICATE_CODES:
            return gettext(CERTIFICATE_CODES[code])
    for matches, message in RULES:
        if any(matches(e) for e in causes):
            return gettext(message)
    return gettext(OTHER, kind=type(error).__name__)
