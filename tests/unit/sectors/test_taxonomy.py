"""The sector taxonomy: NIS2 keys and entity types, NACE/SBI hints and the STIX mapping,
checked row by row against the table in DOMAIN.md §3."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import pytest

from nca_share.errors import NotFound, ValidationError
from nca_share.sectors import nis2
from nca_share.sectors.taxonomy import (
    Annex,
    HintFlag,
    SbiVersion,
    Taxonomy,
    annex_keys_for,
    entity_type,
    entity_types_for_key,
    hints_for_sbi,
    load_taxonomy,
    nace_class_for_sbi,
    nis2_keys_for_stix_sector,
    nis2_sector,
    stix_sectors_for,
)

ALL_KEYS = [
    "I.1a", "I.1b", "I.1c", "I.1d", "I.1e", "I.2a", "I.2b", "I.2c", "I.2d", "I.3", "I.4",
    "I.5", "I.6", "I.7", "I.8", "I.9", "I.10", "I.11", "II.1", "II.2", "II.3", "II.4",
    "II.5a", "II.5b", "II.5c", "II.5d", "II.5e", "II.5f", "II.6", "II.7",
]  # fmt: skip

STIX_VOCABULARY = {
    "agriculture", "aerospace", "automotive", "chemical", "commercial", "communications",
    "construction", "defense", "education", "energy", "entertainment", "financial-services",
    "government", "emergency-services", "government-national", "government-regional",
    "government-local", "government-public-services", "healthcare", "hospitality-leisure",
    "infrastructure", "dams", "nuclear", "water", "insurance", "manufacturing", "mining",
    "non-profit", "pharmaceuticals", "retail", "technology", "telecommunications",
    "transportation", "utilities",
}  # fmt: skip

WITHOUT_NIS2 = {
    "construction", "entertainment", "hospitality-leisure", "insurance", "mining", "non-profit",
    "retail", "commercial", "defense", "dams", "emergency-services",
    "government-public-services", "government-local",
}  # fmt: skip

# DOMAIN.md §3, one entry per table row: (key, entity type selecting the row or None,
# NACE classes (4 digits) that must hint at the key, derived STIX values, partial STIX values).
MAPPING_TABLE: list[tuple[str, str | None, list[str], set[str], set[str]]] = [
    ("I.1a", None, ["3511", "3512", "3513", "3514"], {"energy", "utilities"}, {"nuclear"}),
    ("I.1b", None, ["3530"], {"energy", "utilities"}, set()),
    ("I.1c", None, ["0610", "1920", "4950", "5210", "4671"], {"energy"}, set()),
    ("I.1d", None, ["0620", "3521", "3522", "3523"], {"energy", "utilities"}, set()),
    ("I.1e", None, ["2011", "4950"], {"energy"}, {"chemical"}),
    ("I.2a", None, ["5110", "5121", "5223"], {"transportation"}, set()),
    ("I.2b", None, ["4910", "4920", "5221"], {"transportation", "infrastructure"}, set()),
    ("I.2c", None, ["5010", "5020", "5030", "5040", "5222"],
     {"transportation", "infrastructure"}, set()),
    ("I.2d", None, ["8411", "8413", "5221"], {"transportation", "government-regional"},
     {"government-local"}),
    ("I.3", None, ["6419"], {"financial-services"}, set()),
    ("I.4", None, ["6611", "6619"], {"financial-services"}, set()),
    ("I.5", None, ["8610", "8621", "8622", "8623", "8690", "7120", "7211", "7219", "2110",
                   "2120", "3250", "2660"], {"healthcare", "pharmaceuticals"}, set()),
    ("I.6", None, ["3600"], {"water", "utilities"}, set()),
    ("I.7", None, ["3700"], {"water", "utilities"}, set()),
    ("I.8", "public_ecn", ["6110", "6120", "6130", "6190"],
     {"telecommunications", "communications", "infrastructure"}, set()),
    ("I.8", "dns_provider", ["6311", "6209", "9499"], {"technology", "infrastructure"}, set()),
    ("I.9", None, ["6202", "6203", "6209"], {"technology"}, set()),
    ("I.10", None, ["8411", "8412", "8413"], {"government-national", "government-regional"},
     set()),
    ("I.11", None, ["5122", "6130", "5223"], {"aerospace", "infrastructure"}, set()),
    ("II.1", None, ["5310", "5320"], {"transportation"}, {"commercial"}),
    ("II.2", None, ["3811", "3812", "3821", "3822", "3831", "3832", "3900"], {"utilities"},
     set()),
    ("II.3", None, ["2011", "2030", "2059", "4675", "2221"], {"chemical"}, set()),
    ("II.4", None, ["1011", "1089", "1102", "4631", "4639"], {"agriculture", "manufacturing"},
     {"commercial"}),
    ("II.5a", None, ["3250", "2660", "2120"], {"healthcare", "manufacturing"}, set()),
    ("II.5b", None, ["2611", "2620", "2680"], {"technology", "manufacturing"}, set()),
    ("II.5c", None, ["2711", "2790"], {"manufacturing"}, set()),
    ("II.5d", None, ["2811", "2899"], {"manufacturing"}, set()),
    ("II.5e", None, ["2910", "2932"], {"automotive", "manufacturing"}, set()),
    ("II.5f", None, ["3011", "3030", "3040", "3099"], {"manufacturing"},
     {"aerospace", "defense"}),
    ("II.6", None, ["4791", "6312", "5829"], {"technology", "communications"},
     {"retail", "commercial"}),
    ("II.7", None, ["7211", "7220", "8542"], {"education"}, {"non-profit"}),
]  # fmt: skip

# The same rows in NACE Rev. 2.1 numbering (SBI 2025), for the rows whose classes changed.
MAPPING_TABLE_2025: list[tuple[str, list[str]]] = [
    ("I.1a", ["3511", "3512", "3513", "3514", "3515", "3516", "3540"]),
    ("I.1c", ["0610", "1920", "4950", "5210", "4681"]),
    ("I.1d", ["0620", "3521", "3522", "3523", "3524"]),
    ("I.2b", ["4911", "4912", "4920", "5221"]),
    ("I.5", ["8610", "8621", "8691", "8699", "7120", "7210", "2110", "2120", "3250", "2660"]),
    ("I.8", ["6110", "6120", "6190", "6310", "6290", "9499"]),
    ("I.9", ["6220", "6290"]),
    ("I.11", ["5122", "6110", "5223"]),
    ("II.2", ["3811", "3821", "3823", "3833", "3900"]),
    ("II.3", ["2011", "2059", "4685", "2226"]),
    ("II.6", ["4791", "6391", "6392", "5829"]),
    ("II.7", ["7210", "7220", "8540"]),
]
# Rev. 2 codes that mean something else (or nothing) in Rev. 2.1.
RENUMBERED_2025 = [
    ("4671", "I.1c"),  # 2.1: wholesale of motor vehicles
    ("4675", "II.3"),  # 2.1: no such class (chemicals wholesale is 46.85)
    ("6202", "I.9"),  # 2.1: no such class (62.20)
    ("6311", "I.8"),  # 2.1: no such class (63.10)
    ("8542", "II.7"),  # 2.1: no such class (85.40)
]

# NACE classes the table explicitly keeps OUT of a key.
EXCLUDED = [
    ("4931", "I.2d"),  # urban transit
    ("8422", "I.10"),  # defence (84.2x)
    ("8424", "I.10"),  # public order
    ("4711", "II.4"),  # retail
    ("0111", "II.4"),  # primary farming
    ("3515", "I.1a"),
    ("6201", "I.9"),  # programming is not managed services
]


def _raw_docs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    base = resources.files("nca_share.sectors").joinpath("data")
    return (
        tomllib.loads(base.joinpath("nis2.toml").read_text("utf-8")),
        tomllib.loads(base.joinpath("mapping.toml").read_text("utf-8")),
        tomllib.loads(base.joinpath("stix.toml").read_text("utf-8")),
    )


def test_every_annex_key_is_present_in_order() -> None:
    """The taxonomy holds exactly the NIS2 keys I.1a … II.7, in Annex order."""
    assert list(load_taxonomy().sectors) == ALL_KEYS


@pytest.mark.parametrize("key", ALL_KEYS)
def test_sector_has_names_annex_and_entity_types(key: str) -> None:
    """Every key has Dutch and English names, the right annex and at least one entity type."""
    sector = nis2_sector(key)
    assert sector.name_nl
    assert sector.name_en
    assert sector.annex is (Annex.I if key.startswith("I.") else Annex.II)
    assert sector.public_administration == (key == "I.10")
    types = entity_types_for_key(key)
    assert types
    assert all(t.nis2_key == key for t in types)
    assert sector.name("nl") == sector.name_nl
    assert sector.name("en") == sector.name_en


def test_subsector_names_join_sector_and_subsector() -> None:
    """Sub-sector names read "Energie — elektriciteit" / "Energy — electricity"."""
    assert nis2_sector("I.1a").name_nl == "Energie — elektriciteit"
    assert nis2_sector("I.1a").name_en == "Energy — electricity"
    assert nis2_sector("I.3").name_en == "Banking"


def test_entity_types_have_labels_and_stable_slugs() -> None:
    """Every entity type has a snake_case slug, nl/en labels and a known key (or none)."""
    taxonomy = load_taxonomy()
    assert len(taxonomy.entity_types) >= 60
    for slug, et in taxonomy.entity_types.items():
        assert slug == et.slug
        assert slug == slug.lower()
        assert " " not in slug
        assert et.label_nl
        assert et.label_en
        assert et.label("nl") != ""
        assert et.nis2_key is None or et.nis2_key in taxonomy.sectors
    assert entity_type("domain_registration_service").nis2_key is None
    assert entity_type("electricity_dso").nis2_key == "I.1a"
    assert entity_type("qualified_tsp").nis2_key == "I.8"
    assert entity_type("central_government").nis2_key == "I.10"


def test_rule_entity_types_exist() -> None:
    """Every entity type the NIS2 rules name exists in the data."""
    assert set(load_taxonomy().entity_types) >= nis2.NAMED_TYPES


def test_unknown_key_and_slug_raise_not_found() -> None:
    """Look-ups of unknown keys or slugs raise NotFound (get_* convention)."""
    with pytest.raises(NotFound):
        nis2_sector("I.99")
    with pytest.raises(NotFound):
        entity_type("space_pirate")
    with pytest.raises(NotFound):
        annex_keys_for(["space_pirate"])


def test_annex_keys_for_entity_types() -> None:
    """Entity types map to their keys; a registrar adds none."""
    assert annex_keys_for(["electricity_dso", "gas_tso", "domain_registration_service"]) == {
        "I.1a",
        "I.1d",
    }


def test_load_is_cached() -> None:
    """The taxonomy is loaded once per process."""
    assert load_taxonomy() is load_taxonomy()


# ----------------------------------------------------------------------------- mapping rows


@pytest.mark.parametrize(
    ("key", "selector", "codes", "stix", "partial"),
    MAPPING_TABLE,
    ids=[f"{row[0]}-{row[1] or 'all'}" for row in MAPPING_TABLE],
)
def test_mapping_row(
    key: str, selector: str | None, codes: list[str], stix: set[str], partial: set[str]
) -> None:
    """Each DOMAIN.md §3 row: its NACE classes hint at the key, the key derives its STIX
    values (partial ones only on request) and each STIX value leads back to the key."""
    for code in codes:
        hints = [h for h in hints_for_sbi(code, "2008") if h.nis2_key == key]
        assert hints, f"{code} should hint at {key}"
        assert all(h.nace_class == f"{code[:2]}.{code[2:]}" for h in hints)
        if selector is not None:
            assert any(selector in h.entity_types for h in hints)
    types = [selector] if selector else []
    derived = stix_sectors_for([], [], entity_types=types) if selector else None
    if derived is not None:
        assert derived == stix
    else:
        assert stix_sectors_for([key], []) == stix
    assert not partial & stix_sectors_for([key], [])
    for value in stix:
        assert key in nis2_keys_for_stix_sector(value)
    for value in partial:
        assert key not in nis2_keys_for_stix_sector(value)
        assert key in nis2_keys_for_stix_sector(value, include_partial=True)


def test_mapping_covers_every_key() -> None:
    """The test table above has a row for every NIS2 key (I.8 twice)."""
    assert {row[0] for row in MAPPING_TABLE} == set(ALL_KEYS)
    assert len(load_taxonomy().rows) == len(MAPPING_TABLE)


def test_i8_without_entity_types_derives_both_rows() -> None:
    """Without entity types, I.8 derives the STIX values of both its rows."""
    assert stix_sectors_for(["I.8"], []) == {
        "telecommunications",
        "communications",
        "infrastructure",
        "technology",
    }
    assert stix_sectors_for(["I.8"], [], entity_types=["cloud_provider"]) == {
        "technology",
        "infrastructure",
    }


@pytest.mark.parametrize(("code", "key"), EXCLUDED)
def test_excluded_classes_do_not_hint(code: str, key: str) -> None:
    """NACE classes DOMAIN.md keeps out of a key give no hint for it."""
    assert key not in {h.nis2_key for h in hints_for_sbi(code, "2008")}


@pytest.mark.parametrize(
    ("key", "codes"), MAPPING_TABLE_2025, ids=[r[0] for r in MAPPING_TABLE_2025]
)
def test_mapping_row_sbi_2025(key: str, codes: list[str]) -> None:
    """SBI 2025 codes (NACE Rev. 2.1 numbering) hint at the same keys, flagged approximate."""
    for code in codes:
        hints = [h for h in hints_for_sbi(code, "2025") if h.nis2_key == key]
        assert hints, f"SBI 2025 {code} should hint at {key}"
        assert all(HintFlag.APPROXIMATE_VERSION in h.flags for h in hints)


def test_unchanged_rows_match_in_both_editions() -> None:
    """Rows without Rev. 2.1 changes give the same keys for SBI 2008 and SBI 2025 codes."""
    changed = {key for key, _ in MAPPING_TABLE_2025}
    for key, _, codes, _, _ in MAPPING_TABLE:
        if key in changed:
            continue
        for code in codes:
            old = {h.nis2_key for h in hints_for_sbi(code, "2008")}
            new = {h.nis2_key for h in hints_for_sbi(code, "2025")}
            assert key in old
            assert key in new


@pytest.mark.parametrize(("code", "key"), RENUMBERED_2025)
def test_renumbered_classes_follow_the_edition(code: str, key: str) -> None:
    """A Rev. 2 class that changed meaning in Rev. 2.1 hints only under SBI 2008."""
    assert key in {h.nis2_key for h in hints_for_sbi(code, "2008")}
    assert key not in {h.nis2_key for h in hints_for_sbi(code, "2025")}


def test_stix_from_sbi_follows_the_edition() -> None:
    """Weapons are 25.40 in NACE Rev. 2 but 25.30 in Rev. 2.1; the default edition is 2025."""
    assert stix_sectors_for([], ["2540"], sbi_version="2008") == {"manufacturing", "defense"}
    assert stix_sectors_for([], ["2540"], sbi_version="2025") == {"manufacturing"}
    assert stix_sectors_for([], ["2530"]) == {"manufacturing", "defense"}
    assert stix_sectors_for([], ["3032"]) == {"manufacturing", "aerospace", "defense"}
    with pytest.raises(ValidationError):
        stix_sectors_for([], ["2530"], sbi_version="1993")


# ----------------------------------------------------------------------------- hint flags


def test_legal_test_codes_are_not_ambiguous() -> None:
    """Division 26 is NIS2's own legal test for II.5b: the hint is flagged legal, unambiguous."""
    (hint,) = hints_for_sbi("2651", "2008")
    assert hint.nis2_key == "II.5b"
    assert hint.flags == {HintFlag.LEGAL_TEST}
    assert not hint.ambiguous
    assert hint.entity_types == ("electronics_manufacturer",)


