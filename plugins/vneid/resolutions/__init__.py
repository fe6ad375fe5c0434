"""Checklists for common VNeID problems."""

from helpdesk_core import ResolutionTemplate
from helpdesk_core import lazy_gettext as _l

TEMPLATES = [
    ResolutionTemplate("forgot_password", "vneid", _l("Forgotten password"), (
        _l("Open VNeID and choose “Forgot password”"),
        _l("Enter the ID number and phone number (the citizen types them)"),
        _l("Verify with NFC on the chip ID card, or the requested data"),
        _l("Enter the OTP and set a new password (the citizen types it)"),
    )),
]
