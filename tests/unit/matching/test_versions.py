"""Version comparison and ranges used by the product dimension."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nca_share.matching.versions import VersionRange, compare


@pytest.mark.parametrize(
    ("a", "b", "scheme", "expected"),
    [
        ("1.0", "1.0.0", "generic", 0),
        ("1.2.10", "1.2.9", "generic", 1),
        ("2.4.49", "2.4.50", "generic", -1),
        ("1.0rc1", "1.0", "generic", -1),
        ("1.0-beta.2", "1.0-alpha.9", "generic", 1),
        ("1.0.2k", "1.0.2", "generic", 1),
        ("v2.0", "2.0", "generic", 0),
        ("1:1.0", "2.0", "generic", 1),
        ("1.0.0+build5", "1.0.0", "generic", 0),
        ("3.2.1", "3.2.19", "pypi", -1),
        ("4.0.dev1", "4.0a1", "pypi", -1),
        ("1.0.post1", "1.0", "pypi", 1),
    ],
)
def test_compare(a: str, b: str, scheme: str, expected: int) -> None:
    """Versions order by the scheme's semantics."""
    assert compare(a, b, scheme) == expected
    assert compare(b, a, scheme) == -expected


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">=2.4.50,<2.4.60", ["2.4.50", "2.4.55", "2.4.59.1"], ["2.4.49", "2.4.60", "3.0"]),
        ("2.4.49", ["2.4.49"], ["2.4.48", "2.4.50"]),
        ("1.2.*", ["1.2", "1.2.9", "1.2.10"], ["1.3", "1.1.9"]),
        ("<1.0 || >=2.0,<2.1", ["0.9", "2.0.5"], ["1.5", "2.1"]),
        ("vers:pypi/>=3.2|<3.2.19", ["3.2", "3.2.1", "3.2.18"], ["3.1.9", "3.2.19"]),
        ("vers:generic/>=1.0|<1.5|>=2.0|<2.5", ["1.2", "2.1"], ["1.7", "2.5"]),
        ("^1.2.3", ["1.2.3", "1.9"], ["2.0", "1.2.2"]),
        ("*", ["0.1", "99"], []),
    ],
)
def test_range_contains(text: str, inside: list[str], outside: list[str]) -> None:
    """Range notations contain exactly the versions they describe."""
    rng = VersionRange.parse(text)
    for v in inside:
        assert rng.contains(v), v
    for v in outside:
        assert not rng.contains(v), v


def test_overlaps() -> None:
    """A declared range meets an affected range when they share a version."""
    affected = VersionRange.parse("<=4.12.3")
    assert VersionRange.parse(">=4.0,<5").overlaps(affected)
    assert not VersionRange.parse(">=4.12.4").overlaps(affected)
    assert VersionRange.exact("4.12.3").overlaps(affected)
    assert VersionRange.any().overlaps(affected)
    assert not VersionRange.parse(">4.12.3").overlaps(VersionRange.parse("<=4.12.3"))


def test_garbage_widens() -> None:
    """Unreadable constraints never raise; they widen to any version and say so."""
    rng = VersionRange.parse(">>> what")
    assert rng.approximate
    assert rng.contains("1.0")


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
)
def test_compare_matches_tuple_order(a: list[int], b: list[int]) -> None:
    """Numeric dotted versions compare like zero-padded integer tuples."""
    n = max(len(a), len(b))
    ta, tb = tuple(a + [0] * (n - len(a))), tuple(b + [0] * (n - len(b)))
    expected = (ta > tb) - (ta < tb)
    assert compare(".".join(map(str, a)), ".".join(map(str, b))) == expected
    assert compare(".".join(map(str, a)), ".".join(map(str, b)), "pypi") == expected


@given(st.text(max_size=40))
def test_parse_never_raises(text: str) -> None:
    """Hostile range text never raises."""
    rng = VersionRange.parse(text)
    rng.contains("1.0")
    rng.overlaps(VersionRange.parse(">=1"))
