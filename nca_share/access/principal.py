"""``Principal``: who is asking, as the access policy sees it.

A principal is built once per request (``principal_for_user`` for a signed-in user, the
``AuthService`` for an API token, ``Principal.anonymous()`` otherwise) and is immutable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.auth.models import STAFF_ROLES, Role, User
from nca_share.constituency.models import Membership

#: The membership status that makes an organisation part of a partnership.
ACTIVE_MEMBERSHIP = "active"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (possibly through an API token) or nobody.

    :ivar user_id: the user, ``None`` for anonymous.
    :ivar roles: role names held.
    :ivar organisation_ids: organisations the user is a member of.
    :ivar partnership_ids: partnerships those organisations are active members of.
    :ivar coordinated_partnership_ids: partnerships the user coordinates.
    :ivar scopes: for API tokens the scopes it may use; ``None`` means the full rights of
        the user's roles (an interactive session).
    :ivar token_id: the API token acting, if any (for the audit log).
    """

    user_id: int | None = None
    email: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    organisation_ids: frozenset[int] = field(default_factory=frozenset)
    partnership_ids: frozenset[int] = field(default_factory=frozenset)
    coordinated_partnership_ids: frozenset[int] = field(default_factory=frozenset)
    scopes: frozenset[str] | None = None
    token_id: int | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        """Nobody signed in: sees TLP:CLEAR only."""
        return cls()

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        """An analyst, reviewer or operator of the authority."""
        return any(role in self.roles for role in STAFF_ROLES)

    def has_role(self, role: str) -> bool:
        return role in self.roles


def partnerships_of(session: Session, organisation_ids: Iterable[int]) -> frozenset[int]:
    """The partnerships in which any of ``organisation_ids`` is an active member."""
    ids = list(organisation_ids)
    if not ids:
        return frozenset()
    rows = session.scalars(
        select(Membership.partnership_id).where(
            Membership.organisation_id.in_(ids), Membership.status == ACTIVE_MEMBERSHIP
        )
    )
    return frozenset(rows)


def principal_for_user(
    session: Session,
    user: User,
    *,
    scopes: frozenset[str] | None = None,
    token_id: int | None = None,
) -> Principal:
    """The principal of ``user`` from their current roles and memberships.

    A disabled user is anonymous (the surfaces refuse disabled users before they get here;
    this is the safety net).

    :param scopes: restrict to these scopes (API tokens); ``None`` for a full session.
    :param token_id: the API token acting for the user, if any.
    """
    if user.disabled:
        return Principal.anonymous()
    roles = frozenset(r.role for r in user.roles)
    orgs = frozenset(
        r.organisation_id
        for r in user.roles
        if r.role == Role.MEMBER and r.organisation_id is not None
    )
    coordinated = frozenset(
        r.partnership_id
        for r in user.roles
        if r.role == Role.COORDINATOR and r.partnership_id is not None
    )
    return Principal(
        user_id=user.id,
        email=user.email,
        roles=roles,
        organisation_ids=orgs,
        partnership_ids=partnerships_of(session, orgs),
        coordinated_partnership_ids=coordinated,
        scopes=scopes,
        token_id=token_id,
    )
