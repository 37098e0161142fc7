"""The REST API: token auth and scopes, expiry and revocation, JSON errors, pagination,
organisation isolation, audit log for operators, OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nca_share.auth.service import AuthService
from nca_share.clock import FrozenClock
from nca_share.db import Database
from tests.fixtures.web import (
    ingest,
    login,
    make_org,
    make_token,
    make_user,
    relationship,
    sdo,
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """A frozen clock the app's services use."""
    frozen = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = frozen
    return frozen


def test_openapi_document(client: FlaskClient) -> None:
    """The OpenAPI 3 document lists the endpoints and the error schema."""
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/v1/me",
        "/api/v1/stix/objects",
        "/api/v1/stix/objects/{stix_id}",
        "/api/v1/stix/objects/{stix_id}/versions",
        "/api/v1/stix/objects/{stix_id}/relationships",
        "/api/v1/audit",
        "/api/v1/organisations/{organisation_id}",
    ):
        assert path in doc["paths"], path
    assert set(doc["components"]["schemas"]["Error"]["properties"]) == {
        "code",
        "message",
        "details",
    }


def test_anonymous_gets_401_json(client: FlaskClient) -> None:
    """Without credentials the API answers 401 with the error envelope and a challenge."""
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.get_json()) == {"code", "message", "details"}


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ncas_" + "a" * 43, "Basic x"])
def test_bad_tokens_get_401(client: FlaskClient, header: str) -> None:
    """Malformed or unknown tokens are refused with 401."""
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["code"] == "authentication_failed"


def test_token_scopes_expiry_and_revocation(
    app: Flask, client: FlaskClient, clock: FrozenClock, database: Database
) -> None:
    """A token works only within its scopes, until it expires or is revoked."""
    analyst = make_user(app, "analyst@example.nl", "analyst", totp=True)
    stix_only = make_token(app, analyst, "stix:read", days=2)
    feeds_only = make_token(app, analyst, "feeds:read", days=2)
    me = client.get("/api/v1/me", headers=bearer(stix_only)).get_json()
    assert me["email"] == "analyst@example.nl"
    assert me["scopes"] == ["stix:read"]
    assert client.get("/api/v1/stix/objects", headers=bearer(stix_only)).status_code == 200
    denied = client.get("/api/v1/stix/objects", headers=bearer(feeds_only))
    assert denied.status_code == 403
    assert denied.get_json()["details"] == {"scope": "stix:read"}
    assert client.get("/api/v1/audit", headers=bearer(stix_only)).status_code == 403
    clock.advance(timedelta(days=2, seconds=1))
    assert client.get("/api/v1/stix/objects", headers=bearer(stix_only)).status_code == 401
    fresh = make_token(app, analyst, "stix:read", days=2)
    assert client.get("/api/v1/stix/objects", headers=bearer(fresh)).status_code == 200
    with database.session() as session:
        service = AuthService(session, app.extensions["nca_share.settings"], clock=clock)
        token = service.list_tokens(service.get_user(analyst.id))[0]
        service.revoke_token(token.id)
    assert client.get("/api/v1/stix/objects", headers=bearer(fresh)).status_code == 401


def test_token_of_disabled_user_stops_working(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    """Disabling a user voids their tokens."""
    member_org = make_org(app, "12345678", "Bakkerij Jansen")
    member = make_user(app, "lid@example.nl", ("member", member_org, None))
    token = make_token(app, member, "stix:read")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with database.session() as session:
        service = AuthService(session, app.extensions["nca_share.settings"])
        service.set_disabled(service.get_user(member.id), True)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_member_of_a_gets_404_for_organisation_b(app: Flask, client: FlaskClient) -> None:
    """Organisation resources of another organisation are 'not found', own ones readable."""
    org_a = make_org(app, "11111111", "A B.V.")
    org_b = make_org(app, "22222222", "B B.V.")
    member = make_user(app, "a@example.nl", ("member", org_a, None))
    token = make_token(app, member, "orgs:read")
    own = client.get(f"/api/v1/organisations/{org_a}", headers=bearer(token))
    assert own.status_code == 200
    assert own.get_json() == {"id": org_a, "kvk": "11111111", "name": "A B.V."}
    other = client.get(f"/api/v1/organisations/{org_b}", headers=bearer(token))
    assert other.status_code == 404
    assert other.get_json()["code"] == "not_found"
    missing = client.get(f"/api/v1/organisations/{org_b + 100}", headers=bearer(token))
    assert missing.status_code == 404
    assert missing.get_json()["message"] == other.get_json()["message"]


def test_keyset_pagination_walks_every_visible_object(app: Flask, client: FlaskClient) -> None:
    """Following next_cursor with limit=2 yields each visible object exactly once."""
    objects = [sdo("malware", f"m{i}", "GREEN") for i in range(5)]
    ingest(app, objects)
    user = make_user(app, "member@example.nl", ("member", make_org(app, "33333333", "C"), None))
    token = make_token(app, user, "stix:read")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": 2, "type": "malware", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/stix/objects", query_string=query, headers=bearer(token))
        assert page.status_code == 200
        body = page.get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(o["id"] for o in objects)
    assert len(seen) == len(set(seen))


