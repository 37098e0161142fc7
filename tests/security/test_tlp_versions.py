"""TLP per version and per search path: an object whose marking changed between versions
shows each principal only the versions it may see, on the REST API and the explorer page;
text search and observable-bearing fields never surface an invisible object."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.fixtures.web import TLP_MARKINGS, ingest, make_token, sdo
from tests.security.conftest import World


def _versions(first: str, second: str) -> tuple[dict[str, Any], dict[str, Any]]:
    v1 = sdo("malware", "zzsecretname-v1", first, description="zzsecretdesc-v1")
    v2 = {
        **v1,
        "modified": "2026-02-02T03:04:05.000Z",
        "name": "zzname-v2",
        "description": "zzdesc-v2",
        "object_marking_refs": [TLP_MARKINGS[second]],
    }
    return v1, v2


@pytest.mark.parametrize(("first", "second"), [("RED", "GREEN"), ("AMBER", "CLEAR")])
def test_older_restricted_versions_stay_hidden(
    app: Flask, world: World, first: str, second: str
) -> None:
    """A member sees the now-open current version but never the restricted older one (API
    versions list, detail page, search), while a version it may see is listed."""
    v1, v2 = _versions(first, second)
    ingest(app, [v1])
    ingest(app, [v2])
    token = make_token(app, world.users["member_a"], "stix:read")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    versions = api.get(f"/api/v1/stix/objects/{v1['id']}/versions", headers=headers)
    assert versions.status_code == 200
    text = versions.get_data(as_text=True)
    assert "zzsecret" not in text
    assert "zzname-v2" in text
    page = world.client("member_a").get(f"/objects/{v1['id']}").get_data(as_text=True)
    assert "zzsecret" not in page
    assert "zzname-v2" in page
    for query in ("zzsecretname", "zzsecretdesc"):
        listing = world.client("member_a").get("/objects", query_string={"q": query})
        assert v1["id"] not in listing.get_data(as_text=True), query
        body = api.get("/api/v1/stix/objects", query_string={"text": query}, headers=headers)
        assert v1["id"] not in body.get_data(as_text=True), query
    found = api.get("/api/v1/stix/objects", query_string={"text": "zzname-v2"}, headers=headers)
    assert v1["id"] in found.get_data(as_text=True)  # the search itself works
    analyst = world.client("analyst").get(f"/objects/{v1['id']}").get_data(as_text=True)
    assert "zzname-v2" in analyst


def test_restricted_current_version_hides_the_open_history(app: Flask, world: World) -> None:
    """When the newest version is RED, the object and all its versions are 404 for everyone
    not named, even though an older version was CLEAR (no fallback to the older version)."""
    v1, v2 = _versions("CLEAR", "RED")
    ingest(app, [v1])
    ingest(app, [v2])
    for who in ("member_a", "analyst", "operator"):
        token = make_token(app, world.users[who], "stix:read")
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        assert client.get(f"/api/v1/stix/objects/{v1['id']}", headers=headers).status_code == 404
        assert (
            client.get(f"/api/v1/stix/objects/{v1['id']}/versions", headers=headers).status_code
            == 404
        )
        assert world.client(who).get(f"/objects/{v1['id']}").status_code == 404
        listing = world.client(who).get("/objects", query_string={"q": "zzsecretname"})
        assert v1["id"] not in listing.get_data(as_text=True)
