"""Service objects for the current request, built on the request's session.

Adapters get their collaborators here so views stay thin: ``auth_service()``,
``audit_log()``, ``access_policy()``, ``stix_store()``, the constituency services (web pages
and REST share them). The mail sender is ``app.extensions["nca_share.mailer"]`` (the SMTP
``Mailer`` unless a test replaces it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import current_app, request

from nca_share.access import AccessPolicy
from nca_share.auth.audit import AuditLog
from nca_share.auth.service import AuthService
from nca_share.notify.email import Mailer, MailSender
from nca_share.web.context import db_session, get_clock, get_settings

if TYPE_CHECKING:
    from nca_share.constituency.assets import AssetService
    from nca_share.constituency.organisations import OrganisationService
    from nca_share.constituency.partnerships import PartnershipService
    from nca_share.stix.store import StixStore


def mailer() -> MailSender:
    """The app's mail sender (built from ``settings.smtp`` on first use)."""
    sender = current_app.extensions.get("nca_share.mailer")
    if sender is None:
        sender = current_app.extensions["nca_share.mailer"] = Mailer(get_settings())
    return cast(MailSender, sender)


def auth_service() -> AuthService:
    return AuthService(db_session(), get_settings(), mailer=mailer(), clock=get_clock())


def audit_log() -> AuditLog:
    return AuditLog(db_session(), get_clock())


def access_policy() -> AccessPolicy:
    return AccessPolicy(db_session())


def stix_store() -> StixStore:
    from nca_share.stix.store import StixStore

    return StixStore(db_session())


def organisation_service() -> OrganisationService:
    from nca_share.constituency.organisations import OrganisationService

    return OrganisationService(db_session(), clock=get_clock())


def asset_service() -> AssetService:
    from nca_share.constituency.assets import AssetService

    return AssetService(db_session(), get_settings(), clock=get_clock())


def partnership_service() -> PartnershipService:
    from nca_share.constituency.partnerships import PartnershipService

    return PartnershipService(db_session(), get_settings(), mailer=mailer(), clock=get_clock())


def client_ip() -> str | None:
    """The client's address as the WSGI server saw it (no proxy headers trusted)."""
    return request.remote_addr
