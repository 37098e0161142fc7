"""TLP labels, marking-definition ids and objects, and the effective TLP of objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nca_share.errors import ValidationError
from nca_share.stix.tlp import (
    OPENCTI_AMBER_STRICT_ID,
    TLP,
    TLP2_EXTENSION_ID,
    TLP_MARKING_IDS,
    effective_tlp,
    marking_definition_object,
    marking_definition_tlp,
    marking_id_for,
    tlp_for_marking_id,
)

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
COMMON_TLP2 = SHARED_DATA / "oasis-cti-stix-common-objects" / "marking-definition-tlp2"

# The ids of DOMAIN.md §2.1, written out independently of the module's constants.
TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",  # WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
}
TLP2 = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "CLEAR",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "GREEN",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "AMBER",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "AMBER+STRICT",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "RED",
}
STATEMENT_ID = "marking-definition--8f6e9b9c-0c56-4a7e-9d0e-6a6f7c3e2b11"


def _objects(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["objects"] if data.get("type") == "bundle" else [data]


@pytest.mark.parametrize(("marking_id", "label"), sorted({**TLP1, **TLP2}.items()))
def test_every_known_id_resolves_to_its_label(marking_id: str, label: str) -> None:
    """Every TLP 1.0 and TLP 2.0 marking-definition id resolves to its label."""
    tlp = tlp_for_marking_id(marking_id)
    assert tlp is not None
    assert tlp.label == label
    assert effective_tlp({"object_marking_refs": [marking_id]}) == tlp


def test_known_table_is_exactly_the_documented_ids() -> None:
    """The table holds the nine documented ids plus OpenCTI's, nothing else."""
    assert set(TLP_MARKING_IDS) == set(TLP1) | set(TLP2) | {OPENCTI_AMBER_STRICT_ID}


def test_opencti_amber_strict_id() -> None:
    """OpenCTI's own AMBER+STRICT id is AMBER+STRICT."""
    assert tlp_for_marking_id(OPENCTI_AMBER_STRICT_ID) is TLP.AMBER_STRICT
    assert effective_tlp({"object_marking_refs": [OPENCTI_AMBER_STRICT_ID]}) is TLP.AMBER_STRICT


def test_unknown_or_odd_ids_are_not_tlp() -> None:
    """Unknown ids and non-strings resolve to nothing."""
    assert tlp_for_marking_id(STATEMENT_ID) is None
    assert tlp_for_marking_id(42) is None  # type: ignore[arg-type]
    assert tlp_for_marking_id("") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TLP:AMBER", TLP.AMBER),
        ("amber", TLP.AMBER),
        ("AMBER+STRICT", TLP.AMBER_STRICT),
        ("amber+strict", TLP.AMBER_STRICT),
        ("TLP:AMBER + STRICT", TLP.AMBER_STRICT),
        ("  tlp:red ", TLP.RED),
        ("TLP:WHITE", TLP.CLEAR),
        ("white", TLP.CLEAR),
        ("Clear", TLP.CLEAR),
        ("tlp:green", TLP.GREEN),
    ],
)
def test_parse_accepts_labels(text: str, expected: TLP) -> None:
    """TLP.parse reads TLP 1.0 and 2.0 labels, prefix, case and whitespace tolerant."""
    assert TLP.parse(text) is expected


@pytest.mark.parametrize("text", ["", "TLP:", "PURPLE", "TLP:AMBER+", "TLP:AMBERSTRICT", "A" * 500])
def test_parse_rejects_other_text(text: str) -> None:
    """TLP.parse raises ValidationError on anything that is not a TLP label."""
    with pytest.raises(ValidationError, match="TLP"):
        TLP.parse(text)


def test_parse_rejects_non_string() -> None:
    """TLP.parse raises ValidationError, not TypeError, on a non-string."""
    with pytest.raises(ValidationError):
        TLP.parse(None)  # type: ignore[arg-type]


def test_labels_and_order() -> None:
    """Ranks follow TLP 2.0 (CLEAR < GREEN < AMBER < AMBER+STRICT < RED) and labels round-trip."""
    assert [t.label for t in sorted(TLP)] == ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
    for tlp in TLP:
        assert TLP.parse(tlp.label) is tlp
        assert TLP.parse(tlp.marking_name) is tlp


