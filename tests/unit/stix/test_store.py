"""StixStore: get/find/versions, keyset pagination, filters, neighbours, observable look-ups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from nca_share.db import Database
from nca_share.errors import NotFound, ValidationError
from nca_share.stix.ingest import IngestService
from nca_share.stix.models import StixObject
from nca_share.stix.store import StixStore
from nca_share.stix.tlp import TLP1_GREEN_ID, TLP2_RED_ID


def _obj(otype: str, n: int, **extra: Any) -> dict[str, Any]:
    stamp = f"2024-01-{1 + n % 28:02d}T00:00:00.000Z"
    obj = {
        "type": otype,
        "spec_version": "2.1",
        "id": f"{otype}--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": f"{otype} number {n}",
    }
    obj.update(extra)
    return obj


def _indicator(n: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return _obj(
        "indicator",
        n,
        pattern=pattern,
        pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z",
        **extra,
    )


def test_get_find_and_versions(database: Database) -> None:
    """get raises NotFound, find returns None; versions are oldest first."""
    obj = _obj("malware", 1, is_family=True)
    newer = dict(obj, modified="2024-06-01T00:00:00.000Z", name="renamed")
    IngestService(database).ingest_objects([newer, obj], source="t")
    with database.session() as session:
        store = StixStore(session)
        assert store.get(obj["id"]).name == "renamed"
        assert [v.name for v in store.versions(obj["id"])] == ["malware number 1", "renamed"]
        assert store.find("malware--00000000-0000-4000-8000-000000000000") is None
        with pytest.raises(NotFound):
            store.get("malware--00000000-0000-4000-8000-000000000000")


def test_keyset_pagination_visits_every_object_once(database: Database) -> None:
    """Pages of 40 over 250 objects: no gaps, no repeats, in (date_added, pk) order."""
    objects = [_obj("identity", n, identity_class="organization") for n in range(250)]
    IngestService(database, batch_size=64).ingest_objects(objects, source="t")
    seen: list[str] = []
    cursor = None
    pages = 0
    with database.session() as session:
        store = StixStore(session)
        while True:
            page = store.query(types=["identity"], limit=40, cursor=cursor)
            pages += 1
            seen.extend(o.stix_id for o in page.items)
            keys = [(o.date_added, o.pk) for o in page.items]
            assert keys == sorted(keys)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert pages == 7
    assert seen == [o["id"] for o in objects]
    with database.session() as session, pytest.raises(ValidationError):
        StixStore(session).query(cursor="not a cursor!")


def test_query_filters(database: Database) -> None:
    """types, text (escaped LIKE), tlp_max, modified range, added_after and a where clause."""
    red = _obj("malware", 3, is_family=True, object_marking_refs=[TLP2_RED_ID], name="Red 100%")
    green = _obj("malware", 5, is_family=True, object_marking_refs=[TLP1_GREEN_ID])
    tool = _obj("tool", 9)
    report = IngestService(database).ingest_objects([red, green, tool], source="src-a")
    assert report.new_versions == 3
    with database.session() as session:
        store = StixStore(session)
        assert {o.stix_id for o in store.query(types=["malware"]).items} == {red["id"], green["id"]}
        assert [o.stix_id for o in store.query(text="100%").items] == [red["id"]]
        assert [o.stix_id for o in store.query(text="_").items] == []
        assert {o.stix_id for o in store.query(tlp_max=1).items} == {green["id"]}
        after = datetime(2024, 1, 4, tzinfo=UTC)
        assert {o.stix_id for o in store.query(modified_after=after).items} == {
            green["id"],
            tool["id"],
        }
        before = datetime(2024, 1, 7, tzinfo=UTC)
        assert {o.stix_id for o in store.query(modified_before=before).items} == {
            red["id"],
            green["id"],
        }
        only_tool = store.query(where=StixObject.type == "tool").items
        assert [o.stix_id for o in only_tool] == [tool["id"]]
        first = store.get(red["id"]).date_added
        assert red["id"] not in {o.stix_id for o in store.query(added_after=first).items}
        assert len(store.query(source="src-a").items) == 3


def test_neighbours(database: Database) -> None:
    """Relationship and reference edges in both directions, filterable by kind."""
    actor = _obj("intrusion-set", 1)
    malware = _obj("malware", 2, is_family=True)
    rel = _obj(
        "relationship",
        3,
        relationship_type="uses",
        source_ref=actor["id"],
        target_ref=malware["id"],
    )
    del rel["name"]
    report_obj = _obj(
        "report",
        4,
        published="2024-01-05T00:00:00Z",
        object_refs=[actor["id"], malware["id"], "campaign--11111111-1111-4111-8111-111111111111"],
    )
    IngestService(database).ingest_objects([actor, malware, rel, report_obj], source="t")
    with database.session() as session:
        store = StixStore(session)
        out = store.neighbours(actor["id"], direction="out")
        assert [(e.kind, e.relationship_type, e.target_id, e.via_id) for e in out] == [
            ("relationship", "uses", malware["id"], rel["id"])
        ]
        incoming = store.neighbours(malware["id"], direction="in")
        assert {(e.kind, e.source_id) for e in incoming} == {
            ("relationship", actor["id"]),
            ("object_refs", report_obj["id"]),
        }
        refs = store.neighbours(report_obj["id"], kinds=["object_refs"])
        assert len(refs) == 3  # the dangling campaign ref is kept
        assert refs[0].other(report_obj["id"]) == actor["id"]
        with pytest.raises(ValidationError):
            store.neighbours(actor["id"], direction="sideways")


def test_observable_lookups(database: Database) -> None:
    """Exact values (normalised), IPs within a CIDR and CIDRs containing an IP, v4 and v6."""
    ip = _indicator(1, "[ipv4-addr:value = '198.51.100.7']")
    net = _indicator(2, "[ipv4-addr:value = '198.51.100.0/24']")
    other = _indicator(3, "[ipv4-addr:value = '203.0.113.5']")
    v6 = _indicator(4, "[ipv6-addr:value = '2001:db8::1']")
    domain = _indicator(5, "[domain-name:value = 'Evil.Example.COM']")
    sha = "A" * 64
    filehash = _indicator(6, f"[file:hashes.'SHA-256' = '{sha}']")
    IngestService(database).ingest_objects([ip, net, other, v6, domain, filehash], source="t")
    with database.session() as session:
        store = StixStore(session)
        assert [h.stix_id for h in store.observables("198.51.100.7", "ipv4")] == [ip["id"]]
        assert [h.stix_id for h in store.observables("evil.example.com", "domain")] == [
            domain["id"]
        ]
        assert [h.stix_id for h in store.observables("EVIL.example.com", "domain")] == [
            domain["id"]
        ]
        assert [h.stix_id for h in store.observables(sha, "sha256")] == [filehash["id"]]
        # the normalised kind is searched: an "ipv4" CIDR is indexed as "ipv4-cidr"
        assert [h.stix_id for h in store.observables("198.51.100.9/24", "ipv4")] == [net["id"]]
        assert [h.stix_id for h in store.observables("198.51.100.7/32", "ipv4")] == [ip["id"]]
        # without a kind the value's kind is guessed and the value normalised
        assert [h.stix_id for h in store.observables(" 198.51.100.0/24 ")] == [net["id"]]
        assert [h.stix_id for h in store.observables("2001:DB8:0::1")] == [v6["id"]]
        assert [h.stix_id for h in store.observables("Evil.Example.com.")] == [domain["id"]]
        assert [h.stix_id for h in store.observables(sha.lower())] == [filehash["id"]]
        assert store.observables("198.51.100.8", "ipv4") == []
        within = store.objects_with_ip_in("198.51.0.0/16")
        assert {h.stix_id for h in within} == {ip["id"], net["id"]}
        assert {h.stix_id for h in store.objects_with_ip_in("198.51.100.7/32")} == {ip["id"]}
        containing = store.cidrs_containing("198.51.100.7")
        assert {(h.stix_id, h.kind) for h in containing} == {
            (ip["id"], "ipv4"),
            (net["id"], "ipv4-cidr"),
        }
        assert [h.stix_id for h in store.objects_with_ip_in("2001:db8::/32")] == [v6["id"]]
        assert store.cidrs_containing("192.0.2.1") == []
        with pytest.raises(ValidationError):
            store.objects_with_ip_in("not a network")
        with pytest.raises(ValidationError):
            store.cidrs_containing("300.1.1.1")
