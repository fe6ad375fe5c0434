"""Checklists for common signing problems."""

from helpdesk_core import ResolutionTemplate
from helpdesk_core import lazy_gettext as _l

TEMPLATES = [
    ResolutionTemplate("token_not_recognized", "signing", _l("Token not recognised"), (
        _l("Plug the token in again and check that its light blinks"),
        _l("Check the token driver icon in the tray"),
        _l("Restart VGCA Sign Service"),
        _l("Try signing again"),
    )),
]
