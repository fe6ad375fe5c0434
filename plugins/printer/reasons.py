"""Readable names of the device conditions the checks report (IPP, SNMP, eSCL)."""

from __future__ import annotations

from typing import Iterable

from helpdesk_core import translator

_l = translator(__name__).lazy_gettext

# IPP printer-state-reasons keywords (RFC 8011 5.4.12 and PWG 5100.x), normalised
# without their -report/-warning/-error suffix, and the Printer-MIB conditions.
LABELS = {
    "media-jam": _l("paper jam"),
    "jammed": _l("paper jam"),
    "door-open": _l("cover open"),
    "cover-open": _l("cover open"),
    "doorOpen": _l("cover open"),
    "interlock-open": _l("cover open"),
    "media-empty": _l("out of paper"),
    "media-needed": _l("paper needed"),
    "noPaper": _l("out of paper"),
    "media-low": _l("paper low"),
    "lowPaper": _l("paper low"),
    "inputTrayEmpty": _l("a paper tray is empty"),
    "toner-empty": _l("toner empty"),
    "noToner": _l("toner empty"),
    "marker-supply-empty": _l("toner empty"),
    "toner-low": _l("toner low"),
    "lowToner": _l("toner low"),
    "marker-supply-low": _l("toner or ink low"),
    "marker-waste-almost-full": _l("waste toner box almost full"),
    "marker-waste-full": _l("waste toner box full"),
    "offline": _l("offline"),
    "paused": _l("paused"),
    "moving-to-paused": _l("paused"),
    "shutdown": _l("shutting down"),
    "serviceRequested": _l("service requested"),
    "input-tray-missing": _l("paper tray missing"),
    "inputTrayMissing": _l("paper tray missing"),
    "output-tray-missing": _l("output tray missing"),
    "outputTrayMissing": _l("output tray missing"),
    "output-area-full": _l("output tray full"),
    "outputFull": _l("output tray full"),
    "output-area-almost-full": _l("output tray almost full"),
    "outputNearFull": _l("output tray almost full"),
    "markerSupplyMissing": _l("toner cartridge missing"),
    "overduePreventMaint": _l("maintenance overdue"),
    "fuser-over-temp": _l("fuser too hot"),
    "developer-low": _l("developer low"),
    "developer-empty": _l("developer empty"),
    "opc-near-eol": _l("drum near end of life"),
    "opc-life-over": _l("drum worn out"),
    "spool-area-full": _l("print memory full"),
    "stopped-partly": _l("partly stopped"),
    # eSCL scan:AdfState values
    "ScannerAdfJam": _l("document feeder jam"),
    "ScannerAdfHatchOpen": _l("document feeder cover open"),
    "ScannerAdfMispick": _l("document feeder did not pick the page"),
    "ScannerAdfMultipickDetected": _l("document feeder took several pages at once"),
    "ScannerAdfInputTrayFailed": _l("document feeder tray failed"),
    "ScannerAdfInputTrayOverloaded": _l("too many pages in the document feeder"),
    "ScannerAdfDuplexPageTooShort": _l("page too short for two-sided scanning"),
    "ScannerAdfDuplexPageTooLong": _l("page too long for two-sided scanning"),
}


def describe(keywords: Iterable[str]) -> list[str]:
    """The readable names of *keywords* in the current locale, each once, in order."""
    seen: dict[str, None] = {}
    for keyword in keywords:
        label = LABELS.get(keyword)
        seen.setdefault(str(label) if label is not None else keyword, None)
    return list(seen)
