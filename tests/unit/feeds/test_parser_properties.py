"""Property tests: feed parsers never crash on hostile input and keep the good records."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nca_share.feeds.parsers.csaf import map_csaf_document
from nca_share.feeds.parsers.csv_list import CsvMapping, parse_csv_list
from nca_share.feeds.parsers.misp import map_misp_document
from nca_share.feeds.warninglists import WarningLists

NOW = datetime(2026, 1, 1, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
public_ips = (
    st.integers(min_value=0, max_value=2**32 - 1)
    .map(lambda n: str(ipaddress.IPv4Address(n)))
    .filter(lambda ip: ipaddress.IPv4Address(ip).is_global)
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_csv_never_crashes(text: str) -> None:
    """Random text: no exception; every problem names a line."""
    result = parse_csv_list(text, CsvMapping(value=0, header=False), feed_key="p", default_time=NOW)
    assert all(p.location.startswith("line ") for p in result.problems)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(public_ips, min_size=1, max_size=20, unique=True),
    st.lists(st.text(alphabet="!@$%^&*()<>", min_size=1, max_size=10), max_size=5),
)
def test_csv_keeps_good_rows_around_bad_ones(ips: list[str], junk: list[str]) -> None:
    """Good rows mixed with junk rows: one indicator per good row, one problem per junk row."""
    lines = ["value"] + [
        v for pair in zip(ips, junk + [""] * len(ips), strict=False) for v in pair if v
    ]
    result = parse_csv_list("\n".join(lines), CsvMapping(), feed_key="p", default_time=NOW)
    assert len(result.objects) == len(ips)
    assert len(result.problems) == len([j for j in junk[: len(ips)] if j.strip()])


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_misp_and_csaf_never_crash(document: Any) -> None:
    """Random JSON given as a MISP event or a CSAF document: problems, never exceptions."""
    map_misp_document(document)
    map_csaf_document(document)
    map_misp_document({"Event": document})
    map_csaf_document({"document": document, "vulnerabilities": document, "product_tree": document})


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["type", "id", "pattern", "value", "object_refs", "source_ref"]),
            json_values,
            max_size=5,
        ),
        max_size=10,
    )
)
def test_warning_list_filter_never_crashes(objects: list[dict[str, Any]]) -> None:
    """Arbitrary object shapes pass through the warning lists without exceptions."""
    kept, suppressed = WarningLists().filter(objects)
    assert len(kept) <= len(objects)
    assert {s.object_id for s in suppressed if s.object_id}.isdisjoint(
        {o.get("id") for o in kept if isinstance(o.get("id"), str)}
    )
