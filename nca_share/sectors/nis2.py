"""NIS2 classification (Directive (EU) 2022/2555, Art. 2-3): essential, important,
registration only or out of scope, with the reasons in plain Dutch and English.

Implements DOMAIN.md §1.4 exactly: twelve rules evaluated top to bottom, the first that fires
decides and its number is kept. A national designation can raise an entity to essential but
never lowers what the law makes essential (rule 1 comes first; an "important" designation is
only rule 8, below every rule that makes an entity essential). Public administration is not an
enterprise: the size classes do not apply to it (rules 5-6 ignore size; rules 7 and 10 ignore
public-administration keys). Who set a designation, when and why is stored by the constituency
package; this module only takes the designation's value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from nca_share.errors import NotFound, ValidationError
from nca_share.sectors.size import SizeClass
from nca_share.sectors.taxonomy import Annex, Nis2Sector, Taxonomy, load_taxonomy

__all__ = [
    "RULES",
    "Classification",
    "Designation",
    "Nis2Facts",
    "Nis2Result",
    "Rule",
    "classify",
]


class Nis2Result(StrEnum):
    """The outcome of the classification, ordered by :attr:`rank`."""

    ESSENTIAL = "essential"
    IMPORTANT = "important"
    REGISTRATION_ONLY = "registration_only"
    OUT_OF_SCOPE = "out_of_scope"

    @property
    def rank(self) -> int:
        """out_of_scope 0 < registration_only 1 < important 2 < essential 3."""
        return _RESULT_RANK[self]

    @property
    def label_nl(self) -> str:
        return _RESULT_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _RESULT_LABELS[self][1]


_RESULT_RANK = {
    Nis2Result.OUT_OF_SCOPE: 0,
    Nis2Result.REGISTRATION_ONLY: 1,
    Nis2Result.IMPORTANT: 2,
    Nis2Result.ESSENTIAL: 3,
}
_RESULT_LABELS = {
    Nis2Result.ESSENTIAL: ("essentiële entiteit", "essential entity"),
    Nis2Result.IMPORTANT: ("belangrijke entiteit", "important entity"),
    Nis2Result.REGISTRATION_ONLY: ("alleen registratieplicht", "registration duties only"),
    Nis2Result.OUT_OF_SCOPE: ("valt niet onder NIS2", "not in scope of NIS2"),
}


class Designation(StrEnum):
    """A national designation (Art. 2(2)(b)-(e)) recorded by an analyst."""

    ESSENTIAL = "essential"
    IMPORTANT = "important"


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the decision table."""

    number: int
    result: Nis2Result
    article: str
    article_nl: str


RULES: tuple[Rule, ...] = (
    Rule(1, Nis2Result.ESSENTIAL, "Art. 2(2)(b)-(e), 3(1)(e)",
         "art. 2 lid 2 onder b tot en met e en art. 3 lid 1 onder e"),
    Rule(2, Nis2Result.ESSENTIAL, "Art. 2(3), 3(1)(f)", "art. 2 lid 3 en art. 3 lid 1 onder f"),
    Rule(3, Nis2Result.ESSENTIAL, "Art. 3(1)(b)", "art. 3 lid 1 onder b"),
    Rule(4, Nis2Result.ESSENTIAL, "Art. 3(1)(c)", "art. 3 lid 1 onder c"),
    Rule(5, Nis2Result.ESSENTIAL, "Art. 3(1)(d)", "art. 3 lid 1 onder d"),
    Rule(6, Nis2Result.IMPORTANT, "Art. 2(2)(f)(ii)", "art. 2 lid 2 onder f punt ii"),
    Rule(7, Nis2Result.ESSENTIAL, "Art. 3(1)(a)", "art. 3 lid 1 onder a"),
    Rule(8, Nis2Result.IMPORTANT, "Art. 2(2)(b)-(e), 3(2)",
         "art. 2 lid 2 onder b tot en met e en art. 3 lid 2"),
    Rule(9, Nis2Result.IMPORTANT, "Art. 2(2)(a), 3(2)", "art. 2 lid 2 onder a en art. 3 lid 2"),
    Rule(10, Nis2Result.IMPORTANT, "Art. 3(2)", "art. 3 lid 2"),
    Rule(11, Nis2Result.REGISTRATION_ONLY, "Art. 3(3), 27, 28",
         "art. 3 lid 3, art. 27 en art. 28"),
    Rule(12, Nis2Result.OUT_OF_SCOPE, "Art. 2(1)", "art. 2 lid 1"),
)  # fmt: skip

