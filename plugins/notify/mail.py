"""The e-mail channel: SMTP with STARTTLS or implicit TLS, plain text and HTML.

``Message.key`` becomes the Message-ID (``<key@sender's domain>``), so a message sent
again after a crash is recognisably the same one. SMTP replies decide the outcome: 5xx
is permanent (a dead letter at once), 4xx, a timeout or a dropped connection is retried.
Connections are kept open between messages (a small pool per server and account), and a
kept connection the server has since closed is replaced before anything is sent.
"""

from __future__ import annotations

import base64
import queue
import smtplib
import socket
import ssl
import threading
import time
from email import charset as email_charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate
from typing import Any, Mapping

from wtforms import (Form, IntegerField, PasswordField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import Length, NumberRange, Optional, Regexp

from helpdesk_core import DeliveryError, Message, translator

_ = translator(__name__).gettext
_l = translator(__name__).lazy_gettext

SECURITY = ("starttls", "tls", "none")


def _utf8() -> email_charset.Charset:
    """UTF-8 with quoted-printable bodies (lines of at most 76 characters, as SMTP needs),
    whatever another library registered for "utf-8" in the email package's global table."""
    charset = email_charset.Charset("utf-8")
    charset.header_encoding = email_charset.SHORTEST
    charset.body_encoding = email_charset.QP
    charset.output_charset = "utf-8"
    return charset

POOL_SIZE = 8
FRESH_SECONDS = 5.0  # a connection used this recently is not checked with NOOP first


class EmailSettingsForm(Form):
    """The SMTP server the helpdesk sends through (secrets stored encrypted)."""

    host = StringField(_l("SMTP server"), validators=[Optional(), Length(max=255)])
    port = IntegerField(_l("Port"), default=587, validators=[NumberRange(1, 65535)])
    security = SelectField(_l("Security"), default="starttls", choices=[
        SelectChoice("starttls", _l("STARTTLS (usually port 587)")),
        SelectChoice("tls", _l("TLS from the start (usually port 465)")),
        SelectChoice("none", _l("None (only for a relay on this machine)"))])
    username = StringField(_l("User name"), validators=[Optional(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=255)])
    from_address = StringField(_l("From address"),
                               validators=[Optional(), Length(max=255), Regexp(
                                   r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                   message=_l("Give an e-mail address."))])
    from_name = StringField(_l("From name"), default="Ward Helpdesk",
                            validators=[Optional(), Length(max=120)])
    ca_file = StringField(_l("CA certificate file (empty: the system's)"),
                          validators=[Optional(), Length(max=500)])


def addresses_of(session: Any, user: Any) -> list[str]:
    """A user is reached at the e-mail address of their profile."""
    email = (getattr(user, "email", "") or "").strip()
    return [email] if email else []


def build(message: Message, settings: Mapping[str, Any]) -> MIMEMultipart:
    """The e-mail of *message*: text and HTML parts, Message-ID from its key.

    Built with the classic ``email.mime`` classes: ``email.header.Header`` encodes a long
    Vietnamese subject into RFC 2047 words without losing the spaces between them (the
    newer ``EmailMessage`` folding drops one at a fold).
    """
    sender = str(settings.get("from_address") or "")
    domain = sender.rpartition("@")[2] or "helpdesk.invalid"
    mail = MIMEMultipart("alternative")
    mail["Subject"] = Header(message.subject, _utf8())
    name = str(settings.get("from_name") or "")
    mail["From"] = formataddr((name, sender), charset=_utf8())
    mail["To"] = message.address
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message.key}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Helpdesk-Kind"] = message.kind
    if message.urgent:
        mail["Importance"] = "high"
        mail["X-Priority"] = "1"
    mail["Content-Language"] = message.locale
    mail.attach(MIMEText(message.text, "plain", _utf8()))
    if message.html:
        mail.attach(MIMEText(message.html, "html", _utf8()))
    return mail


