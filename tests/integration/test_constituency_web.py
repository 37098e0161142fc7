"""Constituency pages through the test client: the onboarding wizard end to end, profile
isolation between organisations, and coordinator member management."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from nca_share.constituency.maturity import load_basisscan
from tests.fixtures.web import csrf_token, login, make_org, make_user, post_form


def test_onboarding_wizard(app: Flask, client: FlaskClient) -> None:
    """A new user registers a company step by step and lands on its profile."""
    user = make_user(app, "eigenaar@bakkerij.nl")
    login(client, user)
    response = post_form(
        client, "/onboarding",
        {"kvk": "12345678", "name": "Bakkerij Test", "province": "utrecht", "municipality": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    sector_url = response.headers["Location"]
    assert sector_url.endswith("/onboarding/sector")
    base = sector_url.rsplit("/", 1)[0]
    response = post_form(
        client, sector_url,
        {"sbi_codes": "1071", "nis2_entity_types": ["food_undertaking"], "action": "next"},
    )  # fmt: skip
    assert response.headers["Location"].endswith("/size")
    response = post_form(
        client, base + "/size", {"employees": "60", "turnover_eur": "12000000",
                                 "balance_eur": "11000000"}
    )  # fmt: skip
    assert response.headers["Location"].endswith("/nis2")
    page = client.get(base + "/nis2").get_data(as_text=True)
    assert "nis2-reasons" in page
    post_form(client, base + "/nis2", {})
    answers = {f"q-{s.id}": "partly" for s in load_basisscan().statements}
    response = post_form(client, base + "/basisscan", {**answers, "action": "score"})
    assert response.headers["Location"].endswith("/maturity")
    page = client.get(base + "/maturity").get_data(as_text=True)
    assert "M2" in page
    response = post_form(client, base + "/assets", {"kind": "domain", "value": "bakkerij.nl"})
    page = client.get(base + "/assets").get_data(as_text=True)
    assert "nca-share-verify=" in page
    post_form(client, base + "/contacts", {"name": "Eva", "email": "eva@bakkerij.nl",
                                          "role": "primary", "language": "nl"})  # fmt: skip
    response = post_form(client, base + "/contacts", {"action": "next"})
    assert response.headers["Location"].endswith("/preferences")
    response = post_form(
        client, base + "/preferences",
        {"channels": ["email"], "mode": "weekly", "min_urgency": "normal", "language": "nl"},
    )  # fmt: skip
    profile_url = response.headers["Location"]
    page = client.get(profile_url).get_data(as_text=True)
    assert "Bakkerij Test" in page
    assert "eva@bakkerij.nl" in page


def test_other_organisations_are_404(app: Flask, client: FlaskClient) -> None:
    """A member cannot open another organisation's profile or wizard steps."""
    alfa = make_org(app, "12345678", "Alfa")
    bravo = make_org(app, "23456789", "Bravo")
    user = make_user(app, "eva@alfa.nl", ("member", alfa, None))
    login(client, user)
    assert client.get(f"/organisations/{alfa}").status_code == 200
    assert client.get(f"/organisations/{bravo}").status_code == 404
    assert client.get(f"/organisations/{bravo}/onboarding/size").status_code == 404
    token = csrf_token(client, f"/organisations/{alfa}")
    response = client.post(
        f"/organisations/{bravo}/onboarding/size",
        data={"employees": "5", "csrf_token": token},
    )
    assert response.status_code == 404


def test_analyst_review_queue_and_overrides(app: Flask, client: FlaskClient) -> None:
    """An analyst resolves an overlap, decides claims and overrides designation and level."""
    from datetime import UTC, datetime, timedelta

    import pyotp

    from nca_share.clock import FrozenClock
    from nca_share.config import Settings
    from nca_share.constituency.assets import AssetService
    from nca_share.db import Database

    clock = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = clock
    alfa = make_org(app, "12345678", "Alfa")
    bravo = make_org(app, "23456789", "Bravo")
    database: Database = app.extensions["nca_share.db"]
    settings: Settings = app.extensions["nca_share.settings"]
    with database.session() as session:
        assets = AssetService(session, settings)
        first = assets.claim(alfa, "cidr", "192.0.2.0/24").id
        second = assets.claim(bravo, "cidr", "192.0.2.0/25").id
    analyst = make_user(app, "analist@nca.nl", "analyst", totp=True)
    assert analyst.totp_secret
    clock.advance(timedelta(seconds=30))
    login(client, analyst, totp_code=pyotp.TOTP(analyst.totp_secret).at(clock.now()))
    page = client.get("/review/assets").get_data(as_text=True)
    assert "overlapping networks" in page
    assert "192.0.2.0/25" in page
    token = csrf_token(client, "/review/assets")
    client.post(f"/assets/{first}/approve", data={"csrf_token": token, "reason": ""})
    client.post(f"/assets/{second}/reject", data={"csrf_token": token, "reason": "not theirs"})
    overlap_page = client.get("/review/assets").get_data(as_text=True)
    assert "192.0.2.0/25" in overlap_page  # still listed in the overlap until resolved
    with database.session() as session:
        overlap_id = AssetService(session, settings).review_queue()[0][0].id
    client.post(
        f"/review/overlaps/{overlap_id}/resolve",
        data={"csrf_token": token, "reason": "Alfa owns the /24"},
    )
    page = client.get("/review/assets").get_data(as_text=True)
    assert "192.0.2.0/25" not in page
    client.post(
        f"/organisations/{alfa}/designation",
        data={"csrf_token": token, "designation": "essential", "reason": "sole provider"},
    )
    client.post(
        f"/organisations/{alfa}/maturity-level",
        data={"csrf_token": token, "level": "M3", "reason": "audit report"},
    )
    profile = client.get(f"/organisations/{alfa}").get_data(as_text=True)
    assert "sole provider" in profile
    assert "audit report" in profile
    assert "M3" in profile


