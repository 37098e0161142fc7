"""The access policy against an independent oracle, and its SQL filter against ``visible``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.access import AccessPolicy, Grant, Principal, principal_for_user, visible
from nca_share.access.models import AccessGrant
from nca_share.auth.models import User, UserRole
from nca_share.constituency.models import Membership, Organisation, Partnership
from nca_share.db import Database
from nca_share.errors import NotFound, ValidationError
from nca_share.stix.models import StixObject
from nca_share.stix.store import StixStore
from tests.unit.access.oracle import ROLE_NAMES, TLPS, grants, oracle, principals


@given(principal=principals, tlp=st.sampled_from([None, *TLPS]), object_grants=grants)
def test_visible_matches_oracle(
    principal: Principal, tlp: int | None, object_grants: list[Grant]
) -> None:
    """``visible`` agrees with the oracle table for generated principals, TLPs and grants."""
    assert visible(principal, tlp, object_grants) == oracle(principal, tlp, object_grants)


def _all_grant_sets() -> Iterator[list[Grant]]:
    grantees = [
        Grant(organisation_id=1),
        Grant(organisation_id=2),
        Grant(partnership_id=1),
        Grant(partnership_id=2),
        Grant(user_id=1),
        Grant(user_id=2),
    ]
    for n in range(len(grantees) + 1):
        for combo in itertools.combinations(grantees, n):
            yield list(combo)


def _all_principals() -> Iterator[Principal]:
    yield Principal.anonymous()
    role_sets = [
        frozenset(),
        frozenset({"member"}),
        frozenset({"coordinator"}),
        frozenset({"analyst"}),
        frozenset({"reviewer"}),
        frozenset({"operator"}),
        frozenset({"member", "coordinator"}),
    ]
    small = [frozenset(), frozenset({1}), frozenset({2}), frozenset({1, 2})]
    for uid, roles, orgs, pships, coord in itertools.product(
        [1, 3], role_sets, small, small, small
    ):
        yield Principal(
            user_id=uid,
            roles=roles,
            organisation_ids=orgs,
            partnership_ids=pships,
            coordinated_partnership_ids=coord,
        )


def test_visible_exhaustive_small_universe() -> None:
    """Every TLP x every grant combination x every principal shape agrees with the oracle."""
    checked = 0
    for tlp, object_grants, principal in itertools.product(
        TLPS, list(_all_grant_sets()), list(_all_principals())
    ):
        assert visible(principal, tlp, object_grants) == oracle(principal, tlp, object_grants), (
            tlp,
            object_grants,
            principal,
        )
        checked += 1
    assert checked == len(TLPS) * 64 * (1 + 2 * 7 * 4 * 4 * 4)


def test_red_has_no_role_bypass() -> None:
    """Not even an operator with every role and membership sees RED without a user grant."""
    everyone = Principal(
        user_id=9,
        roles=frozenset(ROLE_NAMES),
        organisation_ids=frozenset({1}),
        partnership_ids=frozenset({1}),
        coordinated_partnership_ids=frozenset({1}),
    )
    assert not visible(everyone, 4, [Grant(organisation_id=1), Grant(partnership_id=1)])
    assert visible(everyone, 4, [Grant(user_id=9)])


def test_partnership_grant_does_not_widen_amber_strict() -> None:
    """A partnership grant opens AMBER to its members but never AMBER+STRICT."""
    member = Principal(
        user_id=1,
        roles=frozenset({"member"}),
        organisation_ids=frozenset({5}),
        partnership_ids=frozenset({7}),
    )
    assert visible(member, 2, [Grant(partnership_id=7)])
    assert not visible(member, 3, [Grant(partnership_id=7)])
    assert visible(member, 3, [Grant(organisation_id=5)])


# ----------------------------------------------------------------------------- database


#: Memberships of the test universe: (organisation, partnership, status).
MEMBERSHIPS = [(1, 1, "active"), (2, 1, "active"), (2, 2, "active"), (3, 2, "left")]
ORG_PARTNERSHIPS = {1: {1}, 2: {1, 2}, 3: set()}


@dataclass
class Universe:
    database: Database
    org_ids: list[int]
    partnership_ids: list[int]
    user_ids: list[int]


@pytest.fixture
def universe(database: Database) -> Universe:
    """Three organisations, two partnerships (one membership has ended), three users."""
    with database.session() as s:
        orgs = [Organisation(kvk=f"1000000{i}", name=f"Org {i}") for i in (1, 2, 3)]
        pships = [Partnership(slug=f"p{i}", name=f"P {i}") for i in (1, 2)]
        users = [
            User(email=f"u{i}@example.nl", password_hash="x", security_stamp="s") for i in (1, 2, 3)
        ]
        s.add_all([*orgs, *pships, *users])
        s.flush()
        for org, pship, status in MEMBERSHIPS:
            s.add(
                Membership(
                    organisation_id=orgs[org - 1].id,
                    partnership_id=pships[pship - 1].id,
                    status=status,
                )
            )
        return Universe(
            database, [o.id for o in orgs], [p.id for p in pships], [u.id for u in users]
        )


@dataclass(frozen=True)
class RoleSpec:
    user: int  # 1-based index into the universe
    roles: tuple[tuple[str, int | None], ...]  # (role, org or partnership index)


role_specs = st.builds(
    RoleSpec,
    user=st.integers(1, 3),
    roles=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["analyst", "reviewer", "operator"]), st.none()),
            st.tuples(st.just("member"), st.integers(1, 3)),
            st.tuples(st.just("coordinator"), st.integers(1, 2)),
        ),
        max_size=3,
        unique=True,
    ).map(tuple),
)
grant_specs = st.lists(
    st.one_of(
        st.tuples(st.just("organisation"), st.integers(1, 3)),
        st.tuples(st.just("partnership"), st.integers(1, 2)),
        st.tuples(st.just("user"), st.integers(1, 3)),
    ),
    max_size=4,
    unique=True,
)
object_specs = st.lists(st.tuples(st.sampled_from(TLPS), grant_specs), min_size=4, max_size=20)


def _stix(i: int, tlp: int) -> StixObject:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    sid = f"indicator--00000000-0000-4000-8000-{i:012d}"
    return StixObject(
        stix_id=sid,
        type="indicator",
        spec_version="2.1",
        original_spec_version="2.1",
        created=now,
        modified=now,
        version_key=f"v{i}",
        is_current=True,
        revoked=False,
        tlp=tlp,
        tlp_defaulted=False,
        marking_refs=[],
        source="test",
        date_added=now,
        raw={"id": sid},
    )


def _principal(s: Session, u: Universe, spec: RoleSpec | None) -> Principal:
    if spec is None:
        return Principal.anonymous()
    user = s.get(User, u.user_ids[spec.user - 1])
    assert user is not None
    for role, idx in spec.roles:
        row = UserRole(role=role, granted_at=datetime(2026, 1, 1, tzinfo=UTC))
        if role == "member":
            assert idx is not None
            row.organisation_id = u.org_ids[idx - 1]
        elif role == "coordinator":
            assert idx is not None
            row.partnership_id = u.partnership_ids[idx - 1]
        user.roles.append(row)
    s.flush()
    return principal_for_user(s, user)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=st.none() | role_specs, objects=object_specs)
def test_sql_filter_returns_exactly_the_visible_objects(
    universe: Universe, spec: RoleSpec | None, objects: list[tuple[int, list[tuple[str, int]]]]
) -> None:
    """On a real database the SQL filter keeps exactly what ``visible`` and the oracle allow."""
    u = universe
    with u.database.sessionmaker() as s:
        try:
            principal = _principal(s, u, spec)
            if spec is not None:
                # The seam: partnerships come from *active* memberships of member orgs only.
                member_orgs = {idx for role, idx in spec.roles if role == "member" and idx}
                expected_pships: set[int] = set().union(*(ORG_PARTNERSHIPS[o] for o in member_orgs))
                assert principal.partnership_ids == {
                    u.partnership_ids[p - 1] for p in expected_pships
                }
            expected: set[str] = set()
            policy = AccessPolicy(s)
            for i, (tlp, gspecs) in enumerate(objects):
                obj = _stix(i, tlp)
                s.add(obj)
                object_grants = []
                for kind, idx in gspecs:
                    if kind == "organisation":
                        row = policy.grant(obj.stix_id, organisation_id=u.org_ids[idx - 1])
                    elif kind == "partnership":
                        row = policy.grant(obj.stix_id, partnership_id=u.partnership_ids[idx - 1])
                    else:
                        row = policy.grant(obj.stix_id, user_id=u.user_ids[idx - 1])
                    object_grants.append(Grant.of(row))
                if visible(principal, tlp, object_grants):
                    expected.add(obj.stix_id)
                assert visible(principal, tlp, object_grants) == oracle(
                    principal, tlp, object_grants
                )
                assert policy.visible(principal, tlp, obj.stix_id) == (obj.stix_id in expected)
            s.flush()
            got = set(
                s.scalars(
                    select(StixObject.stix_id).where(
                        policy.filter(principal, StixObject.tlp, StixObject.stix_id)
                    )
                )
            )
            assert got == expected
        finally:
            s.rollback()


def test_grant_needs_exactly_one_grantee(universe: Universe) -> None:
    """A grant names one organisation, partnership or user; duplicates are not repeated."""
    with universe.database.session() as s:
        policy = AccessPolicy(s)
        with pytest.raises(ValidationError):
            policy.grant("notice:1")
        with pytest.raises(ValidationError):
            policy.grant(
                "notice:1", organisation_id=universe.org_ids[0], user_id=universe.user_ids[0]
            )
        first = policy.grant("notice:1", organisation_id=universe.org_ids[0])
        again = policy.grant("notice:1", organisation_id=universe.org_ids[0])
        assert first.id == again.id
        assert (
            s.scalar(select(AccessGrant.id).where(AccessGrant.resource_ref == "notice:1"))
            == first.id
        )


def test_check_hides_existence(universe: Universe) -> None:
    """An invisible resource is reported as not found, a visible one passes."""
    with universe.database.session() as s:
        policy = AccessPolicy(s)
        policy.grant("notice:2", user_id=universe.user_ids[0])
        with pytest.raises(NotFound):
            policy.check(
                Principal(user_id=universe.user_ids[1], roles=frozenset({"operator"})),
                4,
                "notice:2",
            )
        policy.check(Principal(user_id=universe.user_ids[0]), 4, "notice:2")


def test_store_query_pages_only_visible_objects(universe: Universe) -> None:
    """``StixStore.query(where=policy.filter(...))`` pages through exactly the visible objects."""
    u = universe
    member = Principal(
        user_id=u.user_ids[0],
        roles=frozenset({"member"}),
        organisation_ids=frozenset({u.org_ids[0]}),
        partnership_ids=frozenset({u.partnership_ids[0]}),
    )
    with u.database.session() as s:
        policy = AccessPolicy(s)
        expected = set()
        for i in range(30):
            obj = _stix(i, i % 5)
            s.add(obj)
            if i % 3 == 0:
                policy.grant(obj.stix_id, organisation_id=u.org_ids[0])
            elif i % 3 == 1:
                policy.grant(obj.stix_id, partnership_id=u.partnership_ids[0])
            if visible(member, i % 5, policy.grants(obj.stix_id)):
                expected.add(obj.stix_id)
    with u.database.session() as s:
        store = StixStore(s)
        where = AccessPolicy(s).filter(member, StixObject.tlp, StixObject.stix_id)
        seen: list[str] = []
        cursor = None
        while True:
            page = store.query(where=where, limit=4, cursor=cursor)
            seen.extend(o.stix_id for o in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(seen) == len(set(seen))
    assert set(seen) == expected
    assert 10 < len(expected) < 30
