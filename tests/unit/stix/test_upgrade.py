"""STIX 2.0 → 2.1: spec-version detection and object upgrade, on real STIX 2.0 data."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import stix2
from hypothesis import given
from hypothesis import strategies as st

from nca_share.stix.observables import extract_observables
from nca_share.stix.tlp import TLP, effective_tlp, marking_definition_tlp
from nca_share.stix.upgrade import SCO_TYPES, detect_spec_version, upgrade_to_21

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
STIX20_FILES = [
    SHARED_DATA / "mitre-cti-stix20" / "ics-attack.json",
    *sorted((SHARED_DATA / "unit42-playbooks-stix20").glob("*.json")),
]
TYPES_FROM_LABELS = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "report": "report_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def stix20_bundles() -> list[dict[str, Any]]:
    bundles = [_load(p) for p in STIX20_FILES]
    assert len(bundles) == 13
    return bundles


def test_stix20_objects_are_detected_and_upgraded(stix20_bundles: list[dict[str, Any]]) -> None:
    """Every object of the real 2.0 bundles is detected as 2.0 and upgraded without loss."""
    counts: dict[str, int] = {}
    for bundle in stix20_bundles:
        assert bundle["spec_version"] == "2.0"
        for obj in bundle["objects"]:
            assert detect_spec_version(obj, bundle["spec_version"]) == "2.0"
            assert detect_spec_version(obj, None) == "2.0"
            before = copy.deepcopy(obj)
            new = upgrade_to_21(obj)
            assert obj == before, "input must not be modified"
            assert new is not obj
            # nothing lost: every 2.0 property is still there with the same value
            assert {k: new[k] for k in obj} == obj
            assert new["spec_version"] == "2.1"
            assert detect_spec_version(new, None) == "2.1"
            assert upgrade_to_21(new) == new
            typ = obj["type"]
            counts[typ] = counts.get(typ, 0) + 1
            if typ in TYPES_FROM_LABELS:
                assert new[TYPES_FROM_LABELS[typ]] == obj["labels"]
            if typ == "indicator":
                assert new["pattern_type"] == "stix"
                assert new["pattern_version"] == "2.0"
            if typ == "malware":
                assert new["is_family"] is True
            added = set(new) - set(obj)
            assert added <= {
                "spec_version",
                "pattern_type",
                "pattern_version",
                "is_family",
                *TYPES_FROM_LABELS.values(),
            }
    assert counts["indicator"] > 300
    assert counts["malware"] > 10
    assert counts["relationship"] > 1000


def test_upgraded_objects_are_valid_stix21(stix20_bundles: list[dict[str, Any]]) -> None:
    """The python stix2 library accepts every upgraded object as STIX 2.1."""
    checked = 0
    for bundle in stix20_bundles:
        for obj in bundle["objects"]:
            new = upgrade_to_21(obj)
            parsed = stix2.parse(new, allow_custom=True, version="2.1")
            assert parsed["id"] == obj["id"]
            checked += 1
    assert checked > 2000


def test_upgraded_bundle(stix20_bundles: list[dict[str, Any]]) -> None:
    """A 2.0 bundle loses its spec_version and its objects are upgraded."""
    bundle = stix20_bundles[1]
    new = upgrade_to_21(bundle)
    assert "spec_version" not in new
    assert bundle["spec_version"] == "2.0"
    assert new["objects"] == [upgrade_to_21(o) for o in bundle["objects"]]
    stix2.parse(new, allow_custom=True, version="2.1")


def test_markings_survive(stix20_bundles: list[dict[str, Any]]) -> None:
    """2.0 marking refs and definitions keep their meaning after the upgrade."""
    marked = 0
    for bundle in stix20_bundles:
        for obj in bundle["objects"]:
            new = upgrade_to_21(obj)
            assert new.get("object_marking_refs") == obj.get("object_marking_refs")
            assert effective_tlp(new) == effective_tlp(obj)
            if obj["type"] == "marking-definition":
                assert marking_definition_tlp(new) is None  # MITRE's copyright statement
            marked += "object_marking_refs" in obj
    assert marked > 1000
    # A STIX 2.0 TLP marking definition (2.0 spec) and an object marked with it.
    tlp_md = {
        "type": "marking-definition",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "definition": {"tlp": "green"},
    }
    assert marking_definition_tlp(upgrade_to_21(tlp_md)) is TLP.GREEN
    stix2.parse(upgrade_to_21(tlp_md), version="2.1")
    obj = {"type": "malware", "labels": ["x"], "object_marking_refs": [tlp_md["id"]]}
    assert effective_tlp(upgrade_to_21(obj)) is TLP.GREEN


def test_observed_data_objects_are_kept() -> None:
    """STIX 2.0 observed-data keeps its embedded objects (and their observables)."""
    bundle = _load(SHARED_DATA / "misp-stix-tests" / "test_events_collection_stix20.json")
    observed = [o for o in bundle["objects"] if o["type"] == "observed-data"]
    assert observed
    for obj in observed:
        new = upgrade_to_21(obj)
        assert new["objects"] == obj["objects"]
        assert extract_observables(new) == extract_observables(obj)
        # (python stix2 cannot parse embedded objects in 2.1 mode: their refs are dict keys)


def test_stix21_data_is_detected_as_21() -> None:
    """Objects of a 2.1 bundle are 2.1 and come back unchanged."""
    bundle = _load(SHARED_DATA / "misp-stix-tests" / "test_events_collection_stix21.json")
    for obj in bundle["objects"]:
        assert detect_spec_version(obj, bundle.get("spec_version")) == "2.1"
        assert upgrade_to_21(obj) == obj


@pytest.mark.parametrize(
    ("obj", "bundle_version", "expected"),
    [
        ({"type": "indicator", "spec_version": "2.1"}, "2.0", "2.1"),
        ({"type": "indicator", "spec_version": "2.0"}, None, "2.0"),
        ({"type": "indicator"}, "2.0", "2.0"),
        ({"type": "indicator"}, None, "2.0"),
        ({"type": "indicator"}, "2.1", "2.1"),
        ({"type": "ipv4-addr", "value": "1.2.3.4"}, None, "2.1"),
        ({"type": "ipv4-addr", "value": "1.2.3.4"}, "2.0", "2.0"),
        ({"type": "x-custom", "spec_version": 2.1}, None, "2.0"),
        ({}, None, "2.0"),
    ],
)
def test_detect_spec_version(
    obj: dict[str, Any], bundle_version: str | None, expected: str
) -> None:
    """An object's own spec_version decides, then the bundle's, then the object kind."""
    assert detect_spec_version(obj, bundle_version) == expected


def test_existing_21_properties_are_not_overwritten() -> None:
    """Explicit *_types, is_family and pattern_type win over the 2.0 defaults."""
    indicator = {
        "type": "indicator",
        "labels": ["malicious-activity"],
        "indicator_types": ["anomalous-activity"],
        "pattern_type": "snort",
        "pattern": "alert tcp any any -> any any",
    }
    new = upgrade_to_21(indicator)
    assert new["indicator_types"] == ["anomalous-activity"]
    assert new["pattern_type"] == "snort"
    assert "pattern_version" not in new
    malware = upgrade_to_21({"type": "malware", "labels": ["trojan"], "is_family": False})
    assert malware["is_family"] is False
    assert malware["malware_types"] == ["trojan"]


def test_labels_copy_is_independent() -> None:
    """The *_types list is a copy: changing it does not change the labels."""
    obj = {"type": "malware", "labels": ["trojan"]}
    new = upgrade_to_21(obj)
    new["malware_types"].append("worm")
    assert obj["labels"] == ["trojan"]
    assert new["labels"] == ["trojan"]


def test_scos_get_no_spec_version() -> None:
    """SCO types are left without spec_version (optional for SCOs in 2.1)."""
    for typ in SCO_TYPES:
        assert "spec_version" not in upgrade_to_21({"type": typ, "id": f"{typ}--1"})


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"type": None},
        {"type": ["indicator"]},
        {"type": "indicator", "labels": "malicious-activity"},
        {"type": "indicator", "labels": [1, 2]},
        {"type": "malware", "labels": []},
        {"type": "bundle", "objects": "x"},
        {"type": "bundle", "objects": [1, None, {"type": "malware"}]},
    ],
)
def test_odd_input_never_raises(obj: dict[str, Any]) -> None:
    """Odd shapes are upgraded as far as they go and never raise."""
    new = upgrade_to_21(obj)
    assert {k: new[k] for k in obj if k != "spec_version" and obj.get("type") != "bundle"} == {
        k: v for k, v in obj.items() if k != "spec_version" and obj.get("type") != "bundle"
    }
    assert detect_spec_version(obj, None) in ("2.0", "2.1")


def test_non_dict_input() -> None:
    """A non-dict gives an empty dict (and detection does not raise)."""
    assert upgrade_to_21(None) == {}  # type: ignore[arg-type]
    assert detect_spec_version(None, "2.0") == "2.1"  # type: ignore[arg-type]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.one_of(
        st.sampled_from([*TYPES_FROM_LABELS, "bundle", "identity", "ipv4-addr", "x-custom"]),
        _JSON,
    ),
    st.dictionaries(
        st.sampled_from(
            ["labels", "spec_version", "pattern_type", "is_family", "objects", "indicator_types"]
        ),
        _JSON,
        max_size=4,
    ),
    st.one_of(st.none(), st.sampled_from(["2.0", "2.1"]), st.text(max_size=4)),
)
def test_random_objects_never_raise(typ: Any, props: dict[str, Any], bundle_spec: Any) -> None:
    """Random objects never raise; the input is unchanged and no property is lost."""
    obj = {**props, "type": typ}
    before = copy.deepcopy(obj)
    new = upgrade_to_21(obj)
    assert obj == before
    assert detect_spec_version(obj, bundle_spec) in ("2.0", "2.1")
    if typ != "bundle":
        assert all(new[k] == v for k, v in obj.items() if k != "spec_version")
