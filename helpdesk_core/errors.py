"""Domain errors raised by the service layer; entry points turn them into messages."""

from __future__ import annotations

from typing import Any, Mapping

from . import i18n


class HelpdeskError(Exception):
    """Base of every rule violation. ``message`` is an English msgid with ``%(name)s``
    placeholders; :meth:`localized` gives it in the current locale."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def localized(self) -> str:
        return i18n.gettext(self.message, **self.params)


class NotFound(HelpdeskError):
    """The object does not exist, or the actor may not know that it exists."""

    status_code = 404


class PermissionDenied(HelpdeskError):
    """The actor's role or scope does not allow this."""

    status_code = 403


class TransitionNotAllowed(HelpdeskError):
    """The ticket's current status does not allow this action."""

    status_code = 409


class Conflict(HelpdeskError):
    """Someone else changed the object first (for example, claimed the ticket)."""

    status_code = 409


class ValidationFailed(HelpdeskError):
    """Input did not pass validation; ``field_errors`` maps field names to messages."""

    def __init__(self, message: str, field_errors: Mapping[str, list[str]] | None = None,
                 **params: Any) -> None:
        super().__init__(message, **params)
        self.field_errors = dict(field_errors or {})


class PluginError(HelpdeskError):
    """A plugin registered something invalid; startup stops and names the plugin."""

    status_code = 500
