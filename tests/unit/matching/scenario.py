"""Loads and runs the matching scenarios of ``tests/data/scenarios/`` (JSON: a constituency,
product knowledge, STIX input, optional explicit criteria → the expected matches and notices).

Scenario keys: ``now`` (the matcher's frozen clock), ``partnerships`` (slug, name),
``organisations`` (name, kvk, sbi, entity_types, employees, province, partnerships, assets:
kind/value/cpe/purl/vendor/product/version_range/status), ``knowledge`` (cve, vendor,
product or cpe, versions, kev), ``objects`` (STIX, ingested with ``default_tlp``),
``criteria``, ``expected`` ([org, object id, dimension, asset or criterion value]) and
``expected_notices`` ([org, observable, tlp, state]).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.constituency.assets import AssetService
from nca_share.constituency.classification import refresh
from nca_share.constituency.models import Membership, Organisation, Partnership
from nca_share.db import Database
from nca_share.matching.engine import Criteria
from nca_share.matching.index import ConstituencyIndex, ProductRef
from nca_share.matching.models import Match, Notice, VulnProduct
from nca_share.matching.store import MatchingService, RunResult
from nca_share.stix.ingest import IngestService
from nca_share.stix.tlp import TLP

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "data" / "scenarios"

Row = tuple[str, str, str, str]


def scenario_paths() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.json"))


@dataclass
class Outcome:
    expected: set[Row]
    actual: set[Row]
    expected_notices: set[tuple[str, str, int, str]] | None
    notices: set[tuple[str, str, int, str]]
    result: RunResult
    orgs: dict[str, int]


def setup_constituency(
    database: Database, settings: Settings, scenario: dict[str, Any]
) -> tuple[dict[str, int], dict[str, int]]:
    """Create partnerships, organisations, memberships, assets and knowledge; returns
    organisation name → id and partnership slug → id."""
    orgs: dict[str, int] = {}
    partnerships: dict[str, int] = {}
    with database.session() as session:
        for p in scenario.get("partnerships", []):
            row = Partnership(slug=p["slug"], name=p["name"])
            session.add(row)
            session.flush()
            partnerships[p["slug"]] = row.id
        for i, o in enumerate(scenario.get("organisations", [])):
            org = Organisation(
                kvk=o.get("kvk", f"{90000000 + i}"),
                name=o["name"],
                sbi_codes=o.get("sbi", []),
                sbi_version=o.get("sbi_version", "2008"),
                employees=o.get("employees"),
                nis2_entity_types=o.get("entity_types", []),
                province=o.get("province"),
                maturity_level=o.get("maturity", "M0"),
            )
            refresh(org)
            session.add(org)
            session.flush()
            orgs[o["name"]] = org.id
            for slug in o.get("partnerships", []):
                session.add(
                    Membership(
                        partnership_id=partnerships[slug], organisation_id=org.id, status="active"
                    )
                )
            service = AssetService(session, settings)
            for a in o.get("assets", []):
                asset = service.claim(
                    org.id,
                    a["kind"],
                    a.get("value", ""),
                    cpe=a.get("cpe"),
                    purl=a.get("purl"),
                    vendor=a.get("vendor"),
                    product=a.get("product"),
                    version_range=a.get("version_range"),
                )
                status = a.get("status", "verified")
                if status == "verified":
                    service.approve(asset.id, by="scenario")
                elif status == "rejected":
                    service.reject(asset.id, by="scenario", reason="not theirs")
        for k in scenario.get("knowledge", []):
            if "cpe" in k:
                ref = ProductRef.from_cpe(k["cpe"])
            else:
                ref = ProductRef.from_names(k["vendor"], k["product"])
            assert ref is not None
            session.add(
                VulnProduct(
                    cve=k["cve"],
                    source="kev" if k.get("kev") else "nvd",
                    product_key=ref.key,
                    cpe=k.get("cpe"),
                    versions=k.get("versions", "*"),
                    label=ref.label,
                    known_exploited=bool(k.get("kev")),
                )
            )
    return orgs, partnerships


def run(database: Database, settings: Settings, path: Path) -> Outcome:
    """Set up, ingest and match one scenario; read back what was stored."""
    scenario = json.loads(path.read_text(encoding="utf-8"))
    orgs, partnerships = setup_constituency(database, settings, scenario)
    report = IngestService(database).ingest_objects(
        scenario["objects"],
        source=scenario.get("source", "Scenario"),
        default_tlp=TLP[scenario.get("default_tlp", "AMBER").replace("+", "_")],
    )
    assert report.quarantined == 0, [p.as_dict() for p in report.problems]
    crit = scenario.get("criteria") or {}
    criteria = Criteria(
        sectors=tuple(crit.get("sectors", [])),
        nis2=tuple(crit.get("nis2", [])),
        regions=tuple(crit.get("regions", [])),
        products=tuple(crit.get("products", [])),
        partnerships=tuple(partnerships[s] for s in crit.get("partnerships", [])),
    )
    clock = FrozenClock(datetime.fromisoformat(scenario.get("now", "2026-11-28T12:00:00+00:00")))
    names = {v: k for k, v in orgs.items()}
    slugs = {str(v): k for k, v in partnerships.items()}
    with database.session() as session:
        index = ConstituencyIndex.load(session)
        result = MatchingService(session, index, settings, clock=clock).run(
            report.changed_ids, criteria=criteria
        )
    with database.session() as session:
        actual: set[Row] = set()
        for m in session.scalars(select(Match)):
            value = m.asset_value if m.dimension in ("network", "product") else m.matched_value
            if m.dimension == "partnership":
                value = slugs[m.matched_value]
            actual.add((names[m.organisation_id], m.stix_id, m.dimension, value or ""))
        notices = {
            (names[n.organisation_id], n.observable, n.tlp, n.state)
            for n in session.scalars(select(Notice))
        }
    expected = {tuple(row) for row in scenario["expected"]}
    exp_notices = scenario.get("expected_notices")
    return Outcome(
        expected=expected,
        actual=actual,
        expected_notices={tuple(n) for n in exp_notices} if exp_notices is not None else None,
        notices=notices,
        result=result,
        orgs=orgs,
    )
