"""The cheap structural checks: each rule rejects with the right field, valid objects pass."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from nca_share.stix.checks import CheckCache, Rejected, check_object, is_stix_id, parse_timestamp

UUID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def _ok(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{UUID}",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        "name": "Poison Ivy",
        "is_family": True,
    }
    obj.update(extra)
    return obj


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": 3}, "type"),
        ({"type": "Malware!", "id": f"Malware!--{UUID}"}, "type"),
        ({"type": "bundle"}, "type"),
        ({"id": None}, "id"),
        ({"id": "malware--not-a-uuid"}, "id"),
        ({"id": f"tool--{UUID}"}, "id"),
        ({"spec_version": "2.0"}, "spec_version"),
        ({"created": None}, "created"),
        ({"modified": "2016-04-06"}, "modified"),
        ({"modified": "2016-02-30T00:00:00Z"}, "modified"),
        ({"valid_until": 17}, "valid_until"),
        ({"name": ["a"]}, "name"),
        ({"labels": "x"}, "labels"),
        ({"labels": [1]}, "labels"),
        ({"revoked": "no"}, "revoked"),
        ({"confidence": 101}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"extensions": []}, "extensions"),
        ({"created_by_ref": "bob"}, "created_by_ref"),
        ({"object_marking_refs": "marking-definition--" + UUID}, "object_marking_refs"),
        ({"object_marking_refs": ["nope"]}, "object_marking_refs"),
        ({"external_references": [{"url": "x"}]}, "external_references"),
        ({"kill_chain_phases": [{"phase_name": "x"}]}, "kill_chain_phases"),
        (
            {"granular_markings": [{"marking_ref": "x", "selectors": []}]},
            "granular_markings.marking_ref",
        ),
        ({"granular_markings": [{"selectors": ["name"]}]}, "granular_markings"),
    ],
)
def test_rejections_name_the_field(change: dict[str, Any], field: str) -> None:
    """Every structural rule rejects with the offending property."""
    obj = _ok(**change)
    obj = {k: v for k, v in obj.items() if v is not None}
    with pytest.raises(Rejected) as info:
        check_object(obj)
    assert info.value.field == field
    assert info.value.problem


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (
            {"type": "relationship", "relationship_type": "uses", "target_ref": f"tool--{UUID}"},
            "source_ref",
        ),
        ({"type": "sighting"}, "sighting_of_ref"),
        ({"type": "indicator", "pattern": "[x:y = 'z']"}, "valid_from"),
        ({"type": "indicator", "valid_from": "2016-01-01T00:00:00Z"}, "pattern"),
    ],
)
def test_type_specific_required_properties(obj: dict[str, Any], field: str) -> None:
    """Relationships, sightings and indicators need their defining properties."""
    full = {
        "spec_version": "2.1",
        "id": f"{obj['type']}--{UUID}",
        "created": "2016-04-06T20:03:48Z",
        "modified": "2016-04-06T20:03:48Z",
        **obj,
    }
    with pytest.raises(Rejected) as info:
        check_object(full)
    assert info.value.field == field


def test_valid_objects_pass_and_return_parsed_timestamps() -> None:
    """A valid SDO passes; SCOs need no spec_version or timestamps; custom x_ refs are free."""
    otype, oid, stamps = check_object(
        _ok(x_custom_ref="anything", valid_from="2016-01-01T00:00:00.123456789Z")
    )
    assert (otype, oid) == ("malware", f"malware--{UUID}")
    assert stamps["created"] == datetime(2016, 4, 6, 20, 3, 48, tzinfo=UTC).replace(tzinfo=None)
    assert stamps["valid_from"].microsecond == 123456
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{UUID}", "value": "198.51.100.1"}
    assert check_object(sco)[2] == {}
    with pytest.raises(Rejected):
        check_object({"type": "ipv4-addr", "id": f"ipv4-addr--{UUID}", "value": 7})
    with pytest.raises(Rejected):
        check_object(["not", "a", "dict"])


def test_cache_remembers_only_valid_values() -> None:
    """The per-run memo holds ids and timestamps that passed, never rejected ones."""
    cache = CheckCache()
    check_object(_ok(created_by_ref=f"identity--{UUID}"), cache)
    assert f"identity--{UUID}" in cache.ids
    assert "2016-04-06T20:03:48.000Z" in cache.stamps
    with pytest.raises(Rejected):
        check_object(_ok(created_by_ref="bad"), cache)
    assert "bad" not in cache.ids
    assert is_stix_id(f"x-custom-thing--{UUID}")
    assert not is_stix_id(f"x--{UUID}")
    with pytest.raises(Rejected):
        parse_timestamp("2016-04-06T25:00:00Z", "created")
