"""Every STIX file of the shared data ingests; counts match what plain ``json`` says."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from nca_share.db import Database
from nca_share.stix.ingest import IngestService
from nca_share.stix.models import StixEdge, StixObject
from nca_share.stix.store import StixStore
from tests.conftest import SHARED_DATA

STIX_FILES = sorted(
    str(p.relative_to(SHARED_DATA))
    for folder in (
        "mitre-attack-stix-data",
        "mitre-cti-stix20",
        "oasis-cti-documentation",
        "unit42-playbooks-stix20",
        "oasis-cti-stix-common-objects",
        "oasis-cti-stix2-json-schemas",
        "misp-stix-tests",
    )
    for p in (SHARED_DATA / folder).rglob("*.json")
    if "objects" in json.loads(p.read_text(encoding="utf-8"))
)
TAXII_DATA = SHARED_DATA / "oasis-cti-taxii-server" / "default_data.json"
ICS_17 = SHARED_DATA / "mitre-attack-stix-data" / "ics-attack-17.1.json"
ICS_18 = SHARED_DATA / "mitre-attack-stix-data" / "ics-attack-18.1.json"

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared data not available")


def _objects(path: Path) -> list[dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return list(doc["objects"])


def _taxii_objects() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "objects" and isinstance(value, list):
                    found.extend(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(TAXII_DATA.read_text(encoding="utf-8")))
    return found


def _version(obj: dict[str, Any]) -> str:
    """The version of an object, computed independently: modified, else created, else ''."""
    stamp = obj.get("modified") or obj.get("created")
    if stamp is None:
        return ""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).isoformat()


def _count(database: Database, *where: Any) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(StixObject).where(*where)) or 0)


def test_every_shared_stix_file_ingests_with_independent_counts(database: Database) -> None:
    """All shared STIX files plus the TAXII dataset: per-file read counts, no quarantine, and
    the store holds exactly the union of (id, version) pairs, one current row per id."""
    assert len(STIX_FILES) >= 60
    service = IngestService(database)
    versions: set[tuple[str, str]] = set()
    ids: set[str] = set()
    for name in STIX_FILES:
        objects = _objects(SHARED_DATA / name)
        report = service.ingest_path(SHARED_DATA / name, source="shared")
        assert report.read == len(objects), name
        assert report.quarantined == 0, (name, [str(p) for p in report.problems[:3]])
        new_pairs = {(o["id"], _version(o)) for o in objects} - versions
        assert report.new_versions == len(new_pairs), name
        assert report.stored == report.new_versions + report.unchanged == len(objects)
        versions |= new_pairs
        ids |= {o["id"] for o in objects}
    taxii = _taxii_objects()
    report = service.ingest_objects(taxii, source="taxii-dataset")
    assert report.read == len(taxii)
    assert report.quarantined == 0
    versions |= {(o["id"], _version(o)) for o in taxii}
    ids |= {o["id"] for o in taxii}

    assert _count(database) == len(versions)
    assert _count(database, StixObject.is_current.is_(True)) == len(ids)
    with database.session() as session:
        multi = session.execute(
            select(StixObject.stix_id)
            .where(StixObject.is_current.is_(True))
            .group_by(StixObject.stix_id)
            .having(func.count() > 1)
        ).all()
    assert multi == []


def test_taxii_dataset_keeps_every_version_and_the_newest_is_current(database: Database) -> None:
    """The TAXII dataset's repeated ids are stored as versions; the latest one is current."""
    taxii = _taxii_objects()
    IngestService(database).ingest_objects(taxii, source="taxii-dataset")
    newest: dict[str, str] = {}
    for obj in taxii:
        version = _version(obj)
        if version >= newest.get(obj["id"], ""):
            newest[obj["id"]] = version
    with database.session() as session:
        store = StixStore(session)
        for stix_id, version in newest.items():
            current = store.get(stix_id)
            assert _version(current.raw) == version
            assert len(store.versions(stix_id)) == len(
                {_version(o) for o in taxii if o["id"] == stix_id}
            )