def test_invalid_cursor_and_limit_are_422(app: Flask, client: FlaskClient) -> None:
    """A forged cursor or an out-of-range limit is a 422 JSON error, not a 500."""
    user = make_user(app, "x@example.nl", "analyst", totp=True)
    token = make_token(app, user, "stix:read")
    for query in ({"cursor": "!!!not-a-cursor"}, {"limit": 0}, {"limit": "many"}):
        response = client.get("/api/v1/stix/objects", query_string=query, headers=bearer(token))
        assert response.status_code == 422, query
        assert set(response.get_json()) == {"code", "message", "details"}


def test_object_versions_and_relationships(app: Flask, client: FlaskClient) -> None:
    """An object's detail, versions and relationships are readable; a RED one is 404."""
    malware = sdo("malware", "Pikabot", "GREEN")
    newer = {**malware, "modified": "2026-02-01T00:00:00.000Z", "name": "Pikabot v2"}
    actor = sdo("intrusion-set", "Water Curupira", "GREEN")
    rel = relationship(actor, "uses", malware, "GREEN")
    secret = sdo("malware", "Secret", "RED")
    ingest(app, [malware, actor, rel, secret])
    ingest(app, [newer])
    user = make_user(app, "analyst@example.nl", "analyst", totp=True)
    token = make_token(app, user, "stix:read")
    detail = client.get(f"/api/v1/stix/objects/{malware['id']}", headers=bearer(token))
    assert detail.get_json()["name"] == "Pikabot v2"
    assert detail.get_json()["tlp"] == "GREEN"
    versions = client.get(f"/api/v1/stix/objects/{malware['id']}/versions", headers=bearer(token))
    assert [v["name"] for v in versions.get_json()["items"]] == ["Pikabot", "Pikabot v2"]
    rels = client.get(
        f"/api/v1/stix/objects/{malware['id']}/relationships", headers=bearer(token)
    ).get_json()["items"]
    assert [(r["source_id"], r["relationship_type"], r["direction"]) for r in rels] == [
        (actor["id"], "uses", "in")
    ]
    hidden = client.get(f"/api/v1/stix/objects/{secret['id']}", headers=bearer(token))
    assert hidden.status_code == 404


def test_audit_log_for_operators(app: Flask, client: FlaskClient) -> None:
    """Operators read the audit log (filtered, paged); others get 403."""
    operator = make_user(app, "op@example.nl", "operator", totp=True)
    token = make_token(app, operator, "audit:read")
    first = client.get(
        "/api/v1/audit",
        query_string={"action": "token.create", "limit": 1},
        headers=bearer(token),
    ).get_json()
    assert [e["action"] for e in first["items"]] == ["token.create"]
    assert first["next_cursor"] is None
    everything = client.get("/api/v1/audit", query_string={"limit": 2}, headers=bearer(token))
    body = everything.get_json()
    assert len(body["items"]) == 2
    older = client.get(
        "/api/v1/audit",
        query_string={"limit": 2, "cursor": body["next_cursor"]},
        headers=bearer(token),
    ).get_json()
    assert all(e["id"] < body["items"][-1]["id"] for e in older["items"])
    analyst = make_user(app, "an@example.nl", "analyst", totp=True)
    analyst_token = make_token(app, analyst, "stix:read")
    assert client.get("/api/v1/audit", headers=bearer(analyst_token)).status_code == 403


def test_session_authenticates_the_api(app: Flask, client: FlaskClient) -> None:
    """A browser session reaches the API with its user's scopes."""
    user = make_user(app, "sme@example.nl", ("member", make_org(app, "44444444", "D"), None))
    login(client, user)
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["token_id"] is None
    assert "stix:read" in me.get_json()["scopes"]
