"""Checklists for common network problems (DOMAIN §1.4): from the cable outwards."""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

CATEGORY = "network"

TEMPLATES = [
    ResolutionTemplate("no_internet", CATEGORY, _l("No internet in the centre"), (
        _l("Look at the modem and switch lights: power, internet (WAN) and the cable ports"),
        _l("From one computer, ping the gateway (the modem's address), then 8.8.8.8"),
        _l("Look up dichvucong.gov.vn (nslookup) to test DNS"),
        _l("Restart the modem, then the main switch; wait 3 minutes and test again"),
        _l("If the gateway answers but 8.8.8.8 does not: call the provider (VNPT, Viettel, "
           "FPT) with the contract number"),
        _l("If internal systems fail too: report to the city IT unit"),
        _l("Write in the ticket who was called, when, and the reference they gave"),
    )),
    ResolutionTemplate("one_pc_apipa", CATEGORY,
                       _l("One computer has a 169.254.x.x address"), (
        _l("Run ipconfig: a 169.254.x.x address means the computer got no address (DHCP)"),
        _l("Check the cable light on the computer and on the switch"),
        _l("Reseat the cable at both ends, then try another switch port or another cable"),
        _l("Run ipconfig /release then ipconfig /renew"),
        _l("If other computers work: disable and enable the network card, update its driver"),
        _l("If new computers get no address either: see “DHCP pool exhausted”"),
    )),
    ResolutionTemplate("cable_port", CATEGORY, _l("Wired computer: “network cable unplugged”"), (
        _l("Reseat the cable at both ends until it clicks"),
        _l("Plug it into another switch port; if that works, label the old port as faulty"),
        _l("Try a cable that works elsewhere"),
        _l("Check that the switch has power and its lights blink"),
        _l("If the wall socket is dead: report it for recabling"),
    )),
    ResolutionTemplate("dhcp_pool", CATEGORY, _l("DHCP pool exhausted"), (
        _l("Open the modem or router page and count the DHCP clients against the pool size"),
        _l("Look for unknown devices (personal phones on the office Wi-Fi)"),
        _l("Move personal and citizen devices to a guest Wi-Fi with its own pool"),
        _l("Shorten the lease time (e.g. 4 hours) or widen the pool, without touching fixed "
           "addresses of printers and kiosks"),
        _l("Renew the address on the affected computers (ipconfig /renew)"),
    )),
    ResolutionTemplate("wifi", CATEGORY, _l("Wi-Fi does not connect or has no internet"), (
        _l("Check that the device joins the office Wi-Fi (the right SSID), not a guest or a "
           "neighbour's network"),
        _l("Forget the network and join again with the current Wi-Fi password"),
        _l("Check the access point's power and uplink lights; restart it"),
        _l("Test with a cable from the same room: if the cable works, the problem is the "
           "access point"),
        _l("If many people use one access point, spread them or add one; note the count"),
        _l("If the Wi-Fi name does not appear: the access point is off or broadcasts on "
           "5 GHz only"),
    )),
    ResolutionTemplate("internal_systems", CATEGORY,
                       _l("Internet works but internal systems do not open"), (
        _l("Try the system on another computer and with another browser"),
        _l("Look up the system's address (nslookup) and ping it"),
        _l("Check the special data network line (mạng truyền số liệu chuyên dùng) and its "
           "router lights"),
        _l("Ask a neighbouring ward whether the system works for them"),
        _l("Report to the city IT unit with the system name, the time and the error shown"),
    )),
    ResolutionTemplate("one_site", CATEGORY, _l("One website does not open"), (
        _l("Open the site on a phone with mobile data: if it fails there too, the site is down"),
        _l("Look the name up (nslookup) to rule out DNS"),
        _l("Clear this site's cookies and cache only, then try again"),
        _l("Check the site's health check on the helpdesk status board"),
        _l("If the site is down for everyone: report it to its owner and tell the counters"),
    )),
]
