"""The constituency REST API: organisation isolation, profile, assets, contacts, preferences,
partnerships with member-list visibility and invitations over a real loopback SMTP server."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nca_share.config import Settings
from nca_share.notify.email import Mailer
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import make_org, make_token, make_user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(app: Flask) -> dict[str, object]:
    """Two organisations with a member each, and an analyst; tokens for all three."""
    alfa = make_org(app, "12345678", "Alfa B.V.")
    bravo = make_org(app, "23456789", "Bravo B.V.")
    eva = make_user(app, "eva@alfa.nl", ("member", alfa, None))
    bob = make_user(app, "bob@bravo.nl", ("member", bravo, None))
    ann = make_user(app, "ann@nca.nl", "analyst")
    return {
        "alfa": alfa,
        "bravo": bravo,
        "eva": make_token(app, eva, "orgs:read", "orgs:write"),
        "bob": make_token(app, bob, "orgs:read", "orgs:write"),
        "ann": make_token(app, ann, "orgs:read", "orgs:write"),
        "bob_user": bob,
    }


def test_members_see_only_their_own_organisation(
    client: FlaskClient, world: dict[str, object]
) -> None:
    """Another organisation's id is a 404 on every sub-resource; lists hold only one's own."""
    eva = bearer(str(world["eva"]))
    bravo = world["bravo"]
    listed = client.get("/api/v1/organisations", headers=eva).get_json()
    assert [o["kvk"] for o in listed] == ["12345678"]
    for path in ("profile", "assets", "contacts", "preferences", "maturity"):
        response = client.get(f"/api/v1/organisations/{bravo}/{path}", headers=eva)
        assert response.status_code == 404, path
    response = client.patch(f"/api/v1/organisations/{bravo}", json={"name": "X"}, headers=eva)
    assert response.status_code == 404
    ann = bearer(str(world["ann"]))
    assert len(client.get("/api/v1/organisations", headers=ann).get_json()) == 2


def test_profile_assets_contacts_preferences(client: FlaskClient, world: dict[str, object]) -> None:
    """A member fills in the profile; NIS2 is recomputed; bad input is a 422 naming fields."""
    eva = bearer(str(world["eva"]))
    alfa = world["alfa"]
    response = client.patch(
        f"/api/v1/organisations/{alfa}",
        json={"employees": 300, "nis2_entity_types": ["drinking_water_supplier"]},
        headers=eva,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["nis2"]["result"] == "essential"
    assert body["nis2"]["reasons"]["nl"]
    bad = client.patch(
        f"/api/v1/organisations/{alfa}", json={"kvk": "12", "province": "Narnia"}, headers=eva
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["details"]["errors"]} == {"kvk", "province"}
    asset = client.post(
        f"/api/v1/organisations/{alfa}/assets",
        json={"kind": "domain", "value": "alfa.nl"},
        headers=eva,
    ).get_json()
    assert asset["status"] == "pending"
    assert asset["txt_record"].startswith("nca-share-verify=")
    contact = client.post(
        f"/api/v1/organisations/{alfa}/contacts",
        json={"name": "Eva", "email": "eva@alfa.nl", "role": "security_officer"},
        headers=eva,
    )
    assert contact.status_code == 201
    prefs = client.put(
        f"/api/v1/organisations/{alfa}/preferences",
        json={"channels": ["email", "atom"], "mode": "daily", "min_urgency": "urgent",
              "language": "en"},
        headers=eva,
    )  # fmt: skip
    assert prefs.get_json()["mode"] == "daily"
    profile = client.get(f"/api/v1/organisations/{alfa}/profile", headers=eva).get_json()
    assert profile["contacts"][0]["role"] == "security_officer"
    assert profile["preferences"]["channels"] == ["email", "atom"]
    decision = client.post(f"/api/v1/assets/{asset['id']}/approve", json={}, headers=eva)
    assert decision.status_code == 403
    decision = client.post(
        f"/api/v1/assets/{asset['id']}/approve", json={}, headers=bearer(str(world["ann"]))
    )
    assert decision.get_json()["status"] == "verified"


def test_overlapping_claims_reach_the_review_queue(
    client: FlaskClient, world: dict[str, object]
) -> None:
    """Two organisations claiming overlapping networks show up in the analysts' queue."""
    client.post(
        f"/api/v1/organisations/{world['alfa']}/assets",
        json={"kind": "cidr", "value": "198.51.100.0/24"},
        headers=bearer(str(world["eva"])),
    )
    client.post(
        f"/api/v1/organisations/{world['bravo']}/assets",
        json={"kind": "cidr", "value": "198.51.100.64/26"},
        headers=bearer(str(world["bob"])),
    )
    queue = client.get("/api/v1/assets/overlaps", headers=bearer(str(world["ann"]))).get_json()
    assert len(queue) == 1
    assert "overlapping" in queue[0]["reason"]
    denied = client.get("/api/v1/assets/overlaps", headers=bearer(str(world["eva"])))
    assert denied.status_code == 403


