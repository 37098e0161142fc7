"""Matching through the web app: notices on the company page and in the REST API (through
the access policy), an organisation's matches, the analysts' recipient preview."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nca_share.constituency.assets import AssetService
from nca_share.constituency.models import Organisation
from nca_share.db import Database
from nca_share.matching.index import ConstituencyIndex
from nca_share.matching.store import MatchingService
from nca_share.stix.ingest import IngestService
from tests.fixtures.web import login, make_org, make_token, make_user


def _indicator(ip: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-20T08:00:00.000Z",
        "modified": "2026-11-20T08:00:00.000Z",
        "name": f"Feodo Tracker: {ip}",
        "description": "Pikabot (port 443)",
        "labels": ["botnet_cc"],
        "pattern": f"[ipv4-addr:value = '{ip}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-20T08:00:00.000Z",
    }


def _setup(app: Flask) -> tuple[int, int, str]:
    database: Database = app.extensions["nca_share.db"]
    settings = app.extensions["nca_share.settings"]
    acme = make_org(app, "12345678", "Acme BV")
    other = make_org(app, "87654321", "Other BV")
    with database.session() as session:
        org = session.get(Organisation, acme)
        assert org is not None
        org.classification_reasons = {"stix_sectors": ["energy"]}
        service = AssetService(session, settings)
        service.approve(service.claim(acme, "cidr", "192.0.2.0/24").id, by="analyst")
        service.approve(service.claim(other, "cidr", "198.51.100.0/24").id, by="analyst")
    ind = _indicator("192.0.2.10")
    report = IngestService(database).ingest_objects([ind], source="feed")
    with database.session() as session:
        MatchingService(session, ConstituencyIndex.load(session), settings).run(report.changed_ids)
    return acme, other, ind["id"]


def test_company_page_shows_notice_with_explanation(app: Flask, client: FlaskClient) -> None:
    """A member sees the notice and its Dutch explanation on the company page; a member of
    another organisation gets 404 for the match page and no notice through the API."""
    acme, other, _sid = _setup(app)
    member = make_user(app, "m@acme.example", ("member", acme, None))
    login(client, member)
    page = client.get(f"/organisations/{acme}").get_data(as_text=True)
    assert 'data-testid="matching-notices"' in page
    assert "Uw IP-reeks 192.0.2.0/24 bevat 192.0.2.10" in page
    assert "command-and-control-server van Pikabot" in page
    detail = client.get(f"/matching/organisations/{acme}")
    assert detail.status_code == 200
    assert client.get(f"/matching/organisations/{other}").status_code == 404
    outsider = make_user(app, "o@other.example", ("member", other, None))
    token = make_token(app, outsider, "matches:read")
    listed = client.get("/api/v1/matching/notices", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert listed.get_json()["items"] == []


def test_api_notices_matches_and_preview(app: Flask, client: FlaskClient) -> None:
    """Notices and matches through the REST API follow the access policy; the preview
    counts recipients per dimension and sector and is refused to members."""
    acme, _other, sid = _setup(app)
    member = make_user(app, "m@acme.example", ("member", acme, None))
    analyst = make_user(app, "a@nca.example", "analyst", totp=True)
    mtoken = make_token(app, member, "matches:read")
    atoken = make_token(app, analyst, "matches:read")
    h_member = {"Authorization": f"Bearer {mtoken}"}
    h_analyst = {"Authorization": f"Bearer {atoken}"}
    notices = client.get("/api/v1/matching/notices", headers=h_member).get_json()["items"]
    assert [n["observable"] for n in notices] == ["ipv4:192.0.2.10"]
    assert notices[0]["tlp"] == 3
    one = client.get(f"/api/v1/matching/notices/{notices[0]['id']}", headers=h_member)
    assert one.status_code == 200
    url = f"/api/v1/matching/organisations/{acme}/matches"
    # the raw match follows the TLP of the indicator (AMBER, not shared with Acme) ...
    assert client.get(url, headers=h_member).get_json()["items"] == []
    # ... staff see it; the notice above is the authority's own AMBER+STRICT product
    staff_view = client.get(url, headers=h_analyst).get_json()["items"]
    assert [m["stix_id"] for m in staff_view] == [sid]
    assert staff_view[0]["explanation_en"].startswith("Your IP range 192.0.2.0/24 contains")
    body = {"stix_ids": [sid], "criteria": {"sectors": ["energy"]}}
    refused = client.post("/api/v1/matching/preview", json=body, headers=h_member)
    assert refused.status_code == 403
    resp = client.post("/api/v1/matching/preview", json=body, headers=h_analyst)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    preview = resp.get_json()
    assert preview["recipient_count"] == 1
    assert preview["per_dimension"] == {"network": 1, "sector": 1}
    assert preview["per_sector"] == {"energy": 1}
    assert analyst.totp_secret is not None
    later = app.extensions["nca_share.clock"].now() + timedelta(seconds=30)  # no replay
    code = pyotp.TOTP(analyst.totp_secret).at(later)
    login(client, analyst, totp_code=code)
    page = client.get("/matching/preview", query_string={"ids": sid, "sectors": "energy"})
    assert page.status_code == 200
    assert "Acme BV" in page.get_data(as_text=True)
    with app.extensions["nca_share.db"].session() as session:
        assert session.scalar(select(Organisation.name).where(Organisation.id == acme)) == "Acme BV"
