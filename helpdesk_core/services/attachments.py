"""Files attached to tickets: photos and PDFs, checked by content, stored outside the database.

The bytes go to a folder the caller names (the web app uses its instance folder); the
database keeps an :class:`~helpdesk_core.models.Attachment` row with a random storage key,
so a user-supplied name never becomes a path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import i18n
from ..errors import NotFound, ValidationFailed
from ..models import Attachment, Ticket, User
from ..plugins import PluginRegistry
from ..privacy import mask_personal_data
from ..text import nfc
from . import scope
from .tickets import record_event, sla_timezone

log = logging.getLogger(__name__)

FILENAME_MAX = 120

# Content type by magic bytes: what the file is, whatever its name says.
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
               "image/webp": ".webp", "image/heic": ".heic", "application/pdf": ".pdf"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def sniff_content_type(data: bytes) -> str | None:
    """The content type of *data* if it is an image or a PDF we accept, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "image/heic"  # what iPhone cameras produce
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_filename(filename: str, content_type: str) -> str:
    """A display name: no path, no control characters, bounded, right extension."""
    name = nfc(os.path.basename((filename or "").replace("\\", "/"))).strip()
    name = _UNSAFE_NAME.sub("_", name).strip(". ") or "file"
    stem, ext = os.path.splitext(name)
    wanted = _EXTENSIONS[content_type]
    if ext.lower() not in (wanted, ".jpeg" if wanted == ".jpg" else wanted):
        ext = wanted
    return mask_personal_data(stem)[:FILENAME_MAX - len(ext)] + ext


def check_upload(data: bytes, max_bytes: int, field: str = "photo") -> str:
    """Refuse empty, oversized or non image/PDF uploads; return the sniffed content type.

    :raises ValidationFailed: with the message on *field*.
    """
    if not data:
        message = i18n.gettext("The file is empty.")
    elif len(data) > max_bytes:
        message = i18n.gettext("The file is larger than %(size)s MB.",
                               size=f"{max_bytes / (1024 * 1024):.1f}".rstrip("0").rstrip("."))
    else:
        content_type = sniff_content_type(data)
        if content_type is not None:
            return content_type
        message = i18n.gettext("Only photos (JPEG, PNG, HEIC, WebP, GIF) and PDF files can be attached.")
    raise ValidationFailed("Please check the highlighted answers.", field_errors={field: [message]})


def add_attachment(session: Session, registry: PluginRegistry | None, ticket: Ticket,
                   actor: User | None, filename: str, data: bytes, now: dt.datetime, *,
                   folder: str, max_bytes: int, field: str = "photo") -> Attachment:
    """Check the file, write it under *folder*, add its row and an ``attachment`` event.

    The caller commits (:func:`helpdesk_core.services.tickets.commit`); if the
    transaction fails it should call :func:`discard` so no orphan file stays behind.

    :raises NotFound: the actor may not see the ticket.
    :raises ValidationFailed: the file is empty, too large, or not an image or PDF.
    """
    today = now.astimezone(sla_timezone()).date()
    if actor is not None and not scope.can_view(session, actor, ticket, today):
        raise NotFound("Ticket not found.")
    content_type = check_upload(data, max_bytes, field)
    key = uuid.uuid4().hex + _EXTENSIONS[content_type]
    _store(folder, key, data, field)
    name = clean_filename(filename, content_type)
    attachment = Attachment(ticket=ticket, filename=name, content_type=content_type,
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            storage_key=key, uploaded_by_id=actor.id if actor else None,
                            created_at=now)
    session.add(attachment)
    record_event(session, registry, ticket, "attachment", actor, now, new=content_type,
                 body=name, data={"size": len(data)})
    session.flush()
    return attachment


def _store(folder: str, key: str, data: bytes, field: str) -> None:
    """Write the bytes under *folder* as *key*, whole or not at all.

    They go to a temporary name first and are renamed when complete, so a full disk or a
    read-only folder leaves no empty or half-written file behind: it becomes a
    :class:`ValidationFailed` on *field*, and the caller's form comes back with its text.
    """
    path = os.path.join(folder, key)
    partial = path + ".part"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(partial, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        log.error("could not store an attachment in %s: %s", folder, exc)
        with contextlib.suppress(OSError):
            os.remove(partial)
        message = i18n.gettext("The file could not be saved: the server's storage is full "
                               "or cannot be written. Everything else you typed is kept: "
                               "send it again without the file, or try again later.")
        raise ValidationFailed("Please check the highlighted answers.",
                               field_errors={field: [message]}) from exc


def same_file(session: Session, ticket: Ticket, data: bytes) -> Attachment | None:
    """The ticket's attachment with exactly these bytes, if it has one.

    A file sent twice (a repeated form after a timeout) is attached once: callers skip
    :func:`add_attachment` when this finds one. On PostgreSQL it locks the ticket's row
    for the transaction, so two sends at once queue and the second finds the first's.
    """
    if not data or ticket.id is None:
        return None
    session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    digest = hashlib.sha256(data).hexdigest()
    return session.scalars(select(Attachment).where(
        Attachment.ticket_id == ticket.id, Attachment.sha256 == digest)).first()


def path_of(folder: str, attachment: Attachment) -> str:
    """Where the attachment's bytes are (the key is ours, never a user's file name)."""
    return os.path.join(folder, os.path.basename(attachment.storage_key))


def discard(folder: str, attachment: Attachment) -> None:
    """Remove the stored bytes (after a failed commit)."""
    try:
        os.remove(path_of(folder, attachment))
    except FileNotFoundError:
        pass


def get_attachment(session: Session, user: User | None, ticket: Ticket, attachment_id: int,
                   today: dt.date) -> Attachment:
    """The attachment of *ticket*, if *user* may see the ticket; else :class:`NotFound`."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id \
            or not scope.can_view(session, user, ticket, today):
        raise NotFound("File not found.")
    return attachment