@pytest.mark.parametrize("tlp", list(TLP))
def test_marking_id_and_object_are_the_tlp2_ones(tlp: TLP) -> None:
    """marking_id_for/marking_definition_object give the OASIS TLP 2.0 objects byte for byte."""
    marking_id = marking_id_for(tlp)
    assert TLP2[marking_id] == tlp.label
    md = marking_definition_object(tlp)
    assert md["id"] == marking_id
    assert marking_definition_tlp(md) is tlp
    [official] = _objects(COMMON_TLP2 / f"{marking_id}.json")
    assert md == official


def test_common_objects_tlp_markings_are_recognised() -> None:
    """Every TLP 2.0 marking definition of the OASIS common objects is recognised by content."""
    files = sorted(COMMON_TLP2.glob("marking-definition--*.json"))
    assert len(files) == 5
    for path in files:
        for md in _objects(path):
            expected = TLP2[md["id"]]
            assert marking_definition_tlp(md).label == expected  # type: ignore[union-attr]
            # The same content under an unknown id is still recognised via the extension.
            copy = {**md, "id": "marking-definition--00000000-0000-4000-8000-000000000000"}
            assert marking_definition_tlp(copy).label == expected  # type: ignore[union-attr]


def test_shared_data_tlp1_and_statement_markings() -> None:
    """The TLP 1.0 and statement marking definitions in the shared OASIS examples."""
    seen = {}
    for md in _objects(SHARED_DATA / "oasis-cti-documentation" / "using-marking-definitions.json"):
        if md["type"] == "marking-definition":
            seen[md["definition_type"]] = marking_definition_tlp(md)
    assert seen["statement"] is None
    assert seen["tlp"] is not None


def test_tlp1_definition_under_custom_id() -> None:
    """A definition_type "tlp" marking with an unknown id is read from definition.tlp."""
    md = {
        "type": "marking-definition",
        "id": "marking-definition--11111111-1111-4111-8111-111111111111",
        "definition_type": "tlp",
        "definition": {"tlp": "white"},
    }
    assert marking_definition_tlp(md) is TLP.CLEAR


def test_opencti_style_marking_objects() -> None:
    """OpenCTI markings (x_opencti_definition_type TLP) are read from definition or name."""
    base = {
        "type": "marking-definition",
        "id": "marking-definition--22222222-2222-4222-8222-222222222222",
        "definition_type": "statement",
        "definition": {"statement": "custom"},
        "x_opencti_definition_type": "TLP",
    }
    assert marking_definition_tlp({**base, "x_opencti_definition": "TLP:AMBER+STRICT"}) is (
        TLP.AMBER_STRICT
    )
    assert marking_definition_tlp({**base, "name": "TLP:RED"}) is TLP.RED
    assert marking_definition_tlp({**base, "x_opencti_definition": "PAP:RED"}) is None
    assert marking_definition_tlp({**base, "x_opencti_definition_type": "PAP"}) is None


def test_statement_that_is_a_tlp_label() -> None:
    """A marking whose whole statement or name is a TLP label means that TLP."""
    md = {
        "type": "marking-definition",
        "id": STATEMENT_ID,
        "definition_type": "statement",
        "definition": {"statement": "TLP:RED"},
    }
    assert marking_definition_tlp(md) is TLP.RED
    assert marking_definition_tlp({"id": STATEMENT_ID, "name": "TLP:AMBER+STRICT"}) is (
        TLP.AMBER_STRICT
    )
    md["definition"] = {"statement": "Shared under TLP:RED, do not forward"}
    assert marking_definition_tlp(md) is None


def test_statement_marking_is_not_tlp() -> None:
    """A statement marking is not a TLP marking."""
    md = {
        "type": "marking-definition",
        "id": STATEMENT_ID,
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2024, Example Corp"},
    }
    assert marking_definition_tlp(md) is None


@pytest.mark.parametrize(
    "md",
    [
        None,
        [],
        "marking-definition--x",
        {},
        {"id": 5},
        {"id": ["x"]},
        {"definition_type": "tlp"},
        {"definition_type": "tlp", "definition": "amber"},
        {"definition_type": "tlp", "definition": {"tlp": ["amber"]}},
        {"definition_type": 3, "definition": {"tlp": "amber"}},
        {"extensions": []},
        {"extensions": {TLP2_EXTENSION_ID: "amber"}},
        {"extensions": {TLP2_EXTENSION_ID: {"tlp_2_0": {"x": 1}}}},
        {"x_opencti_definition_type": ["TLP"]},
        {"x_opencti_definition_type": "TLP", "x_opencti_definition": 7, "name": None},
    ],
)
def test_marking_definition_tlp_never_raises(md: Any) -> None:
    """Odd shapes of marking-definition objects give None, never an exception."""
    assert marking_definition_tlp(md) is None


