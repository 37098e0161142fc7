"""PartnershipService: memberships, e-mail invitations over a real loopback SMTP server, join
requests and who may see the member list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from nca_share.access.principal import principal_for_user
from nca_share.auth.models import User
from nca_share.auth.service import AuthService
from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.constituency.organisations import OrganisationService
from nca_share.constituency.partnerships import PartnershipService
from nca_share.db import Database
from nca_share.errors import Conflict, NotFound, PermissionDenied, ValidationError
from nca_share.notify.email import Mailer
from tests.fixtures.smtp import SmtpServer

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple 42"


def _user(session: Session, settings: Settings, email: str, **role: int) -> User:
    auth = AuthService(session, settings)
    user = auth.create_user(email, PASSWORD, verified=True)
    for name, scope in role.items():
        if name == "member":
            auth.grant_role(user, "member", organisation_id=scope)
        else:
            auth.grant_role(user, "coordinator", partnership_id=scope)
    return user


def test_invite_accept_remove(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    """An invitation mail carries a link; accepting makes the user's organisation a member."""
    clock = FrozenClock(T0)
    with database.session() as session:
        org = OrganisationService(session).create({"kvk": "12345678", "name": "Alfa"})
        service = PartnershipService(
            session, smtp_settings, mailer=Mailer(smtp_settings), clock=clock
        )
        p = service.create(name="Zorg-CERT Noord", kind="sector", sectors=["I.5"])
        _, token = service.invite(p.id, "Eva@Alfa.nl", by="coord@nca.nl", language="nl")
        member = _user(session, smtp_settings, "eva@alfa.nl", member=org.id)
        mail = smtp_server.wait_for("eva@alfa.nl")
        assert "Zorg-CERT Noord" in mail.subject
        link = smtp_server.last_link("eva@alfa.nl")
        assert link.endswith("/partnerships/invitations/" + token)
        assert [i.email for i in service.pending_invitations(p.id)] == ["eva@alfa.nl"]
        membership = service.accept(token, member)
        assert (membership.status, membership.joined_at) == ("active", T0)
        assert service.pending_invitations(p.id) == []
        with pytest.raises(Conflict):
            service.accept(token, member)
        service.remove(p.id, org.id, by="coord@nca.nl")
        assert service.members(p.id) == []
        assert service.members(p.id, statuses=None)[0].status == "removed"


def test_invitation_expires_and_needs_an_organisation(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    """An expired link is refused; a user without an organisation cannot accept."""
    clock = FrozenClock(T0)
    with database.session() as session:
        service = PartnershipService(
            session, smtp_settings, mailer=Mailer(smtp_settings), clock=clock
        )
        p = service.create(name="Regio Noord", kind="regional", regions=["Groningen"])
        _, token = service.invite(p.id, "x@example.nl", by=None, language="en")
        assert "Invitation" in smtp_server.wait_for("x@example.nl").subject
        loner = _user(session, smtp_settings, "x@example.nl")
        with pytest.raises(PermissionDenied):
            service.accept(token, loner)
        clock.advance(timedelta(days=15))
        with pytest.raises(Conflict, match="expired"):
            service.accept(token, loner)
        with pytest.raises(NotFound):
            service.accept("not-a-token", loner)
        with pytest.raises(ValidationError):
            service.invite(p.id, "not an address", by=None)


def test_join_request_approve_and_reject(database: Database, settings: Settings) -> None:
    """A coordinator approves one request and rejects another; decided requests are final."""
    with database.session() as session:
        orgs = OrganisationService(session)
        a = orgs.create({"kvk": "12345678", "name": "Alfa"})
        b = orgs.create({"kvk": "23456789", "name": "Bravo"})
        service = PartnershipService(session, settings)
        p = service.create(name="Keten Glas", kind="chain")
        ra = service.request_join(p.id, a.id, by="eva@alfa.nl", message="graag")
        rb = service.request_join(p.id, b.id, by="bob@bravo.nl")
        with pytest.raises(Conflict):
            service.request_join(p.id, a.id, by="eva@alfa.nl")
        service.decide_join(p.id, ra.id, approve=True, by="coord")
        service.decide_join(p.id, rb.id, approve=False, by="coord")
        with pytest.raises(Conflict):
            service.decide_join(p.id, rb.id, approve=True, by="coord")
        assert [m.organisation_id for m in service.members(p.id)] == [a.id]
        service.leave(p.id, a.id, by="eva@alfa.nl")
        assert service.members(p.id) == []


def test_member_list_visibility(database: Database, settings: Settings) -> None:
    """Members see only the coordinators unless the partnership opts in; outsiders see nothing."""
    with database.session() as session:
        orgs = OrganisationService(session)
        a = orgs.create({"kvk": "12345678", "name": "Alfa"})
        b = orgs.create({"kvk": "23456789", "name": "Bravo"})
        c = orgs.create({"kvk": "34567890", "name": "Charlie"})
        service = PartnershipService(session, settings)
        p = service.create(name="Zorg", kind="sector")
        service.add_member(p.id, a.id, by="test")
        service.add_member(p.id, b.id, by="test")
        coordinator = _user(session, settings, "coord@zorg.nl", coordinator=p.id)
        member = _user(session, settings, "eva@alfa.nl", member=a.id)
        outsider = _user(session, settings, "carl@charlie.nl", member=c.id)
        as_member = service.member_view(p.id, principal_for_user(session, member))
        assert as_member.members is None
        assert [u.email for u in as_member.coordinators] == ["coord@zorg.nl"]
        as_coordinator = service.member_view(p.id, principal_for_user(session, coordinator))
        assert [m.organisation.name for m in as_coordinator.members or []] == ["Alfa", "Bravo"]
        with pytest.raises(NotFound):
            service.member_view(p.id, principal_for_user(session, outsider))
        service.update(p.id, {"member_list_visible": True})
        as_member = service.member_view(p.id, principal_for_user(session, member))
        assert [m.organisation.name for m in as_member.members or []] == ["Alfa", "Bravo"]


def test_invitation_mail_is_escaped(database: Database, settings: Settings) -> None:
    """A partnership name with markup is escaped in the HTML part of the invitation."""
    from nca_share.constituency.partnerships import render_invitation

    with database.session() as session:
        p = PartnershipService(session, settings).create(name="<b>Evil</b> & co", kind="chain")
        subject, text, html = render_invitation(
            "nl", partnership=p, url="https://x/y", expires_at=T0
        )
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in html
    assert "<b>Evil</b>" in text
    assert re.search(r"2026-05-01", text)