class _Pool:
    """Open SMTP connections per (server, account), reused between messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple, queue.LifoQueue] = {}

    def take(self, key: tuple) -> tuple[smtplib.SMTP, float] | None:
        """A kept connection and how long it sat idle (seconds), or None."""
        with self._lock:
            idle = self._idle.setdefault(key, queue.LifoQueue())
        try:
            conn, since = idle.get_nowait()
        except queue.Empty:
            return None
        return conn, time.monotonic() - since

    def give(self, key: tuple, conn: smtplib.SMTP) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, queue.LifoQueue())
        if idle.qsize() < POOL_SIZE:
            idle.put((conn, time.monotonic()))
        else:
            _close(conn)

    def close_all(self) -> None:
        """Close every kept connection (tests; a process about to end)."""
        with self._lock:
            queues, self._idle = list(self._idle.values()), {}
        for idle in queues:
            while not idle.empty():
                _close(idle.get_nowait()[0])


_pool = _Pool()


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _connect(settings: Mapping[str, Any], timeout: float) -> smtplib.SMTP:
    host, port = str(settings["host"]), int(settings.get("port") or 587)
    security = settings.get("security") or "starttls"
    context = ssl.create_default_context(cafile=settings.get("ca_file") or None)
    if security == "tls":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if security == "starttls":
            conn.starttls(context=context)
        if settings.get("username"):
            _login(conn, str(settings["username"]), str(settings.get("password") or ""))
    except BaseException:
        conn.close()
        raise
    return conn


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; a non-ASCII password goes as UTF-8 in AUTH PLAIN (RFC 4616), which
    smtplib's ``login`` cannot send."""
    if user.isascii() and password.isascii():
        conn.login(user, password)
        return
    conn.ehlo_or_helo_if_needed()
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    code, reply = conn.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _transact(conn: smtplib.SMTP, sender: str, mail: MIMEMultipart, to: str) -> None:
    """MAIL, RCPT, DATA on *conn*; raises smtplib's errors as they come."""
    conn.ehlo_or_helo_if_needed()
    code, reply = conn.mail(sender, ["SMTPUTF8"] if _needs_utf8(sender, to) else [])
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = conn.rcpt(to)
    if code not in (250, 251):
        conn.rset()
        raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
    # SMTP lines end in CRLF; smtplib sends bytes as they are.
    code, reply = conn.data(mail.as_bytes(policy=compat32.clone(linesep="\r\n")))
    if code != 250:
        conn.rset()
        raise smtplib.SMTPDataError(code, reply)


def _checked(kept: tuple[smtplib.SMTP, float] | None) -> smtplib.SMTP | None:
    """A kept connection still worth using. One idle for a while is asked NOOP first:
    if the server closed it meanwhile, that fails here, before anything is sent."""
    if kept is None:
        return None
    conn, idle = kept
    if idle < FRESH_SECONDS:
        return conn
    try:
        conn.noop()
        return conn
    except (smtplib.SMTPException, OSError):
        conn.close()
        return None


def _needs_utf8(*values: str) -> bool:
    return any(not value.isascii() for value in values)


def _reason(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"SMTP {code}: {text.strip()[:300]}"


def _refused(code: int, reply: bytes | str) -> DeliveryError:
    """5xx: retrying cannot help; 4xx: try again later."""
    return DeliveryError(_reason(code, reply), permanent=500 <= code < 600)


def send_email(message: Message, settings: Mapping[str, Any], timeout: float = 20.0) -> None:
    """Send *message* through the configured SMTP server.

    :raises DeliveryError: permanent for a 5xx reply, otherwise retried.
    """
    if not settings.get("host") or not settings.get("from_address"):
        raise DeliveryError(_("E-mail is not set up: give the SMTP server and the from "
                              "address in the administration."))
    mail = build(message, settings)
    key = (settings["host"], settings.get("port"), settings.get("security"),
           settings.get("username"), settings.get("password"), settings.get("ca_file"))
    try:
        conn = _checked(_pool.take(key))
        if conn is None:
            conn = _connect(settings, timeout)
        try:
            _transact(conn, str(settings["from_address"]), mail, message.address)
        except smtplib.SMTPRecipientsRefused as exc:
            _pool.give(key, conn)
            code, reply = next(iter(exc.recipients.values()))
            raise _refused(code, reply) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            _pool.give(key, conn)
            raise _refused(exc.smtp_code, exc.smtp_error) from exc
        except BaseException:
            conn.close()
            raise
        _pool.give(key, conn)
    except DeliveryError:
        raise
    except smtplib.SMTPResponseException as exc:  # refused login, greeting, STARTTLS
        raise _refused(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, socket.timeout, ssl.SSLError, OSError) as exc:
        raise DeliveryError(_("The mail server could not be reached: %(error)s",
                              error=f"{type(exc).__name__}: {exc}"[:300])) from exc
