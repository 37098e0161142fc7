"""The TLP access rules as an independent oracle table, plus hypothesis strategies for
principals and grants. Shared by every surface's leak tests (policy, REST API, explorer):
``from tests.unit.access.oracle import oracle, principals, grants``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from nca_share.access import Grant, Principal
from nca_share.auth.models import Role

STAFF = {"analyst", "reviewer", "operator"}
ROLE_NAMES = [r.value for r in Role]
TLPS = [-1, 0, 1, 2, 3, 4, 5]


def oracle(p: Principal, tlp: int | None, grants: list[Grant]) -> bool:
    """The rules of ARCHITECTURE.md §6 written out as a table, independently of the code."""
    signed_in = p.user_id is not None
    staff = bool(set(p.roles) & STAFF)
    granted_orgs = {g.organisation_id for g in grants if g.organisation_id is not None}
    granted_pships = {g.partnership_id for g in grants if g.partnership_id is not None}
    granted_users = {g.user_id for g in grants if g.user_id is not None}
    via_org = bool(set(p.organisation_ids) & granted_orgs)
    via_pship = bool((set(p.partnership_ids) | set(p.coordinated_partnership_ids)) & granted_pships)
    table: dict[int | None, bool] = {
        0: True,  # CLEAR
        1: signed_in,  # GREEN
        2: signed_in and (staff or via_org or via_pship),  # AMBER
        3: signed_in and (staff or via_org),  # AMBER+STRICT
        4: signed_in and p.user_id in granted_users,  # RED
    }
    return table.get(tlp, False)


ids = st.frozensets(st.integers(1, 3), max_size=3)
principals = st.one_of(
    st.just(Principal.anonymous()),
    st.builds(
        Principal,
        user_id=st.integers(1, 3),
        roles=st.frozensets(st.sampled_from(ROLE_NAMES)),
        organisation_ids=ids,
        partnership_ids=ids,
        coordinated_partnership_ids=ids,
        scopes=st.none() | st.frozensets(st.sampled_from(["stix:read", "orgs:read"])),
    ),
)
grants = st.lists(
    st.one_of(
        st.builds(Grant, organisation_id=st.integers(1, 3)),
        st.builds(Grant, partnership_id=st.integers(1, 3)),
        st.builds(Grant, user_id=st.integers(1, 3)),
    ),
    max_size=5,
)
