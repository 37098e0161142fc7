"""Matches and notices obey TLP: an organisation's matches show its members only those
about STIX objects they may see (REST, the matching page and the company profile), and
notices only through their own grant."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from nca_share.access import AccessPolicy, principal_for_user, visible
from nca_share.auth.models import User
from nca_share.matching.models import Match, Notice
from tests.fixtures.web import make_token
from tests.security.conftest import World

TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
GRANTS = ["none", "org_a", "partnership", "user_a", "org_b"]


def _seed_matches(world: World) -> dict[str, tuple[int, str]]:
    """One match for org A per TLP x grant; returns marker -> (tlp, stix_id)."""
    database = world.app.extensions["nca_share.db"]
    seeded: dict[str, tuple[int, str]] = {}
    with database.session() as session:
        policy = AccessPolicy(session)
        for tlp in range(len(TLPS)):
            for grant in GRANTS:
                marker = f"zzm{tlp}{grant.replace('_', '')}"
                stix_id = f"indicator--{uuid.uuid4()}"
                session.add(
                    Match(
                        organisation_id=world.org_a,
                        stix_id=stix_id,
                        stix_type="indicator",
                        dimension="network",
                        match_key=f"ipv4:{marker}",
                        matched_value=f"{marker}.example.nl",
                        evidence={},
                        confidence=50,
                        tlp=tlp,
                        source=f"source-{marker}",
                        explanation_nl=f"uitleg {marker}",
                        explanation_en=f"explanation {marker}",
                    )
                )
                target = {
                    "org_a": {"organisation_id": world.org_a},
                    "org_b": {"organisation_id": world.org_b},
                    "partnership": {"partnership_id": world.partnership},
                    "user_a": {"user_id": world.users["member_a"].id},
                }.get(grant)
                if target:
                    policy.grant(stix_id, **target)  # type: ignore[arg-type]
                seeded[marker] = (tlp, stix_id)
    return seeded


@pytest.mark.parametrize("who", ["member_a", "analyst"])
def test_organisation_matches_follow_tlp(app: Flask, world: World, who: str) -> None:
    """The REST list, the matching page and the profile show exactly the visible matches."""
    seeded = _seed_matches(world)
    database = app.extensions["nca_share.db"]
    with database.session() as session:
        user = session.get(User, world.users[who].id)
        assert user is not None
        principal = principal_for_user(session, user)
        policy = AccessPolicy(session)
        expected = {
            marker
            for marker, (tlp, sid) in seeded.items()
            if visible(principal, tlp, policy.grants(sid))
        }
    assert expected
    assert expected != set(seeded)
    token = make_token(app, world.users[who], "matches:read")
    body = app.test_client().get(
        f"/api/v1/matching/organisations/{world.org_a}/matches",
        query_string={"limit": 100},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert body.status_code == 200, body.get_data(as_text=True)
    text = body.get_data(as_text=True)
    assert {m for m in seeded if m + "." in text} == expected
    for path in (f"/matching/organisations/{world.org_a}", f"/organisations/{world.org_a}"):
        page = world.client(who).get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        shown = {m for m in seeded if m in html}
        assert shown <= expected, f"{path} leaks {sorted(shown - expected)} to {who}"
        assert shown, path  # the page does list matches (the profile only the latest few)
        if path.startswith("/matching/"):
            assert shown == expected


def test_notices_only_through_their_grant(app: Flask, world: World) -> None:
    """A notice granted to organisation A is listed and readable for A's member only; B's
    member and a notice without grant answer as missing."""
    database = app.extensions["nca_share.db"]
    with database.session() as session:
        notices = []
        for marker in ("zznoticegranted", "zznoticeungranted"):
            notice = Notice(
                organisation_id=world.org_a,
                stix_id=f"indicator--{uuid.uuid4()}",
                dimension="network",
                observable=f"ipv4:{marker}",
                category="exposure",
                tlp=3,
                payload={"marker": marker},
                explanation_nl=marker,
                explanation_en=marker,
            )
            session.add(notice)
            session.flush()
            notices.append(notice.id)
        AccessPolicy(session).grant(f"notice:{notices[0]}", organisation_id=world.org_a)
    for who, readable in (("member_a", {notices[0]}), ("member_b", set())):
        token = make_token(app, world.users[who], "matches:read")
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        listing = client.get("/api/v1/matching/notices", headers=headers).get_data(as_text=True)
        assert ("zznoticegranted" in listing) == bool(readable), who
        assert "zznoticeungranted" not in listing, who
        for notice_id in notices:
            status = client.get(f"/api/v1/matching/notices/{notice_id}", headers=headers)
            assert status.status_code == (200 if notice_id in readable else 404), (who, notice_id)
