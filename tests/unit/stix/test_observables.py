"""Observable normalisation, extraction from STIX objects, and IP ranges."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nca_share.stix.observables import (
    KINDS,
    Observable,
    extract_observables,
    guess_observable,
    hash_kind,
    ip_observable,
    ip_range,
    normalize,
)

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
MISP_STIX = SHARED_DATA / "misp-stix-tests"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" * 2


def _bundle_objects(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["objects"])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("ipv4", " 192.0.2.1 ", ("ipv4", "192.0.2.1")),
        ("ipv4", "192.0.2.0/24", ("ipv4-cidr", "192.0.2.0/24")),
        ("ipv4", "192.0.2.77/24", ("ipv4-cidr", "192.0.2.0/24")),
        ("ipv4-cidr", "192.0.2.77/32", ("ipv4", "192.0.2.77")),
        ("ipv6", "2001:DB8:0:0::1", ("ipv6", "2001:db8::1")),
        ("ipv6", "2001:db8::1/128", ("ipv6", "2001:db8::1")),
        ("ipv6-cidr", "2001:db8::1/32", ("ipv6-cidr", "2001:db8::/32")),
        ("ipv4", "2001:db8::1", None),
        ("ipv6", "192.0.2.1", None),
        ("ipv4", "192.0.2.256", None),
        ("ipv4", "192.0.2.1/33", None),
        ("ipv4", "", None),
        ("domain", "WWW.Example.COM.", ("domain", "www.example.com")),
        ("domain", "münchen.de", ("domain", "xn--mnchen-3ya.de")),
        ("domain", "MÜNCHEN.DE", ("domain", "xn--mnchen-3ya.de")),
        ("domain", "faß.de", ("domain", "xn--fa-hia.de")),
        ("domain", "☃.net", ("domain", "xn--n3h.net")),
        ("domain", "xn--mnchen-3ya.de", ("domain", "xn--mnchen-3ya.de")),
        ("domain", "*.example.org", ("domain", "*.example.org")),
        ("domain", "under_score.example", ("domain", "under_score.example")),
        ("domain", "a b.example", None),
        ("domain", "evil.example/path", None),
        ("domain", "a..b", None),
        ("domain", "-a.example", None),
        ("domain", ".", None),
        ("domain", "x" * 64 + ".example", None),
        ("url", "hxxp://Evil.Example/Login", ("url", "hxxp://evil.example/Login")),
        ("url", "evil.example/Path", ("url", "evil.example/Path")),
        ("url", "", None),
        ("email", " Alice@Example.NL ", ("email", "alice@example.nl")),
        ("email", "alice", None),
        ("email", "a@b@c", None),
        ("email", "Alice <alice@example.nl>", None),
        ("md5", MD5.upper(), ("md5", MD5)),
        ("md5", MD5[:-1], None),
        ("md5", MD5[:-1] + "g", None),
        ("sha1", SHA1, ("sha1", SHA1)),
        ("sha256", f" {SHA256} ", ("sha256", SHA256)),
        ("sha256", SHA1, None),
        ("sha512", SHA512, ("sha512", SHA512)),
        ("cve", "cve-2021-44228", ("cve", "CVE-2021-44228")),
        ("cve", "CVE-2024-123456", ("cve", "CVE-2024-123456")),
        ("cve", "CVE-21-44228", None),
        ("cve", "CVE-2021-123", None),
        (
            "cpe",
            "cpe:2.3:a:Microsoft:Exchange_Server:2019:cu12:*:*:*:*:*:*",
            ("cpe", "cpe:2.3:a:microsoft:exchange_server:2019:cu12:*:*:*:*:*:*"),
        ),
        (
            "cpe",
            r"cpe:2.3:a:acme:tool\:pro:1.0:*:*:*:*:*:*:*",
            ("cpe", r"cpe:2.3:a:acme:tool\:pro:1.0:*:*:*:*:*:*:*"),
        ),
        ("cpe", "cpe:2.3:a:acme:tool:pro:1.0:*:*:*:*:*:*:*", None),
        ("cpe", "cpe:2.3:a:acme:tool:1.0", None),
        ("cpe", "cpe:/a:acme:tool:1.0", None),
        ("cpe", "cpe:2.3:x:acme:tool:1.0:*:*:*:*:*:*:*", None),
        ("cpe", "cpe:2.3:a::tool:1.0:*:*:*:*:*:*:*", None),
        ("purl", "pkg:PyPI/Django@1.11.1", ("purl", "pkg:pypi/django@1.11.1")),
        (
            "purl",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ("purl", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
        ),
        ("purl", "pkg:", None),
        ("purl", "not a purl", None),
        ("purl", "pkg:npm", None),
        ("unknown-kind", "x", None),
    ],
)
def test_normalize(kind: str, value: str, expected: tuple[str, str] | None) -> None:
    """Each kind normalises to its canonical form or is rejected."""
    result = normalize(kind, value)
    if expected is None:
        assert result is None
    else:
        assert result == Observable(*expected)
        assert result.kind in KINDS
        # canonical forms are fixed points
        assert normalize(result.kind, result.value) == result


def test_url_keeps_userinfo_path_and_query_case() -> None:
    """URL normalisation lower-cases only the scheme and the host."""
    obs = normalize("url", "HTTPS://User:PW@Evil.EXAMPLE:8443/Path?Q=A#F")
    assert obs == Observable("url", "https://User:PW@evil.example:8443/Path?Q=A#F")


@pytest.mark.parametrize("value", [None, 5, ["192.0.2.1"], {"value": "x"}, b"192.0.2.1"])
def test_normalize_non_strings(value: Any) -> None:
    """Non-string values are not observables (and do not raise)."""
    for kind in KINDS:
        assert normalize(kind, value) is None
    assert normalize(["ipv4"], "192.0.2.1") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [
        ("MD5", "md5"),
        ("md5", "md5"),
        ("SHA-1", "sha1"),
        ("SHA1", "sha1"),
        ("SHA-256", "sha256"),
        ("SHA256", "sha256"),
        ("sha_256", "sha256"),
        ("SHA-512", "sha512"),
        ("SHA3-256", None),
        ("SSDEEP", None),
        ("TLSH", None),
        (None, None),
    ],
)
def test_hash_kind(algorithm: Any, kind: str | None) -> None:
    """STIX hash algorithm names map to our hash kinds."""
    assert hash_kind(algorithm) == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("ipv4", "192.0.2.1")),
        ("10.1.2.3/8", ("ipv4-cidr", "10.0.0.0/8")),
        ("2001:db8::1", ("ipv6", "2001:db8::1")),
        ("Example.com", ("domain", "example.com")),
        ("http://Example.com/x", ("url", "http://example.com/x")),
        ("a@Example.com", ("email", "a@example.com")),
        (MD5.upper(), ("md5", MD5)),
        (SHA1, ("sha1", SHA1)),
        (SHA256, ("sha256", SHA256)),
        (SHA512, ("sha512", SHA512)),
        ("cve-2021-44228", ("cve", "CVE-2021-44228")),
        ("pkg:pypi/Django", ("purl", "pkg:pypi/django")),
        ("cpe:2.3:o:linux:linux_kernel:5.10:*:*:*:*:*:*:*", None),
        ("   ", None),
        ("not a thing", None),
    ],
)
def test_guess_observable(text: str, expected: tuple[str, str] | None) -> None:
    """Free-text query values are read as the most specific kind."""
    result = guess_observable(text)
    if text.startswith("cpe:"):
        assert result == Observable("cpe", text)
    else:
        assert result == (Observable(*expected) if expected else None)


# ---------------------------------------------------------------------------------------------
# extraction


def test_sco_extraction() -> None:
    """Each supported SCO type yields its observable."""
    cases: list[tuple[dict[str, Any], list[Observable]]] = [
        ({"type": "ipv4-addr", "value": "198.51.100.3"}, [Observable("ipv4", "198.51.100.3")]),
        (
            {"type": "ipv4-addr", "value": "198.51.100.0/24"},
            [Observable("ipv4-cidr", "198.51.100.0/24")],
        ),
        (
            {"type": "ipv6-addr", "value": "2001:db8::/48"},
            [Observable("ipv6-cidr", "2001:db8::/48")],
        ),
        ({"type": "domain-name", "value": "Evil.Example."}, [Observable("domain", "evil.example")]),
        (
            {"type": "url", "value": "http://Evil.Example/a"},
            [Observable("url", "http://evil.example/a")],
        ),
        (
            {"type": "email-addr", "value": "X@Evil.Example"},
            [Observable("email", "x@evil.example")],
        ),
        (
            {"type": "email-message", "from_ref": "email-addr--1", "to_refs": ["email-addr--2"]},
            [],
        ),
        (
            {
                "type": "file",
                "name": "a.exe",
                "hashes": {"MD5": MD5, "SHA-1": SHA1, "SHA256": SHA256.upper(), "SSDEEP": "3:x"},
            },
            [Observable("md5", MD5), Observable("sha1", SHA1), Observable("sha256", SHA256)],
        ),
        (
            {"type": "file", "hashes": {"SHA-512": SHA512, "sha256": SHA256, "SHA-256": SHA256}},
            [Observable("sha512", SHA512), Observable("sha256", SHA256)],
        ),
        (
            {
                "type": "software",
                "name": "Exchange",
                "cpe": "cpe:2.3:a:microsoft:exchange_server:2019:-:*:*:*:*:*:*",
                "x_purl": "pkg:nuget/Microsoft.Exchange@15.2",
                "extensions": {"x-ext": {"purl": "pkg:pypi/requests@2.31.0"}, "bad": "x"},
            },
            [
                Observable("cpe", "cpe:2.3:a:microsoft:exchange_server:2019:-:*:*:*:*:*:*"),
                Observable("purl", "pkg:nuget/Microsoft.Exchange@15.2"),
                Observable("purl", "pkg:pypi/requests@2.31.0"),
            ],
        ),
    ]
    for obj, expected in cases:
        assert extract_observables(obj) == expected, obj


def test_vulnerability_extraction() -> None:
    """Vulnerabilities yield the CVE of their name and of their "cve" external references."""
    vuln = {
        "type": "vulnerability",
        "name": "cve-2021-44228",
        "external_references": [
            {"source_name": "CVE", "external_id": "CVE-2021-44228"},
            {"source_name": "cve", "external_id": "CVE-2021-45046"},
            {"source_name": "nvd", "external_id": "CVE-2099-0001"},
            {"source_name": "cve", "external_id": "not a cve"},
            {"source_name": "cve"},
            "junk",
            {"source_name": ["cve"], "external_id": "CVE-2099-0002"},
        ],
    }
    assert extract_observables(vuln) == [
        Observable("cve", "CVE-2021-44228"),
        Observable("cve", "CVE-2021-45046"),
    ]
    assert extract_observables({"type": "vulnerability", "name": "Log4Shell"}) == []


def test_indicator_extraction() -> None:
    """Indicators with STIX patterns (explicit or, as in 2.0, implicit) yield their observables."""
    pattern = "[ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'a.example']"
    expected = [Observable("domain", "a.example"), Observable("ipv4", "192.0.2.1")]
    assert extract_observables({"type": "indicator", "pattern": pattern}) == expected
    assert (
        extract_observables({"type": "indicator", "pattern": pattern, "pattern_type": "stix"})
        == expected
    )
    indicator = {"type": "indicator", "pattern": pattern, "pattern_type": "STIX"}
    assert extract_observables(indicator) == expected
    for other in ("snort", "yara", "sigma", None, ["stix"]):
        indicator = {"type": "indicator", "pattern": pattern, "pattern_type": other}
        assert extract_observables(indicator) == []
    assert extract_observables({"type": "indicator", "pattern": ["x"]}) == []
    assert extract_observables({"type": "indicator", "pattern": "[broken"}) == []


def test_observed_data_embedded_objects() -> None:
    """STIX 2.0 observed-data yields the observables of its embedded objects."""
    obj = {
        "type": "observed-data",
        "objects": {
            "0": {"type": "ipv4-addr", "value": "203.0.113.9"},
            "1": {"type": "file", "hashes": {"MD5": MD5}},
            "2": {"type": "email-message", "from_ref": "3"},
            "3": {"type": "email-addr", "value": "a@b.example"},
            "4": "junk",
            "5": {"type": "indicator", "pattern": "[ipv4-addr:value = '192.0.2.1']"},
        },
    }
    assert extract_observables(obj) == [
        Observable("ipv4", "203.0.113.9"),
        Observable("md5", MD5),
        Observable("email", "a@b.example"),
    ]
    assert extract_observables({"type": "observed-data", "objects": ["x"]}) == []


def test_misp_stix_20_and_21_outputs_agree() -> None:
    """The STIX 2.0 (embedded objects) and 2.1 (SCOs) exports of the same MISP events yield the
    same observables, and the indicators' patterns cover the observed values."""
    found = {}
    for version in ("20", "21"):
        objs = _bundle_objects(MISP_STIX / f"test_events_collection_stix{version}.json")
        observed = {
            o for obj in objs if obj["type"] != "indicator" for o in extract_observables(obj)
        }
        indicated = {
            o for obj in objs if obj["type"] == "indicator" for o in extract_observables(obj)
        }
        assert observed
        assert observed <= indicated
        found[version] = observed
    assert found["20"] == found["21"]
    assert Observable("ipv4", "149.13.33.14") in found["21"]


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [],
        "x",
        {},
        {"type": None},
        {"type": "ipv4-addr", "value": ["1.2.3.4"]},
        {"type": "ipv4-addr", "value": "1.2.3.4/99"},
        {"type": "domain-name", "value": {"a": 1}},
        {"type": "file", "hashes": ["MD5", MD5]},
        {"type": "file", "hashes": {"MD5": 5, "SHA-256": None, 7: SHA256}},
        {"type": "software", "cpe": 1, "extensions": ["x"]},
        {"type": "vulnerability", "name": 5, "external_references": {"source_name": "cve"}},
        {"type": "observed-data", "objects": "x"},
        {"type": "indicator", "pattern": None},
    ],
)
def test_hostile_objects_never_raise(obj: Any) -> None:
    """Odd shapes give no observables and never raise."""
    assert extract_observables(obj) == []


