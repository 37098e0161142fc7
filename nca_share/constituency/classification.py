"""Glue between organisations and the sector knowledge in ``nca_share.sectors``: recompute an
organisation's size class and NIS2 classification (result, deciding rule, reasons in Dutch and
English) whenever its facts or its designation change, derive its STIX sectors, and offer
entity-type hints from its SBI codes.

The stored ``classification_reasons`` is a dict::

    {"nl": [...], "en": [...], "article": "Art. 3(2)", "article_nl": "...",
     "provisional": false, "size_nl": [...], "size_en": [...], "stix_sectors": [...]}
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from nca_share.constituency.models import Organisation
from nca_share.errors import NcaShareError
from nca_share.sectors.nis2 import Nis2Facts, classify
from nca_share.sectors.size import size_class
from nca_share.sectors.taxonomy import SectorHint, hints_for_sbi, load_taxonomy, stix_sectors_for

log = logging.getLogger(__name__)


@cache
def known_entity_types() -> frozenset[str]:
    """Every NIS2 entity-type slug the sectors taxonomy knows."""
    return frozenset(load_taxonomy().entity_types)


def entity_type_choices(locale: str) -> list[tuple[str, str, str]]:
    """(slug, label, sector name) for every entity type, in taxonomy order."""
    taxonomy = load_taxonomy()
    result = []
    for slug, etype in taxonomy.entity_types.items():
        sector = taxonomy.sectors[etype.nis2_key].name(locale) if etype.nis2_key else ""
        result.append((slug, etype.label(locale), sector))
    return result


def refresh(org: Organisation) -> None:
    """Recompute the derived size class and NIS2 classification of ``org`` in place."""
    for key, value in derive(
        employees=org.employees,
        turnover_eur=org.turnover_eur,
        balance_eur=org.balance_eur,
        group_aggregated=bool(org.group_aggregated),
        entity_types=org.nis2_entity_types or [],
        designation=org.designation,
        cer_critical_entity=bool(org.cer_critical_entity),
        sbi_codes=org.sbi_codes or [],
        kvk=org.kvk,
    ).items():
        setattr(org, key, value)


def derive(
    *,
    employees: int | None,
    turnover_eur: int | None,
    balance_eur: int | None,
    group_aggregated: bool,
    entity_types: list[str],
    designation: str | None,
    cer_critical_entity: bool,
    sbi_codes: list[str],
    kvk: str = "",
) -> dict[str, Any]:
    """The derived columns (size class, NIS2 result, rule, reasons) for these facts."""
    size = size_class(employees, turnover_eur, balance_eur, group_aggregated=group_aggregated)
    facts = Nis2Facts.of(
        entity_types, size.size, designation=designation, cer_critical_entity=cer_critical_entity
    )
    result = classify(facts)
    reasons: dict[str, Any] = {
        "nl": list(result.reasons_nl),
        "en": list(result.reasons_en),
        "article": result.article,
        "article_nl": result.article_nl,
        "provisional": result.provisional,
        "size_nl": list(size.reasons_nl),
        "size_en": list(size.reasons_en),
    }
    try:
        reasons["stix_sectors"] = sorted(
            stix_sectors_for(facts.annex_keys, sbi_codes, entity_types=facts.entity_types)
        )
    except NcaShareError as exc:  # an SBI code the table does not know: no STIX hint
        log.debug("no STIX sectors for %s: %s", kvk, exc)
        reasons["stix_sectors"] = []
    return {
        "size_class": size.size.value,
        "classification": result.result.value,
        "classification_rule": result.rule,
        "classification_reasons": reasons,
    }


def sbi_hints(sbi_codes: list[str], sbi_version: str) -> list[SectorHint]:
    """NIS2 sector hints for the organisation's SBI codes (hints, never a verdict)."""
    hints: list[SectorHint] = []
    for code in sbi_codes:
        try:
            hints.extend(hints_for_sbi(code, sbi_version))
        except NcaShareError:
            continue
    return hints
