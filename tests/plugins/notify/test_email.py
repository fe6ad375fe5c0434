"""The e-mail channel against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest

from helpdesk_core import DeliveryError, Message
from helpdesk_core.testing import smtp as smtp_peer

from plugins.notify import mail

VIETNAMESE = "Phiếu mới HCH-2026-00042 ở Phường Hải Châu"


def message(key: str = "n42-email", **overrides) -> Message:
    values = dict(key=key, kind="ticket_new", address="sv.haichau@danang.test",
                  subject=VIETNAMESE, text="Máy in kẹt giấy.\n\nMở phiếu: https://hd.test/tickets/42",
                  html="<p>Máy in kẹt giấy. <a href=\"https://hd.test/tickets/42\">Mở phiếu</a></p>",
                  url="https://hd.test/tickets/42", urgent=False, locale="vi")
    values.update(overrides)
    return Message(**values)


@pytest.fixture(autouse=True)
def fresh_pool(smtp_server):  # after the servers: their connections close first
    mail._pool.close_all()  # no connection kept from another test's server
    yield
    mail._pool.close_all()


def test_plain_text_and_html_in_vietnamese_with_the_key_as_message_id(smtp_server):
    server = smtp_server()
    mail.send_email(message(), server.settings())
    [got] = server.messages
    assert got.message_id == "<n42-email@danang.test>"
    assert got.subject == VIETNAMESE
    assert got.rcpt_tos == ["sv.haichau@danang.test"]
    assert got.mail.get_body(("plain",)).get_content().startswith("Máy in kẹt giấy.")
    assert "tickets/42" in got.mail.get_body(("html",)).get_content()
    assert got.mail["From"].addresses[0].addr_spec == "helpdesk@danang.test"


def test_lines_stay_short_whatever_the_email_package_was_told(smtp_server, monkeypatch):
    """Lines end in CRLF and stay under SMTP's 1,000 characters (else the server refuses
    with 500), even when a library registered "utf-8" bodies as 8bit."""
    from email import charset
    monkeypatch.setitem(charset.CHARSETS, "utf-8", (charset.SHORTEST, None, "utf-8"))
    server = smtp_server()
    mail.send_email(message(html="<p>" + "Máy in kẹt giấy. " * 200 + "</p>"), server.settings())
    assert server.accepted == 1
    assert max(len(line) for line in server.messages[0].raw.splitlines()) <= 998


def test_urgent_messages_are_marked_important(smtp_server):
    server = smtp_server()
    mail.send_email(message(urgent=True), server.settings())
    assert server.messages[0].mail["Importance"] == "high"


def test_starttls_with_login(smtp_server):
    server = smtp_server("starttls", login=("helpdesk", "mật khẩu"))
    mail.send_email(message(), server.settings(security="starttls", username="helpdesk",
                                               password="mật khẩu", ca_file=server.cert_file))
    assert server.accepted == 1


def test_implicit_tls_with_login(smtp_server):
    server = smtp_server("tls", login=("helpdesk", "secret"))
    mail.send_email(message(), server.settings(security="tls", username="helpdesk",
                                               password="secret", ca_file=server.cert_file))
    assert server.accepted == 1


def test_a_wrong_password_is_permanent(smtp_server):
    server = smtp_server("starttls", login=("helpdesk", "secret"))
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), server.settings(security="starttls", username="helpdesk",
                                                   password="wrong", ca_file=server.cert_file))
    assert caught.value.permanent and "535" in caught.value.reason
    assert server.accepted == 0


def test_an_untrusted_certificate_is_refused_and_retried(smtp_server):
    server = smtp_server("tls")
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), server.settings(security="tls"))
    assert not caught.value.permanent


def test_a_5xx_refusal_is_permanent(smtp_server):
    server = smtp_server()
    server.mode = "refuse5"
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), server.settings())
    assert caught.value.permanent and "550" in caught.value.reason


def test_a_4xx_refusal_is_retried(smtp_server):
    server = smtp_server()
    server.mode = "refuse4"
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), server.settings())
    assert not caught.value.permanent and "451" in caught.value.reason
    server.mode = "accept"
    mail.send_email(message(), server.settings())  # the kept connection still works
    assert server.accepted == 1


def test_a_dropped_connection_is_retried(smtp_server):
    server = smtp_server()
    server.mode = "drop"
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), server.settings())
    assert not caught.value.permanent and server.accepted == 0


def test_a_server_that_never_answers_times_out_and_is_retried(smtp_server, monkeypatch):
    monkeypatch.setattr(smtp_peer, "HANG_SECONDS", 5.0)
    server = smtp_server()
    server.mode = "hang"
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), server.settings(), timeout=0.5)
    assert not caught.value.permanent and server.accepted == 0


def test_nothing_to_send_through_until_set_up():
    with pytest.raises(DeliveryError) as caught:
        mail.send_email(message(), {"host": "", "from_address": ""})
    assert not caught.value.permanent


def test_a_kept_connection_closed_by_the_server_is_replaced(smtp_server, monkeypatch):
    server = smtp_server()
    mail.send_email(message("n1-email"), server.settings())
    monkeypatch.setattr(mail, "FRESH_SECONDS", 0.0)
    for conn, _ in list(mail._pool._idle.values())[0].queue:
        conn.sock.shutdown(2)  # as if the server had timed the idle connection out
    mail.send_email(message("n2-email"), server.settings())
    assert server.message_ids() == ["<n1-email@danang.test>", "<n2-email@danang.test>"]


def test_the_channel_is_registered_with_its_settings_form(registry):
    channel = registry.channels["email"]
    assert channel.settings_form is mail.EmailSettingsForm
    assert registry.channel_plugins["email"] == "notify"

    class Someone:
        email = "a@b.vn"
    assert channel.addresses(None, Someone()) == ["a@b.vn"]
    Someone.email = ""
    assert channel.addresses(None, Someone()) == []
