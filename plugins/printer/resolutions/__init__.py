"""Checklists for common printer problems."""

from helpdesk_core import ResolutionTemplate
from helpdesk_core import lazy_gettext as _l

TEMPLATES = [
    ResolutionTemplate("paper_jam", "printer", _l("Paper jam"), (
        _l("Turn the printer off and let the fuser cool"),
        _l("Open the covers along the paper path"),
        _l("Pull the paper out in the feed direction"),
        _l("Turn the printer on and print a test page"),
    )),
]
