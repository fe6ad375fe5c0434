"""Checklists of the e-government categories (DOMAIN §1.8-1.10)."""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

TEMPLATES = [
    ResolutionTemplate("one_stop_record", "one_stop", _l("A record cannot be received or moved on"), (
        _l("Note the record code and the step that fails, with a screenshot"),
        _l("Sign out, clear the browser cache and sign in again"),
        _l("Check the staff account has the role for this step in the one-stop system"),
        _l("Check the procedure is configured for the new ward"),
        _l("Report to the city's one-stop system support with the record code"),
    )),
    ResolutionTemplate("one_stop_overdue", "one_stop", _l("Record overdue or not synchronised"), (
        _l("Look up the record by its code on the national portal"),
        _l("Compare its state with the one-stop system"),
        _l("If overdue, prepare the apology slip with the new date for the citizen"),
        _l("Report records that do not synchronise to the city's support team"),
    )),
    ResolutionTemplate("portal_login", "public_portal", _l("VNeID sign-in loops or fails"), (
        _l("Check the VNeID account is level 2 and activated"),
        _l("Clear the cookies of dichvucong.gov.vn and sso.dancuquocgia.gov.vn only"),
        _l("Try another browser or a private window"),
        _l("Check the portal and VNeID health on the status board"),
    )),
    ResolutionTemplate("portal_filing", "public_portal", _l("Online filing fails"), (
        _l("Search the procedure by its code, under the new ward's name"),
        _l("Convert attachments to PDF under the size limit (scan at 200-300 dpi)"),
        _l("For payment errors, note the transaction code and do not pay twice"),
        _l("Report the record code and error to the portal's hotline 1022"),
    )),
    ResolutionTemplate("documents_sign", "documents", _l("Cannot sign or issue a document"), (
        _l("Plug the signing token in and check its light"),
        _l("Check VGCA Sign Service is running (open a signing category ticket if not)"),
        _l("Sign out of the document software, clear the cache and try again"),
        _l("Report the document number and error to the software's support"),
    )),
    ResolutionTemplate("documents_missing", "documents", _l("Document not received or will not open"), (
        _l("Ask the sender for the document number and the time it was sent"),
        _l("Check the account's unit and permissions after the reorganisation"),
        _l("Download the PDF and open it with another reader"),
        _l("Report to the software's support with the document number"),
    )),
    ResolutionTemplate("smart_city_app", "smart_city", _l("The Smart City app does not work"), (
        _l("Update the app from the official store"),
        _l("Sign out and sign in again; check the phone has Internet"),
        _l("Try the same service on the web version"),
        _l("Report to the city's digital citizen platform support with a screenshot"),
    )),
]
