"""Checklists for common network problems."""

from helpdesk_core import ResolutionTemplate
from helpdesk_core import lazy_gettext as _l

TEMPLATES = [
    ResolutionTemplate("no_internet", "network", _l("No internet in the centre"), (
        _l("Ping the gateway, then 8.8.8.8"),
        _l("Look up dichvucong.gov.vn (nslookup) to test DNS"),
        _l("Check the modem and switch lights; reboot the modem"),
        _l("Call the provider (VNPT, Viettel, FPT) or the city IT centre"),
    )),
]
