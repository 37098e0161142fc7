"""PartnershipService: samenwerkingsverbanden, their coordinators (users holding the
``coordinator`` role for the partnership, see ``nca_share.auth``), memberships and their life
cycle (invited → active → left / removed), e-mail invitations with expiry (only a hash of the
token is stored) and join requests decided by a coordinator. It also decides what a viewer may
see of the member list: coordinators and staff see everyone; members see only the coordinators
unless the partnership opted in to a visible member list.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.access.principal import Principal
from nca_share.auth.models import Role, User, UserRole
from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.constituency import validation as v
from nca_share.constituency.models import (
    FORWARDING_POLICIES,
    LANGUAGES,
    PARTNERSHIP_KINDS,
    PROVINCES,
    Invitation,
    JoinRequest,
    Membership,
    Organisation,
    Partnership,
)
from nca_share.errors import Conflict, NotFound, PermissionDenied, ValidationError
from nca_share.notify.email import MailSender

log = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=14)
TEMPLATE_DIR = Path(__file__).parent / "templates" / "email"
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


@dataclass(frozen=True)
class MemberListView:
    """What one viewer sees of a partnership's people."""

    coordinators: list[User]
    #: ``None`` when the member list is hidden from this viewer.
    members: list[Membership] | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def slugify(text: str) -> str:
    folded = v._fold(text)
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", folded)).strip("-")[:100]


