"""Checklists for the common printer and scanner problems of a ward centre."""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

CATEGORY = "printer"

TEMPLATES = [
    ResolutionTemplate("paper_jam", CATEGORY, _l("Paper jam"), (
        _l("Turn the printer off and let the fuser cool for 10 minutes"),
        _l("Open the covers along the paper path shown on the panel or inside the cover"),
        _l("Pull the paper out slowly with both hands, in the feed direction"),
        _l("Check that no torn piece is left behind, then close every cover"),
        _l("Check the tray: paper not damp or curled, not above the fill mark, guides against the stack"),
        _l("Turn the printer on and print a test page"),
    )),
    ResolutionTemplate("offline", CATEGORY, _l("Printer offline or not found"), (
        _l("Check power, the cable or Wi-Fi light, and any error on the panel"),
        _l("Print a configuration page from the panel and note the printer's IP address"),
        _l("Ping that address from the computer"),
        _l("In Printers & scanners, open the queue and untick “Use Printer Offline”"),
        _l("Check that the printer port uses the same IP address; if the address changed, ask for a fixed (reserved) address"),
        _l("For a shared printer, check that the host computer is on and logged in"),
        _l("Restart the printer, then the computer, and print a test page"),
    )),
    ResolutionTemplate("toner", CATEGORY, _l("Toner low or empty"), (
        _l("Check the toner level on the panel or on a status page"),
        _l("Take the cartridge out and rock it gently side to side, then put it back"),
        _l("If it is still faint, replace it with the cartridge model written on it"),
        _l("Remove all protective tape from the new cartridge before inserting it"),
        _l("Print a test page and note the cartridge change in the device notes"),
    )),
    ResolutionTemplate("faded", CATEGORY, _l("Faded or streaked print"), (
        _l("Print a test page to see whether the fault comes from the printer or the document"),
        _l("Turn off toner save or economy mode in the printer properties"),
        _l("Check the toner level; rock or replace the cartridge"),
        _l("Marks repeating at the same distance on the page point to the drum: replace the drum unit"),
        _l("Streaks only on copies or scans: clean the scanner glass and the feeder glass strip"),
        _l("If nothing helps, call the vendor for service (check the warranty first)"),
    )),
    ResolutionTemplate("driver_reinstall", CATEGORY, _l("Reinstall the printer driver"), (
        _l("Read the exact model on the printer's label"),
        _l("Download the driver for Windows 10/11 64-bit from the vendor's website only"),
        _l("Remove the printer, then its driver package in Print server properties > Drivers"),
        _l("Restart the Print Spooler service"),
        _l("Install the new driver and add the printer on the right port (USB or its IP address)"),
        _l("Print a test page and set it as the default printer if it was"),
    )),
    ResolutionTemplate("stuck_queue", CATEGORY, _l("Print job stuck in the queue"), (
        _l("Open the printer queue and cancel all documents"),
        _l("If they stay, stop the Print Spooler service (services.msc)"),
        _l("Delete the files in C:\\Windows\\System32\\spool\\PRINTERS"),
        _l("Start the Print Spooler service again"),
        _l("Untick “Use Printer Offline” and print a test page"),
        _l("If it sticks again with one document, print that document as PDF first, or reinstall the driver"),
    )),
    ResolutionTemplate("shared_0x11b", CATEGORY,
                       _l("Shared printer fails from other computers (error 0x0000011b)"), (
        _l("Install all pending Windows updates on the host computer and on the client, then restart both"),
        _l("For a network printer, add it on the client by its IP address (Standard TCP/IP port), not through the share"),
        _l("For a USB printer shared by a host computer, install the same driver on the client"),
        _l("Then add a local printer on the client with a new Local Port named \\\\HOST-PC\\PrinterShareName"),
        _l("Print a test page from every computer that uses the printer"),
        _l("Do not lower print security settings in the registry without the coordinator's approval; note any change in the ticket"),
    )),
    ResolutionTemplate("scan_to_folder", CATEGORY,
                       _l("Scan to folder stopped after a password change"), (
        _l("Check that the shared folder still exists and can be opened from another computer"),
        _l("On the device's web page or panel, open the address book entry of the folder"),
        _l("Have the account owner type the new Windows password there; never write it in the ticket"),
        _l("Better: use a dedicated local scanning account whose password does not expire"),
        _l("If the device only speaks SMB1, update its firmware or enable SMB2/3 on it; do not turn SMB1 back on in Windows"),
        _l("Scan a test page to the folder"),
    )),
    ResolutionTemplate("scanner_not_detected", CATEGORY,
                       _l("Scanner not detected (TWAIN/WIA)"), (
        _l("Check power and plug the USB cable straight into the computer, not into a hub"),
        _l("Look in Device Manager under Imaging devices; a yellow mark means a driver problem"),
        _l("Test with Windows Fax and Scan or NAPS2 using the WIA driver"),
        _l("Reinstall the vendor's TWAIN and WIA drivers for this Windows version, then restart"),
        _l("In the scanning software, pick the right scanner and driver type (TWAIN or WIA)"),
        _l("For a network scanner, ping its IP address and check it did not change"),
    )),
    ResolutionTemplate("adf_jam", CATEGORY, _l("Document feeder (ADF) jams"), (
        _l("Open the feeder cover and pull the pages out in the feed direction"),
        _l("Remove staples and clips, fan the stack and straighten it"),
        _l("Do not load more than the feeder's mark; set the guides against the stack"),
        _l("Clean the pickup rollers and separation pad with a lint-free, slightly damp cloth"),
        _l("Scan thin, torn or glued documents on the flatbed glass"),
        _l("If jams continue, ask the vendor for a roller kit"),
    )),
    ResolutionTemplate("scan_too_large", CATEGORY,
                       _l("Scanned PDF too large for the portal"), (
        _l("Scan text documents at 200-300 DPI, in grayscale or black and white"),
        _l("Choose high compression (or “compact PDF”) in the scanning software"),
        _l("Scan each document of the record into its own file"),
        _l("Check the size limit of the portal where the file is uploaded"),
        _l("Never use online PDF compressors for citizens' documents: they contain personal data"),
    )),
]

# Which checklist fits each triage symptom (see forms.SYMPTOMS).
TEMPLATE_FOR_SYMPTOM = {
    "paper_jam": "paper_jam",
    "offline": "offline",
    "queue_stuck": "stuck_queue",
    "toner": "toner",
    "faded": "faded",
    "driver": "driver_reinstall",
    "shared_fails": "shared_0x11b",
    "scanner_not_detected": "scanner_not_detected",
    "adf_jam": "adf_jam",
    "scan_to_folder": "scan_to_folder",
    "scan_too_large": "scan_too_large",
}
