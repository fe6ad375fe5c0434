"""A real SMTP server on loopback for tests and benchmarks (aiosmtpd, a test dependency).

It records every message it accepts (Message-ID, subject, recipients, the parsed
e-mail) and counts every DATA it received, so tests can tell "arrived once" from
"arrived twice". Modes make it misbehave: refuse recipients with 5xx or 4xx, drop the
connection, or never answer; :meth:`SmtpServer.hold` keeps DATA answers back (the
messages are not accepted while held) so a test can kill a client at a known moment.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HANG_SECONDS = 60.0


@dataclass
class Received:
    """One accepted message."""

    message_id: str
    subject: str
    rcpt_tos: list[str]
    mail_from: str
    mail: EmailMessage
    raw: bytes
    received_at: float = 0.0  # time.time() when accepted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: "SmtpServer") -> None:
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.server.mode == "drop":
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = self.server.mode
        if mode == "refuse5":
            return "550 5.1.1 Mailbox unavailable"
        if mode == "refuse4":
            return "451 4.3.0 Temporary failure, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        owner = self.server
        with owner.lock:
            owner.data_count += 1
        if owner.mode == "hang":
            await asyncio.sleep(HANG_SECONDS)
            return "451 too late"
        try:
            while owner.holding.is_set():
                if server.transport is None or server.transport.is_closing():
                    break
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:  # the client's connection was lost meanwhile
            with owner.lock:
                owner.abandoned += 1
            raise
        if server.transport is None or server.transport.is_closing():
            # The client went away before we accepted: nothing was accepted.
            with owner.lock:
                owner.abandoned += 1
            return "451 client gone"
        raw = envelope.original_content or envelope.content
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        with owner.lock:
            owner.messages.append(Received(
                str(mail.get("Message-ID", "")), str(mail.get("Subject", "")),
                list(envelope.rcpt_tos), envelope.mail_from, mail, raw, time.time()))
        return "250 OK accepted"


class _Controller(Controller):
    def factory(self):
        with warnings.catch_warnings():
            # aiosmtpd warns about AUTH without STARTTLS, not knowing of implicit TLS.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return super().factory()


class SmtpServer:
    """A loopback SMTP server in a thread of its own.

    :param security: ``"none"``, ``"starttls"`` (offered and required) or ``"tls"``
        (implicit TLS); TLS needs *context* (``peers.server_context``).
    :param login: ``(user, password)`` required to send, or None.
    """

    def __init__(self, *, security: str = "none", context: ssl.SSLContext | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.data_count = 0
        self.abandoned = 0
        self.mode = "accept"
        self.holding = threading.Event()
        self.login = login
        self.cert_file = ""
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if login is not None:
            # Implicit TLS is TLS from the first byte; aiosmtpd only knows of STARTTLS.
            kwargs.update(authenticator=self._authenticate,
                          auth_require_tls=security == "starttls",
                          auth_required=True)
        self._controller = _Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port,
            ssl_context=context if security == "tls" else None, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and self.login is not None and (
                auth_data.login.decode(), auth_data.password.decode()) == self.login:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self.holding.clear()
        self._controller.stop()

    def hold(self) -> None:
        """Keep DATA answers back from now on (nothing is accepted while held)."""
        self.holding.set()

    def release(self) -> None:
        self.holding.clear()

    @property
    def accepted(self) -> int:
        with self.lock:
            return len(self.messages)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m.message_id for m in self.messages]

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """E-mail channel settings that reach this server."""
        values = {"host": "127.0.0.1", "port": self.port, "security": "none",
                  "username": "", "password": "", "from_address": "helpdesk@danang.test",
                  "from_name": "Ward Helpdesk", "ca_file": ""}
        values.update(overrides)
        return values
