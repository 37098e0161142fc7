"""Asset claims, DNS TXT verification against a real loopback DNS server, analyst decisions
and the review queue of overlapping claims."""

from __future__ import annotations

import pytest

from nca_share.config import Settings
from nca_share.constituency.assets import AssetService
from nca_share.constituency.organisations import OrganisationService
from nca_share.db import Database
from nca_share.errors import Conflict, ValidationError
from tests.fixtures.dns import LoopbackDnsServer


def _orgs(database: Database) -> tuple[int, int]:
    with database.session() as session:
        orgs = OrganisationService(session)
        a = orgs.create({"kvk": "12345678", "name": "Alfa B.V."}).id
        b = orgs.create({"kvk": "87654321", "name": "Bravo B.V."}).id
    return a, b


def test_dns_txt_verification(
    database: Database, dns_settings: Settings, dns_server: LoopbackDnsServer
) -> None:
    """A domain is verified once its TXT record carries the token, and not before."""
    org_a, _ = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, dns_settings)
        asset = assets.claim(org_a, "domain", "Alfa.NL")
        record = assets.txt_record(asset)
        assert record.startswith("nca-share-verify=")
        assert len(record) > 30
        result = assets.verify_dns(asset.id)
        assert not result.verified
        assert "does not exist" in result.detail
        dns_server.txt["alfa.nl"] = ["v=spf1 -all"]
        result = assets.verify_dns(asset.id)
        assert not result.verified
        assert result.records == ("v=spf1 -all",)
        assert asset.status == "pending"
        dns_server.txt["alfa.nl"] = ["v=spf1 -all", record]
        result = assets.verify_dns(asset.id)
        assert result.verified
        assert asset.status == "verified"
        assert asset.verification_method == "dns_txt"
        assert asset.verified_at is not None
    assert ("alfa.nl", "TXT") in dns_server.queries


def test_dns_wrong_token_is_refused(
    database: Database, dns_settings: Settings, dns_server: LoopbackDnsServer
) -> None:
    """Another organisation's token on the domain does not verify this claim."""
    org_a, org_b = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, dns_settings)
        mine = assets.claim(org_a, "domain", "shared.nl")
        theirs = assets.claim(org_b, "domain", "shared.nl")
        dns_server.txt["shared.nl"] = [assets.txt_record(theirs)]
        assert not assets.verify_dns(mine.id).verified
        assert assets.verify_dns(theirs.id).verified


def test_dns_nodata_and_unreachable(
    database: Database, dns_settings: Settings, dns_server: LoopbackDnsServer
) -> None:
    """No TXT records and an unreachable resolver give a clear, unverified result."""
    org_a, _ = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, dns_settings)
        asset = assets.claim(org_a, "domain", "empty.nl")
        dns_server.txt["empty.nl"] = []
        assert "no TXT records" in assets.verify_dns(asset.id).detail
        dns_server.stop()
        quiet = dns_settings.model_copy(update={"dns_resolver_port": dns_server.port})
        result = AssetService(session, quiet, dns_timeout_s=0.3).verify_dns(asset.id)
        assert not result.verified
        assert "DNS lookup failed" in result.detail
        assert asset.status == "pending"


def test_only_domains_verify_through_dns(database: Database, settings: Settings) -> None:
    """A CIDR claim has no TXT token; asking for one is a validation error."""
    org_a, _ = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, settings)
        net = assets.claim(org_a, "cidr", "192.0.2.0/24")
        with pytest.raises(ValidationError):
            assets.verify_dns(net.id)


@pytest.mark.parametrize(
    ("kind", "first", "second", "reason"),
    [
        ("cidr", "192.0.2.0/24", "192.0.2.0/24", "same network"),
        ("cidr", "192.0.2.0/24", "192.0.2.128/25", "overlapping"),
        ("cidr", "10.0.0.0/8", "10.20.30.0/24", "overlapping"),
        ("cidr", "2001:db8::/32", "2001:db8:1::/48", "overlapping"),
        ("asn", "AS64500", "64500", "same AS"),
        ("domain", "example.nl", "example.nl", "same domain"),
        ("domain", "example.nl", "mail.example.nl", "lies under"),
        ("domain", "a.b.example.nl", "example.nl", "lies under"),
    ],
)
def test_overlapping_claims_are_flagged(
    database: Database, settings: Settings, kind: str, first: str, second: str, reason: str
) -> None:
    """Claims by two organisations that overlap land in the review queue with a reason."""
    org_a, org_b = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, settings)
        a = assets.claim(org_a, kind, first)
        b = assets.claim(org_b, kind, second)
        queue = assets.review_queue()
        assert len(queue) == 1
        overlap, x, y = queue[0]
        assert {x.id, y.id} == {a.id, b.id}
        assert reason in overlap.reason


