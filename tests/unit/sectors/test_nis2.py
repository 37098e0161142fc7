"""NIS2 classification per DOMAIN.md §1.4: every rule firing, every branch, and properties
over random organisations (stable, explained, consistent with the size rules)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nca_share.errors import ValidationError
from nca_share.sectors.nis2 import (
    NAMED_TYPES,
    RULES,
    Classification,
    Designation,
    Nis2Facts,
    Nis2Result,
    classify,
)
from nca_share.sectors.size import SizeClass
from nca_share.sectors.taxonomy import load_taxonomy

ESS, IMP, REG, OUT = (
    Nis2Result.ESSENTIAL,
    Nis2Result.IMPORTANT,
    Nis2Result.REGISTRATION_ONLY,
    Nis2Result.OUT_OF_SCOPE,
)
MICRO, SMALL, MEDIUM, LARGE, UNKNOWN = (
    SizeClass.MICRO,
    SizeClass.SMALL,
    SizeClass.MEDIUM,
    SizeClass.LARGE,
    SizeClass.UNKNOWN,
)
SIZES_ASCENDING = [MICRO, SMALL, MEDIUM, LARGE]
DES, DIM = Designation.ESSENTIAL, Designation.IMPORTANT


@dataclass(frozen=True)
class Case:
    name: str
    types: tuple[str, ...]
    size: SizeClass
    result: Nis2Result
    rule: int
    designation: Designation | None = None
    cer: bool = False
    keys: tuple[str, ...] = ()


CASES = [
    # 1 designation essential raises anything, even without an annex activity
    Case("designated-essential-micro-food", ("food_undertaking",), MICRO, ESS, 1, DES),
    Case("designated-essential-no-sector", (), SMALL, ESS, 1, DES),
    Case("designated-essential-beats-dns", ("dns_provider",), MICRO, ESS, 1, DES),
    Case("designated-essential-registrar", ("domain_registration_service",), MICRO, ESS, 1,
         DES),
    # 2 CER critical entity, any size
    Case("cer-micro-water", ("drinking_water_supplier",), MICRO, ESS, 2, cer=True),
    Case("cer-unknown-size", ("gas_tso",), UNKNOWN, ESS, 2, cer=True),
    Case("cer-beats-designated-important", (), SMALL, ESS, 2, DIM, cer=True),
    # 3 qualified TSP, TLD registry, DNS provider at any size
    Case("qualified-tsp-micro", ("qualified_tsp",), MICRO, ESS, 3),
    Case("tld-registry-small", ("tld_registry",), SMALL, ESS, 3),
    Case("dns-provider-unknown", ("dns_provider",), UNKNOWN, ESS, 3),
    Case("dns-provider-large", ("dns_provider",), LARGE, ESS, 3),
    Case("dns-beats-designated-important", ("dns_provider",), MICRO, ESS, 3, DIM),
    # 4 public ECN/ECS medium or large
    Case("public-ecn-medium", ("public_ecn",), MEDIUM, ESS, 4),
    Case("public-ecs-large", ("public_ecs",), LARGE, ESS, 4),
    Case("ecn-medium-beats-designated-important", ("public_ecn",), MEDIUM, ESS, 4,
         DIM),
    # 5 central government, size does not apply
    Case("central-government-micro", ("central_government",), MICRO, ESS, 5),
    Case("central-government-unknown", ("central_government",), UNKNOWN, ESS, 5),
    Case("central-government-large", ("central_government",), LARGE, ESS, 5),
    Case("central-and-regional", ("central_government", "regional_government"), SMALL, ESS, 5),
    Case("central-beats-designated-important", ("central_government",), SMALL, ESS, 5,
         DIM),
    # 6 regional government, size does not apply
    Case("regional-government-micro", ("regional_government",), MICRO, IMP, 6),
    Case("regional-government-large", ("regional_government",), LARGE, IMP, 6),
    Case("regional-government-unknown", ("regional_government",), UNKNOWN, IMP, 6),
    # 7 Annex I and large
    Case("annex-i-large-dso", ("electricity_dso",), LARGE, ESS, 7),
    Case("annex-i-large-hospital", ("healthcare_provider",), LARGE, ESS, 7),
    Case("annex-i-large-msp", ("msp",), LARGE, ESS, 7),
    Case("annex-i-large-key-only", (), LARGE, ESS, 7, keys=("I.6",)),
    Case("annex-i-large-non-qualified-tsp", ("non_qualified_tsp",), LARGE, ESS, 7),
    Case("annex-i-and-ii-large", ("electricity_dso", "food_undertaking"), LARGE, ESS, 7),
    Case("annex-i-large-beats-designated-important", ("credit_institution",), LARGE, ESS, 7,
         DIM),
    # 8 designation important
    Case("designated-important-small-food", ("food_undertaking",), SMALL, IMP, 8,
         DIM),
    Case("designated-important-no-sector", (), MICRO, IMP, 8, DIM),
    Case("designated-important-medium-annex-i", ("electricity_dso",), MEDIUM, IMP, 8,
         DIM),
    Case("designated-important-registrar", ("domain_registration_service",), SMALL, IMP, 8,
         DIM),
    # 9 public ECN/ECS below medium, non-qualified TSP below large
    Case("public-ecn-micro", ("public_ecn",), MICRO, IMP, 9),
    Case("public-ecs-small", ("public_ecs",), SMALL, IMP, 9),
    Case("public-ecn-unknown", ("public_ecn",), UNKNOWN, IMP, 9),
    Case("non-qualified-tsp-micro", ("non_qualified_tsp",), MICRO, IMP, 9),
    Case("non-qualified-tsp-medium", ("non_qualified_tsp",), MEDIUM, IMP, 9),
    # 10 Annex I medium, Annex II medium or large
    Case("annex-i-medium", ("electricity_dso",), MEDIUM, IMP, 10),
    Case("annex-ii-medium", ("food_undertaking",), MEDIUM, IMP, 10),
    Case("annex-ii-large", ("food_undertaking",), LARGE, IMP, 10),
    Case("annex-ii-large-research", ("research_organisation",), LARGE, IMP, 10),
    Case("annex-i-and-ii-medium", ("electricity_dso", "chemicals_undertaking"), MEDIUM, IMP, 10),
    Case("annex-ii-key-only-medium", (), MEDIUM, IMP, 10, keys=("II.5d",)),
    Case("registrar-and-medium-food", ("domain_registration_service", "food_undertaking"),
         MEDIUM, IMP, 10),
    # 11 domain-registration services
    Case("registrar-micro", ("domain_registration_service",), MICRO, REG, 11),
    Case("registrar-large", ("domain_registration_service",), LARGE, REG, 11),
    Case("registrar-and-small-food", ("domain_registration_service", "food_undertaking"),
         SMALL, REG, 11),
    # 12 out of scope
    Case("no-sector-large", (), LARGE, OUT, 12),
    Case("annex-i-small", ("electricity_dso",), SMALL, OUT, 12),
    Case("annex-i-micro", ("airport_managing_body",), MICRO, OUT, 12),
    Case("annex-ii-small", ("food_undertaking",), SMALL, OUT, 12),
    Case("annex-ii-micro", ("online_marketplace",), MICRO, OUT, 12),
    Case("annex-unknown-size", ("food_undertaking",), UNKNOWN, OUT, 12),
    Case("public-admin-key-only-large", (), LARGE, OUT, 12, keys=("I.10",)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_table(case: Case) -> None:
    """Each case is decided by the expected rule with the expected result and article."""
    facts = Nis2Facts.of(
        case.types,
        case.size,
        annex_keys=case.keys,
        designation=case.designation,
        cer_critical_entity=case.cer,
    )
    result = classify(facts)
    assert (result.result, result.rule) == (case.result, case.rule)
    assert result.article == RULES[case.rule - 1].article
    _assert_explained(result)


def test_every_rule_is_covered() -> None:
    """The table above makes each of the twelve rules fire at least once."""
    assert {c.rule for c in CASES} == set(range(1, 13))
    assert [r.number for r in RULES] == list(range(1, 13))


def _assert_explained(c: Classification) -> None:
    assert c.reasons_nl
    assert c.reasons_en
    assert all(r.strip() for r in (*c.reasons_nl, *c.reasons_en))
    assert c.article in c.reasons_en[0]
    assert c.article_nl in c.reasons_nl[0]
    assert RULES[c.rule - 1].result is c.result


def test_example_sentence() -> None:
    """A large electricity company reads the SME sentence from the brief."""
    c = classify(Nis2Facts.of(["electricity_dso"], "large"))
    assert c.reasons_nl[0].startswith("Uw organisatie is een grote onderneming (250+ medewerkers")
    assert "in een sector uit bijlage I (Energie — elektriciteit)" in c.reasons_nl[0]
    assert c.reasons_nl[0].endswith("daarom bent u een essentiële entiteit (art. 3 lid 1 onder a).")
    assert "Annex I (Energy — electricity)" in c.reasons_en[0]


def test_designation_that_cannot_lower_is_explained() -> None:
    """An important designation on a legally essential entity is named and does not lower it."""
    c = classify(Nis2Facts.of(["electricity_dso"], "large", designation="important"))
    assert c.result is ESS
    assert any("verlaagt dit niet" in r for r in c.reasons_nl)
    assert any("does not lower" in r for r in c.reasons_en)


def test_dora_note_for_banks() -> None:
    """Banks in scope are told DORA takes precedence for incident reporting."""
    c = classify(Nis2Facts.of(["credit_institution"], "medium"))
    assert c.result is IMP
    assert any("DORA" in r for r in c.reasons_en)
    assert not any(
        "DORA" in r for r in classify(Nis2Facts.of(["credit_institution"], "small")).reasons_en
    )


def test_unknown_size_is_provisional_when_it_matters() -> None:
    """Unknown size marks the result provisional only when known figures could raise it."""
    food = classify(Nis2Facts.of(["food_undertaking"], "unknown"))
    assert food.result is OUT
    assert food.provisional
    assert any("voorlopig" in r for r in food.reasons_nl)
    ecn = classify(Nis2Facts.of(["public_ecn"], "unknown"))
    assert ecn.result is IMP
    assert ecn.provisional
    assert not classify(Nis2Facts.of(["dns_provider"], "unknown")).provisional
    assert not classify(Nis2Facts.of(["central_government"], "unknown")).provisional
    assert not classify(Nis2Facts.of([], "unknown")).provisional
    assert not classify(Nis2Facts.of(["food_undertaking"], "small")).provisional


def test_annex_keys_are_derived_from_entity_types() -> None:
    """The facts always include the keys of their entity types."""
    facts = Nis2Facts.of(["electricity_dso", "domain_registration_service"], "small")
    assert facts.annex_keys == {"I.1a"}
    assert Nis2Facts.of(["gas_tso"], "small", annex_keys=["II.4"]).annex_keys == {"I.1d", "II.4"}


@pytest.mark.parametrize(
    ("kwargs", "location"),
    [
        ({"entity_types": ["pirate"], "size": "small"}, "entity_types"),
        ({"entity_types": [], "size": "small", "annex_keys": ["III.1"]}, "annex_keys"),
        ({"entity_types": [], "size": "huge"}, "size"),
        ({"entity_types": [], "size": "small", "designation": "vital"}, "designation"),
        ({"entity_types": [3], "size": "small"}, "entity_types"),
    ],
)
def test_bad_facts_rejected(kwargs: dict[str, object], location: str) -> None:
    """Unknown entity types, keys, sizes or designations raise ValidationError."""
    with pytest.raises(ValidationError) as info:
        Nis2Facts.of(**kwargs)  # type: ignore[arg-type]
    assert info.value.location == location


def test_cer_flag_must_be_boolean() -> None:
    """A non-boolean CER flag is refused rather than read as truthy."""
    with pytest.raises(ValidationError):
        Nis2Facts(entity_types=frozenset(), size=SMALL, cer_critical_entity="no")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- properties

ALL_TYPES = sorted(load_taxonomy().entity_types)
ALL_KEYS = list(load_taxonomy().sectors)
SPECIAL_TYPES = NAMED_TYPES

facts_strategy = st.builds(
    Nis2Facts.of,
    st.sets(st.sampled_from(ALL_TYPES), max_size=4),
    st.sampled_from(list(SizeClass)),
    annex_keys=st.sets(st.sampled_from(ALL_KEYS), max_size=2),
    designation=st.sampled_from([None, Designation.ESSENTIAL, Designation.IMPORTANT]),
    cer_critical_entity=st.booleans(),
)


@settings(max_examples=300)
@given(facts=facts_strategy)
def test_classification_is_stable_and_explained(facts: Nis2Facts) -> None:
    """Same input, same result; the result always names its rule and article in nl and en."""
    first = classify(facts)
    rebuilt = Nis2Facts.of(
        sorted(facts.entity_types, reverse=True),
        facts.size.value,
        annex_keys=list(facts.annex_keys),
        designation=facts.designation,
        cer_critical_entity=facts.cer_critical_entity,
    )
    assert classify(rebuilt) == first == classify(facts)
    assert 1 <= first.rule <= 12
    _assert_explained(first)
    assert first.provisional is False or facts.size is UNKNOWN


@settings(max_examples=300)
@given(facts=facts_strategy)
def test_growing_never_lowers_the_result(facts: Nis2Facts) -> None:
    """Increasing the size class never lowers the result."""
    ranks = [
        classify(Nis2Facts.of(facts.entity_types, size, annex_keys=facts.annex_keys,
                              designation=facts.designation,
                              cer_critical_entity=facts.cer_critical_entity)).result.rank
        for size in SIZES_ASCENDING
    ]  # fmt: skip
    assert ranks == sorted(ranks)


@settings(max_examples=300)
@given(facts=facts_strategy)
def test_designation_raises_but_never_lowers(facts: Nis2Facts) -> None:
    """A designation never lowers the legal result; an essential designation always gives
    essential; an important one at least important."""

    def with_designation(d: Designation | None) -> Classification:
        return classify(
            Nis2Facts.of(
                facts.entity_types,
                facts.size,
                annex_keys=facts.annex_keys,
                designation=d,
                cer_critical_entity=facts.cer_critical_entity,
            )
        )

    law = with_designation(None)
    important = with_designation(Designation.IMPORTANT)
    essential = with_designation(Designation.ESSENTIAL)
    assert important.result.rank >= max(law.result.rank, IMP.rank)
    assert essential.result is ESS
    if law.result is ESS:
        assert important.result is ESS
        assert important.rule == law.rule


@settings(max_examples=300)
@given(
    types=st.sets(st.sampled_from([t for t in ALL_TYPES if t not in SPECIAL_TYPES]), max_size=3),
    size=st.sampled_from([MICRO, SMALL]),
)
def test_small_annex_entities_without_special_types_are_out(
    types: set[str], size: SizeClass
) -> None:
    """Micro and small Annex entities without a special type or designation are out of scope,
    except public administration (which size does not concern)."""
    facts = Nis2Facts.of(types, size)
    result = classify(facts)
    assert (result.result, result.rule) == (OUT, 12)


@settings(max_examples=200)
@given(
    types=st.sets(
        st.sampled_from([t for t in ALL_TYPES if t not in SPECIAL_TYPES]), min_size=1, max_size=3
    ),
    size=st.sampled_from([MEDIUM, LARGE]),
)
def test_medium_and_large_annex_entities_are_in(types: set[str], size: SizeClass) -> None:
    """Medium and large Annex entities are important, and essential when large in Annex I."""
    facts = Nis2Facts.of(types, size)
    result = classify(facts)
    annex_one = any(k.startswith("I.") for k in facts.annex_keys)
    if size is LARGE and annex_one:
        assert (result.result, result.rule) == (ESS, 7)
    else:
        assert (result.result, result.rule) == (IMP, 10)


@given(
    size=st.sampled_from(list(SizeClass)),
    designation=st.sampled_from([None, Designation.IMPORTANT]),
)
def test_public_administration_ignores_size(
    size: SizeClass, designation: Designation | None
) -> None:
    """Central government is essential and regional government important at every size."""
    central = classify(Nis2Facts.of(["central_government"], size, designation=designation))
    regional = classify(Nis2Facts.of(["regional_government"], size))
    assert (central.result, central.rule) == (ESS, 5)
    assert (regional.result, regional.rule) == (IMP, 6)