@pytest.mark.parametrize("code", ["21", "2110", "26", "27", "28", "29", "30", "3091"])
def test_legal_divisions_flagged(code: str) -> None:
    """Pharma (21) and manufacturing divisions 26-30 carry the legal-test flag."""
    hints = hints_for_sbi(code, "2008")
    assert any(HintFlag.LEGAL_TEST in h.flags for h in hints)


def test_ambiguities_are_flagged() -> None:
    """Generic classes, codes hinting at several keys and non-derivable types are ambiguous."""
    pipeline = hints_for_sbi("4950", "2008")
    assert {h.nis2_key for h in pipeline} == {"I.1c", "I.1e"}
    assert all({HintFlag.GENERIC_CODE, HintFlag.MULTIPLE_KEYS} <= h.flags for h in pipeline)
    hosting = hints_for_sbi("6311", "2008")
    assert [h.nis2_key for h in hosting] == ["I.8"]
    assert HintFlag.NOT_DERIVABLE in hosting[0].flags
    assert hosting[0].ambiguous
    assert hosting[0].note_en
    assert hosting[0].note_nl
    bank = hints_for_sbi("6419", "2008")
    assert HintFlag.LEX_SPECIALIS in bank[0].flags


def test_clean_class_is_unambiguous() -> None:
    """Drinking water (36.00) is an unambiguous hint from SBI 2008."""
    (hint,) = hints_for_sbi("36001", "2008")
    assert hint.nis2_key == "I.6"
    assert hint.flags == frozenset()
    assert not hint.ambiguous
    assert hint.nace_class == "36.00"
    assert hint.sbi_code == "36001"


