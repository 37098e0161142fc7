"""Who may read and change which organisation and partnership, for every surface.

* Staff (analyst, reviewer, operator) read everything; analysts and operators change it.
* A member reads and changes only their own organisation(s).
* A coordinator reads the organisations that are active members of their partnership and
  manages that partnership's memberships; they do not change the organisations' data.
* Anything else is ``NotFound`` — the existence of other organisations is not revealed.

Principals come from ``nca_share.access``; this module only applies them to constituency data.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.access.principal import Principal
from nca_share.auth.models import Role
from nca_share.constituency.models import Membership
from nca_share.errors import NotFound, PermissionDenied

_EDITOR_STAFF = frozenset({Role.ANALYST.value, Role.OPERATOR.value})


def is_editor_staff(principal: Principal) -> bool:
    """Analysts and operators may change any organisation and decide on assets."""
    return any(principal.has_role(r) for r in _EDITOR_STAFF)


def readable_org_ids(session: Session, principal: Principal) -> frozenset[int] | None:
    """The organisations ``principal`` may read; ``None`` means all (staff)."""
    if principal.is_staff:
        return None
    ids = set(principal.organisation_ids)
    if principal.coordinated_partnership_ids:
        ids.update(
            session.scalars(
                select(Membership.organisation_id).where(
                    Membership.partnership_id.in_(sorted(principal.coordinated_partnership_ids)),
                    Membership.status == "active",
                )
            )
        )
    return frozenset(ids)


def check_org_read(session: Session, principal: Principal, org_id: int) -> None:
    """:raises NotFound: when ``principal`` may not see organisation ``org_id``."""
    readable = readable_org_ids(session, principal)
    if readable is not None and org_id not in readable:
        raise NotFound("no such organisation", details={"id": org_id})


def check_org_write(session: Session, principal: Principal, org_id: int) -> None:
    """:raises NotFound: cannot see it; :raises PermissionDenied: can see, may not change."""
    check_org_read(session, principal, org_id)
    if is_editor_staff(principal) or org_id in principal.organisation_ids:
        return
    raise PermissionDenied("you may not change this organisation")


def check_partnership_manage(principal: Principal, partnership_id: int) -> None:
    """Staff and the partnership's coordinators manage its members.

    :raises NotFound: for anyone else who is not a member (no leak);
    :raises PermissionDenied: for members.
    """
    if principal.is_staff or partnership_id in principal.coordinated_partnership_ids:
        return
    if partnership_id in principal.partnership_ids:
        raise PermissionDenied("only coordinators manage the members of a partnership")
    raise NotFound("no such partnership", details={"id": partnership_id})


def check_partnership_read(principal: Principal, partnership_id: int) -> None:
    """:raises NotFound: when the principal is neither staff, coordinator nor member."""
    if (
        principal.is_staff
        or partnership_id in principal.coordinated_partnership_ids
        or partnership_id in principal.partnership_ids
    ):
        return
    raise NotFound("no such partnership", details={"id": partnership_id})