def test_member_list_opt_in(app: Flask, client: FlaskClient) -> None:
    """Members see other members' names only after the coordinator opts in."""
    from datetime import UTC, datetime, timedelta

    import pyotp

    from nca_share.clock import FrozenClock
    from nca_share.constituency.partnerships import PartnershipService
    from nca_share.db import Database

    clock = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = clock
    alfa = make_org(app, "12345678", "Alfa Zorg")
    bravo = make_org(app, "23456789", "Bravo Kliniek")
    database: Database = app.extensions["nca_share.db"]
    with database.session() as session:
        service = PartnershipService(session, app.extensions["nca_share.settings"])
        pid = service.create(name="Zorg Oost", kind="sector").id
        service.add_member(pid, alfa, by="test")
        service.add_member(pid, bravo, by="test")
    coordinator = make_user(app, "coord@zorg.nl", ("coordinator", None, pid), totp=True)
    member = make_user(app, "eva@alfa.nl", ("member", alfa, None))
    member_client = app.test_client()
    login(member_client, member)
    assert "Bravo Kliniek" not in member_client.get(f"/partnerships/{pid}").get_data(as_text=True)
    assert coordinator.totp_secret
    clock.advance(timedelta(seconds=30))
    login(client, coordinator, totp_code=pyotp.TOTP(coordinator.totp_secret).at(clock.now()))
    token = csrf_token(client, f"/partnerships/{pid}")
    client.post(
        f"/partnerships/{pid}/settings",
        data={"csrf_token": token, "member_list_visible": "y", "forwarding_policy": "automatic"},
    )
    page = member_client.get(f"/partnerships/{pid}").get_data(as_text=True)
    assert "Bravo Kliniek" in page
    assert "automatisch" in page

    # A member of another organisation asks to join; the coordinator approves.
    charlie = make_org(app, "34567890", "Charlie Apotheek")
    carl = make_user(app, "carl@charlie.nl", ("member", charlie, None))
    carl_client = app.test_client()
    login(carl_client, carl)
    assert carl_client.get(f"/partnerships/{pid}").status_code == 404
    listing = carl_client.get("/partnerships").get_data(as_text=True)
    assert "Zorg Oost" in listing
    assert "Alfa Zorg" not in listing
    carl_token = csrf_token(carl_client, "/partnerships")
    carl_client.post(
        f"/partnerships/{pid}/request",
        data={"csrf_token": carl_token, "organisation_id": str(charlie), "message": "graag"},
    )
    coordinator_page = client.get(f"/partnerships/{pid}").get_data(as_text=True)
    assert "Charlie Apotheek" in coordinator_page
    with database.session() as session:
        rid = (
            PartnershipService(session, app.extensions["nca_share.settings"])
            .join_requests(pid)[0]
            .id
        )
    client.post(f"/partnerships/{pid}/requests/{rid}/approve", data={"csrf_token": token})
    assert carl_client.get(f"/partnerships/{pid}").status_code == 200


def test_dns_check_from_the_profile_no_open_redirect(
    app: Flask, client: FlaskClient, dns_server: object
) -> None:
    """The DNS check button verifies a domain; a foreign ``back`` URL is not followed."""
    from nca_share.constituency.assets import AssetService
    from nca_share.db import Database
    from tests.fixtures.dns import LoopbackDnsServer

    assert isinstance(dns_server, LoopbackDnsServer)
    settings = app.extensions["nca_share.settings"].model_copy(
        update={"dns_resolver": dns_server.host, "dns_resolver_port": dns_server.port}
    )
    app.extensions["nca_share.settings"] = settings
    alfa = make_org(app, "12345678", "Alfa")
    database: Database = app.extensions["nca_share.db"]
    with database.session() as session:
        assets = AssetService(session, settings)
        asset = assets.claim(alfa, "domain", "alfa.example")
        dns_server.txt["alfa.example"] = [assets.txt_record(asset)]
        asset_id = asset.id
    login(client, make_user(app, "eva@alfa.nl", ("member", alfa, None)))
    token = csrf_token(client, f"/organisations/{alfa}")
    response = client.post(
        f"/organisations/{alfa}/assets/{asset_id}/verify",
        data={"csrf_token": token, "back": "https://evil.example/"},
    )
    assert response.headers["Location"] == f"/organisations/{alfa}"
    page = client.get(f"/organisations/{alfa}").get_data(as_text=True)
    assert "Geverifieerd: het TXT-record is gevonden." in page


def test_delegation_needs_explicit_consent(app: Flask, client: FlaskClient) -> None:
    """A supplier delegation is recorded only with the consent box ticked, with who and when."""
    alfa = make_org(app, "12345678", "Alfa")
    login(client, make_user(app, "eva@alfa.nl", ("member", alfa, None)))
    fields = {
        "supplier_name": "IT Partner B.V.",
        "contact_name": "Piet",
        "contact_email": "piet@itpartner.nl",
        "scope": ["notices"],
    }
    token = csrf_token(client, f"/organisations/{alfa}")
    client.post(f"/organisations/{alfa}/delegations", data={**fields, "csrf_token": token})
    page = client.get(f"/organisations/{alfa}").get_data(as_text=True)
    assert "Geen leverancier ontvangt uw waarschuwingen." in page
    client.post(
        f"/organisations/{alfa}/delegations",
        data={**fields, "consent": "y", "csrf_token": token},
    )
    page = client.get(f"/organisations/{alfa}").get_data(as_text=True)
    assert "piet@itpartner.nl" in page
    assert "Toestemming gegeven door eva@alfa.nl" in page
