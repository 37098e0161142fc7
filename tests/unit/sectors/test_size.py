"""Size classes per Recommendation 2003/361/EC at every boundary, and unknown figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nca_share.errors import ValidationError
from nca_share.sectors.size import SizeClass, size_class

M = 1_000_000
MICRO, SMALL, MEDIUM, LARGE, UNKNOWN = (
    SizeClass.MICRO,
    SizeClass.SMALL,
    SizeClass.MEDIUM,
    SizeClass.LARGE,
    SizeClass.UNKNOWN,
)

BOUNDARIES: list[tuple[int, int, int, SizeClass]] = [
    # headcount 9/10
    (9, 2 * M, 2 * M, MICRO),
    (10, 2 * M, 2 * M, SMALL),
    # turnover €2m: at most the ceiling fits; one euro over needs the balance sheet
    (9, 2 * M + 1, 2 * M, MICRO),
    (9, 2 * M, 2 * M + 1, MICRO),
    (9, 2 * M + 1, 2 * M + 1, SMALL),
    # headcount 49/50
    (49, 10 * M, 10 * M, SMALL),
    (50, 10 * M, 10 * M, MEDIUM),
    # turnover €10m
    (49, 10 * M + 1, 10 * M, SMALL),
    (49, 10 * M, 10 * M + 1, SMALL),
    (49, 10 * M + 1, 10 * M + 1, MEDIUM),
    # headcount 249/250
    (249, 50 * M, 43 * M, MEDIUM),
    (250, 50 * M, 43 * M, LARGE),
    (250, 0, 0, LARGE),
    # turnover €50m and balance sheet €43m
    (249, 50 * M + 1, 43 * M, MEDIUM),
    (249, 50 * M, 43 * M + 1, MEDIUM),
    (249, 50 * M + 1, 43 * M + 1, LARGE),
    (249, 60 * M, 43 * M, MEDIUM),
    (249, 43 * M + 1, 43 * M + 1, MEDIUM),
    # one financial ceiling is enough, even far below the other
    (5, 60 * M, 1, MICRO),
    (0, 0, 0, MICRO),
]


@pytest.mark.parametrize(("headcount", "turnover", "balance", "expected"), BOUNDARIES)
def test_size_boundaries(headcount: int, turnover: int, balance: int, expected: SizeClass) -> None:
    """Headcount is strictly below the ceiling; turnover OR balance sheet at most the ceiling."""
    result = size_class(headcount, turnover, balance)
    assert result.size is expected
    assert result.candidates == (expected,)
    assert result.reasons_nl
    assert result.reasons_en
    assert expected.label_nl in result.reasons_nl[0]
    assert expected.label_en in result.reasons_en[0]


UNKNOWNS: list[tuple[int | None, int | None, int | None, SizeClass, tuple[SizeClass, ...]]] = [
    (None, None, None, UNKNOWN, (MICRO, SMALL, MEDIUM, LARGE)),
    (None, 1 * M, 1 * M, UNKNOWN, (MICRO, SMALL, MEDIUM, LARGE)),
    (20, None, None, UNKNOWN, (SMALL, MEDIUM, LARGE)),
    (5, 5 * M, None, UNKNOWN, (MICRO, SMALL)),
    (5, None, 1 * M, MICRO, (MICRO,)),
    (20, 5 * M, None, SMALL, (SMALL,)),
    (300, None, None, LARGE, (LARGE,)),
    (None, 60 * M, 50 * M, LARGE, (LARGE,)),
    (None, 60 * M, None, UNKNOWN, (MICRO, SMALL, MEDIUM, LARGE)),
    (100, 60 * M, None, UNKNOWN, (MEDIUM, LARGE)),
]


@pytest.mark.parametrize(("headcount", "turnover", "balance", "expected", "candidates"), UNKNOWNS)
def test_missing_figures_are_not_guessed(
    headcount: int | None,
    turnover: int | None,
    balance: int | None,
    expected: SizeClass,
    candidates: tuple[SizeClass, ...],
) -> None:
    """Missing figures give unknown with the possible classes, unless the rest decides."""
    result = size_class(headcount, turnover, balance)
    assert result.size is expected
    assert result.candidates == candidates


def test_unknown_reason_names_missing_figures() -> None:
    """An unknown size says which figures to fill in, in both languages."""
    result = size_class(20, None, None)
    assert "jaaromzet" in result.reasons_nl[0]
    assert "balanstotaal" in result.reasons_nl[0]
    assert "turnover" in result.reasons_en[0]
    assert "balance-sheet" in result.reasons_en[0]
    assert "medewerkers" not in result.reasons_nl[0].split("Vul")[1]


def test_group_aggregated_flag_is_kept() -> None:
    """The group-aggregation flag is carried; without it the reasons warn about groups."""
    aggregated = size_class(30, 5 * M, 5 * M, group_aggregated=True)
    single = size_class(30, 5 * M, 5 * M)
    assert aggregated.group_aggregated
    assert not single.group_aggregated
    assert len(single.reasons_en) == len(aggregated.reasons_en) + 1
    assert "group" in single.reasons_en[-1]


def test_decimal_amounts() -> None:
    """Decimal amounts compare exactly at the ceiling; headcount may be fractional AWU."""
    assert size_class(9, Decimal("2000000.00"), None).size is MICRO
    assert size_class(Decimal("9.9"), 1, 1).size is MICRO
    assert size_class(Decimal("10.0"), 1, 1).size is SMALL
    assert size_class(Decimal("249.5"), 1, 1).size is MEDIUM
    assert size_class(9, Decimal("2000000.01"), Decimal("2000000.01")).size is SMALL


@pytest.mark.parametrize(
    ("headcount", "turnover", "balance", "location"),
    [
        (-1, 0, 0, "headcount"),
        (1, -5, 0, "turnover_eur"),
        (1, 0, Decimal("NaN"), "balance_sheet_eur"),
        (True, 0, 0, "headcount"),
        (1, "10", 0, "turnover_eur"),
        (1, 1.5, 0, "turnover_eur"),
        (Decimal("-0.5"), 0, 0, "headcount"),
    ],
)
def test_bad_figures_rejected(
    headcount: object, turnover: object, balance: object, location: str
) -> None:
    """Negative, non-numeric or non-finite figures raise ValidationError naming the field."""
    with pytest.raises(ValidationError) as info:
        size_class(headcount, turnover, balance)  # type: ignore[arg-type]
    assert info.value.location == location


figures = st.one_of(st.none(), st.integers(min_value=0, max_value=200 * M))


@given(
    headcount=st.integers(min_value=0, max_value=2000),
    extra=st.integers(min_value=0, max_value=500),
    turnover=figures,
    balance=figures,
)
def test_more_staff_never_smaller(
    headcount: int, extra: int, turnover: int | None, balance: int | None
) -> None:
    """With the same money, more staff never gives a smaller class; candidates are ordered."""
    a = size_class(headcount, turnover, balance)
    b = size_class(headcount + extra, turnover, balance)
    assert min(c.rank for c in b.candidates) >= min(c.rank for c in a.candidates)
    for result in (a, b):
        ranks = [c.rank for c in result.candidates]
        assert ranks == sorted(ranks)
        assert len(set(ranks)) == len(ranks)
        assert (result.size is UNKNOWN) == (len(result.candidates) > 1)


@given(
    headcount=st.integers(min_value=0, max_value=2000),
    turnover=st.integers(min_value=0, max_value=200 * M),
    balance=st.integers(min_value=0, max_value=200 * M),
)
def test_complete_figures_always_decide(headcount: int, turnover: int, balance: int) -> None:
    """With all three figures the class is always known and follows the definition."""
    result = size_class(headcount, turnover, balance)
    assert result.size is not UNKNOWN

    def fits(h: int, t: int, b: int) -> bool:
        return headcount < h and (turnover <= t or balance <= b)

    if fits(10, 2 * M, 2 * M):
        assert result.size is MICRO
    elif fits(50, 10 * M, 10 * M):
        assert result.size is SMALL
    elif fits(250, 50 * M, 43 * M):
        assert result.size is MEDIUM
    else:
        assert result.size is LARGE