def test_ics_17_then_18_yields_exactly_the_new_versions_and_revocations(
    database: Database,
) -> None:
    """ATT&CK ICS 17.1 then 18.1: new versions, current versions and revocations are exactly
    the difference between the releases computed here with plain json."""
    old = {o["id"]: o for o in _objects(ICS_17)}
    new = {o["id"]: o for o in _objects(ICS_18)}
    expected_new = {
        sid for sid, o in new.items() if sid not in old or _version(o) != _version(old[sid])
    }
    expected_changed = {
        sid for sid, o in new.items() if sid not in old or _version(o) > _version(old[sid])
    }
    expected_revoked = {
        sid
        for sid in old.keys() | new.keys()
        if (
            new[sid]
            if sid in new and (sid not in old or _version(new[sid]) >= _version(old[sid]))
            else old[sid]
        ).get("revoked", False)
    }
    newly_revoked = {
        sid
        for sid, o in new.items()
        if o.get("revoked") and not (sid in old and old[sid].get("revoked"))
    }
    assert expected_new
    assert expected_revoked

    service = IngestService(database)
    first = service.ingest_path(ICS_17, source="attack")
    assert first.new_versions == len(old)
    assert first.quarantined == 0
    second = service.ingest_path(ICS_18, source="attack")
    assert second.quarantined == 0
    assert second.new_versions == len(expected_new)
    assert second.unchanged == len(new) - len(expected_new)
    assert set(second.changed_ids) == expected_changed
    assert newly_revoked <= set(second.changed_ids)

    assert _count(database) == len(old) + len(expected_new)
    with database.session() as session:
        revoked_now = set(
            session.scalars(
                select(StixObject.stix_id).where(
                    StixObject.is_current.is_(True), StixObject.revoked.is_(True)
                )
            )
        )
        assert revoked_now == expected_revoked
        store = StixStore(session)
        for sid in expected_changed:
            assert _version(store.get(sid).raw) == _version(new[sid])
    third = service.ingest_path(ICS_18, source="attack")
    assert third.new_versions == 0
    assert third.changed_ids == []


def test_stix20_ics_is_stored_with_21_semantics_and_matches_the_21_release(
    database: Database,
) -> None:
    """The STIX 2.0 copy of ICS 18.1 upgrades to 2.1 and is the same set of versions."""
    service = IngestService(database)
    report20 = service.ingest_path(SHARED_DATA / "mitre-cti-stix20" / "ics-attack.json", source="a")
    assert report20.quarantined == 0
    report21 = service.ingest_path(ICS_18, source="attack")
    objects20 = _objects(SHARED_DATA / "mitre-cti-stix20" / "ics-attack.json")
    pairs20 = {(o["id"], _version(o)) for o in objects20}
    pairs21 = {(o["id"], _version(o)) for o in _objects(ICS_18)}
    assert report21.new_versions == len(pairs21 - pairs20)
    with database.session() as session:
        row = session.scalars(
            select(StixObject).where(StixObject.original_spec_version == "2.0").limit(1)
        ).one()
        assert row.spec_version == "2.1"
        assert row.raw["spec_version"] == "2.1"


def test_relationships_become_edges(database: Database) -> None:
    """Each current relationship of ICS 18.1 is one relationship edge; refs are edges too."""
    IngestService(database).ingest_path(ICS_18, source="attack")
    relationships = [o for o in _objects(ICS_18) if o["type"] == "relationship"]
    with database.session() as session:
        count = session.scalar(
            select(func.count()).select_from(StixEdge).where(StixEdge.kind == "relationship")
        )
        assert count == len(relationships)
        created_by = session.scalar(
            select(func.count()).select_from(StixEdge).where(StixEdge.kind == "created_by_ref")
        )
        assert created_by == sum(1 for o in _objects(ICS_18) if "created_by_ref" in o)