@pytest.mark.parametrize(
    ("kind", "first", "second"),
    [
        ("cidr", "192.0.2.0/25", "192.0.2.128/25"),
        ("cidr", "192.0.2.0/24", "2001:db8::/32"),
        ("asn", "64500", "64501"),
        ("domain", "example.nl", "myexample.nl"),
        ("domain", "mail.example.nl", "web.example.nl"),
    ],
)
def test_disjoint_claims_are_not_flagged(
    database: Database, settings: Settings, kind: str, first: str, second: str
) -> None:
    """Neighbouring networks, other AS numbers and sibling or look-alike domains do not clash."""
    org_a, org_b = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, settings)
        assets.claim(org_a, kind, first)
        assets.claim(org_b, kind, second)
        assert assets.review_queue() == []


def test_same_organisation_claims_do_not_overlap(database: Database, settings: Settings) -> None:
    """An organisation's own nested networks are not a conflict; a duplicate claim is."""
    org_a, _ = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, settings)
        assets.claim(org_a, "cidr", "10.0.0.0/8")
        assets.claim(org_a, "cidr", "10.1.0.0/16")
        assert assets.review_queue() == []
        with pytest.raises(Conflict):
            assets.claim(org_a, "cidr", "10.1.0.0/16")


def test_resolve_overlap_and_analyst_decisions(database: Database, settings: Settings) -> None:
    """An analyst approves one claim, rejects the other with a reason and closes the entry."""
    org_a, org_b = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, settings)
        a = assets.claim(org_a, "asn", "AS1136")
        b = assets.claim(org_b, "asn", "1136")
        overlap = assets.review_queue()[0][0]
        assets.approve(a.id, by="analyst@nca.nl")
        with pytest.raises(ValidationError):
            assets.reject(b.id, by="analyst@nca.nl", reason=" ")
        assets.reject(b.id, by="analyst@nca.nl", reason="AS belongs to Alfa")
        assets.resolve_overlap(overlap.id, by="analyst@nca.nl", resolution="Alfa owns AS1136")
        assert assets.review_queue() == []
        assert (a.status, a.verification_method) == ("verified", "analyst")
        assert (b.status, b.status_reason) == ("rejected", "AS belongs to Alfa")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("cidr", "10.0.0.1/8"),
        ("cidr", "300.1.1.0/24"),
        ("asn", "AS0"),
        ("asn", "ASX"),
        ("domain", "localhost"),
        ("domain", "-bad-.nl"),
        ("domain", "10.0.0.1"),
        ("printer", "x"),
    ],
)
def test_bad_claims_are_refused(
    database: Database, settings: Settings, kind: str, value: str
) -> None:
    """Malformed networks, AS numbers and domains are refused with a validation error."""
    org_a, _ = _orgs(database)
    with database.session() as session, pytest.raises(ValidationError):
        AssetService(session, settings).claim(org_a, kind, value)


def test_product_claims(database: Database, settings: Settings) -> None:
    """Products take a CPE 2.3 name, a PURL or vendor + product; the CPE fills vendor/product."""
    org_a, _ = _orgs(database)
    with database.session() as session:
        assets = AssetService(session, settings)
        cpe = assets.claim(org_a, "product", cpe="cpe:2.3:a:fortinet:fortios:7.2.0:*:*:*:*:*:*:*")
        assert (cpe.vendor, cpe.product) == ("fortinet", "fortios")
        purl = assets.claim(org_a, "product", purl="pkg:pypi/Django@4.2")
        assert purl.purl == "pkg:pypi/django@4.2"
        named = assets.claim(
            org_a, "product", vendor="Citrix", product="NetScaler ADC", version_range="<14.1"
        )
        assert named.value == "citrix:netscaler adc <14.1"
        with pytest.raises(ValidationError):
            assets.claim(org_a, "product", vendor="Citrix")
        with pytest.raises(ValidationError):
            assets.claim(org_a, "product", cpe="cpe:/a:fortinet:fortios")