def test_unmarked_object_has_no_tlp() -> None:
    """An object without TLP markings has no effective TLP (the caller applies its default)."""
    assert effective_tlp({"type": "indicator"}) is None
    assert effective_tlp({"object_marking_refs": []}) is None
    assert effective_tlp({"object_marking_refs": [STATEMENT_ID]}) is None
    assert effective_tlp({"granular_markings": [{"marking_ref": STATEMENT_ID}]}) is None


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [],
        {"object_marking_refs": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
        {"object_marking_refs": [None, 1, {}, []]},
        {
            "granular_markings": {
                "marking_ref": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
            }
        },
        {"granular_markings": [None, "x", {"marking_ref": 3}, {"lang": "en", "selectors": []}]},
    ],
)
def test_effective_tlp_never_raises_on_malformed_markings(obj: Any) -> None:
    """Malformed marking properties are ignored, never raised on."""
    assert effective_tlp(obj) is None


def test_extra_markings_resolve_custom_ids() -> None:
    """Custom marking definitions seen in the bundle resolve through extra_markings."""
    custom = "marking-definition--33333333-3333-4333-8333-333333333333"
    obj = {"object_marking_refs": [custom, next(iter(TLP1))]}
    assert effective_tlp(obj) is TLP.CLEAR
    assert effective_tlp(obj, {custom: TLP.RED}) is TLP.RED
    assert effective_tlp({"granular_markings": [{"marking_ref": custom}]}, {custom: TLP.GREEN}) is (
        TLP.GREEN
    )


_ALL_IDS = sorted({**TLP1, **TLP2})
_LABEL_RANK = {"CLEAR": 0, "GREEN": 1, "AMBER": 2, "AMBER+STRICT": 3, "RED": 4}
_CUSTOM = [f"marking-definition--4444444{i}-4444-4444-8444-444444444444" for i in range(3)]


@given(
    object_refs=st.lists(st.sampled_from([*_ALL_IDS, STATEMENT_ID, *_CUSTOM]), max_size=6),
    granular_refs=st.lists(st.sampled_from([*_ALL_IDS, STATEMENT_ID, *_CUSTOM]), max_size=6),
    custom_labels=st.lists(st.sampled_from(list(_LABEL_RANK)), min_size=3, max_size=3),
)
def test_strictest_marking_wins(
    object_refs: list[str], granular_refs: list[str], custom_labels: list[str]
) -> None:
    """The effective TLP is the strictest over object and granular markings (or None)."""
    custom = dict(zip(_CUSTOM, custom_labels, strict=True))
    labels = {**TLP1, **TLP2, **custom}
    obj = {
        "object_marking_refs": object_refs,
        "granular_markings": [
            {"marking_ref": ref, "selectors": ["description"]} for ref in granular_refs
        ],
    }
    ranks = [_LABEL_RANK[labels[r]] for r in [*object_refs, *granular_refs] if r in labels]
    extra = {k: TLP.parse(v) for k, v in custom.items()}
    result = effective_tlp(obj, extra)
    if ranks:
        assert result is not None
        assert _LABEL_RANK[result.label] == max(ranks)
    else:
        assert result is None


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from([*_ALL_IDS, "tlp", "TLP", "amber", "TLP:RED", TLP2_EXTENSION_ID]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["tlp", "tlp_2_0", "marking_ref", "statement", "x", TLP2_EXTENSION_ID, "selectors"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=15,
)
_MD_KEYS = st.sampled_from(
    [
        "id",
        "definition_type",
        "definition",
        "extensions",
        "name",
        "x_opencti_definition_type",
        "x_opencti_definition",
        "object_marking_refs",
        "granular_markings",
    ]
)


@given(st.dictionaries(_MD_KEYS, _JSON, max_size=6), st.dictionaries(st.text(), _JSON))
def test_random_shapes_never_raise(obj: dict[str, Any], extra: dict[str, Any]) -> None:
    """Random marking shapes never raise; results are TLPs or None."""
    assert marking_definition_tlp(obj) in (None, *TLP)
    assert effective_tlp(obj) in (None, *TLP)
    extra_tlps = {k: TLP.RED for k in extra}
    assert effective_tlp(obj, extra_tlps) in (None, *TLP)
