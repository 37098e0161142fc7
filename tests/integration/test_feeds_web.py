"""Feed health page and REST endpoints: health shown, secrets never shown, access by role."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from nca_share.db import Database
from nca_share.feeds.service import Collector, FeedInput, FeedService
from tests.fixtures.web import login, make_token, make_user

SECRET = "s3cr3t-token-value"


def _feeds(app: Flask, tmp_path: Path) -> None:
    database: Database = app.extensions["nca_share.db"]
    settings = app.extensions["nca_share.settings"]
    listing = tmp_path / "l.csv"
    listing.write_text("value\n185.220.101.3\n10.0.0.8\n<script>x</script>.example\n")
    with database.session() as session:
        service = FeedService(session, settings)
        service.add(FeedInput(name="list <b>", type="csv", url=str(listing)))
        service.add(
            FeedInput(
                name="taxii",
                type="taxii21",
                url="http://127.0.0.1:9/api/",
                auth_type="bearer",
                secrets={"token": SECRET},
            )
        )
    Collector(database, settings).run("list <b>")


def test_health_page_for_analysts_only(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """Analysts see the table, the SVG chart and suppressions, escaped; members get 404."""
    _feeds(app, tmp_path)
    analyst = make_user(app, "a@example.nl", "analyst", totp=True)
    assert analyst.totp_secret is not None
    later = app.extensions["nca_share.clock"].now() + timedelta(seconds=30)  # no replay
    login(client, analyst, totp_code=pyotp.TOTP(analyst.totp_secret).at(later))
    html = client.get("/feeds/").get_data(as_text=True)
    assert "list &lt;b&gt;" in html
    assert "<svg" in html
    assert "rfc1918" in html
    assert SECRET not in html
    assert "<script>x" not in html
    client.get("/logout")
    member = make_user(app, "m@example.nl")
    login(client, member)
    assert client.get("/feeds/").status_code == 404


def test_api_lists_feeds_without_secrets(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """GET /api/v1/feeds shows health and 'set' for secrets; scope feeds:read is needed."""
    _feeds(app, tmp_path)
    user = make_user(app, "api@example.nl", "analyst")
    token = make_token(app, user, "feeds:read")
    response = client.get("/api/v1/feeds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    by_name = {f["name"]: f for f in body["items"]}
    assert by_name["taxii"]["secrets"] == "set"
    assert SECRET not in response.get_data(as_text=True)
    assert by_name["list <b>"]["health"]["last_added"] == 1
    one = client.get("/api/v1/feeds/taxii", headers={"Authorization": f"Bearer {token}"})
    assert one.status_code == 200
    run = client.get("/api/v1/feeds/list <b>", headers={"Authorization": f"Bearer {token}"})
    details = run.get_json()["runs"][0]["problem_details"]
    assert [d["location"].rsplit(" ", 2)[-2:] for d in details] == [["line", "4"]]
    suppressed = client.get(
        "/api/v1/feeds/list <b>/suppressions", headers={"Authorization": f"Bearer {token}"}
    ).get_json()["items"]
    assert [(s["value"], s["list_name"]) for s in suppressed] == [("10.0.0.8", "rfc1918")]
    other = make_token(app, user, "stix:read")
    denied = client.get("/api/v1/feeds", headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 403
