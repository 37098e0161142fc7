"""Partnerships are tenants: members of one partnership do not see each other (profile,
partnership page, REST) unless the partnership opts in; its coordinator sees its members and
nobody else's."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from nca_share.constituency.models import Membership, Partnership
from tests.fixtures.web import make_org, make_token
from tests.security.conftest import World


def test_fellow_members_are_hidden_until_the_partnership_opts_in(app: Flask, world: World) -> None:
    """Organisation C (in P with A) is 404 to A's member and absent from P's page and API
    member list; after P opts in, the member list names C (its profile stays private)."""
    database = app.extensions["nca_share.db"]
    org_c = make_org(app, "20000009", "Zzorg C")
    with database.session() as session:
        session.add(
            Membership(partnership_id=world.partnership, organisation_id=org_c, status="active")
        )
    member = world.client("member_a")
    token = make_token(app, world.users["member_a"], "orgs:read")
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert member.get(f"/organisations/{org_c}").status_code == 404
    assert api.get(f"/api/v1/organisations/{org_c}", headers=headers).status_code == 404
    assert "Zzorg C" not in member.get(f"/partnerships/{world.partnership}").get_data(as_text=True)
    listed = api.get(f"/api/v1/partnerships/{world.partnership}", headers=headers).get_json()
    assert not listed["members"]
    orgs = api.get("/api/v1/organisations", headers=headers).get_json()
    assert [o["id"] for o in orgs] == [world.org_a]
    coordinator = world.client("coordinator")
    assert coordinator.get(f"/organisations/{org_c}").status_code == 200
    assert coordinator.get(f"/organisations/{world.org_b}").status_code == 404
    with database.session() as session:
        session.execute(
            update(Partnership)
            .where(Partnership.id == world.partnership)
            .values(member_list_visible=True)
        )
    assert "Zzorg C" in member.get(f"/partnerships/{world.partnership}").get_data(as_text=True)
    assert member.get(f"/organisations/{org_c}").status_code == 404
    with database.session() as session:
        session.execute(
            update(Membership).where(Membership.organisation_id == org_c).values(status="left")
        )
    assert coordinator.get(f"/organisations/{org_c}").status_code == 404
