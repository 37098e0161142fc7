"""MISP events → STIX 2.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nca_share.feeds.parsers.misp import map_misp_document

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
EVENTS = sorted((SHARED / "misp-events-circl").glob("*.json")) + sorted(
    (SHARED / "misp-events-eset").glob("*.json")
)
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
# The attribute types this test expects to become indicators/observables, and how many values
# each carries (written out here, not imported, so the test checks the mapping).
VALUE_COUNTS = {
    "ip-src": 1, "ip-dst": 1, "ip-src|port": 1, "ip-dst|port": 1, "domain": 1, "hostname": 1,
    "domain|ip": 2, "url": 1, "md5": 1, "sha1": 1, "sha256": 1, "sha512": 1,
    "filename|md5": 1, "filename|sha1": 1, "filename|sha256": 1, "email-src": 1,
    "email-dst": 1,
}  # fmt: skip


def _events(document: Any) -> list[dict[str, Any]]:
    if "response" in document:
        return [e["Event"] for e in document["response"]]
    return [document.get("Event", document)]


def _attributes(event: dict[str, Any]) -> list[dict[str, Any]]:
    attrs = list(event.get("Attribute", []))
    for obj in event.get("Object", []):
        attrs.extend(obj.get("Attribute", []))
    return [a for a in attrs if not a.get("deleted")]


@pytest.mark.parametrize("path", EVENTS, ids=[p.name for p in EVENTS])
def test_event_maps_to_expected_indicators_and_report(path: Path) -> None:
    """Indicator count = to_ids attribute values; observables = distinct other values; one
    report per event referencing every produced object; TLP tags mapped."""
    document = json.loads(path.read_text())
    events = _events(document)
    attrs = [a for e in events for a in _attributes(e)]
    expected_indicators = sum(
        VALUE_COUNTS[a["type"]] for a in attrs if a["type"] in VALUE_COUNTS and a["to_ids"]
    )
    result = map_misp_document(document, location=path.name)
    assert result.problems == []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in result.objects:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type.get("indicator", [])) == expected_indicators
    reports = by_type["report"]
    assert {r["id"] for r in reports} == {f"report--{e['uuid']}" for e in events}
    ids = {o["id"] for o in result.objects}
    for report in reports:
        assert set(report["object_refs"]) <= ids
    observable_values = {
        v
        for a in attrs
        if a["type"] in VALUE_COUNTS and not a["to_ids"]
        for v in a["value"].split("|")
        if not (a["type"].startswith("filename|") and v == a["value"].split("|")[0])
        and not (a["type"].endswith("|port") and v == a["value"].split("|")[1])
    }
    scos = [
        o
        for o in result.objects
        if o["type"] in {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file"}
    ]
    assert len({o["id"] for o in scos}) <= len(observable_values)
    assert bool(scos) == bool(observable_values)
    tlp_tags = {t["name"] for e in events for t in e.get("Tag", []) if t["name"].startswith("tlp:")}
    if tlp_tags == {"tlp:white"}:
        assert all(o.get("object_marking_refs") == [CLEAR] for o in by_type["indicator"])
        assert all(r.get("object_marking_refs") == [CLEAR] for r in reports)


def test_galaxies_become_sdos() -> None:
    """Threat-actor, malware and attack-pattern clusters become intrusion sets, malware and
    attack patterns with ATT&CK ids where the name carries one."""
    path = SHARED / "misp-events-eset" / "winnti_group_gaming_supply_chain.misp_event.json"
    result = map_misp_document(json.loads(path.read_text()))
    names = {(o["type"], o.get("name")) for o in result.objects}
    assert ("intrusion-set", "Axiom") in names
    patterns = [o for o in result.objects if o["type"] == "attack-pattern"]
    assert len(patterns) == 7
    assert {"T1043", "T1195"} <= {
        ref["external_id"]
        for p in patterns
        for ref in p.get("external_references", [])
        if ref.get("source_name") == "mitre-attack"
    }


def test_attribute_tlp_stricter_than_event_wins() -> None:
    """An attribute tagged tlp:red in a tlp:green event is marked RED; a bad IP is reported."""
    event = {
        "Event": {
            "uuid": "5b8d9d33-ccf0-4fd9-82dc-7dbc0a016219",
            "info": "t",
            "timestamp": "1536150000",
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {
                    "uuid": "5b8d9d33-ccf0-4fd9-82dc-7dbc0a016220",
                    "type": "ip-dst",
                    "value": "203.0.114.9",
                    "to_ids": True,
                    "Tag": [{"name": "tlp:red"}],
                },
                {
                    "uuid": "5b8d9d33-ccf0-4fd9-82dc-7dbc0a016221",
                    "type": "ip-dst",
                    "value": "not-an-ip",
                    "to_ids": True,
                },
            ],
        }
    }
    result = map_misp_document(event)
    indicator = next(o for o in result.objects if o["type"] == "indicator")
    assert indicator["object_marking_refs"] == [
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    ]
    assert len(result.problems) == 1
    assert "Attribute[1]" in result.problems[0].location


def test_garbage_is_reported_not_raised() -> None:
    """Something that is not a MISP event yields a problem, no objects."""
    result = map_misp_document(["x", 3])
    assert result.objects == []
    assert result.problems


def test_deleted_to_ids_attribute_revokes_its_indicator() -> None:
    """A deleted to_ids attribute yields its indicator revoked, left out of the report refs."""
    attribute = {
        "uuid": "5b8d9d33-ccf0-4fd9-82dc-7dbc0a016230",
        "type": "domain",
        "value": "bad.example",
        "to_ids": True,
        "timestamp": "1536150000",
    }
    event = {
        "Event": {
            "uuid": "5b8d9d33-ccf0-4fd9-82dc-7dbc0a016219",
            "info": "t",
            "timestamp": "1536150000",
            "Attribute": [attribute],
        }
    }
    live = map_misp_document(event).objects
    event["Event"]["Attribute"] = [{**attribute, "deleted": True, "timestamp": "1536160000"}]
    gone = map_misp_document(event).objects
    before = next(o for o in live if o["type"] == "indicator")
    after = next(o for o in gone if o["type"] == "indicator")
    assert after["id"] == before["id"]
    assert after["revoked"] is True
    assert after["modified"] > before["modified"]
    report = next(o for o in gone if o["type"] == "report")
    assert after["id"] not in report["object_refs"]
