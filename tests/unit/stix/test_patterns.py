"""Observables from STIX patterns: the fast path agrees with the stix2-patterns parser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nca_share.stix.observables import Observable
from nca_share.stix.patterns import extract_from_pattern, fast_extract, reference_extract

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def _indicator_patterns(node: Any) -> Iterator[str]:
    """Every STIX pattern of every indicator anywhere in a JSON document (bundles, TAXII
    data files with embedded objects, single objects)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if (
                item.get("type") == "indicator"
                and isinstance(item.get("pattern"), str)
                and item.get("pattern_type", "stix") == "stix"
            ):
                yield item["pattern"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _shared_patterns() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted(SHARED_DATA.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        rel = str(path.relative_to(SHARED_DATA))
        found.extend((rel, p) for p in _indicator_patterns(document))
    return found


SHARED_PATTERNS = _shared_patterns()


def test_shared_data_has_patterns() -> None:
    """The shared data holds a substantial number of indicator patterns in many files."""
    assert len(SHARED_PATTERNS) > 300
    assert len({f for f, _ in SHARED_PATTERNS}) > 20


def test_fast_path_agrees_with_parser_on_shared_data() -> None:
    """Every indicator pattern in the shared data: extraction == the stix2-patterns oracle."""
    disagreements = []
    for source, pattern in SHARED_PATTERNS:
        ours = extract_from_pattern(pattern)
        oracle = reference_extract(pattern)
        fast = fast_extract(pattern)
        if ours != oracle or (fast is not None and fast != oracle):
            disagreements.append((source, pattern, ours, oracle, fast))
    assert disagreements == []


def test_fast_path_covers_most_shared_patterns() -> None:
    """The fast path itself (no parser) handles the simple patterns of the shared data."""
    handled = [p for _, p in SHARED_PATTERNS if fast_extract(p) is not None]
    assert len(handled) >= 0.9 * len(SHARED_PATTERNS)
    found = {o.kind for _, p in SHARED_PATTERNS for o in extract_from_pattern(p)}
    assert {"ipv4", "domain", "url", "md5", "sha256"} <= found


SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.1']", [("ipv4", "198.51.100.1")]),
        ("[ipv4-addr:value = '198.51.100.0/24']", [("ipv4-cidr", "198.51.100.0/24")]),
        ("[ipv4-addr:value = '198.51.100.7/24']", [("ipv4-cidr", "198.51.100.0/24")]),
        ("[ipv4-addr:value = '198.51.100.7/32']", [("ipv4", "198.51.100.7")]),
        ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", [("ipv4-cidr", "10.0.0.0/8")]),
        ("[ipv6-addr:value ISSUPERSET '2001:DB8::/32']", [("ipv6-cidr", "2001:db8::/32")]),
        ("[ipv6-addr:value = '2001:0db8::0001']", [("ipv6", "2001:db8::1")]),
        ("[domain-name:value = 'Example.COM.']", [("domain", "example.com")]),
        ("[domain-name:value = 'bücher.example']", [("domain", "xn--bcher-kva.example")]),
        ("[url:value = 'HTTP://Evil.Example/A?b=C']", [("url", "http://evil.example/A?b=C")]),
        ("[email-addr:value = 'Bad@Example.org']", [("email", "bad@example.org")]),
        ("[email-message:from_ref.value = 'a@b.nl']", [("email", "a@b.nl")]),
        ("[email-message:to_refs[*].value = 'c@d.nl']", [("email", "c@d.nl")]),
        ("[email-message:cc_refs[0].value = 'e@f.nl']", [("email", "e@f.nl")]),
        ("[file:hashes.'SHA-256' = '" + SHA256.upper() + "']", [("sha256", SHA256)]),
        ("[file:hashes.MD5 = '" + MD5 + "']", [("md5", MD5)]),
        ("[file:hashes.'SHA-1' = '" + "a" * 40 + "']", [("sha1", "a" * 40)]),
        ("[file:hashes.'SHA-512' = '" + "b" * 128 + "']", [("sha512", "b" * 128)]),
        ("[file:hashes.MD5 = '" + SHA256 + "']", []),
        ("[file:hashes.SSDEEP = '3:a:b']", []),
        ("[network-traffic:dst_ref.value = '203.0.113.5']", [("ipv4", "203.0.113.5")]),
        ("[network-traffic:src_ref.value = 'c2.example.net']", [("domain", "c2.example.net")]),
        (
            "[software:cpe = 'cpe:2.3:a:microsoft:exchange_server:2019:cu12:*:*:*:*:*:*']",
            [("cpe", "cpe:2.3:a:microsoft:exchange_server:2019:cu12:*:*:*:*:*:*")],
        ),
        ("[url:value = 'http://x.example/it\\'s']", [("url", "http://x.example/it's")]),
        ("[url:value = 'http://x.example/a\\\\b']", [("url", "http://x.example/a\\b")]),
        (
            "[ipv4-addr:value = '192.0.2.1' OR (ipv4-addr:value = '192.0.2.2' AND "
            "domain-name:value = 'a.example')] OR ([url:value = 'http://u.example/'])",
            [
                ("domain", "a.example"),
                ("ipv4", "192.0.2.1"),
                ("ipv4", "192.0.2.2"),
                ("url", "http://u.example/"),
            ],
        ),
        ("[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS", [("ipv4", "192.0.2.1")]),
        (
            "[domain-name:value = 'a.example'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.9'] "
            "REPEATS 2 TIMES",
            [("domain", "a.example"), ("ipv4", "192.0.2.9")],
        ),
        (
            "[ipv4-addr:value = '192.0.2.3'] START t'2024-01-01T00:00:00Z' "
            "STOP t'2024-02-01T00:00:00Z'",
            [("ipv4", "192.0.2.3")],
        ),
        (
            "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.0/24', 'x', 7, h'ab', 'a,b')]",
            [("ipv4", "192.0.2.1"), ("ipv4-cidr", "192.0.2.0/24")],
        ),
        (
            "[domain-name:value IN ('A.example','b.example')]",
            [("domain", "a.example"), ("domain", "b.example")],
        ),
        ("[domain-name:value NOT IN ('a.example')]", []),
        ("[domain-name:value IN ()]", []),
        ("[domain-name:value IN ('a.example',)]", []),
        ("[ipv4-addr:value != '192.0.2.1']", []),
        ("[ipv4-addr:value NOT = '192.0.2.1']", []),
        ("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", []),
        ("[domain-name:value LIKE '%.example']", []),
        ("[url:value MATCHES '^http://']", []),
        ("[file:size > 1000 AND file:hashes.MD5 = '" + MD5 + "']", [("md5", MD5)]),
        ("[file:name = 'x.exe']", []),
        ("[ipv4-addr:value = '999.1.1.1']", []),
        ("[ipv4-addr:value = '192.0.2.1'", []),
        ("ipv4-addr:value = '192.0.2.1'", []),
        ("[ipv4-addr:value = '192.0.2.1'] AND", []),
        ("[ipv4-addr:value = '192.0.2.1' and ipv4-addr:value = '192.0.2.2']", []),
        ("[file:hashes.SHA-256 = '" + SHA256 + "']", []),
        ("", []),
        ("[" * 5000 + "ipv4-addr:value = '1.2.3.4'" + "]" * 5000, []),
    ],
)
def test_extract_from_pattern(pattern: str, expected: list[tuple[str, str]]) -> None:
    """Known patterns give the expected observables, and the oracle agrees."""
    result = extract_from_pattern(pattern)
    assert [(o.kind, o.value) for o in result] == expected
    assert reference_extract(pattern) == result


