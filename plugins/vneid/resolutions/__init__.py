"""Checklists for common VNeID problems (DOMAIN §1.7, §1.8).

The citizen types every secret (password, passcode, OTP) on their own phone; the student
only guides.
"""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

CATEGORY = "vneid"

TEMPLATES = [
    ResolutionTemplate("forgot_password", CATEGORY, _l("Forgotten password"), (
        _l("Open VNeID and choose “Forgot password”"),
        _l("Enter the ID number and phone number (the citizen types them)"),
        _l("Verify with NFC on the chip ID card, or the requested data"),
        _l("Enter the OTP and set a new password (the citizen types it)"),
        _l("Log in again with the new password"),
    )),
    ResolutionTemplate("forgot_passcode", CATEGORY, _l("Forgotten passcode"), (
        _l("Log in to VNeID and open any service that asks for the passcode"),
        _l("Choose “Forgot passcode”"),
        _l("Enter the OTP sent to the registered phone number (the citizen types it)"),
        _l("Set a new 6-digit passcode and confirm with “Understood”"),
    )),
    ResolutionTemplate("new_phone", CATEGORY, _l("New phone, or the OTP goes to the old phone"), (
        _l("Ask whether the registered phone number still works and is in the phone"),
        _l("On the new phone, log in; confirm the new device on the old phone if it is at hand"),
        _l("Without the old phone: choose verification by NFC with the chip ID card"),
        _l("If the registered number is lost: the citizen goes to the ward police to change it"),
        _l("Log in again on the new phone and check the documents in the wallet"),
    )),
    ResolutionTemplate("nfc_verification", CATEGORY, _l("Verify with NFC on the chip ID card"), (
        _l("Check the phone has NFC (iPhone 7 or later, or an Android phone with NFC) and turn NFC on"),
        _l("Take the phone out of a thick or metal case"),
        _l("Place the chip side of the card against the NFC area of the phone and hold it still"),
        _l("Wait until reading finishes; try again on another phone with NFC if it keeps failing"),
    )),
    ResolutionTemplate("wrong_data", CATEGORY, _l("Personal data does not match the ID card"), (
        _l("Note which data is wrong (name, date of birth, gender, residence, household)"),
        _l("Do not try to fix it on the helpdesk side: only the police can change citizen data"),
        _l("Guide the citizen to the police of the ward where they live, with the ID card"),
        _l("Or report it in the app; addresses after the ward merger update by themselves"),
    )),
    ResolutionTemplate("integrity_warning", CATEGORY, _l("Security warning (shield) in the app"), (
        _l("Note the warning code shown on the screen"),
        _l("Uninstall VNeID and reinstall it from Google Play or the App Store only"),
        _l("Turn off developer options and USB debugging in the phone settings"),
        _l("Remove clone apps, dual-app or private spaces, then open VNeID again"),
        _l("Rooted or modified phones are not supported: use another phone"),
    )),
    ResolutionTemplate("level1_pending", CATEGORY, _l("Level 1 account still pending"), (
        _l("Check the status in the app: “checking the file before processing”"),
        _l("Make sure the photo and ID data were sent completely"),
        _l("Wait for the approval SMS, then activate from the app or vneid.gov.vn"),
        _l("If it stays pending for long, guide the citizen to register level 2 at the ward police"),
    )),
    ResolutionTemplate("portal_sso_loop", CATEGORY, _l("Public service portal login goes round in circles"), (
        _l("Close the other portal tabs and try once more"),
        _l("Clear the cookies of dichvucong.gov.vn and sso.dancuquocgia.gov.vn only"),
        _l("Do not clear the whole browser: the staff's other logins must stay"),
        _l("Log in again with VNeID and confirm on the phone"),
        _l("If it still loops, check the portal status on the health board"),
    )),
]
