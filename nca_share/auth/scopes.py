"""API token scopes and which roles may hold them.

A token carries a subset of these scopes. A token can never exceed its user's roles: a scope
is only granted at creation when one of the user's roles allows it, and at every use the
token's scopes are intersected again with what the user's *current* roles allow.

===============  ==============================================  ==========================
scope            allows                                          roles
===============  ==============================================  ==========================
stix:read        read STIX objects (always filtered by TLP)      every authenticated user
orgs:read        read organisations the user may see             all roles
orgs:write       change organisations, assets, contacts          member, coordinator,
                                                                 analyst, operator
feeds:read       read feed definitions and health                analyst, reviewer, operator
feeds:write      create and change feeds                         analyst, operator
matches:read     read matches and notices                        all roles
audit:read       read the audit log                              operator
users:admin      manage users, roles and tokens                  operator
===============  ==============================================  ==========================
"""

from __future__ import annotations

from collections.abc import Iterable

from nca_share.auth.models import Role

SCOPES: dict[str, str] = {
    "stix:read": "Read STIX objects (filtered by TLP)",
    "orgs:read": "Read organisations",
    "orgs:write": "Change organisations, assets and contacts",
    "feeds:read": "Read feeds and feed health",
    "feeds:write": "Create and change feeds",
    "matches:read": "Read matches and notices",
    "audit:read": "Read the audit log",
    "users:admin": "Manage users, roles and tokens",
}

_ALL_ROLES = frozenset(Role)

#: scope -> roles that may hold it. ``stix:read`` needs no role (any registered user).
SCOPE_ROLES: dict[str, frozenset[Role] | None] = {
    "stix:read": None,
    "orgs:read": _ALL_ROLES,
    "orgs:write": frozenset({Role.MEMBER, Role.COORDINATOR, Role.ANALYST, Role.OPERATOR}),
    "feeds:read": frozenset({Role.ANALYST, Role.REVIEWER, Role.OPERATOR}),
    "feeds:write": frozenset({Role.ANALYST, Role.OPERATOR}),
    "matches:read": _ALL_ROLES,
    "audit:read": frozenset({Role.OPERATOR}),
    "users:admin": frozenset({Role.OPERATOR}),
}


def allowed_scopes(roles: Iterable[str]) -> frozenset[str]:
    """Every scope a user holding ``roles`` may use.

    :param roles: role names (unknown names are ignored).
    """
    held = frozenset(roles)
    return frozenset(
        scope
        for scope, needed in SCOPE_ROLES.items()
        if needed is None or any(role in held for role in needed)
    )