def test_partnership_members_invitations(
    app: Flask,
    client: FlaskClient,
    world: dict[str, object],
    smtp_settings: Settings,
    smtp_server: SmtpServer,
) -> None:
    """A coordinator invites; the member accepts via the API; members don't see each other."""
    app.extensions["nca_share.mailer"] = Mailer(smtp_settings)
    ann = bearer(str(world["ann"]))
    created = client.post(
        "/api/v1/partnerships", json={"name": "Zorg Noord", "kind": "sector"}, headers=ann
    )
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]
    coordinator = make_user(app, "coord@zorg.nl", ("coordinator", None, pid))
    coord = bearer(make_token(app, coordinator, "orgs:read", "orgs:write"))
    for who in ("eva@alfa.nl", "bob@bravo.nl"):
        sent = client.post(
            f"/api/v1/partnerships/{pid}/invitations", json={"email": who}, headers=coord
        )
        assert sent.status_code == 201
    for who, token in (("eva@alfa.nl", world["eva"]), ("bob@bravo.nl", world["bob"])):
        smtp_server.wait_for(who)
        link = smtp_server.last_link(who)
        invite_token = link.rsplit("/", 1)[1]
        accepted = client.post(
            f"/api/v1/partnerships/invitations/{invite_token}/accept",
            json={},
            headers=bearer(str(token)),
        )
        assert accepted.get_json()["status"] == "active"
    eva = bearer(str(world["eva"]))
    as_member = client.get(f"/api/v1/partnerships/{pid}", headers=eva).get_json()
    assert as_member["members"] is None
    assert as_member["coordinators"] == ["coord@zorg.nl"]
    as_coord = client.get(f"/api/v1/partnerships/{pid}", headers=coord).get_json()
    assert sorted(m["organisation_name"] for m in as_coord["members"]) == [
        "Alfa B.V.",
        "Bravo B.V.",
    ]
    forbidden = client.post(
        f"/api/v1/partnerships/{pid}/invitations", json={"email": "x@y.nl"}, headers=eva
    )
    assert forbidden.status_code == 403
    removed = client.delete(f"/api/v1/partnerships/{pid}/members/{world['bravo']}", headers=coord)
    assert removed.get_json()["status"] == "removed"
    # Bravo is no longer a member, so the partnership is invisible to Bob.
    gone = client.get(f"/api/v1/partnerships/{pid}", headers=bearer(str(world["bob"])))
    assert gone.status_code == 404


def test_delegation_records_consent(client: FlaskClient, world: dict[str, object]) -> None:
    """A member records consent for an MSP contact; revoking keeps the record."""
    eva = bearer(str(world["eva"]))
    alfa = world["alfa"]
    created = client.post(
        f"/api/v1/organisations/{alfa}/delegations",
        json={"supplier_name": "IT Partner B.V.", "contact_name": "Piet",
              "contact_email": "piet@itpartner.nl", "scope": ["notices"],
              "consented_by": "Eva (directie)"},
        headers=eva,
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["consented_at"]
    listed = client.get(f"/api/v1/organisations/{alfa}/delegations", headers=eva).get_json()
    assert [d["contact_email"] for d in listed] == ["piet@itpartner.nl"]
    other = client.get(
        f"/api/v1/organisations/{alfa}/delegations", headers=bearer(str(world["bob"]))
    )
    assert other.status_code == 404
    revoked = client.delete(
        f"/api/v1/organisations/{alfa}/delegations/{body['id']}", headers=eva
    ).get_json()
    assert revoked["revoked_at"]
    assert client.get(f"/api/v1/organisations/{alfa}/delegations", headers=eva).get_json() == []


def test_invitation_not_stored_when_mail_fails(
    app: Flask, client: FlaskClient, world: dict[str, object], settings: Settings
) -> None:
    """A refused SMTP connection answers 503 and leaves no half-made invitation."""
    import socket

    from nca_share.config import SmtpSettings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    dead = settings.model_copy(
        update={"smtp": SmtpSettings(host="127.0.0.1", port=closed_port, timeout_s=2)}
    )
    app.extensions["nca_share.mailer"] = Mailer(dead)
    ann = bearer(str(world["ann"]))
    pid = client.post(
        "/api/v1/partnerships", json={"name": "Regio Zuid", "kind": "regional"}, headers=ann
    ).get_json()["id"]
    response = client.post(
        f"/api/v1/partnerships/{pid}/invitations", json={"email": "x@y.nl"}, headers=ann
    )
    assert response.status_code == 503
    assert client.get(f"/api/v1/partnerships/{pid}/invitations", headers=ann).get_json() == []
