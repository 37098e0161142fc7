"""Rights are re-derived on every request: disabling a user, revoking a role or a token, and
an organisation leaving a partnership take effect at once on live sessions and tokens."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from nca_share.access import AccessPolicy
from nca_share.auth.models import User
from nca_share.auth.service import AuthService
from nca_share.constituency.models import Membership
from tests.fixtures.web import ingest, make_token, sdo
from tests.security.conftest import World


def _auth(app: Flask, session: object) -> AuthService:
    return AuthService(
        session,  # type: ignore[arg-type]
        app.extensions["nca_share.settings"],
        clock=app.extensions["nca_share.clock"],
    )


def test_disabling_a_user_ends_session_and_tokens(app: Flask, world: World) -> None:
    """A disabled member's open session is sent to the login page and their token gets 401."""
    token = make_token(app, world.users["member_a"], "stix:read")
    headers = {"Authorization": f"Bearer {token}"}
    client = world.client("member_a")
    assert client.get("/account").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    with app.extensions["nca_share.db"].session() as session:
        user = session.get(User, world.users["member_a"].id)
        assert user is not None
        _auth(app, session).set_disabled(user, True)
    assert client.get("/account").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


def test_revoked_role_and_token_lose_their_rights(app: Flask, world: World) -> None:
    """An operator's audit token stops working for the audit log once the operator role is
    revoked (scopes are re-checked against current roles); a revoked token gets 401."""
    token = make_token(app, world.users["operator"], "audit:read", "stix:read")
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get("/api/v1/audit", headers=headers).status_code == 200
    client = world.client("operator")
    assert client.get("/operator/users").status_code == 200
    with app.extensions["nca_share.db"].session() as session:
        service = _auth(app, session)
        user = session.get(User, world.users["operator"].id)
        assert user is not None
        service.revoke_role(user, "operator")
    assert api.get("/api/v1/audit", headers=headers).status_code == 403
    assert client.get("/operator/users").status_code in (403, 404)
    with app.extensions["nca_share.db"].session() as session:
        service = _auth(app, session)
        for row in service.list_tokens(service.get_user(world.users["operator"].id)):
            service.revoke_token(row.id)
    assert api.get("/api/v1/me", headers=headers).status_code == 401


def test_leaving_a_partnership_hides_its_amber_at_once(app: Flask, world: World) -> None:
    """An AMBER object granted to partnership P disappears for A's member (session and token)
    as soon as A's membership is no longer active."""
    obj = sdo("malware", "zz partnership amber", "AMBER")
    ingest(app, [obj])
    database = app.extensions["nca_share.db"]
    with database.session() as session:
        AccessPolicy(session).grant(obj["id"], partnership_id=world.partnership)
    token = make_token(app, world.users["member_a"], "stix:read")
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    client = world.client("member_a")
    assert api.get(f"/api/v1/stix/objects/{obj['id']}", headers=headers).status_code == 200
    assert client.get(f"/objects/{obj['id']}").status_code == 200
    with database.session() as session:
        session.execute(
            update(Membership)
            .where(Membership.organisation_id == world.org_a)
            .values(status="left")
        )
    assert api.get(f"/api/v1/stix/objects/{obj['id']}", headers=headers).status_code == 404
    assert client.get(f"/objects/{obj['id']}").status_code == 404
