"""The ingest's socket-based IP range fast path agrees with ``observables.ip_range``."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from nca_share.stix.ingest import _ip_range
from nca_share.stix.observables import Observable, ip_range


@settings(max_examples=400)
@given(
    ip=st.ip_addresses(),
    prefix=st.integers(0, 130),
    junk=st.sampled_from(["", " ", "0", "/", "x", "00", "%eth0"]),
    upper=st.booleans(),
)
def test_fast_ip_range_matches_ip_range(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int, junk: str, upper: bool
) -> None:
    """Addresses, CIDRs and malformed variants give the same (version, start, end) or None."""
    text = str(ip).upper() if upper else str(ip)
    for value in (text, f"{text}/{prefix}", f"{text}{junk}", f"{text}/{prefix}{junk}"):
        for kind in (f"ipv{ip.version}", f"ipv{ip.version}-cidr"):
            obs = Observable(kind, value)
            assert _ip_range(obs) == ip_range(obs)
