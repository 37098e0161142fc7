"""The minimal mailer and the e-mail templates, against a real SMTP server on loopback."""

from __future__ import annotations

import pytest

from nca_share.config import Settings
from nca_share.errors import ValidationError
from nca_share.notify.email import MailDeliveryError, Mailer, render_email
from tests.fixtures.smtp import SmtpServer, _free_port, start_smtp_server


@pytest.fixture
def mail_settings(plain_settings: Settings, smtp_server: SmtpServer) -> Settings:
    """Settings without a database, SMTP on the loopback server."""
    return smtp_server.settings_for(plain_settings)


@pytest.mark.parametrize("name", ["verify_email", "password_reset", "account_exists"])
@pytest.mark.parametrize("locale", ["nl", "en"])
def test_templates_render_in_both_languages(name: str, locale: str) -> None:
    """Every account mail has a one-line subject, a text and an HTML body per locale."""
    mail = render_email(
        name, locale, email="a@example.nl", link="https://x.test/l/1", expires_hours=2
    )
    assert mail.subject
    assert "\n" not in mail.subject
    assert "https://x.test/l/1" in mail.text
    assert 'href="https://x.test/l/1"' in mail.html
    assert f'lang="{locale}"' in mail.html


def test_html_is_escaped_text_is_not() -> None:
    """Context values are escaped in the HTML body and left alone in the text body."""
    evil = '<script>alert(1)</script>"@example.nl'
    mail = render_email(
        "verify_email", "en", email=evil, link="https://x.test/?a=1&b=2", expires_hours=1
    )
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "a=1&amp;b=2" in mail.html
    assert evil in mail.text


def test_unknown_template_and_locale() -> None:
    """An unknown template is an error; an unknown locale falls back to Dutch."""
    with pytest.raises(ValidationError):
        render_email("nope", "nl")
    mail = render_email("verify_email", "de", email="a@b.nl", link="l", expires_hours=1)
    assert mail.subject.startswith("Bevestig")


def test_multipart_message_received(smtp_server: SmtpServer, mail_settings: Settings) -> None:
    """The server receives one multipart/alternative message with both bodies."""
    Mailer(mail_settings).send("Zoe@Example.nl", "Hallo é", "platte tekst", "<p>html</p>")
    mail = smtp_server.wait_for(to="zoe@example.nl")
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.subject == "Hallo é"
    assert mail.text.strip() == "platte tekst"
    assert mail.html.strip() == "<p>html</p>"
    assert mail.mail_from == mail_settings.smtp.sender
    assert mail.message["Message-ID"]


def test_login_with_credentials(mail_settings: Settings) -> None:
    """Credentials from the settings are used for SMTP AUTH."""
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult

        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    server = start_smtp_server(authenticator=authenticator, auth_require_tls=False)
    try:
        good = server.settings_for(mail_settings, username="mailer", password="s3cret")
        Mailer(good).send("a@example.nl", "s", "t")
        server.wait_for(to="a@example.nl")
        bad = server.settings_for(mail_settings, username="mailer", password="wrong")
        with pytest.raises(MailDeliveryError):
            Mailer(bad).send("b@example.nl", "s", "t")
    finally:
        server.stop()
    assert seen[0] == (b"mailer", b"s3cret")
    assert set(seen[1:]) == {(b"mailer", b"wrong")}  # smtplib tries each mechanism


def test_unreachable_server(mail_settings: Settings) -> None:
    """A closed port raises MailDeliveryError, not a raw socket error."""
    closed = mail_settings.model_copy(
        update={"smtp": mail_settings.smtp.model_copy(update={"port": _free_port()})}
    )
    with pytest.raises(MailDeliveryError) as err:
        Mailer(closed).send("a@example.nl", "s", "t")
    assert err.value.code == "mail_delivery_failed"


@pytest.mark.parametrize("to", ["no-at", "a@example.nl\r\nBcc: x@example.org"])
def test_recipient_injection_refused(mail_settings: Settings, to: str) -> None:
    """Recipients with line breaks or without @ are refused before connecting."""
    with pytest.raises(ValidationError):
        Mailer(mail_settings).send(to, "s", "t")