# ---------------------------------------------------------------------------------------------
# IP ranges


def test_ip_range_examples() -> None:
    """IP observables give (version, start, end) as 32-char hex; other kinds give None."""
    assert ip_range(Observable("ipv4", "10.0.0.1")) == (
        4,
        f"{0x0A000001:032x}",
        f"{0x0A000001:032x}",
    )
    assert ip_range(Observable("ipv4-cidr", "10.0.0.0/8")) == (
        4,
        "0" * 24 + "0a000000",
        "0" * 24 + "0affffff",
    )
    assert ip_range(Observable("ipv6-cidr", "2001:db8::/32")) == (
        6,
        "20010db8" + "0" * 24,
        "20010db8" + "f" * 24,
    )
    assert ip_range(Observable("domain", "example.com")) is None
    assert ip_range(Observable("ipv4", "not an ip")) is None


@given(
    st.ip_addresses(),
    st.integers(min_value=0, max_value=128),
    st.ip_addresses(),
)
def test_ip_within_cidr_is_string_range(address: Any, prefix: int, other: Any) -> None:
    """ "Address within CIDR" is exactly a string range comparison on ip_range values."""
    prefix = min(prefix, address.max_prefixlen)
    net = normalize("ipv4" if address.version == 4 else "ipv6", f"{address}/{prefix}")
    ip = normalize("ipv4" if other.version == 4 else "ipv6", str(other))
    assert net is not None
    assert ip is not None
    net_range, ip_r = ip_range(net), ip_range(ip)
    assert net_range is not None
    assert ip_r is not None
    assert all(len(x) == 32 for x in (*net_range[1:], *ip_r[1:]))
    within = net_range[0] == ip_r[0] and net_range[1] <= ip_r[1] and ip_r[2] <= net_range[2]
    truth = other.version == address.version and other in ipaddress.ip_network(
        f"{address}/{prefix}", strict=False
    )
    assert within == truth


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(
        ["192.0.2.1", "10.0.0.0/8", "::1", MD5, "CVE-2020-0001", "pkg:x/y", "cpe:2.3:"]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_TYPES = st.sampled_from(
    [
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "email-message",
        "file",
        "artifact",
        "software",
        "vulnerability",
        "indicator",
        "observed-data",
        "malware",
    ]
)
_KEYS = st.sampled_from(
    [
        "value",
        "hashes",
        "cpe",
        "x_purl",
        "extensions",
        "name",
        "external_references",
        "pattern",
        "pattern_type",
        "objects",
    ]
)


@given(_TYPES, st.dictionaries(_KEYS, _JSON, max_size=5))
def test_random_objects_never_raise(typ: str, props: dict[str, Any]) -> None:
    """Random property values on every handled type never raise; results are valid kinds."""
    obj = {**props, "type": typ}
    result = extract_observables(obj)
    assert len(set(result)) == len(result)
    for obs in result:
        assert obs.kind in KINDS
        assert normalize(obs.kind, obs.value) == obs


@given(
    st.sampled_from(sorted(KINDS)),
    st.one_of(
        st.text(max_size=80),
        st.ip_addresses().map(str),
        st.from_regex(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", fullmatch=True),
        st.from_regex(r"(?i)https?://[a-zé.-]{1,20}(/[^ ]{0,20})?", fullmatch=True),
    ),
)
def test_normalize_is_idempotent(kind: str, text: str) -> None:
    """Normalising a canonical value gives it back (so index and query agree); never raises."""
    obs = normalize(kind, text)
    if obs is not None:
        assert obs.kind in KINDS
        assert normalize(obs.kind, obs.value) == obs
        if obs.kind not in ("domain", "url"):  # a domain can look like a hash, a URL like a domain
            assert guess_observable(obs.value) == obs


def _ipaddress_reading(text: str) -> tuple[str, str] | None:
    """What the ``ipaddress`` module makes of ``text`` (the reference for the fast path)."""
    text = text.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            if net.prefixlen == net.max_prefixlen:
                return "ipv4" if net.version == 4 else "ipv6", str(net.network_address)
            return "ipv4-cidr" if net.version == 4 else "ipv6-cidr", str(net)
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return "ipv4" if ip.version == 4 else "ipv6", str(ip)


_OCTET_TEXT = st.one_of(
    st.integers(0, 255).map(str),
    st.integers(0, 999).map(str),
    st.integers(0, 99).map(lambda n: f"0{n}"),
)


@given(
    st.lists(_OCTET_TEXT, min_size=3, max_size=5),
    st.one_of(st.none(), st.integers(0, 40).map(str), st.integers(0, 9).map(lambda n: f"0{n}")),
    st.sampled_from(["", " ", "\n"]),
)
def test_ipv4_fast_path_agrees_with_ipaddress(
    octets: list[str], prefix: str | None, pad: str
) -> None:
    """Dotted quads (valid, out of range, leading zeros, any prefix) read as ipaddress does."""
    text = ".".join(octets) + (f"/{prefix}" if prefix is not None else "")
    obs = ip_observable(pad + text + pad)
    assert (None if obs is None else (obs.kind, obs.value)) == _ipaddress_reading(text)
