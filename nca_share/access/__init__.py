"""THE access policy of nca_share: who may see what (TLP 2.0 plus roles).

Every surface (web pages, REST, TAXII, e-mail, webhooks, Atom, exports, search) asks this
package: ``visible(principal, tlp, grants)`` / ``AccessPolicy(session).visible(principal,
tlp, resource_ref)`` for one resource, and ``AccessPolicy.filter(principal, tlp_column,
ref_column)`` as a WHERE clause for lists. The two are the same rules and are tested
against each other and against an independent oracle.

Rules (TLP is the resource's effective TLP, 0..4; grants are rows of ``access_grants``
naming an organisation, a partnership or a user for the resource):

=================  ===========================================================================
TLP                visible to
=================  ===========================================================================
0 CLEAR            anyone, including anonymous principals
1 GREEN            any authenticated principal (the registered constituency)
2 AMBER            staff (analyst, reviewer, operator: the authority is the recipient
                   organisation); members of an organisation granted; members of an
                   organisation that is an *active* member of a partnership granted; the
                   coordinators of a partnership granted
3 AMBER+STRICT     staff; members of an organisation granted directly (partnership grants do
                   NOT widen AMBER+STRICT)
4 RED              only users granted by user id (named recipients); no role bypass, not even
                   operators
other / NULL       nobody
=================  ===========================================================================

User grants only count for RED; organisation and partnership grants never open RED.
A principal built for a disabled user is anonymous. API tokens additionally need the scope of
the surface (``require_scope``), e.g. ``stix:read``; scopes never widen TLP visibility.
Surfaces answer "not found" for invisible resources (``AccessPolicy.check``), so the
existence of restricted data is not revealed.
"""

from nca_share.access.policy import (
    AMBER,
    AMBER_STRICT,
    CLEAR,
    GREEN,
    RED,
    TLP_NAMES,
    AccessPolicy,
    Grant,
    require_scope,
    visibility_clause,
    visible,
)
from nca_share.access.principal import Principal, principal_for_user

__all__ = [
    "AMBER",
    "AMBER_STRICT",
    "CLEAR",
    "GREEN",
    "RED",
    "TLP_NAMES",
    "AccessPolicy",
    "Grant",
    "Principal",
    "principal_for_user",
    "require_scope",
    "visibility_clause",
    "visible",
]
