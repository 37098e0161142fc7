"""The in-memory constituency index, against a naive oracle."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from nca_share.matching.index import ConstituencyIndex, OrgProfile, ProductRef
from nca_share.matching.versions import VersionRange


def _index(nets: list[str]) -> ConstituencyIndex:
    index = ConstituencyIndex()
    for i, net in enumerate(nets):
        index.put_asset(i + 1, 100 + i, "cidr", net)
    return index


def test_nested_and_overlapping_networks_return_every_owner() -> None:
    """An address inside nested ranges reports every level's owner."""
    index = _index(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/16"])
    assert {r.value for r in index.lookup_ip("10.1.2.3")} == {
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
    }
    assert {r.value for r in index.lookup_network("10.1.0.0/15")} == {
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
    }
    assert index.lookup_ip("11.0.0.1") == []


def test_ipv6_and_removal() -> None:
    """IPv6 ranges are indexed apart from IPv4; dropped assets stop matching."""
    index = _index(["2001:db8::/32", "2001:db8:1::/48"])
    assert len(index.lookup_ip("2001:db8:1::5")) == 2
    index.drop_asset(2)
    assert [r.value for r in index.lookup_ip("2001:db8:1::5")] == ["2001:db8::/32"]
    assert index.lookup_ip("10.0.0.1") == []


def test_domain_suffix_walk() -> None:
    """A host matches the owner of the host or of any parent, never look-alikes."""
    index = ConstituencyIndex()
    index.put_asset(1, 1, "domain", "example.nl")
    index.put_asset(2, 2, "domain", "dept.example.nl")
    assert {r.org_id for r in index.lookup_host("a.b.dept.example.nl")} == {1, 2}
    assert {r.org_id for r in index.lookup_host("EXAMPLE.NL.")} == {1}
    assert index.lookup_host("notexample.nl") == []
    assert index.lookup_host("example.nl.evil.com") == []


def test_products_with_versions() -> None:
    """Products match by vendor:product (CPE or names) or PURL and overlapping versions."""
    index = ConstituencyIndex()
    index.put_asset(1, 1, "product", "x", cpe="cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*")
    index.put_asset(2, 2, "product", "y", vendor="Apache", product="HTTP Server")
    index.put_asset(3, 3, "product", "z", purl="pkg:pypi/Django_Rest", version_range=">=3")
    vuln = ProductRef.from_cpe(
        "cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*", VersionRange.parse("<2.4.50")
    )
    assert vuln is not None
    assert {r.org_id for r in index.lookup_product(vuln)} == {1, 2}
    newer = ProductRef.from_cpe("cpe:2.3:a:apache:http_server:2.4.51:*:*:*:*:*:*:*")
    assert newer is not None
    assert {r.org_id for r in index.lookup_product(newer)} == {2}
    dj = ProductRef.from_purl("pkg:pypi/django-rest@2.9")
    assert dj is not None
    assert index.lookup_product(dj) == []
    dj4 = ProductRef.from_purl("pkg:pypi/django.rest@4.0")
    assert dj4 is not None
    assert [r.org_id for r in index.lookup_product(dj4)] == [3]


def test_org_sets_update_in_place() -> None:
    """Replacing a profile moves the organisation between sector and region sets."""
    index = ConstituencyIndex()
    index.put_org(OrgProfile(1, "A", sectors=frozenset({"energy"}), province="utrecht"))
    assert index.orgs_in_sector("energy") == {1}
    index.put_org(OrgProfile(1, "A", sectors=frozenset({"government-national"})))
    assert index.orgs_in_sector("energy") == set()
    assert index.orgs_in_sector("government") == {1}
    assert index.orgs_in_province("utrecht") == set()
    index.drop_org(1)
    assert index.orgs_in_sector("government-national") == set()


_nets = st.builds(
    lambda a, p: str(ipaddress.ip_network(f"{ipaddress.IPv4Address(a)}/{p}", strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(4, 32),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_nets, max_size=25), st.lists(st.integers(0, 2**32 - 1), max_size=20))
def test_ip_lookup_agrees_with_naive_scan(nets: list[str], addresses: list[int]) -> None:
    """Probing prefix lengths finds exactly the owners a linear scan finds."""
    index = _index(nets)
    parsed = [ipaddress.ip_network(n) for n in nets]
    for a in addresses:
        ip = ipaddress.IPv4Address(a)
        expected = {i + 1 for i, n in enumerate(parsed) if ip in n}
        assert {r.asset_id for r in index.lookup_ip(str(ip))} == expected
