"""TLP through the surfaces: the REST API and the explorer pages show exactly what the access
rules allow, for every TLP x grant combination and every kind of principal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nca_share.access import AccessPolicy, Grant, principal_for_user
from nca_share.auth.models import User
from nca_share.constituency.models import Membership, Partnership
from nca_share.db import Database
from tests.fixtures.web import (
    UserCredentials,
    ingest,
    login,
    make_org,
    make_token,
    make_user,
    relationship,
    sdo,
)
from tests.unit.access.test_policy import oracle  # type: ignore[attr-defined]

TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
#: Grantee keys: organisation 1/2, partnership 1/2, the member of org 1, the coordinator.
GRANT_SETS: list[tuple[str, ...]] = [
    (),
    ("org1",),
    ("org2",),
    ("pship1",),
    ("pship2",),
    ("user:m1",),
    ("user:c1",),
    ("org2", "pship1"),
]
_LINK = re.compile(r'href="/objects/([^"?]+)"')


def _setup(app: Flask, database: Database) -> tuple[dict[str, UserCredentials], dict[str, Any]]:
    org1 = make_org(app, "10000001", "Org 1")
    org2 = make_org(app, "10000002", "Org 2")
    org3 = make_org(app, "10000003", "Org 3 (no grants)")
    with database.session() as session:
        p1 = Partnership(slug="p1", name="P1")
        p2 = Partnership(slug="p2", name="P2")
        session.add_all([p1, p2])
        session.flush()
        pships = {"pship1": p1.id, "pship2": p2.id}
        session.add(Membership(partnership_id=p1.id, organisation_id=org1, status="active"))
        session.add(Membership(partnership_id=p2.id, organisation_id=org2, status="left"))
    users = {
        "m1": make_user(app, "m1@example.nl", ("member", org1, None)),
        "m2": make_user(app, "m2@example.nl", ("member", org2, None)),
        "m3": make_user(app, "m3@example.nl", ("member", org3, None)),
        "c1": make_user(app, "c1@example.nl", ("coordinator", None, pships["pship1"]), totp=True),
        "analyst": make_user(app, "analyst@example.nl", "analyst", totp=True),
        "operator": make_user(app, "operator@example.nl", "operator", totp=True),
    }
    grantee = {
        "org1": {"organisation_id": org1},
        "org2": {"organisation_id": org2},
        "pship1": {"partnership_id": pships["pship1"]},
        "pship2": {"partnership_id": pships["pship2"]},
        "user:m1": {"user_id": users["m1"].id},
        "user:c1": {"user_id": users["c1"].id},
    }
    objects = []
    for tlp in TLPS:
        for grant_set in GRANT_SETS:
            objects.append(sdo("malware", f"m {tlp} {'+'.join(grant_set) or 'none'}", tlp))
    hub = sdo("intrusion-set", "hub", "GREEN")
    rels = [relationship(hub, "uses", o, "GREEN") for o in objects[::3]]
    ingest(app, [*objects, hub, *rels])
    expected_grants: dict[str, list[Grant]] = {}
    with database.session() as session:
        policy = AccessPolicy(session)
        for i, obj in enumerate(objects):
            grant_set = GRANT_SETS[i % len(GRANT_SETS)]
            expected_grants[obj["id"]] = []
            for key in grant_set:
                policy.grant(obj["id"], **grantee[key])  # type: ignore[arg-type]
                expected_grants[obj["id"]].append(Grant(**grantee[key]))
    tlp_of = {o["id"]: TLPS.index(_tlp(o)) for o in objects}
    return users, {
        "objects": objects,
        "grants": expected_grants,
        "tlp": tlp_of,
        "hub": hub,
        "rels": rels,
    }


def _tlp(obj: dict[str, Any]) -> str:
    from tests.fixtures.web import TLP_MARKINGS

    by_id = {v: k for k, v in TLP_MARKINGS.items()}
    return by_id[obj["object_marking_refs"][0]]


def _api_ids(client: FlaskClient, headers: dict[str, str]) -> set[str]:
    seen: set[str] = set()
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 7, "type": "malware"}
        if cursor:
            query["cursor"] = cursor
        body = client.get("/api/v1/stix/objects", query_string=query, headers=headers).get_json()
        seen.update(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return seen


def _explorer_ids(client: FlaskClient) -> set[str]:
    seen: set[str] = set()
    url: str | None = "/objects?type=malware"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen.update(_LINK.findall(html))
        match = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    return seen


@pytest.mark.slow
def test_every_surface_shows_exactly_what_the_rules_allow(app: Flask, database: Database) -> None:
    """API list, API detail/versions/relationships, explorer list and explorer pages agree
    with the independent oracle for every principal, TLP and grant combination."""
    users, universe = _setup(app, database)
    objects = universe["objects"]
    all_ids = {o["id"] for o in objects}
    distinct: set[frozenset[str]] = set()
    for name, creds in users.items():
        with database.session() as session:
            user = session.get(User, creds.id)
            assert user is not None
            principal = principal_for_user(session, user)
        expected = {
            oid
            for oid in all_ids
            if oracle(principal, universe["tlp"][oid], universe["grants"][oid])
        }
        distinct.add(frozenset(expected))
        client = app.test_client()
        token = make_token(app, creds, "stix:read")
        headers = {"Authorization": f"Bearer {token}"}
        assert _api_ids(client, headers) == expected, f"API list leak/miss for {name}"
        for n, oid in enumerate(sorted(all_ids)):
            want = 200 if oid in expected else 404
            for suffix in ("", "/versions", "/relationships")[: 3 if n % 4 == 0 else 1]:
                got = client.get(f"/api/v1/stix/objects/{oid}{suffix}", headers=headers)
                assert got.status_code == want, f"API {suffix or 'detail'} {name} {oid}"
        hub_rels = client.get(
            f"/api/v1/stix/objects/{universe['hub']['id']}/relationships", headers=headers
        ).get_json()["items"]
        targets = {r["target_ref"] for r in universe["rels"]}
        assert {r["target_id"] for r in hub_rels} == targets  # the GREEN relationships
        described = {r["target_id"] for r in hub_rels if r["other_in_store"]}
        assert described == targets & expected, f"edge leak for {name}"
        browser = app.test_client()
        login(browser, creds, totp_code=_totp(app, creds))
        assert _explorer_ids(browser) & all_ids == expected, f"explorer list for {name}"
        for oid in all_ids:
            page = browser.get(f"/objects/{oid}")
            assert page.status_code == (200 if oid in expected else 404), f"page {name} {oid}"
        hub_page = browser.get(f"/objects/{universe['hub']['id']}").get_data(as_text=True)
        assert set(_LINK.findall(hub_page)) & all_ids <= expected, f"hub page leak for {name}"
        assert set(_LINK.findall(hub_page)) & all_ids == expected & {
            r["target_ref"] for r in universe["rels"]
        }
    # The universe really separates the principals (not everyone sees the same).
    assert len(distinct) >= 5


def _totp(app: Flask, creds: UserCredentials) -> str | None:
    if creds.totp_secret is None:
        return None
    import pyotp

    from nca_share.clock import FrozenClock

    clock = app.extensions["nca_share.clock"]
    if isinstance(clock, FrozenClock):
        from datetime import timedelta

        clock.advance(timedelta(seconds=30))  # a fresh time step: no replay
    return str(pyotp.TOTP(creds.totp_secret).at(clock.now()))


@pytest.fixture(autouse=True)
def _frozen_clock(app: Flask) -> None:
    from datetime import UTC, datetime

    from nca_share.clock import FrozenClock

    app.extensions["nca_share.clock"] = FrozenClock(datetime.now(UTC))


def test_anonymous_sees_nothing_on_either_surface(app: Flask, database: Database) -> None:
    """Without an account neither the API nor the explorer shows any object (not even CLEAR:
    both surfaces require signing in, stricter than TLP)."""
    _users, universe = _setup(app, database)
    client = app.test_client()
    clear = next(o for o in universe["objects"] if _tlp(o) == "CLEAR")
    assert client.get("/api/v1/stix/objects").status_code == 401
    assert client.get(f"/api/v1/stix/objects/{clear['id']}").status_code == 401
    listing = client.get("/objects")
    assert listing.status_code == 302
    assert listing.headers["Location"].startswith("/login")
    assert client.get(f"/objects/{clear['id']}").status_code == 302
