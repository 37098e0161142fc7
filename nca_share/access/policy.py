"""The TLP 2.0 access rules, as a pure function and as a SQL filter.

See the package docstring (``nca_share.access``) for the rules themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from nca_share.access.models import AccessGrant
from nca_share.access.principal import Principal
from nca_share.auth.scopes import SCOPES, allowed_scopes
from nca_share.errors import AuthenticationError, NotFound, PermissionDenied, ValidationError

CLEAR, GREEN, AMBER, AMBER_STRICT, RED = 0, 1, 2, 3, 4
TLP_NAMES = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


@dataclass(frozen=True)
class Grant:
    """A resource shared with exactly one organisation, partnership or user."""

    organisation_id: int | None = None
    partnership_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, row: AccessGrant) -> Grant:
        return cls(row.organisation_id, row.partnership_id, row.user_id)


def visible(principal: Principal, tlp: int | None, grants: Iterable[Grant]) -> bool:
    """Whether ``principal`` may see a resource of ``tlp`` shared through ``grants``.

    :param tlp: 0 CLEAR, 1 GREEN, 2 AMBER, 3 AMBER+STRICT, 4 RED; anything else is invisible.
    :param grants: every grant of the resource.
    """
    if tlp == CLEAR:
        return True
    if principal.user_id is None:
        return False
    if tlp == GREEN:
        return True
    if tlp == AMBER:
        if principal.is_staff:
            return True
        partnerships = principal.partnership_ids | principal.coordinated_partnership_ids
        return any(
            (g.organisation_id is not None and g.organisation_id in principal.organisation_ids)
            or (g.partnership_id is not None and g.partnership_id in partnerships)
            for g in grants
        )
    if tlp == AMBER_STRICT:
        if principal.is_staff:
            return True
        return any(
            g.organisation_id is not None and g.organisation_id in principal.organisation_ids
            for g in grants
        )
    if tlp == RED:
        return any(g.user_id is not None and g.user_id == principal.user_id for g in grants)
    return False


def _granted(ref_column: Any, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The row's resource has a grant matching any of ``conditions``.

    Written as ``ref IN (SELECT resource_ref …)`` rather than a correlated EXISTS: the
    subquery does not depend on the row, so both backends evaluate it once (PostgreSQL as a
    hashed subplan) even inside the OR of the TLP terms, where an EXISTS would run per row.
    """
    return ref_column.in_(  # type: ignore[no-any-return]
        select(AccessGrant.resource_ref).where(or_(*conditions))
    )


def visibility_clause(
    principal: Principal, tlp_column: Any, ref_column: Any
) -> ColumnElement[bool]:
    """The SQL form of ``visible``: true for exactly the rows ``principal`` may see.

    :param tlp_column: the integer TLP column of the queried table.
    :param ref_column: the column holding the resource reference used in grants.
    """
    terms: list[ColumnElement[bool]] = [tlp_column == CLEAR]
    if principal.user_id is None:
        return terms[0]
    terms.append(tlp_column == GREEN)
    orgs = sorted(principal.organisation_ids)
    partnerships = sorted(principal.partnership_ids | principal.coordinated_partnership_ids)
    if principal.is_staff:
        terms.append(tlp_column.in_([AMBER, AMBER_STRICT]))
    else:
        amber: list[ColumnElement[bool]] = []
        if orgs:
            amber.append(AccessGrant.organisation_id.in_(orgs))
        if partnerships:
            amber.append(AccessGrant.partnership_id.in_(partnerships))
        if amber:
            terms.append(and_(tlp_column == AMBER, _granted(ref_column, *amber)))
        if orgs:
            terms.append(
                and_(
                    tlp_column == AMBER_STRICT,
                    _granted(ref_column, AccessGrant.organisation_id.in_(orgs)),
                )
            )
    terms.append(
        and_(tlp_column == RED, _granted(ref_column, AccessGrant.user_id == principal.user_id))
    )
    return or_(*terms)


