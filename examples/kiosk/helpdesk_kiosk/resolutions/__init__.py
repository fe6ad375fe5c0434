"""Checklists for the queue-number system (DOMAIN §1.3)."""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

CATEGORY = "kiosk"

TEMPLATES = [
    ResolutionTemplate("no_paper", CATEGORY, _l("No ticket comes out"), (
        _l("Open the printer cover and check the paper roll"),
        _l("Load a new roll with the thermal side towards the print head"),
        _l("Clear paper stuck in the cutter, then close the cover firmly"),
        _l("Print a test ticket from the kiosk"),
    )),
    ResolutionTemplate("touch_dead", CATEGORY, _l("Touch screen does not respond"), (
        _l("Check the kiosk has power and the screen cable is seated"),
        _l("Restart the kiosk application"),
        _l("If it still does not respond, restart the kiosk PC"),
        _l("Run the touch calibration if touches land in the wrong place"),
    )),
    ResolutionTemplate("services_outdated", CATEGORY, _l("Service list out of date after the ward merger"), (
        _l("Get the current list of procedures and counters of the new ward"),
        _l("Update services and counters in the queue software"),
        _l("Check every button on the kiosk prints the right service"),
        _l("Ask the vendor if the software does not allow the change"),
    )),
    ResolutionTemplate("counter_cannot_call", CATEGORY, _l("Counter cannot call the next number"), (
        _l("Check the caller keypad or software shows it is connected"),
        _l("Check the network cable of the counter and ping the queue server"),
        _l("Restart the caller software, then log in to the counter again"),
        _l("If every counter fails, restart the queue server"),
    )),
    ResolutionTemplate("board_silent", CATEGORY, _l("Display board or voice is silent"), (
        _l("Check the power of the board and of the amplifier"),
        _l("Turn up the amplifier volume and check the speaker cables"),
        _l("Check the board's connection to the queue server"),
        _l("Call a number and check the board shows it and the voice reads it"),
    )),
]