def test_sbi_2025_hints_are_approximate() -> None:
    """SBI 2025 is NACE Rev. 2.1: the same code gives the same key, flagged approximate."""
    (old,) = hints_for_sbi("3600", "2008")
    (new,) = hints_for_sbi("3600", "SBI 2025")
    assert old.nis2_key == new.nis2_key
    assert HintFlag.APPROXIMATE_VERSION in new.flags
    assert new.ambiguous
    assert HintFlag.APPROXIMATE_VERSION not in old.flags
    assert SbiVersion.SBI_2025.nace_revision == "2.1"
    assert SbiVersion.SBI_2008.nace_revision == "2"


def test_coarse_sbi_code_is_broader() -> None:
    """A division-level SBI code overlapping class hints gives every candidate, flagged broader."""
    hints = hints_for_sbi("35", "2008")
    assert {h.nis2_key for h in hints} == {"I.1a", "I.1b", "I.1d"}
    assert all(HintFlag.BROADER_CODE in h.flags for h in hints)
    assert hints_for_sbi("86", "2008")[0].nis2_key == "I.5"


def test_sbi_code_forms() -> None:
    """Dots and spaces are ignored; the fifth (Dutch) digit does not matter."""
    assert nace_class_for_sbi("35.13") == "3513"
    assert nace_class_for_sbi(" 62 03 1 ") == "6203"
    assert nace_class_for_sbi("01") == "01"
    assert [h.nis2_key for h in hints_for_sbi("62031", "2008")] == ["I.9"]
    assert hints_for_sbi("62011", "2008") == []
    assert hints_for_sbi("4120", "2008") == []


