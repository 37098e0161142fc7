"""Matching on real public data (``/work/shared/data``): Feodo Tracker C2 addresses against
organisations owning those networks, the Unit 42 playbooks' targeted sectors against
organisations in those sectors, CISA CSAF product trees, NVD CPE configurations and the KEV
catalogue against organisations declaring those products. Expected results come from
independent oracles over the raw files (``ipaddress``, plain JSON walks), never from the
matcher itself."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from nca_share.config import Settings
from nca_share.constituency.assets import AssetService
from nca_share.constituency.classification import refresh
from nca_share.constituency.models import Organisation
from nca_share.db import Database
from nca_share.feeds.parsers.csaf import map_csaf_document
from nca_share.feeds.parsers.csv_list import CsvMapping, parse_csv_list
from nca_share.matching.index import ConstituencyIndex
from nca_share.matching.knowledge import kev_rows, nvd_rows, store_rows
from nca_share.matching.models import Match, Notice
from nca_share.matching.store import MatchingService
from nca_share.sectors.taxonomy import load_taxonomy
from nca_share.stix.ingest import IngestService
from nca_share.stix.tlp import TLP

DATA = Path("/work/shared/data")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not present")


def _org(session: Any, settings: Settings, name: str, **facts: Any) -> Organisation:
    org = Organisation(kvk=str(20000000 + abs(hash(name)) % 9999999), name=name, **facts)
    refresh(org)
    session.add(org)
    session.flush()
    return org


def _asset(
    session: Any, settings: Settings, org_id: int, kind: str, value: str = "", **kw: Any
) -> int:
    service = AssetService(session, settings)
    asset = service.claim(org_id, kind, value, **kw)
    service.approve(asset.id, by="test")
    return asset.id


def _match(database: Database, settings: Settings, ids: list[str]) -> None:
    with database.session() as session:
        MatchingService(session, ConstituencyIndex.load(session), settings).run(ids)


def _rows(database: Database, dimension: str) -> set[tuple[str, str, str | None]]:
    with database.session() as session:
        names = dict(session.execute(select(Organisation.id, Organisation.name)).all())
        return {
            (names[m.organisation_id], m.matched_value, m.asset_value)
            for m in session.scalars(select(Match).where(Match.dimension == dimension))
        }


def test_feodo_tracker_ips_against_owned_networks(database: Database, settings: Settings) -> None:
    """Every Feodo C2 address inside an organisation's verified /24 matches that
    organisation (and only those); the explanation names the source and the family."""
    path = next((DATA / "csv-ioc-lists" / "abusech-feodotracker").glob("*.csv"))
    mapping = CsvMapping(value="dst_ip", first_seen="first_seen_utc", comment="malware",
                         port="dst_port", labels=("botnet_cc",))  # fmt: skip
    parsed = parse_csv_list(
        path.read_bytes(),
        mapping,
        feed_key="feodo",
        default_time=datetime(2024, 4, 4, tzinfo=UTC),
        source_name="Feodo Tracker",
    )
    ips = sorted({str(ipaddress.ip_address(o["pattern"].split("'")[1])) for o in parsed.objects})
    assert len(ips) >= 10
    owned = {f"{ip.rsplit('.', 1)[0]}.0/24" for ip in ips[::3]}  # a third of the /24s
    with database.session() as session:
        org = _org(session, settings, "Hoster BV")
        for net in owned:
            _asset(session, settings, org.id, "cidr", net)
        _asset(session, settings, org.id, "cidr", "203.0.113.0/24")
    report = IngestService(database).ingest_objects(
        parsed.objects, source="feed:feodo", default_tlp=TLP.GREEN
    )
    _match(database, settings, report.changed_ids)
    expected = {
        ("Hoster BV", ip, net)
        for ip in ips
        for net in owned
        if ipaddress.ip_address(ip) in ipaddress.ip_network(net)
    }
    assert _rows(database, "network") == expected
    with database.session() as session:
        texts = [n.explanation_nl for n in session.scalars(select(Notice))]
    assert len(texts) == len(expected)
    assert all("command-and-control-server van Pikabot" in t for t in texts)


def _unit42_targeted_sectors() -> set[str]:
    """Sectors of identities that are the target of a ``targets`` relationship (oracle)."""
    sectors: set[str] = set()
    for path in (DATA / "unit42-playbooks-stix20").glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        objs = {o["id"]: o for o in doc.get("objects", []) if isinstance(o, dict) and "id" in o}
        for o in objs.values():
            if o.get("type") == "relationship" and o.get("relationship_type") == "targets":
                target = objs.get(o.get("target_ref", ""))
                if target and target.get("type") == "identity":
                    sectors |= {s.lower() for s in target.get("sectors", [])}
    return sectors


def test_unit42_targeted_sectors(database: Database, settings: Settings) -> None:
    """Organisations in a sector the Unit 42 playbooks target get sector matches; an
    organisation in a sector nobody targets gets none."""
    targeted = _unit42_targeted_sectors()
    assert targeted
    candidates = sorted(targeted)[:4]
    untargeted = next(
        s for s in ("aerospace", "hospitality-leisure", "entertainment", "agriculture", "dams")
        if s not in targeted
    )  # fmt: skip
    with database.session() as session:
        for sector in candidates:
            org = _org(session, settings, f"Org {sector}")
            org.classification_reasons = {**org.classification_reasons, "stix_sectors": [sector]}
        quiet = _org(session, settings, "Quiet BV")
        quiet.classification_reasons = {
            **quiet.classification_reasons,
            "stix_sectors": [untargeted],
        }
    ids: list[str] = []
    for path in sorted((DATA / "unit42-playbooks-stix20").glob("*.json")):
        report = IngestService(database).ingest_path(path, source=f"unit42:{path.stem}")
        ids.extend(report.changed_ids)
    _match(database, settings, ids)
    got = _rows(database, "sector")
    for sector in candidates:
        assert any(org == f"Org {sector}" for org, _v, _a in got), sector
    assert not any(org == "Quiet BV" for org, _v, _a in got)
    assert {value for _o, value, _a in got} <= targeted | {
        n for s in targeted for n in load_taxonomy().narrower.get(s, ())
    }


def test_cisa_csaf_product_trees(database: Database, settings: Settings) -> None:
    """For CISA advisories, an organisation declaring an affected product (vendor and
    product name from the product tree) matches that advisory's vulnerabilities; products
    that appear only as fixed or not affected do not match."""
    files = sorted((DATA / "cisa-csaf").rglob("*.json"))[:10]
    objects: list[dict[str, Any]] = []
    for path in files:
        objects.extend(map_csaf_document(json.loads(path.read_text(encoding="utf-8"))).objects)
    by_id = {o["id"]: o for o in objects}
    affects = [o for o in objects if o.get("relationship_type") == "affects"]
    assert affects
    rel = affects[0]
    software = by_id[rel["target_ref"]]
    vendor = software.get("vendor") or ""
    product = software.get("x_product_name") or software["name"]

    # oracle: every vulnerability with an "affects" edge to software of that vendor/product
    def names(sw: dict[str, Any]) -> tuple[str, str]:
        return sw.get("vendor") or "", sw.get("x_product_name") or sw["name"]

    expected = {
        r["source_ref"] for r in affects if names(by_id[r["target_ref"]]) == (vendor, product)
    }
    with database.session() as session:
        org = _org(session, settings, "Fabriek BV")
        _asset(session, settings, org.id, "product", vendor=vendor, product=product)
    report = IngestService(database).ingest_objects(objects, source="feed:cisa-csaf")
    _match(database, settings, report.changed_ids)
    with database.session() as session:
        got = set(session.scalars(select(Match.stix_id).where(Match.dimension == "product")))
    assert got == expected


def test_nvd_cpe_configurations_and_kev(database: Database, settings: Settings) -> None:
    """NVD version ranges decide: Linux 4.9 is affected by CVE-2017-7542 (≤ 4.12.3), Linux
    5.0 is not; Exchange Server 2016 matches CVE-2021-26855 through NVD and KEV, and the
    KEV entry makes the notice urgent."""
    with database.session() as session:
        for name in ("CVE-2017-7542.json", "CVE-2021-26855.json"):
            doc = json.loads((DATA / "nvd-api-2.0" / name).read_text(encoding="utf-8"))
            store_rows(session, nvd_rows(doc))
        kev = json.loads(
            (DATA / "cisa-kev" / "known_exploited_vulnerabilities.json").read_text("utf-8")
        )
        rows = kev_rows(kev)
        assert len(rows) > 1000
        store_rows(session, rows)
        old = _org(session, settings, "Oud Linux BV")
        _asset(
            session,
            settings,
            old.id,
            "product",
            cpe="cpe:2.3:o:linux:linux_kernel:4.9:*:*:*:*:*:*:*",
        )
        new = _org(session, settings, "Nieuw Linux BV")
        _asset(
            session,
            settings,
            new.id,
            "product",
            cpe="cpe:2.3:o:linux:linux_kernel:5.0:*:*:*:*:*:*:*",
        )
        mail = _org(session, settings, "Mail BV")
        _asset(session, settings, mail.id, "product", vendor="Microsoft", product="Exchange Server",
               version_range="2016")  # fmt: skip
    vulns = [
        {"type": "vulnerability", "spec_version": "2.1",
         "id": f"vulnerability--{n}", "created": "2021-03-02T00:00:00.000Z",
         "modified": "2021-03-02T00:00:00.000Z", "name": cve}
        for n, cve in (("6b1e1c9a-3f4e-4b5a-9c2d-000000000001", "CVE-2017-7542"),
                       ("6b1e1c9a-3f4e-4b5a-9c2d-000000000002", "CVE-2021-26855"))
    ]  # fmt: skip
    report = IngestService(database).ingest_objects(vulns, source="nvd")
    _match(database, settings, report.changed_ids)
    got = {(org, stix) for org, stix, _a in _rows(database, "product")}
    orgs = {org for org, _ in got}
    assert orgs == {"Oud Linux BV", "Mail BV"}
    with database.session() as session:
        urgent = {n.observable: n.urgent for n in session.scalars(select(Notice))}
    assert urgent == {"cve:CVE-2017-7542": False, "cve:CVE-2021-26855": True}