# The entity types the rules name (tests/unit/sectors checks they exist in the taxonomy).
ALWAYS_ESSENTIAL_TYPES = frozenset({"qualified_tsp", "tld_registry", "dns_provider"})
PUBLIC_NETWORK_TYPES = frozenset({"public_ecn", "public_ecs"})
ALWAYS_IMPORTANT_TYPES = frozenset({"public_ecn", "public_ecs", "non_qualified_tsp"})
CENTRAL_GOVERNMENT = "central_government"
REGIONAL_GOVERNMENT = "regional_government"
DOMAIN_REGISTRATION = "domain_registration_service"
NAMED_TYPES = (
    ALWAYS_ESSENTIAL_TYPES
    | ALWAYS_IMPORTANT_TYPES
    | {CENTRAL_GOVERNMENT, REGIONAL_GOVERNMENT, DOMAIN_REGISTRATION}
)
_MEDIUM_OR_LARGE = frozenset({SizeClass.MEDIUM, SizeClass.LARGE})


def _parse_size(value: SizeClass | str) -> SizeClass:
    try:
        return SizeClass(value)
    except ValueError:
        raise ValidationError(f"unknown size {str(value)[:20]!r}", location="size") from None


def _parse_designation(value: Designation | str) -> Designation:
    try:
        return Designation(value)
    except ValueError:
        raise ValidationError(
            f"unknown designation {str(value)[:20]!r}", location="designation"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Nis2Facts:
    """What the classification needs to know about one organisation.

    ``annex_keys`` may name sectors without a specific entity type; the keys of
    ``entity_types`` are always added (so ``annex_keys`` is derived when left empty).
    Strings are accepted for ``size`` and ``designation`` and converted.

    :raises ValidationError: an unknown entity type, NIS2 key, size or designation.
    """

    entity_types: frozenset[str]
    size: SizeClass
    annex_keys: frozenset[str] = field(default_factory=frozenset)
    designation: Designation | None = None
    cer_critical_entity: bool = False

    def __post_init__(self) -> None:
        taxonomy = load_taxonomy()
        types = frozenset(self.entity_types)
        keys = set(self.annex_keys)
        if not all(isinstance(v, str) for v in (*types, *keys)):
            raise ValidationError(
                "entity types and NIS2 keys must be text", location="entity_types"
            )
        for slug in sorted(types):
            try:
                key = taxonomy.entity_type(slug).nis2_key
            except NotFound as exc:
                raise ValidationError(exc.message, location="entity_types") from None
            if key is not None:
                keys.add(key)
        for key in sorted(keys):
            if key not in taxonomy.sectors:
                raise ValidationError(f"unknown NIS2 key {key[:40]!r}", location="annex_keys")
        size = _parse_size(self.size)
        designation = None if self.designation is None else _parse_designation(self.designation)
        if not isinstance(self.cer_critical_entity, bool):
            raise ValidationError("must be true or false", location="cer_critical_entity")
        object.__setattr__(self, "entity_types", types)
        object.__setattr__(self, "annex_keys", frozenset(keys))
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "designation", designation)

    @classmethod
    def of(
        cls,
        entity_types: Iterable[str],
        size: SizeClass | str,
        *,
        annex_keys: Iterable[str] = (),
        designation: Designation | str | None = None,
        cer_critical_entity: bool = False,
    ) -> Nis2Facts:
        """Convenience constructor from any iterables and strings."""
        return cls(
            entity_types=frozenset(entity_types),
            size=_parse_size(size),
            annex_keys=frozenset(annex_keys),
            designation=None if designation is None else _parse_designation(designation),
            cer_critical_entity=cer_critical_entity,
        )