@pytest.mark.parametrize("code", ["", "1", "123456", "abc", "35a1", "٣٥١٣", "35-13"])
def test_malformed_sbi_codes_rejected(code: str) -> None:
    """Malformed SBI codes raise ValidationError naming the field."""
    with pytest.raises(ValidationError) as info:
        hints_for_sbi(code, "2008")
    assert info.value.location == "sbi_code"


def test_sbi_code_must_be_text() -> None:
    """An integer SBI code (leading zeros lost) is refused."""
    with pytest.raises(ValidationError):
        nace_class_for_sbi(111)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["2008", "SBI 2008", "sbi2008", SbiVersion.SBI_2008])
def test_sbi_version_forms(version: str) -> None:
    """Common spellings of the SBI version parse."""
    assert SbiVersion.parse(version) is SbiVersion.SBI_2008


@pytest.mark.parametrize("version", ["", "1993", "nace", "20088"])
def test_unknown_sbi_version_rejected(version: str) -> None:
    """Unknown SBI versions raise ValidationError."""
    with pytest.raises(ValidationError) as info:
        hints_for_sbi("3600", version)
    assert info.value.location == "sbi_version"


# ----------------------------------------------------------------------------- STIX


def test_stix_vocabulary_is_complete() -> None:
    """The vocabulary holds exactly the 34 industry-sector-ov values, each labelled nl/en."""
    stix = load_taxonomy().stix
    assert set(stix) == STIX_VOCABULARY
    assert len(stix) == 34
    assert all(s.label_nl and s.label_en for s in stix.values())


