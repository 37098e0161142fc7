"""Hostile input never crashes matching: malformed knowledge documents, odd STIX values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nca_share.errors import ValidationError
from nca_share.matching.engine import _provinces, _sectors, parse_product, software_products
from nca_share.matching.explain import explain
from nca_share.matching.index import ConstituencyIndex
from nca_share.matching.knowledge import kev_rows, nvd_rows

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("reader", [nvd_rows, kev_rows])
def test_readers_refuse_non_documents(reader: Any) -> None:
    """Something that is not an NVD response or KEV catalogue is a ValidationError."""
    with pytest.raises(ValidationError):
        reader(["not", "a", "document"])


def test_readers_skip_bad_entries() -> None:
    """Bad entries are skipped, good ones around them kept."""
    doc = {
        "vulnerabilities": [
            {"cveID": "CVE-2024-0001", "vendorProject": "Acme", "product": "Portal"},
            {"cveID": "not-a-cve", "vendorProject": "Acme", "product": "Portal"},
            {"cveID": "CVE-2024-0002", "vendorProject": 5, "product": None},
            "garbage",
        ]
    }
    assert [r["cve"] for r in kev_rows(doc)] == ["CVE-2024-0001"]
    nvd = {"vulnerabilities": [{"cve": {"id": "CVE-2024-0003", "configurations": [{"nodes": [
        {"cpeMatch": [{"vulnerable": True, "criteria": "cpe:2.3:a:acme:portal:*:*:*:*:*:*:*:*",
                       "versionEndExcluding": "2.0"}, {"vulnerable": True, "criteria": 7}]},
        "junk"]}]}}, {"cve": "junk"}]}  # fmt: skip
    rows = nvd_rows(nvd)
    assert [(r["product_key"], r["versions"]) for r in rows] == [("acme:portal", "<2.0")]


@settings(max_examples=150, deadline=None)
@given(_json)
def test_extractors_never_raise(value: Any) -> None:
    """Sector, location, software and explanation helpers accept any JSON shape."""
    raw = value if isinstance(value, dict) else {"sectors": value, "x_purl": value, "cpe": value}
    _sectors(raw)
    _provinces(raw, ConstituencyIndex())
    software_products(raw)
    explain(
        {
            **raw,
            "dimension": raw.get("dimension")
            if isinstance(raw.get("dimension"), str)
            else "network",
        }
    )


@given(st.text(max_size=60))
def test_lookups_and_products_accept_any_text(text: str) -> None:
    """Index lookups and product criteria never raise on arbitrary text."""
    index = ConstituencyIndex()
    index.put_asset(1, 1, "cidr", "10.0.0.0/8")
    index.put_asset(2, 1, "domain", "example.nl")
    index.lookup_ip(text)
    index.lookup_network(text)
    index.lookup_host(text)
    index.lookup_asn(text)
    product = parse_product(text)
    if product is not None:
        index.lookup_product(product)