@dataclass(frozen=True, slots=True)
class Classification:
    """The result, the rule (1-12) that decided it, the article and the reasons.

    ``reasons_*[0]`` is the decisive reason and ends with the article; further entries add
    context (a designation that could not lower the result, DORA, missing figures).
    ``provisional`` is True when the size is unknown and known figures could raise the result.
    """

    result: Nis2Result
    rule: int
    article: str
    article_nl: str
    reasons_nl: tuple[str, ...]
    reasons_en: tuple[str, ...]
    provisional: bool = False


# --------------------------------------------------------------------------- wording

_SIZE_NL = {
    SizeClass.MICRO: "micro-onderneming (minder dan 10 medewerkers)",
    SizeClass.SMALL: "kleine onderneming (minder dan 50 medewerkers)",
    SizeClass.MEDIUM: "middelgrote onderneming (50 tot 250 medewerkers, of meer dan €10 miljoen "
    "omzet én balanstotaal)",
    SizeClass.LARGE: "grote onderneming (250+ medewerkers, of meer dan €50 miljoen omzet én "
    "€43 miljoen balanstotaal)",
    SizeClass.UNKNOWN: "onderneming waarvan de omvang nog onbekend is",
}
_SIZE_EN = {
    SizeClass.MICRO: "micro enterprise (fewer than 10 staff)",
    SizeClass.SMALL: "small enterprise (fewer than 50 staff)",
    SizeClass.MEDIUM: "medium-sized enterprise (50 to 250 staff, or more than €10 million "
    "turnover and balance sheet)",
    SizeClass.LARGE: "large enterprise (250+ staff, or more than €50 million turnover and "
    "€43 million balance sheet)",
    SizeClass.UNKNOWN: "enterprise of still unknown size",
}


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _sectors_phrase(sectors: list[Nis2Sector], nl: bool) -> str:
    annexes = sorted({s.annex.value for s in sectors}, key=len)
    names = [s.name_nl if nl else s.name_en for s in sectors]
    if nl:
        where = "bijlage " + _join(annexes, "en")
        noun = "een sector" if len(sectors) == 1 else "sectoren"
        return f"{noun} uit {where} ({'; '.join(names)})"
    where = ("Annex " if len(annexes) == 1 else "Annexes ") + _join(annexes, "and")
    noun = "a sector" if len(sectors) == 1 else "sectors"
    return f"{noun} from {where} ({'; '.join(names)})"


def _type_labels(taxonomy: Taxonomy, slugs: Iterable[str], nl: bool) -> str:
    labels = [taxonomy.entity_type(s).label("nl" if nl else "en") for s in sorted(slugs)]
    return _join([_lower_first(label) for label in labels], "en" if nl else "and")