def test_stix_values_without_nis2_counterpart() -> None:
    """The values DOMAIN.md lists without NIS2 counterpart derive no NIS2 key."""
    stix = load_taxonomy().stix
    assert {v for v, s in stix.items() if not s.has_nis2} == WITHOUT_NIS2
    for value in WITHOUT_NIS2:
        assert nis2_keys_for_stix_sector(value) == set()
        assert not any(value in row.stix for row in load_taxonomy().rows)


def test_every_stix_value_with_counterpart_leads_to_a_key() -> None:
    """Every other STIX value finds at least one NIS2 key (nuclear only partly)."""
    for value in STIX_VOCABULARY - WITHOUT_NIS2 - {"nuclear"}:
        assert nis2_keys_for_stix_sector(value), value
    assert nis2_keys_for_stix_sector("nuclear", include_partial=True) == {"I.1a"}


def test_broader_government_value() -> None:
    """STIX "government" covers the government-* keys; look-ups ignore case and blanks."""
    assert nis2_keys_for_stix_sector("government") == {"I.2d", "I.10"}
    assert nis2_keys_for_stix_sector(" Energy ") == {"I.1a", "I.1b", "I.1c", "I.1d", "I.1e"}
    assert nis2_keys_for_stix_sector("x-custom") == set()