def test_simple_patterns_take_the_fast_path() -> None:
    """Plain comparison patterns are handled without the parser; qualifiers fall back."""
    assert fast_extract("[ipv4-addr:value = '192.0.2.1' OR url:value = 'http://a/']") == [
        Observable("ipv4", "192.0.2.1"),
        Observable("url", "http://a/"),
    ]
    assert fast_extract("[ipv4-addr:value = '192.0.2.1'] WITHIN 5 SECONDS") is None
    assert fast_extract("[ipv4-addr:value IN ('192.0.2.1')]") == [Observable("ipv4", "192.0.2.1")]
    assert fast_extract("[ipv4-addr:value IN ('192.0.2.1', 1)]") is None
    assert fast_extract("[x:y = 'a'] /* comment */") is None


@pytest.mark.parametrize("pattern", [None, 5, b"[x:y = 'a']", "x" * (2 << 20)])
def test_hostile_input_never_raises(pattern: Any) -> None:
    """Non-strings and oversized input give an empty list."""
    assert extract_from_pattern(pattern) == []
    assert reference_extract(pattern) == []


# ---------------------------------------------------------------------------------------------
# generated patterns

_OBJECT_PATHS = [
    ("ipv4-addr", "value"),
    ("ipv6-addr", "value"),
    ("domain-name", "value"),
    ("url", "value"),
    ("email-addr", "value"),
    ("email-message", "from_ref.value"),
    ("email-message", "to_refs[*].value"),
    ("email-message", "cc_refs[1].value"),
    ("network-traffic", "dst_ref.value"),
    ("network-traffic", "src_ref.value"),
    ("file", "hashes.'SHA-256'"),
    ("file", "hashes.'SHA-1'"),
    ("file", "hashes.MD5"),
    ("file", "hashes.SHA256"),
    ("file", "hashes.'SHA-512'"),
    ("file", "hashes.SHA-256"),
    ("artifact", "hashes.'MD5'"),
    ("software", "cpe"),
    ("software", "'cpe'"),
    ("file", "name"),
    ("process", "command_line"),
    ("x-custom_thing", "x_value"),
    ("ipv4-addr", "value.AND"),
    ("AND", "value"),
    ("EXISTS", "value"),
    ("x509-certificate", "hashes.'SHA-256'"),
    ("file", "parent_directory_ref.path"),
    ("windows-registry-key", "values[*].data"),
]

