"""The minimal mailer and the e-mail templates, against a real SMTP server on loopback."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def _self_signed(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (its PEM path, for ``ca_file``) and a server context."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "smtp-cert.pem"
    key_path = tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes(mail_settings: Settings, tmp_path: Path, mode: str) -> None:
    """STARTTLS and implicit TLS deliver when the certificate is trusted, and refuse an
    untrusted certificate."""
    ca_file, server_context = _self_signed(tmp_path)
    if mode == "starttls":
        server = start_smtp_server(tls_context=server_context, require_starttls=True)
        options = {"starttls": True}
    else:
        server = start_smtp_server(ssl_context=server_context)
        options = {"ssl": True}
    try:
        trusted = server.settings_for(mail_settings, ca_file=str(ca_file), **options)
        Mailer(trusted).send("tls@example.nl", "over TLS", "text", "<p>html</p>")
        assert server.wait_for(to="tls@example.nl").text.strip() == "text"
        untrusted = server.settings_for(mail_settings, **options)
        with pytest.raises(MailDeliveryError):
            Mailer(untrusted).send("tls@example.nl", "s", "t")
    finally:
        server.stop()
    assert len(server.messages) == 1


def test_starttls_required_by_server(mail_settings: Settings, tmp_path: Path) -> None:
    """Plain SMTP to a server that requires STARTTLS fails cleanly."""
    _, server_context = _self_signed(tmp_path)
    server = start_smtp_server(tls_context=server_context, require_starttls=True)
    try:
        with pytest.raises(MailDeliveryError):
            Mailer(server.settings_for(mail_settings)).send("a@example.nl", "s", "t")
    finally:
        server.stop()
