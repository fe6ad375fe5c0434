"""Checklists for common signing problems (DOMAIN §1.5, §1.6). None asks for a PIN."""

from helpdesk_core import ResolutionTemplate, translator

_l = translator(__name__).lazy_gettext

CATEGORY = "signing"

TEMPLATES = [
    ResolutionTemplate("token_not_recognized", CATEGORY, _l("Token not recognised"), (
        _l("Plug the token in again and check that its light blinks"),
        _l("Use a USB port on the computer itself, not a hub or the keyboard"),
        _l("Open the token manager (SafeNet “TokenManager” or “Bit4id – Quản trị Token”) "
           "and check that it sees the token"),
        _l("Check the token driver icon in the tray"),
        _l("Restart VGCA Sign Service"),
        _l("Try signing again"),
        _l("If another token works on this computer, the token itself is faulty: report it "
           "through the city unit"),
    )),
    ResolutionTemplate("cert_expired", CATEGORY, _l("Certificate expired"), (
        _l("Read the validity dates in the token manager or on the signing error"),
        _l("Do not keep retrying: an expired certificate cannot sign"),
        _l("Ask the office to request renewal or a new certificate through the city unit "
           "that manages specialised certificates"),
        _l("Until then, documents are signed by another authorised signer"),
        _l("Add a certificate expiry check so the next renewal starts 30 days early"),
    )),
    ResolutionTemplate("pin_locked", CATEGORY, _l("PIN locked"), (
        _l("Stop: do not try any more PINs (3 wrong PINs lock the token)"),
        _l("Never ask for, write down or type the holder's PIN yourself"),
        _l("Note the holder's name, position and the token's serial number"),
        _l("Send the unlock request through the city unit to the issuer (Ban Cơ yếu); the "
           "centre cannot unlock it"),
        _l("After unlocking, the holder sets a new PIN (4 to 16 characters) in the token "
           "manager"),
    )),
    ResolutionTemplate("reinstall_software", CATEGORY,
                       _l("Reinstall the driver, browser extension or VGCA Sign Service"), (
        _l("Uninstall the old token driver and VGCA Sign Service"),
        _l("Install the token driver from the official source (SafeNet: VGCAv1_Installer; "
           "Bit4ID: the VGCA PKI manager)"),
        _l("Install the current VGCA Sign Service and the signing extension of the browser"),
        _l("Restart the computer"),
        _l("Check that the service answers (the helpdesk check “Local signing service”)"),
        _l("Sign a test document"),
    )),
    ResolutionTemplate("local_service_untrusted", CATEGORY,
                       _l("The browser does not trust the local signing service"), (
        _l("Typical message: “Không kết nối được phần mềm ký số Ban Cơ yếu (VGCA Sign "
           "Service)”"),
        _l("Check that VGCA Sign Service is running (tray icon)"),
        _l("In the same browser, open https://127.0.0.1:8987 once and accept the certificate "
           "warning"),
        _l("Reload the signing page and sign again"),
        _l("If it keeps failing: check that antivirus or firewall does not block port 8987"),
    )),
    ResolutionTemplate("revocation_check", CATEGORY,
                       _l("Certificate status cannot be checked (OCSP)"), (
        _l("Typical message: “Không thể kết nối Internet tới đơn vị CA để kiểm tra tình trạng "
           "thu hồi của chứng thư số”"),
        _l("Check the internet connection of the computer"),
        _l("Allow http://ocsp.ca.gov.vn (port 80) and the provider's OCSP address through the "
           "firewall or proxy"),
        _l("If the message says the certificate was revoked: it cannot be used again; request "
           "a new one through the city unit"),
    )),
    ResolutionTemplate("remote_activation", CATEGORY,
                       _l("Remote signing: activation or a new phone"), (
        _l("Open the provider's app and read the certificate state (waiting for approval, "
           "approved, activated, expired)"),
        _l("Approved but not active: press “Kích hoạt” (activate) in the app"),
        _l("Rejected with “Sai thông tin”: correct the data and submit again"),
        _l("New or lost phone, or the app reinstalled on Android: use “Kích hoạt lại tài "
           "khoản” or “Đổi thiết bị” in the app"),
        _l("Rooted phones are refused; on Android use a fingerprint, not face unlock"),
        _l("The holder types their own PIN and OTP; the helpdesk never asks for them"),
        _l("If it still fails: call the provider's hotline (VNPT SmartCA, Viettel MySign, "
           "FPT, MISA eSign, BkavCA)"),
    )),
]