class PartnershipService:
    """Partnerships, memberships, invitations and join requests."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        mailer: MailSender | None = None,
        clock: Clock | None = None,
    ) -> None:
        """
        :param mailer: anything with ``send(to, subject, text, html)`` (the notify Mailer);
            required only for invitations.
        """
        self.session = session
        self.settings = settings
        self.mailer = mailer
        self.clock = clock or SystemClock()

    # -- partnerships ------------------------------------------------------------------------

    def create(
        self,
        *,
        name: str,
        kind: str,
        slug: str | None = None,
        description: str | None = None,
        sectors: Sequence[str] = (),
        regions: Sequence[str] = (),
        forwarding_policy: str = "coordinator_approval",
        member_list_visible: bool = False,
    ) -> Partnership:
        """Create a partnership.

        :raises ValidationError: naming the bad field.
        :raises Conflict: when the slug is taken.
        """
        clean_name = v.name(name)
        clean_slug = (slug or slugify(clean_name)).strip().lower()
        if not _SLUG_RE.match(clean_slug):
            raise ValidationError(
                "slug: lower-case letters, digits and hyphens only", location="slug"
            )
        if self.find_by_slug(clean_slug) is not None:
            raise Conflict(f"a partnership with slug {clean_slug!r} exists")
        partnership = Partnership(
            name=clean_name,
            slug=clean_slug,
            kind=v.choice(kind, PARTNERSHIP_KINDS, field="kind"),
            description=(description or "").strip() or None,
            sectors=[s.strip() for s in sectors if s.strip()],
            regions=[v.province(r, field="regions") for r in regions if r.strip()],
            forwarding_policy=v.choice(forwarding_policy, FORWARDING_POLICIES, field="policy"),
            member_list_visible=bool(member_list_visible),
            created_at=self.clock.now(),
        )
        self.session.add(partnership)
        self.session.flush()
        return partnership

    def update(self, partnership_id: int, data: Mapping[str, Any]) -> Partnership:
        """Change name, description, sectors, regions, policy or member-list visibility."""
        partnership = self.get(partnership_id)
        for key, value in data.items():
            if key == "name":
                partnership.name = v.name(str(value))
            elif key == "description":
                partnership.description = str(value or "").strip() or None
            elif key == "sectors":
                partnership.sectors = [str(s).strip() for s in value if str(s).strip()]
            elif key == "regions":
                partnership.regions = [v.province(str(r), field="regions") for r in value]
            elif key == "forwarding_policy":
                partnership.forwarding_policy = v.choice(
                    str(value), FORWARDING_POLICIES, field="forwarding_policy"
                )
            elif key == "member_list_visible":
                partnership.member_list_visible = bool(value)
            elif key == "kind":
                partnership.kind = v.choice(str(value), PARTNERSHIP_KINDS, field="kind")
            else:
                raise ValidationError(f"unknown field {key!r}", location=key)
        self.session.flush()
        return partnership

    def get(self, partnership_id: int) -> Partnership:
        """:raises NotFound: when there is no such partnership."""
        partnership = self.session.get(Partnership, partnership_id)
        if partnership is None:
            raise NotFound(f"partnership {partnership_id} not found")
        return partnership

    def find_by_slug(self, slug: str) -> Partnership | None:
        return self.session.scalar(select(Partnership).where(Partnership.slug == slug))

    def get_by_slug(self, slug: str) -> Partnership:
        partnership = self.find_by_slug(slug)
        if partnership is None:
            raise NotFound(f"partnership {slug!r} not found")
        return partnership

    def list_partnerships(self, *, ids: Sequence[int] | None = None) -> list[Partnership]:
        stmt = select(Partnership).order_by(Partnership.name)
        if ids is not None:
            stmt = stmt.where(Partnership.id.in_(list(ids)))
        return list(self.session.scalars(stmt))

    # -- coordinators ------------------------------------------------------------------------

    def coordinators(self, partnership_id: int) -> list[User]:
        """Users holding the coordinator role for this partnership."""
        return list(
            self.session.scalars(
                select(User)
                .join(UserRole, UserRole.user_id == User.id)
                .where(
                    UserRole.role == Role.COORDINATOR.value,
                    UserRole.partnership_id == partnership_id,
                )
                .order_by(User.email)
            )
        )

    # -- memberships -------------------------------------------------------------------------

    def members(
        self, partnership_id: int, *, statuses: Sequence[str] | None = ("active",)
    ) -> list[Membership]:
        """Memberships of the partnership (by default only active ones), by organisation name."""
        stmt = (
            select(Membership)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.partnership_id == partnership_id)
            .order_by(Organisation.name)
        )
        if statuses is not None:
            stmt = stmt.where(Membership.status.in_(list(statuses)))
        return list(self.session.scalars(stmt))

    def memberships_of(self, org_id: int) -> list[Membership]:
        return list(
            self.session.scalars(
                select(Membership)
                .where(Membership.organisation_id == org_id)
                .order_by(Membership.id)
            )
        )

    def can_manage(self, principal: Principal, partnership_id: int) -> bool:
        """Staff and the partnership's coordinators manage its members."""
        return principal.is_staff or partnership_id in principal.coordinated_partnership_ids

    def member_view(self, partnership_id: int, principal: Principal) -> MemberListView:
        """What ``principal`` may see of the partnership's people.

        :raises NotFound: when the principal is neither staff, coordinator nor member (the
            partnership's existence is not revealed).
        """
        partnership = self.get(partnership_id)
        manager = self.can_manage(principal, partnership_id)
        if not manager and partnership_id not in principal.partnership_ids:
            raise NotFound(f"partnership {partnership_id} not found")
        coordinators = self.coordinators(partnership_id)
        if manager:
            statuses: tuple[str, ...] | None = None
            return MemberListView(coordinators, self.members(partnership_id, statuses=statuses))
        if partnership.member_list_visible:
            return MemberListView(coordinators, self.members(partnership_id))
        return MemberListView(coordinators, None)

    def add_member(self, partnership_id: int, org_id: int, *, by: str | None) -> Membership:
        """Make an organisation an active member directly (staff, demo, CLI)."""
        self.get(partnership_id)
        if self.session.get(Organisation, org_id) is None:
            raise NotFound(f"organisation {org_id} not found")
        return self._activate(partnership_id, org_id, by=by)

    def _activate(self, partnership_id: int, org_id: int, *, by: str | None) -> Membership:
        now = self.clock.now()
        membership = self.session.scalar(
            select(Membership).where(
                Membership.partnership_id == partnership_id, Membership.organisation_id == org_id
            )
        )
        if membership is None:
            membership = Membership(
                partnership_id=partnership_id, organisation_id=org_id, created_at=now
            )
            self.session.add(membership)
        elif membership.status == "active":
            return membership
        membership.status = "active"
        membership.joined_at = now
        membership.ended_at = None
        membership.ended_by = None
        self.session.flush()
        log.info("organisation %s joined partnership %s (by %s)", org_id, partnership_id, by)
        return membership

    def _end(self, partnership_id: int, org_id: int, status: str, by: str) -> Membership:
        membership = self.session.scalar(
            select(Membership).where(
                Membership.partnership_id == partnership_id, Membership.organisation_id == org_id
            )
        )
        if membership is None or membership.status not in ("active", "invited"):
            raise NotFound(f"organisation {org_id} is not a member of partnership {partnership_id}")
        membership.status = status
        membership.ended_at = self.clock.now()
        membership.ended_by = by
        self.session.flush()
        return membership

    def remove(self, partnership_id: int, org_id: int, *, by: str) -> Membership:
        """A coordinator removes a member."""
        return self._end(partnership_id, org_id, "removed", by)

    def leave(self, partnership_id: int, org_id: int, *, by: str) -> Membership:
        """A member organisation leaves."""
        return self._end(partnership_id, org_id, "left", by)

    # -- invitations -------------------------------------------------------------------------

    def invite(
        self,
        partnership_id: int,
        email: str,
        *,
        by: str | None,
        language: str = "nl",
        organisation_id: int | None = None,
        send: bool = True,
    ) -> tuple[Invitation, str]:
        """Invite an e-mail address to join; sends the invitation mail with the accept link.

        :returns: the invitation and the plain token (shown once, never stored).
        :raises ValidationError: for a bad address or language.
        :raises MailDeliveryError: when sending fails (the invitation is still stored).
        """
        partnership = self.get(partnership_id)
        address = v.email(email).lower()
        lang = v.choice(language, LANGUAGES, field="language")
        if organisation_id is not None and self.session.get(Organisation, organisation_id) is None:
            raise NotFound(f"organisation {organisation_id} not found")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        invitation = Invitation(
            partnership_id=partnership.id,
            email=address,
            organisation_id=organisation_id,
            token_hash=token_hash(token),
            language=lang,
            invited_by=by,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        self.session.add(invitation)
        if organisation_id is not None:
            existing = self.session.scalar(
                select(Membership).where(
                    Membership.partnership_id == partnership.id,
                    Membership.organisation_id == organisation_id,
                )
            )
            if existing is None:
                self.session.add(
                    Membership(
                        partnership_id=partnership.id,
                        organisation_id=organisation_id,
                        status="invited",
                        created_at=now,
                    )
                )
        self.session.flush()
        if send:
            self._send_invitation(partnership, invitation, token)
        return invitation, token

    def accept_url(self, token: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/partnerships/invitations/{token}"

    def _send_invitation(
        self, partnership: Partnership, invitation: Invitation, token: str
    ) -> None:
        if self.mailer is None:
            raise ValidationError("no mailer configured for invitations", location="mailer")
        subject, text, html = render_invitation(
            invitation.language,
            partnership=partnership,
            url=self.accept_url(token),
            expires_at=invitation.expires_at,
        )
        self.mailer.send(invitation.email, subject, text, html)

    def find_invitation(self, token: str) -> Invitation | None:
        return self.session.scalar(
            select(Invitation).where(Invitation.token_hash == token_hash(token))
        )

    def check_invitation(self, token: str) -> Invitation:
        """The open invitation for ``token``.

        :raises NotFound: unknown token; :raises Conflict: used, revoked or expired.
        """
        invitation = self.find_invitation(token)
        if invitation is None:
            raise NotFound("this invitation link is not valid")
        if invitation.accepted_at is not None:
            raise Conflict("this invitation was already accepted")
        if invitation.revoked_at is not None:
            raise Conflict("this invitation was withdrawn")
        if self.clock.now() >= invitation.expires_at:
            raise Conflict("this invitation has expired")
        return invitation

    def accept(self, token: str, user: User, *, organisation_id: int | None = None) -> Membership:
        """The signed-in ``user`` accepts: their organisation becomes an active member.

        :param organisation_id: which of the user's organisations joins, when they have several.
        :raises PermissionDenied: when the user belongs to no (or not that) organisation.
        """
        invitation = self.check_invitation(token)
        org_ids = [
            r.organisation_id
            for r in user.roles
            if r.role == Role.MEMBER.value and r.organisation_id is not None
        ]
        wanted = organisation_id or invitation.organisation_id
        if wanted is None:
            if len(org_ids) != 1:
                raise PermissionDenied(
                    "register your organisation first"
                    if not org_ids
                    else "choose which of your organisations joins"
                )
            wanted = org_ids[0]
        if wanted not in org_ids:
            raise PermissionDenied("you are not a member of that organisation")
        now = self.clock.now()
        invitation.accepted_at = now
        invitation.accepted_by = user.email
        invitation.organisation_id = wanted
        membership = self._activate(invitation.partnership_id, wanted, by=user.email)
        return membership

    def pending_invitations(self, partnership_id: int) -> list[Invitation]:
        """Invitations neither accepted, revoked nor expired."""
        return list(
            self.session.scalars(
                select(Invitation)
                .where(
                    Invitation.partnership_id == partnership_id,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > self.clock.now(),
                )
                .order_by(Invitation.created_at)
            )
        )

    def revoke_invitation(self, partnership_id: int, invitation_id: int) -> Invitation:
        invitation = self.session.get(Invitation, invitation_id)
        if invitation is None or invitation.partnership_id != partnership_id:
            raise NotFound(f"invitation {invitation_id} not found")
        invitation.revoked_at = self.clock.now()
        self.session.flush()
        return invitation

    # -- join requests -----------------------------------------------------------------------

    def request_join(
        self, partnership_id: int, org_id: int, *, by: str | None, message: str | None = None
    ) -> JoinRequest:
        """An organisation asks to join.

        :raises Conflict: when it is already a member or has a pending request.
        """
        self.get(partnership_id)
        active = self.session.scalar(
            select(Membership).where(
                Membership.partnership_id == partnership_id,
                Membership.organisation_id == org_id,
                Membership.status == "active",
            )
        )
        if active is not None:
            raise Conflict("this organisation is already a member")
        pending = self.session.scalar(
            select(JoinRequest).where(
                JoinRequest.partnership_id == partnership_id,
                JoinRequest.organisation_id == org_id,
                JoinRequest.status == "pending",
            )
        )
        if pending is not None:
            raise Conflict("a request to join is already pending")
        request = JoinRequest(
            partnership_id=partnership_id,
            organisation_id=org_id,
            requested_by=by,
            message=(message or "").strip()[:2000] or None,
            status="pending",
            created_at=self.clock.now(),
        )
        self.session.add(request)
        self.session.flush()
        return request

    def join_requests(self, partnership_id: int, *, status: str = "pending") -> list[JoinRequest]:
        return list(
            self.session.scalars(
                select(JoinRequest)
                .where(JoinRequest.partnership_id == partnership_id, JoinRequest.status == status)
                .order_by(JoinRequest.created_at)
            )
        )

    def decide_join(
        self, partnership_id: int, request_id: int, *, approve: bool, by: str
    ) -> JoinRequest:
        """A coordinator approves (the organisation becomes active) or rejects a request."""
        request = self.session.get(JoinRequest, request_id)
        if request is None or request.partnership_id != partnership_id:
            raise NotFound(f"join request {request_id} not found")
        if request.status != "pending":
            raise Conflict(f"this request was already {request.status}")
        request.status = "approved" if approve else "rejected"
        request.decided_at = self.clock.now()
        request.decided_by = by
        if approve:
            self._activate(partnership_id, request.organisation_id, by=by)
        self.session.flush()
        return request


_ENV: Environment | None = None


def _environment() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=FileSystemLoader(str(TEMPLATE_DIR)),
            autoescape=select_autoescape(["html"], default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
    return _ENV


def render_invitation(
    language: str, *, partnership: Partnership, url: str, expires_at: Any
) -> tuple[str, str, str]:
    """Subject, text and HTML of the invitation mail in ``language`` (nl or en)."""
    lang = language if language in LANGUAGES else "nl"
    env = _environment()
    ctx = {
        "partnership": partnership,
        "url": url,
        "expires": expires_at.strftime("%Y-%m-%d"),
        "regions": [PROVINCES.get(r, r) for r in partnership.regions],
    }
    subject = env.get_template(f"invitation/subject.{lang}.txt").render(**ctx)
    text = env.get_template(f"invitation/body.{lang}.txt").render(**ctx)
    html = env.get_template(f"invitation/body.{lang}.html").render(**ctx)
    return " ".join(subject.split()), text, html