def test_stix_from_sbi_codes_for_non_nis2_companies() -> None:
    """SBI codes derive STIX sectors also outside NIS2; the most specific prefix wins."""
    assert stix_sectors_for([], ["4120"]) == {"construction"}
    assert stix_sectors_for([], ["47191"]) == {"retail"}
    assert stix_sectors_for([], ["6512"]) == {"insurance"}
    assert stix_sectors_for([], ["3040"]) == {"manufacturing", "defense"}
    assert stix_sectors_for([], ["3099"]) == {"manufacturing"}
    assert stix_sectors_for([], ["9900"]) == set()
    assert stix_sectors_for(["I.6"], ["3600", "6201"]) == {"water", "utilities", "technology"}


def test_stix_sectors_for_rejects_unknown_input() -> None:
    """Unknown keys and entity types raise NotFound, malformed SBI codes ValidationError."""
    with pytest.raises(NotFound):
        stix_sectors_for(["I.99"], [])
    with pytest.raises(NotFound):
        stix_sectors_for([], [], entity_types=["pirate"])
    with pytest.raises(ValidationError):
        stix_sectors_for([], ["x"])


# ----------------------------------------------------------------------------- validation


def _broken(mutate: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    nis2_doc, mapping_doc, stix_doc = copy.deepcopy(_raw_docs())
    if mutate == "unknown_stix":
        mapping_doc["row"][0]["stix"].append("spaceships")
    elif mutate == "no_counterpart_as_derived":
        mapping_doc["row"][0]["stix"].append("retail")
    elif mutate == "bad_nace":
        mapping_doc["row"][0]["nace"] = ["35.1x"]
    elif mutate == "reversed_range":
        mapping_doc["row"][0]["nace"] = ["35.14-35.11"]
    elif mutate == "unknown_key":
        nis2_doc["entity_type"][0]["key"] = "I.42"
    elif mutate == "duplicate_slug":
        nis2_doc["entity_type"].append(dict(nis2_doc["entity_type"][0]))
    elif mutate == "missing_row":
        mapping_doc["row"] = mapping_doc["row"][1:]
    elif mutate == "type_not_of_key":
        mapping_doc["row"][0]["entity_types"] = ["gas_tso"]
    elif mutate == "flag_not_in_nace":
        mapping_doc["row"][0]["generic"] = ["99.99"]
    elif mutate == "annex_mismatch":
        nis2_doc["sector"][0]["annex"] = "II"
    elif mutate == "missing_label":
        del nis2_doc["entity_type"][3]["nl"]
    elif mutate == "nace_unknown_stix":
        stix_doc["nace"]["41"] = ["buildings"]
    elif mutate == "flag_not_in_nace_2025":
        mapping_doc["row"][0]["generic_2025"] = ["35.11"]
    elif mutate == "bad_nace_2025":
        mapping_doc["row"][0]["nace_2025"] = []
    return nis2_doc, mapping_doc, stix_doc


@pytest.mark.parametrize(
    "mutate",
    [
        "unknown_stix",
        "no_counterpart_as_derived",
        "bad_nace",
        "reversed_range",
        "unknown_key",
        "duplicate_slug",
        "missing_row",
        "type_not_of_key",
        "flag_not_in_nace",
        "annex_mismatch",
        "missing_label",
        "nace_unknown_stix",
        "flag_not_in_nace_2025",
        "bad_nace_2025",
    ],
)
def test_broken_data_is_rejected_at_load(mutate: str) -> None:
    """Inconsistent data files fail at load with a location naming the file."""
    with pytest.raises(ValidationError) as info:
        Taxonomy.from_documents(*_broken(mutate))
    assert info.value.location
    assert ".toml" in info.value.location


def test_unbroken_documents_load() -> None:
    """The unmodified documents build a taxonomy equal in size to the cached one."""
    taxonomy = Taxonomy.from_documents(*_raw_docs())
    assert len(taxonomy.rows) == len(load_taxonomy().rows)
