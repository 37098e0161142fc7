"""Validators and normalisers of constituency input, including a property test that the hex
ranges used for overlap detection agree with ``ipaddress``."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nca_share.constituency import validation as v
from nca_share.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Friesland", "fryslan"),
        ("Fryslân", "fryslan"),
        ("noord holland", "noord-holland"),
        ("Zuid-Holland", "zuid-holland"),
        ("NB", "noord-brabant"),
    ],
)
def test_province_spellings(raw: str, expected: str) -> None:
    """Common spellings of the twelve provinces map to one slug."""
    assert v.province(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.250.000", 1_250_000), ("€ 900000", 900_000), ("12,00", 12), ("7", 7)],
)
def test_money_and_counts(raw: str, expected: int) -> None:
    """Dutch thousands separators, euro signs and trailing cents are understood."""
    assert v.non_negative_int(raw, field="x") == expected


@pytest.mark.parametrize("raw", ["-5", "1,5", "veel", "1.2.3", "1e6"])
def test_bad_numbers(raw: str) -> None:
    """Anything but a whole non-negative number is refused with the field named."""
    with pytest.raises(ValidationError) as info:
        v.non_negative_int(raw, field="turnover_eur")
    assert info.value.location == "turnover_eur"


@pytest.mark.parametrize("raw", ["1234567", "123456789", "1234567a", ""])
def test_bad_kvk(raw: str) -> None:
    """A KVK number is exactly eight digits."""
    with pytest.raises(ValidationError):
        v.kvk_number(raw)


def test_domains_and_asns() -> None:
    """Domains are lower-cased and IDNA-encoded; AS numbers lose their prefix."""
    assert v.domain("*.Bücher.example.") == "xn--bcher-kva.example"
    assert v.asn("as1136") == "1136"
    assert v.is_subdomain_or_same("a.b.nl", "b.nl")
    assert not v.is_subdomain_or_same("ab.nl", "b.nl")


networks = st.one_of(
    st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(
        lambda t: ipaddress.ip_network((t[0], t[1]), strict=False)
    ),
    st.tuples(st.integers(0, 2**128 - 1), st.integers(0, 128)).map(
        lambda t: ipaddress.ip_network((t[0], t[1]), strict=False)
    ),
)


@given(networks, networks)
def test_hex_ranges_agree_with_ipaddress(
    a: ipaddress.IPv4Network | ipaddress.IPv6Network,
    b: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> None:
    """Two networks overlap exactly when their fixed-width hex ranges intersect."""
    x, y = v.cidr(str(a)), v.cidr(str(b))
    by_hex = x.version == y.version and x.start <= y.end and y.start <= x.end
    assert by_hex == (a.version == b.version and a.overlaps(b))
    assert x.value == a.compressed