_IP_VALUES = st.one_of(
    st.ip_addresses().map(str),
    st.builds(
        lambda ip, n: f"{ip}/{n}",
        st.ip_addresses(v=4).map(str),
        st.integers(min_value=0, max_value=33),
    ),
    st.builds(
        lambda ip, n: f"{ip}/{n}",
        st.ip_addresses(v=6).map(str),
        st.integers(min_value=0, max_value=129),
    ),
)
_HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=30, max_size=130)
_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_DOMAINS = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["bücher.example", "EXAMPLE.com.", "xn--bcher-kva.example", "a..b", "*.x.nl"]),
)
_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=30,
)
_VALUES = st.one_of(
    _IP_VALUES,
    _HEX,
    _DOMAINS,
    st.builds(lambda d, p: f"http://{d}/{p}", _DOMAINS, _TEXT),
    st.builds(lambda u, d: f"{u}@{d}", _LABEL, _DOMAINS),
    st.sampled_from(
        [
            "cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*",
            "cpe:2.3:a:ven\\:dor:product:1.0:*:*:*:*:*:*:*",
            "cpe:2.3:a:too:short",
            "CVE-2021-44228",
            "",
            "'",
            "\\",
            "it's",
            "a\\b",
            "\u00a0",
        ]
    ),
    _TEXT,
)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_WS = st.sampled_from(["", " ", " ", "  ", "\n", "\t", "\u00a0"])


_FAST_OPS = [
    "=",
    "=",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    ">=",
    "LIKE",
    "MATCHES",
    "ISSUBSET",
    "ISSUPERSET",
    "IN",
]
_ALL_OPS = [*_FAST_OPS, "EXISTS", "= ="]
_ODD_LITERALS = ["42", "-1", "1.5", "true", "h'ab01'", "b'YWJj'", "t'2020-01-01T00:00:00Z'", "'a"]


@st.composite
def _literal(draw: st.DrawFn, simple: bool) -> str:
    if not simple and draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(_ODD_LITERALS))
    return _quote(draw(_VALUES))