class AccessPolicy:
    """The one access policy, with its grants in the database.

    Every surface that shows restricted data either asks ``visible`` for one resource or
    appends ``filter`` to its query.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def grants(self, resource_ref: str) -> list[Grant]:
        """Every grant of ``resource_ref``."""
        rows = self.session.scalars(
            select(AccessGrant).where(AccessGrant.resource_ref == resource_ref)
        )
        return [Grant.of(row) for row in rows]

    def visible(self, principal: Principal, tlp: int | None, resource_ref: str) -> bool:
        """Whether ``principal`` may see ``resource_ref`` of ``tlp`` (grants from the DB)."""
        if tlp == CLEAR:
            return True
        if tlp == GREEN or principal.user_id is None:
            return visible(principal, tlp, ())
        return visible(principal, tlp, self.grants(resource_ref))

    def check(self, principal: Principal, tlp: int | None, resource_ref: str) -> None:
        """Raise ``NotFound`` unless ``principal`` may see the resource.

        ``NotFound`` rather than ``PermissionDenied``, so the existence of a restricted
        resource is not revealed.
        """
        if not self.visible(principal, tlp, resource_ref):
            raise NotFound(f"{resource_ref} not found")

    def filter(self, principal: Principal, tlp_column: Any, ref_column: Any) -> ColumnElement[bool]:
        """A WHERE clause keeping exactly the rows ``principal`` may see.

        :param tlp_column: e.g. ``StixObject.tlp``.
        :param ref_column: e.g. ``StixObject.stix_id``.
        """
        return visibility_clause(principal, tlp_column, ref_column)

    def grant(
        self,
        resource_ref: str,
        *,
        organisation_id: int | None = None,
        partnership_id: int | None = None,
        user_id: int | None = None,
        granted_by: str | None = None,
    ) -> AccessGrant:
        """Share ``resource_ref`` with one organisation, partnership or user (idempotent).

        :raises ValidationError: unless exactly one grantee is given.
        """
        given = [x for x in (organisation_id, partnership_id, user_id) if x is not None]
        if len(given) != 1:
            raise ValidationError(
                "a grant names exactly one organisation, partnership or user",
                location="grantee",
            )
        if not resource_ref or len(resource_ref) > 300:
            raise ValidationError(
                "resource reference must be 1..300 characters", location="resource_ref"
            )
        existing = self.session.scalar(
            select(AccessGrant).where(
                AccessGrant.resource_ref == resource_ref,
                _eq(AccessGrant.organisation_id, organisation_id),
                _eq(AccessGrant.partnership_id, partnership_id),
                _eq(AccessGrant.user_id, user_id),
            )
        )
        if existing is not None:
            return existing
        row = AccessGrant(
            resource_ref=resource_ref,
            organisation_id=organisation_id,
            partnership_id=partnership_id,
            user_id=user_id,
            granted_by=granted_by,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def revoke(self, grant_id: int) -> None:
        """Remove one grant.

        :raises NotFound: no such grant.
        """
        row = self.session.get(AccessGrant, grant_id)
        if row is None:
            raise NotFound(f"grant {grant_id} not found")
        self.session.delete(row)
        self.session.flush()


def _eq(column: Any, value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def require_scope(principal: Principal, scope: str) -> None:
    """Refuse unless ``principal`` may use ``scope``.

    A session (``scopes is None``) may use every scope its roles allow; an API token only the
    scopes it carries (already intersected with its user's roles).

    :raises AuthenticationError: anonymous principal.
    :raises PermissionDenied: the scope is not held.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if principal.user_id is None:
        raise AuthenticationError("authentication required")
    held = allowed_scopes(principal.roles) if principal.scopes is None else principal.scopes
    if scope not in held:
        raise PermissionDenied(f"scope {scope} required", details={"scope": scope})


__all__ = [
    "AMBER",
    "AMBER_STRICT",
    "CLEAR",
    "GREEN",
    "RED",
    "TLP_NAMES",
    "AccessPolicy",
    "Grant",
    "require_scope",
    "visibility_clause",
    "visible",
]
