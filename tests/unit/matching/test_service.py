"""Matching service on a real database: idempotence, notices (TLP, grants, windows,
urgency), the live index and the retro-match when an asset becomes verified."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from nca_share.access import Principal
from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.constituency.assets import AssetService
from nca_share.constituency.models import Organisation
from nca_share.db import Database
from nca_share.jobs.models import Job
from nca_share.jobs.registry import JobContext
from nca_share.matching.index import ConstituencyIndex
from nca_share.matching.jobs import match_asset, match_objects
from nca_share.matching.live import live_holder, live_index, reset_live_indexes
from nca_share.matching.models import Match, Notice, VulnProduct
from nca_share.matching.notices import NoticeService
from nca_share.matching.store import MatchingService
from nca_share.stix.ingest import IngestService

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _indicator(value: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-20T08:00:00.000Z",
        "modified": "2026-11-20T08:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-20T08:00:00.000Z",
        **extra,
    }


def _org(
    database: Database, settings: Settings, name: str, cidr: str, verify: bool = True
) -> tuple[int, int]:
    with database.session() as session:
        org = Organisation(kvk=str(10000000 + len(name) * 7 + ord(name[0])), name=name)
        session.add(org)
        session.flush()
        service = AssetService(session, settings)
        asset = service.claim(org.id, "cidr", cidr)
        if verify:
            service.approve(asset.id, by="test")
        return org.id, asset.id


def _run(database: Database, settings: Settings, ids: list[str], clock: FrozenClock) -> None:
    with database.session() as session:
        index = ConstituencyIndex.load(session)
        MatchingService(session, index, settings, clock=clock).run(ids)


def _ctx(database: Database, settings: Settings, clock: FrozenClock, kind: str) -> JobContext:
    return JobContext(
        settings=settings,
        database=database,
        clock=clock,
        job_id=1,
        kind=kind,
        attempt=1,
        max_attempts=3,
        logger=logging.LoggerAdapter(logging.getLogger("test"), {}),
    )


def test_rerun_is_idempotent(database: Database, settings: Settings) -> None:
    """Matching the same objects again adds no rows; last_seen moves, a repeat is counted."""
    _org(database, settings, "Acme", "192.0.2.0/24")
    report = IngestService(database).ingest_objects([_indicator("192.0.2.7")], source="t")
    clock = FrozenClock(T0)
    _run(database, settings, report.changed_ids, clock)
    clock.advance(timedelta(hours=1))
    _run(database, settings, report.changed_ids, clock)
    with database.session() as session:
        matches = list(session.scalars(select(Match)))
        notices = list(session.scalars(select(Notice)))
    assert len(matches) == 1
    assert matches[0].first_seen == T0
    assert matches[0].last_seen == T0 + timedelta(hours=1)
    assert len(notices) == 1
    assert notices[0].repeat_count == 1
    assert "192.0.2.0/24 bevat 192.0.2.7" in matches[0].explanation_nl
    assert "20-11-2026" in matches[0].explanation_nl


def test_renotification_windows_and_urgency(database: Database, settings: Settings) -> None:
    """Compromised-host notices repeat after 7 days, product notices after 30; urgent ones
    are never held back by an earlier non-urgent notice."""
    _org(database, settings, "Acme", "192.0.2.0/24")
    with database.session() as session:
        org_id = session.scalar(select(Organisation.id))
        assert org_id is not None
        prod = AssetService(session, settings).claim(
            org_id, "product", cpe="cpe:2.3:a:acme:portal:1.0:*:*:*:*:*:*:*"
        )
        AssetService(session, settings).approve(prod.id, by="test")
        session.add(
            VulnProduct(cve="CVE-2026-1000", source="nvd", product_key="acme:portal",
                        versions="<2", label="acme portal", known_exploited=False)
        )  # fmt: skip
    ind = _indicator("192.0.2.8")
    vuln = {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": f"vulnerability--{uuid.uuid4()}",
        "created": "2026-11-20T08:00:00.000Z",
        "modified": "2026-11-20T08:00:00.000Z",
        "name": "CVE-2026-1000",
    }
    ids = IngestService(database).ingest_objects([ind, vuln], source="t").changed_ids
    clock = FrozenClock(T0)
    _run(database, settings, ids, clock)
    clock.advance(timedelta(days=8))
    _run(database, settings, ids, clock)

    def counts() -> dict[str, int]:
        with database.session() as session:
            rows = session.execute(select(Notice.category, func.count()).group_by(Notice.category))
            return {c: n for c, n in rows}

    assert counts() == {"compromised-host": 2, "vulnerable-product": 1}
    clock.advance(timedelta(days=23))
    _run(database, settings, ids, clock)
    assert counts() == {"compromised-host": 3, "vulnerable-product": 2}
    # KEV knowledge makes the same vulnerability urgent: notified at once inside the window
    with database.session() as session:
        session.add(
            VulnProduct(cve="CVE-2026-1000", source="kev", product_key="acme:portal",
                        versions="*", label="acme portal", known_exploited=True)
        )  # fmt: skip
    clock.advance(timedelta(days=1))
    _run(database, settings, ids, clock)
    assert counts()["vulnerable-product"] == 3


def test_notices_visible_to_exactly_the_organisation(
    database: Database, settings: Settings
) -> None:
    """An AMBER+STRICT notice is granted to its organisation only; a RED one is held."""
    org_a, _ = _org(database, settings, "Acme", "192.0.2.0/24")
    org_b, _ = _org(database, settings, "Bolt", "198.51.100.0/24")
    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    objs = [_indicator("192.0.2.9"), _indicator("192.0.2.10", object_marking_refs=[red])]
    ids = IngestService(database).ingest_objects(objs, source="t").changed_ids
    _run(database, settings, ids, FrozenClock(T0))
    member_a = Principal(
        user_id=1, roles=frozenset({"member"}), organisation_ids=frozenset({org_a})
    )
    member_b = Principal(
        user_id=2, roles=frozenset({"member"}), organisation_ids=frozenset({org_b})
    )
    analyst = Principal(user_id=3, roles=frozenset({"analyst"}))
    with database.session() as session:
        service = NoticeService(session, settings)
        seen_a = service.visible_for(member_a)
        assert [n.observable for n in seen_a] == ["ipv4:192.0.2.9"]
        assert seen_a[0].tlp == 3
        assert seen_a[0].state == "pending"
        assert service.visible_for(member_b) == []
        staff = {n.observable: n.state for n in service.visible_for(analyst)}
        assert staff == {"ipv4:192.0.2.9": "pending"}  # RED: only named recipients
        held = session.scalar(select(Notice).where(Notice.tlp == 4))
        assert held is not None
        assert held.state == "held"
        assert service.grants_of(held.id) == []


def test_verification_triggers_retro_match_and_live_index_follows(
    database: Database, settings: Settings
) -> None:
    """Verifying an asset enqueues match_asset in the same transaction; the handler finds
    active indicators already stored (not expired ones); the live index follows the change
    without a rebuild."""
    reset_live_indexes()
    clock = FrozenClock(T0)
    org_id, asset_id = _org(database, settings, "Acme", "192.0.2.0/24", verify=False)
    active = _indicator("192.0.2.11")
    expired = _indicator("192.0.2.12", valid_until="2026-11-20T08:30:00.000Z")
    ids = IngestService(database).ingest_objects([active, expired], source="t").changed_ids
    assert match_objects(_ctx(database, settings, clock, "match_objects"), {"stix_ids": ids})
    holder = live_holder(database)
    assert live_index(database).lookup_ip("192.0.2.11") == []
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Match)) == 0
        AssetService(session, settings, clock=clock).approve(asset_id, by="analyst")
    with database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == "match_asset"))
        assert job is not None
        assert job.payload == {"asset_id": asset_id}
    assert [r.org_id for r in live_index(database).lookup_ip("192.0.2.11")] == [org_id]
    assert holder.rebuilds == 1
    result = match_asset(_ctx(database, settings, clock, "match_asset"), job.payload)
    assert result is not None
    assert result["matches"] == 1
    assert result["notices"] == 1
    with database.session() as session:
        assert session.scalars(select(Match.stix_id)).all() == [active["id"]]
        AssetService(session, settings, clock=clock).reject(asset_id, by="analyst", reason="no")
    assert live_index(database).lookup_ip("192.0.2.11") == []
    reset_live_indexes()


def test_every_notice_links_its_match_across_query_chunks(
    database: Database, settings: Settings, monkeypatch: Any
) -> None:
    """With id look-ups split into small chunks, every notice still points at its match."""
    import nca_share.matching.notices as notices_module
    import nca_share.matching.store as store_module

    monkeypatch.setattr(store_module, "_ID_CHUNK", 3)
    monkeypatch.setattr(store_module, "_CHUNK", 2)
    monkeypatch.setattr(notices_module, "_IDS", 2)
    _org(database, settings, "Acme", "192.0.2.0/24")
    objects = [_indicator(f"192.0.2.{n}") for n in range(1, 8)]
    report = IngestService(database).ingest_objects(objects, source="t")
    _run(database, settings, report.changed_ids, FrozenClock(T0))
    with database.session() as session:
        matches = {m.stix_id: m.id for m in session.scalars(select(Match))}
        notices = list(session.scalars(select(Notice)))
    assert len(matches) == 7
    assert len(notices) == 7
    assert all(n.match_id == matches[n.stix_id] for n in notices)
