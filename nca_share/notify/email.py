"""A minimal e-mail sender (SMTP) and the e-mail template renderer.

``render_email(name, locale, **ctx)`` renders ``templates/email/<name>/`` (``subject.<locale>
.txt``, ``body.<locale>.txt``, ``body.<locale>.html``; HTML autoescaped) and
``Mailer(settings).send(to, subject, text, html)`` sends one multipart message with smtplib
over ``settings.smtp`` (plain, STARTTLS or implicit TLS, optional login, timeout).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from nca_share.config import Settings
from nca_share.errors import NcaShareError, ValidationError

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates" / "email"
LOCALES = ("nl", "en")


class MailDeliveryError(NcaShareError):
    """The mail server refused the message or could not be reached."""

    code = "mail_delivery_failed"


class MailSender(Protocol):
    """Anything that can send one message (the ``Mailer``; later the outbox)."""

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None: ...


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_email(template_name: str, locale: str, **ctx: Any) -> RenderedEmail:
    """Render the subject, text and HTML body of one e-mail kind.

    :param template_name: folder under ``templates/email``, e.g. ``verify_email``.
    :param locale: ``nl`` or ``en``; anything else falls back to ``nl``.
    :raises ValidationError: no such template.
    """
    if locale not in LOCALES:
        locale = "nl"
    env = _environment()
    try:
        subject = env.get_template(f"{template_name}/subject.{locale}.txt").render(**ctx)
        text = env.get_template(f"{template_name}/body.{locale}.txt").render(**ctx)
        html = env.get_template(f"{template_name}/body.{locale}.html").render(**ctx)
    except TemplateNotFound as exc:
        raise ValidationError(f"no e-mail template {template_name!r}", location=str(exc)) from exc
    # A subject is one line: a newline in it would end the header.
    subject = " ".join(subject.split())
    return RenderedEmail(subject=subject, text=text, html=html)


class Mailer:
    """Sends mail through the SMTP server in ``settings.smtp``; one connection per message."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def build(self, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
        """The MIME message (multipart/alternative when ``html`` is given)."""
        cfg = self.settings.smtp
        msg = EmailMessage()
        msg["From"] = cfg.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or "localhost")
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
        return msg

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Send one message.

        :raises MailDeliveryError: connection, TLS, login or the server refused it.
        """
        if "\n" in to or "\r" in to or "@" not in to:
            raise ValidationError("invalid recipient address", location="to")
        msg = self.build(to, subject, text, html)
        cfg = self.settings.smtp
        try:
            smtp: smtplib.SMTP
            context = ssl.create_default_context(cafile=cfg.ca_file)
            if cfg.ssl:
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with smtp:
                if cfg.starttls and not cfg.ssl:
                    smtp.starttls(context=context)
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(
                f"mail to {to} not sent: {exc.__class__.__name__}",
                details={"host": cfg.host, "port": cfg.port},
            ) from exc
        log.info("mail sent to %s: %s", to, subject)