@st.composite
def _comparison(draw: st.DrawFn, simple: bool) -> str:
    obj_type, path = draw(st.sampled_from(_OBJECT_PATHS))
    op = draw(st.sampled_from(_FAST_OPS if simple else _ALL_OPS))
    not_ = draw(st.sampled_from(["", "", "", "NOT "]))
    ws = draw(_WS)
    if op == "IN":
        values = draw(st.lists(_literal(simple), min_size=0 if simple else 1, max_size=3))
        return f"{obj_type}:{path}{ws}{not_}IN{draw(_WS)}({f',{ws}'.join(values)})"
    if op == "EXISTS":
        return f"EXISTS {obj_type}:{path}"
    return f"{obj_type}:{path}{ws}{not_}{op}{draw(_WS) or ' '}{draw(_literal(simple))}"


def _join(draw: st.DrawFn, parts: list[str], operators: list[str]) -> str:
    out = parts[0]
    for part in parts[1:]:
        op = draw(st.sampled_from(operators))
        out += f"{draw(_WS) or ' '}{op}{draw(_WS) or ' '}{part}"
    return out


@st.composite
def _comparison_expression(draw: st.DrawFn, simple: bool, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 3 and draw(st.integers(0, 4)) == 0:
            parts.append("(" + draw(_comparison_expression(simple, depth + 1)) + ")")
        else:
            parts.append(draw(_comparison(simple)))
    return _join(draw, parts, ["AND", "OR", "OR"] if simple else ["AND", "OR", "or"])


_QUALIFIERS = [
    "",
    "",
    "",
    " WITHIN 5 SECONDS",
    " WITHIN 2.5 SECONDS",
    " REPEATS 3 TIMES",
    " START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    " START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
    " WITHIN",
]


@st.composite
def _observation_expression(draw: st.DrawFn, simple: bool, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            inner = "(" + draw(_observation_expression(simple, depth + 1)) + ")"
        else:
            ws = draw(_WS)
            inner = f"[{ws}{draw(_comparison_expression(simple))}{draw(_WS)}]"
        parts.append(inner if simple else inner + draw(st.sampled_from(_QUALIFIERS)))
    return _join(draw, parts, ["AND", "OR"] if simple else ["AND", "OR", "and", "FOLLOWEDBY"])


@st.composite
def _pattern(draw: st.DrawFn) -> str:
    """Half "simple" patterns (only what the fast path handles), half with everything else;
    one in five is then broken by dropping or inserting a character."""
    pattern = draw(_observation_expression(draw(st.booleans())))
    mutation = draw(st.integers(0, 9))
    if mutation == 0 and pattern:
        i = draw(st.integers(0, len(pattern) - 1))
        pattern = pattern[:i] + pattern[i + 1 :]
    elif mutation == 1:
        i = draw(st.integers(0, len(pattern)))
        char = draw(st.sampled_from(["'", "\\", "[", "]", "(", ")", ":", ".", "/", "*", " ", "é"]))
        pattern = pattern[:i] + char + pattern[i:]
    return pattern


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pattern())
@example("[file:hashes.'SHA-256' = '" + SHA256 + "' OR file:hashes.MD5 = '" + MD5 + "']")
@example("[x:y = 'a\\'b\\\\'] AND [url:value = 'http://a/\\'']")
def test_fast_path_agrees_with_parser_on_generated_patterns(pattern: str) -> None:
    """Generated patterns (kinds, escapes, unicode, AND/OR, nesting, qualifiers, non-equality
    operators, broken syntax): the fast path agrees with the stix2-patterns oracle."""
    oracle = reference_extract(pattern)
    fast = fast_extract(pattern)
    if fast is not None:
        assert fast == oracle
    assert extract_from_pattern(pattern) == oracle


def test_long_chains_are_handled_iteratively() -> None:
    """A chain of thousands of comparisons (beyond the ANTLR parser's recursion limit) is
    handled by the fast path without recursion."""
    n = 3000
    pattern = (
        "["
        + " OR ".join(
            f"ipv4-addr:value = '10.{i // 65536}.{i // 256 % 256}.{i % 256}'" for i in range(n)
        )
        + "]"
    )
    result = extract_from_pattern(pattern)
    assert len(result) == n
    assert result[0] == Observable("ipv4", "10.0.0.0")
