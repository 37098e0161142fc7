"""Derived data obeys TLP: the constituency product pick-list (REST ``/api/v1/products`` and
the onboarding assets step) offers only product strings from objects the principal may see,
for every TLP and grant kind."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from nca_share.access import AccessPolicy, Principal, principal_for_user, visible
from nca_share.auth.models import User
from tests.fixtures.web import TLP_MARKINGS, ingest, make_token
from tests.security.conftest import World

TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
GRANTS = ["none", "org_a", "partnership", "user_a"]
TLP_INDEX = {name: i for i, name in enumerate(TLPS)}


def _software(tlp: str, grant: str) -> dict[str, Any]:
    import uuid

    product = f"zz{tlp.replace('+', '').lower()}{grant.replace('_', '')}"
    return {
        "type": "software",
        "spec_version": "2.1",
        "id": f"software--{uuid.uuid4()}",
        "name": product,
        "vendor": "zzvendor",
        "cpe": f"cpe:2.3:a:zzvendor:{product}:1.0:*:*:*:*:*:*:*",
        "object_marking_refs": [TLP_MARKINGS[tlp]],
    }


def _seed(world: World) -> dict[str, tuple[dict[str, Any], str]]:
    objects = {f"{t}/{g}": _software(t, g) for t in TLPS for g in GRANTS}
    ingest(world.app, list(objects.values()))
    database = world.app.extensions["nca_share.db"]
    with database.session() as session:
        policy = AccessPolicy(session)
        for key, obj in objects.items():
            grant = key.split("/")[1]
            if grant == "org_a":
                policy.grant(obj["id"], organisation_id=world.org_a)
            elif grant == "partnership":
                policy.grant(obj["id"], partnership_id=world.partnership)
            elif grant == "user_a":
                policy.grant(obj["id"], user_id=world.users["member_a"].id)
    return {key: (obj, key.split("/")[0]) for key, obj in objects.items()}


def _principal(world: World, name: str) -> Principal:
    database = world.app.extensions["nca_share.db"]
    with database.session() as session:
        user = session.get(User, world.users[name].id)
        assert user is not None
        return principal_for_user(session, user)


@pytest.mark.parametrize("who", ["member_a", "member_b", "coordinator", "analyst"])
def test_product_pick_list_follows_tlp(app: Flask, world: World, who: str) -> None:
    """The API list and the wizard page offer exactly the CPEs of visible software objects."""
    seeded = _seed(world)
    principal = _principal(world, who)
    database = app.extensions["nca_share.db"]
    with database.session() as session:
        policy = AccessPolicy(session)
        expected = {
            obj["cpe"]
            for obj, tlp in seeded.values()
            if visible(principal, TLP_INDEX[tlp], policy.grants(obj["id"]))
        }
    everything = {obj["cpe"] for obj, _tlp in seeded.values()}
    assert expected != everything  # the universe hides something from everyone
    token = make_token(app, world.users[who], "orgs:read")
    body = app.test_client().get(
        "/api/v1/products",
        query_string={"q": "zzvendor", "limit": 100},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert body.status_code == 200, body.get_data(as_text=True)
    assert {item["cpe"] for item in body.get_json()} == expected
    if who == "member_a":
        page = world.client(who).get(
            f"/organisations/{world.org_a}/onboarding/assets", query_string={"product_q": "zz"}
        )
        assert page.status_code == 200
        shown = set(re.findall(r"zz[a-z]+", page.get_data(as_text=True))) - {"zzvendor"}
        names = {obj["name"] for obj, _tlp in seeded.values()}
        assert shown & names == {
            obj["name"] for obj, _tlp in seeded.values() if obj["cpe"] in expected
        }
