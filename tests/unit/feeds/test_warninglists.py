"""Warning lists block known-benign values before ingest."""

from __future__ import annotations

from typing import Any

import pytest

from nca_share.feeds.warninglists import AllowEntry, WarningLists, pattern_values


@pytest.mark.parametrize(
    ("kind", "value", "listed"),
    [
        ("ip", "10.1.2.3", "rfc1918"),
        ("ip", "172.16.0.0/12", "rfc1918"),
        ("ip", "192.168.1.1", "rfc1918"),
        ("ip", "127.0.0.1", "loopback"),
        ("ip", "::1", "loopback"),
        ("ip", "169.254.1.1", "link-local"),
        ("ip", "fe80::1", "link-local"),
        ("ip", "192.0.2.10", "documentation"),
        ("ip", "198.51.100.1", "documentation"),
        ("ip", "203.0.113.7", "documentation"),
        ("ip", "2001:db8::1", "documentation"),
        ("ip", "224.0.0.251", "multicast"),
        ("ip", "ff02::1", "multicast"),
        ("ip", "100.64.0.1", "cgnat"),
        ("ip", "8.8.8.8", "public-resolver"),
        ("ip", "1.1.1.1", "public-resolver"),
        ("ip", "9.9.9.9", "public-resolver"),
        ("ip", "2606:4700:4700::1111", "public-resolver"),
        ("ip", "0.0.0.0/0", "rfc1918"),
        ("domain", "google.com", "popular-domain"),
        ("domain", "www.microsoft.com", "popular-domain"),
        ("url", "https://www.google.com/", "popular-domain"),
        ("url", "http://10.0.0.1/x", "rfc1918"),
        ("ip", "185.220.101.1", None),
        ("ip", "8.8.8.9", None),
        ("domain", "evil.blogspot.com", None),
        ("domain", "mail.google.com", None),
        ("url", "https://drive.google.com/uc?id=1", None),
    ],
)
def test_builtin_lists(kind: str, value: str, listed: str | None) -> None:
    """Each built-in range and list blocks its values and nothing else."""
    found = WarningLists().check(kind, value)
    assert (found[0] if found else None) == listed


def test_operator_allow_list_covers_subdomains_and_networks() -> None:
    """Allow-list domains cover their subdomains; networks cover addresses inside them."""
    lists = WarningLists(
        [
            AllowEntry("domain", "example.nl", "our own"),
            AllowEntry("ip", "145.100.0.0/16", "partner"),
            AllowEntry("url", "https://x.test/a", ""),
        ]
    )
    assert lists.check("domain", "mail.example.nl") == ("allow-list", "our own: example.nl")
    assert lists.check("domain", "example.nl.evil.com") is None
    assert lists.check("ip", "145.100.3.4") is not None
    assert lists.check("url", "https://x.test/a") is not None
    assert lists.check("url", "https://sub.example.nl/login") is not None


def _indicator(ident: str, pattern: str) -> dict[str, Any]:
    return {"type": "indicator", "id": ident, "pattern": pattern}


def test_filter_drops_indicators_scos_and_cascades() -> None:
    """Listed indicators/SCOs are dropped, relationships to them too, report refs pruned."""
    objects = [
        _indicator("indicator--1", "[ipv4-addr:value = '8.8.8.8']"),
        _indicator("indicator--2", "[ipv4-addr:value = '185.220.101.1']"),
        _indicator(
            "indicator--3",
            "[domain-name:value = 'www.google.com' OR domain-name:value = 'bad.example']",
        ),
        {"type": "domain-name", "id": "domain-name--1", "value": "google.com"},
        {
            "type": "relationship",
            "id": "relationship--1",
            "source_ref": "indicator--1",
            "target_ref": "malware--1",
        },
        {
            "type": "report",
            "id": "report--1",
            "object_refs": ["indicator--1", "indicator--2", "domain-name--1"],
        },
        {"type": "report", "id": "report--2", "object_refs": ["indicator--1"]},
    ]
    kept, suppressed = WarningLists().filter(objects)
    assert [o["id"] for o in kept] == ["indicator--2", "report--1"]
    assert kept[1]["object_refs"] == ["indicator--2"]
    reasons = {s.object_id: s.list_name for s in suppressed}
    assert reasons == {
        "indicator--1": "public-resolver",
        "indicator--3": "popular-domain",
        "domain-name--1": "popular-domain",
        "relationship--1": "public-resolver",
        "report--2": "cascade",
    }
    assert objects[5]["object_refs"] == ["indicator--1", "indicator--2", "domain-name--1"]


def test_pattern_values_unescapes() -> None:
    """Quoted values with escaped quotes are read back."""
    assert pattern_values("[url:value = 'http://a.b/it\\'s']") == [("url", "http://a.b/it's")]