def _lower_first(text: str) -> str:
    """Lower-case a label's first letter unless it starts an acronym ("DNS")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _conclusion(rule: Rule, nl: bool) -> str:
    if nl:
        return f"daarom bent u een {rule.result.label_nl} ({rule.article_nl})."
    return f"therefore you are an {rule.result.label_en} ({rule.article})."


# --------------------------------------------------------------------------- the rules


def _decide(facts: Nis2Facts, taxonomy: Taxonomy) -> tuple[Rule, str, str]:
    """Evaluate DOMAIN.md §1.4 top to bottom; return the rule and the decisive reasons."""
    types = facts.entity_types
    size = facts.size
    enterprise = sorted(
        (taxonomy.sectors[k] for k in facts.annex_keys),
        key=lambda s: list(taxonomy.sectors).index(s.key),
    )
    enterprise = [s for s in enterprise if not s.public_administration]
    annex_one = [s for s in enterprise if s.annex is Annex.I]

    def fired(number: int, nl: str, en: str) -> tuple[Rule, str, str]:
        rule = RULES[number - 1]
        return rule, f"{nl}; {_conclusion(rule, True)}", f"{en}; {_conclusion(rule, False)}"

    if facts.designation is Designation.ESSENTIAL:
        return fired(
            1,
            "De overheid heeft uw organisatie aangewezen als essentiële entiteit (bijvoorbeeld "
            "omdat u de enige aanbieder in Nederland bent of omdat een verstoring ernstige "
            "gevolgen heeft voor de samenleving)",
            "The government has designated your organisation as an essential entity (for "
            "example because you are the sole provider in the Netherlands or because a "
            "disruption would seriously affect society)",
        )
    if facts.cer_critical_entity:
        return fired(
            2,
            "Uw organisatie is aangewezen als kritieke entiteit onder de CER-richtlijn "
            "(Richtlijn (EU) 2022/2557), ongeacht uw omvang",
            "Your organisation is designated as a critical entity under the CER Directive "
            "(Directive (EU) 2022/2557), whatever its size",
        )
    special = types & ALWAYS_ESSENTIAL_TYPES
    if special:
        return fired(
            3,
            f"Uw organisatie is een {_type_labels(taxonomy, special, True)}; zulke aanbieders "
            "vallen altijd onder NIS2, ongeacht hun omvang",
            f"Your organisation is a {_type_labels(taxonomy, special, False)}; such providers "
            "are always in scope of NIS2, whatever their size",
        )
    network = types & PUBLIC_NETWORK_TYPES
    if network and size in _MEDIUM_OR_LARGE:
        return fired(
            4,
            f"Uw organisatie is een {_SIZE_NL[size]} en {_type_labels(taxonomy, network, True)}",
            f"Your organisation is a {_SIZE_EN[size]} and a "
            f"{_type_labels(taxonomy, network, False)}",
        )
    if CENTRAL_GOVERNMENT in types:
        return fired(
            5,
            "Uw organisatie hoort bij de centrale overheid; voor overheden telt de omvang niet",
            "Your organisation is part of central government; size does not matter for "
            "public administration",
        )
    if REGIONAL_GOVERNMENT in types:
        return fired(
            6,
            "Uw organisatie is een regionale overheid die na de nationale risicobeoordeling "
            "onder NIS2 valt; voor overheden telt de omvang niet",
            "Your organisation is a regional government entity brought into scope by the "
            "national risk assessment; size does not matter for public administration",
        )
    if annex_one and size is SizeClass.LARGE:
        return fired(
            7,
            f"Uw organisatie is een {_SIZE_NL[size]} in {_sectors_phrase(annex_one, True)}",
            f"Your organisation is a {_SIZE_EN[size]} in {_sectors_phrase(annex_one, False)}",
        )
    if facts.designation is Designation.IMPORTANT:
        return fired(
            8,
            "De overheid heeft uw organisatie aangewezen als belangrijke entiteit",
            "The government has designated your organisation as an important entity",
        )
    always = types & ALWAYS_IMPORTANT_TYPES
    if always:
        return fired(
            9,
            f"Uw organisatie is een {_type_labels(taxonomy, always, True)}; zulke aanbieders "
            "vallen altijd onder NIS2, ongeacht hun omvang",
            f"Your organisation is a {_type_labels(taxonomy, always, False)}; such providers "
            "are always in scope of NIS2, whatever their size",
        )
    if enterprise and size in _MEDIUM_OR_LARGE:
        return fired(
            10,
            f"Uw organisatie is een {_SIZE_NL[size]} in {_sectors_phrase(enterprise, True)}",
            f"Your organisation is a {_SIZE_EN[size]} in {_sectors_phrase(enterprise, False)}",
        )
    if DOMAIN_REGISTRATION in types:
        rule = RULES[10]
        return (
            rule,
            "Uw organisatie registreert domeinnamen voor klanten. U bent daardoor geen "
            "essentiële of belangrijke entiteit, maar u moet zich wel laten registreren en "
            f"juiste registratiegegevens van domeinnamen bijhouden ({rule.article_nl}).",
            "Your organisation registers domain names for customers. That does not make you "
            "an essential or important entity, but you must register yourself and keep "
            f"accurate domain registration data ({rule.article}).",
        )
    rule = RULES[11]
    if enterprise and size is SizeClass.UNKNOWN:
        why_nl = (
            f"u bent actief in {_sectors_phrase(enterprise, True)}, maar uw omvang "
            "is onbekend; alleen middelgrote en grote ondernemingen in deze sectoren vallen "
            "vanwege hun sector onder NIS2"
        )
        why_en = (
            f"you are active in {_sectors_phrase(enterprise, False)}, but your "
            "size is unknown; only medium-sized and large enterprises are in scope because of "
            "their sector"
        )
    elif enterprise:
        why_nl = (
            f"u bent een {_SIZE_NL[size]} in {_sectors_phrase(enterprise, True)}; "
            "micro- en kleine ondernemingen vallen alleen onder NIS2 als ze een bijzondere "
            "dienst leveren of door de overheid zijn aangewezen"
        )
        why_en = (
            f"you are a {_SIZE_EN[size]} in {_sectors_phrase(enterprise, False)}; "
            "micro and small enterprises are in scope only if they provide a special service "
            "or are designated by the government"
        )
    elif facts.annex_keys:
        why_nl = (
            "van de overheid vallen alleen de centrale overheid en, na de nationale "
            "risicobeoordeling, regionale overheden onder NIS2"
        )
        why_en = (
            "of public administration only central government and, after the national risk "
            "assessment, regional government entities are in scope of NIS2"
        )
    else:
        why_nl = "u heeft geen activiteit uit bijlage I of II van NIS2"
        why_en = "you have no activity listed in Annex I or II of NIS2"
    return (
        rule,
        f"Uw organisatie valt niet onder NIS2: {why_nl} ({rule.article_nl}).",
        f"Your organisation is not in scope of NIS2: {why_en} ({rule.article}).",
    )


def classify(facts: Nis2Facts) -> Classification:
    """Classify an organisation under NIS2 per DOMAIN.md §1.4, with plain-language reasons.

    :param facts: entity types, annex keys, size class, designation and CER status.
    """
    taxonomy = load_taxonomy()
    rule, reason_nl, reason_en = _decide(facts, taxonomy)
    reasons_nl = [reason_nl]
    reasons_en = [reason_en]

    if facts.designation is Designation.IMPORTANT and rule.result is Nis2Result.ESSENTIAL:
        reasons_nl.append(
            "Uw aanwijzing als belangrijke entiteit verlaagt dit niet: de wet maakt u al "
            "essentieel."
        )
        reasons_en.append(
            "Your designation as an important entity does not lower this: the law already "
            "makes you essential."
        )
    provisional = False
    if facts.size is SizeClass.UNKNOWN:
        at_most = _decide(replace(facts, size=SizeClass.LARGE), taxonomy)[0]
        if at_most.result.rank > rule.result.rank:
            provisional = True
            reasons_nl.append(
                "Dit is voorlopig: uw omvang is onbekend. Als u middelgroot of groot bent, "
                f"kunt u een {at_most.result.label_nl} zijn. Vul uw aantal medewerkers, "
                "jaaromzet en balanstotaal in."
            )
            reasons_en.append(
                "This is provisional: your size is unknown. If you are medium-sized or large, "
                f"you may be an {at_most.result.label_en}. Please provide your headcount, "
                "annual turnover and balance-sheet total."
            )
    if rule.result in (Nis2Result.ESSENTIAL, Nis2Result.IMPORTANT):
        dora = sorted(
            k for k in facts.annex_keys if any(r.lex_specialis for r in taxonomy.rows_for_key(k))
        )
        if dora:
            reasons_nl.append(
                "Voor banken en financiële marktinfrastructuur gaat DORA (Verordening (EU) "
                "2022/2554) voor: incidenten meldt u volgens DORA."
            )
            reasons_en.append(
                "For banks and financial market infrastructures DORA (Regulation (EU) "
                "2022/2554) takes precedence: you report incidents under DORA."
            )
    return Classification(
        result=rule.result,
        rule=rule.number,
        article=rule.article,
        article_nl=rule.article_nl,
        reasons_nl=tuple(reasons_nl),
        reasons_en=tuple(reasons_en),
        provisional=provisional,
    )
