"""Enterprise size class per Commission Recommendation 2003/361/EC (DOMAIN.md §1.2).

An enterprise is in a category when its headcount is BELOW the category's ceiling AND its
annual turnover OR its balance-sheet total is AT MOST the category's ceiling:

========  =========  ============  ===============
category  headcount  turnover      balance sheet
========  =========  ============  ===============
micro     < 10       ≤ €2 m        ≤ €2 m
small     < 50       ≤ €10 m       ≤ €10 m
medium    < 250      ≤ €50 m       ≤ €43 m
large     above the medium ceilings
========  =========  ============  ===============

The smallest category that fits wins. Missing figures are never guessed: when they leave more
than one category possible the result is ``unknown`` with the candidates and a reason. Partner
and linked-enterprise aggregation is not computed here: the caller says whether the figures
are already aggregated for the group (``group_aggregated``), and the flag is kept in the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from nca_share.errors import ValidationError

__all__ = ["SizeAssessment", "SizeCeiling", "SizeClass", "CEILINGS", "size_class"]

Amount = int | Decimal


class SizeClass(StrEnum):
    """Size category of an enterprise; ``unknown`` when the figures do not decide it."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Order micro < small < medium < large; unknown ranks -1."""
        return _RANK[self]

    @property
    def label_nl(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_RANK = {
    SizeClass.UNKNOWN: -1,
    SizeClass.MICRO: 0,
    SizeClass.SMALL: 1,
    SizeClass.MEDIUM: 2,
    SizeClass.LARGE: 3,
}
_LABELS = {
    SizeClass.MICRO: ("micro-onderneming", "micro enterprise"),
    SizeClass.SMALL: ("kleine onderneming", "small enterprise"),
    SizeClass.MEDIUM: ("middelgrote onderneming", "medium-sized enterprise"),
    SizeClass.LARGE: ("grote onderneming", "large enterprise"),
    SizeClass.UNKNOWN: ("onbekende omvang", "unknown size"),
}


@dataclass(frozen=True, slots=True)
class SizeCeiling:
    """The ceilings of one category: headcount strictly below, money at most."""

    size: SizeClass
    headcount_below: int
    turnover_max_eur: int
    balance_sheet_max_eur: int


CEILINGS: tuple[SizeCeiling, ...] = (
    SizeCeiling(SizeClass.MICRO, 10, 2_000_000, 2_000_000),
    SizeCeiling(SizeClass.SMALL, 50, 10_000_000, 10_000_000),
    SizeCeiling(SizeClass.MEDIUM, 250, 50_000_000, 43_000_000),
)


@dataclass(frozen=True, slots=True)
class SizeAssessment:
    """The size class with the figures it was computed from and why."""

    size: SizeClass
    candidates: tuple[SizeClass, ...]  # classes still possible (one when decided)
    headcount: Amount | None
    turnover_eur: Amount | None
    balance_sheet_eur: Amount | None
    group_aggregated: bool
    reasons_nl: tuple[str, ...]
    reasons_en: tuple[str, ...]


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _fits(
    ceiling: SizeCeiling,
    headcount: Amount | None,
    turnover: Amount | None,
    balance: Amount | None,
) -> bool | None:
    """Three-valued: does the enterprise fit the category (None: the figures don't say)."""
    head_ok = None if headcount is None else headcount < ceiling.headcount_below
    turn_ok = None if turnover is None else turnover <= ceiling.turnover_max_eur
    bal_ok = None if balance is None else balance <= ceiling.balance_sheet_max_eur
    return _and(head_ok, _or(turn_ok, bal_ok))


def _check(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationError(f"{name} must be a whole number or decimal", location=name)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError(f"{name} must be a finite number", location=name)
    if value < 0:
        raise ValidationError(f"{name} must not be negative", location=name)


def _eur(value: Amount) -> str:
    return f"€{value:,.0f}".replace(",", ".")


def size_class(
    headcount: Amount | None,
    turnover_eur: Amount | None,
    balance_sheet_eur: Amount | None,
    *,
    group_aggregated: bool = False,
) -> SizeAssessment:
    """The size class per Recommendation 2003/361/EC.

    :param headcount: staff headcount in annual work units (part-time staff count as
        fractions, so a Decimal is accepted), None when unknown.
    :param turnover_eur: annual turnover in euros, None when unknown.
    :param balance_sheet_eur: annual balance-sheet total in euros, None when unknown.
    :param group_aggregated: the figures already include partner and linked enterprises.
    :raises ValidationError: a figure is negative or not a number.
    """
    _check("headcount", headcount)
    _check("turnover_eur", turnover_eur)
    _check("balance_sheet_eur", balance_sheet_eur)

    # A class is possible when it may fit and no smaller class surely fits.
    candidates: list[SizeClass] = []
    decided: SizeClass | None = None
    for ceiling in CEILINGS:
        fit = _fits(ceiling, headcount, turnover_eur, balance_sheet_eur)
        if fit is True:
            candidates.append(ceiling.size)
            decided = ceiling.size
            break
        if fit is None:
            candidates.append(ceiling.size)
    else:
        candidates.append(SizeClass.LARGE)
    if decided is None and candidates == [SizeClass.LARGE]:
        decided = SizeClass.LARGE
    if decided is not None and len(candidates) > 1:
        decided = None

    figures_nl = []
    figures_en = []
    if headcount is not None:
        figures_nl.append(f"{headcount} medewerkers")
        figures_en.append(f"{headcount} staff")
    if turnover_eur is not None:
        figures_nl.append(f"omzet {_eur(turnover_eur)}")
        figures_en.append(f"turnover {_eur(turnover_eur)}")
    if balance_sheet_eur is not None:
        figures_nl.append(f"balanstotaal {_eur(balance_sheet_eur)}")
        figures_en.append(f"balance sheet {_eur(balance_sheet_eur)}")
    given_nl = ", ".join(figures_nl) or "geen cijfers"
    given_en = ", ".join(figures_en) or "no figures"

    reasons_nl: list[str] = []
    reasons_en: list[str] = []
    if decided is not None:
        size = decided
        reasons_nl.append(
            f"Met {given_nl} bent u een {size.label_nl} volgens de Europese definitie "
            "(Aanbeveling 2003/361/EG)."
        )
        reasons_en.append(
            f"With {given_en} you are a {size.label_en} under the EU definition "
            "(Recommendation 2003/361/EC)."
        )
    else:
        size = SizeClass.UNKNOWN
        missing_nl = []
        missing_en = []
        if headcount is None:
            missing_nl.append("het aantal medewerkers")
            missing_en.append("the headcount")
        if turnover_eur is None:
            missing_nl.append("de jaaromzet")
            missing_en.append("the annual turnover")
        if balance_sheet_eur is None:
            missing_nl.append("het balanstotaal")
            missing_en.append("the balance-sheet total")
        options_nl = " of ".join(c.label_nl for c in candidates)
        options_en = " or ".join(c.label_en for c in candidates)
        reasons_nl.append(
            f"Met {given_nl} kunnen we uw omvang niet vaststellen: u bent een {options_nl}. "
            f"Vul {' en '.join(missing_nl)} in."
        )
        reasons_en.append(
            f"With {given_en} we cannot determine your size: you are a {options_en}. "
            f"Please provide {' and '.join(missing_en)}."
        )
    if not group_aggregated:
        reasons_nl.append(
            "Let op: hoort uw onderneming bij een groep (partner- of verbonden ondernemingen), "
            "dan tellen die cijfers mee."
        )
        reasons_en.append(
            "Note: if your enterprise belongs to a group (partner or linked enterprises), "
            "their figures count too."
        )
    return SizeAssessment(
        size=size,
        candidates=tuple(candidates),
        headcount=headcount,
        turnover_eur=turnover_eur,
        balance_sheet_eur=balance_sheet_eur,
        group_aggregated=group_aggregated,
        reasons_nl=tuple(reasons_nl),
        reasons_en=tuple(reasons_en),
    )
