"""Observables: the normalised atoms of the observable index (IP addresses and CIDRs, domain
names, URLs, e-mail addresses, file hashes, CVE ids, CPE 2.3 strings, PURLs).

This module owns

- :class:`Observable` (``kind`` + canonical ``value``) and the normalisation rules per kind
  (:func:`normalize`, :func:`guess_observable` for free-text queries);
- :func:`extract_observables`, which finds the observables of one STIX object (SCOs, STIX 2.0
  observed-data with embedded objects, indicators with STIX patterns, vulnerabilities);
- :func:`ip_range`, the (version, start, end) form of IP observables that makes "address
  within CIDR" a string range query.

Everything here is pure and runs on the ingest hot path: regular expressions are compiled
once, and hostile input never raises (odd values are skipped).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import idna
from packageurl import PackageURL

__all__ = [
    "HASH_KINDS",
    "KINDS",
    "Observable",
    "extract_observables",
    "guess_observable",
    "hash_kind",
    "ip_observable",
    "ip_range",
    "normalize",
]

KINDS: Final = frozenset(
    {
        "ipv4",
        "ipv6",
        "ipv4-cidr",
        "ipv6-cidr",
        "domain",
        "url",
        "email",
        "md5",
        "sha1",
        "sha256",
        "sha512",
        "cve",
        "cpe",
        "purl",
    }
)

#: Hash kinds and their hex length.
HASH_KINDS: Final[Mapping[str, int]] = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}

#: STIX hash-algorithm names (as in the vocabulary, or upper-cased with ``-``/``_``/spaces
#: removed) → our kind.
_HASH_ALGORITHMS: Final[Mapping[str, str]] = {
    "SHA-256": "sha256",
    "SHA-1": "sha1",
    "SHA-512": "sha512",
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "SHA512": "sha512",
    "SHA2256": "sha256",
    "SHA2512": "sha512",
}

_MAX_VALUE = 8192

_HEX = re.compile(r"[0-9a-f]+")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: IPv4 text that ``ipaddress`` would print back unchanged (optionally with a /0../32 prefix)
_IPV4_CANONICAL = re.compile(
    rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?:/(?:3[0-2]|[12][0-9]|[0-9]))?", re.ASCII
)
_CVE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}")
_DOMAIN_ASCII = re.compile(
    r"(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
)
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+")
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", re.DOTALL)
_NO_SPACE = re.compile(r"\S+")
_CPE_SPLIT = re.compile(r"(?<!\\):")
_CPE_PART = frozenset({"a", "o", "h", "*", "-"})


@dataclass(frozen=True, slots=True, order=True)
class Observable:
    """One indexable value: ``kind`` (one of :data:`KINDS`) and its canonical ``value``."""

    kind: str
    value: str


# ---------------------------------------------------------------------------------------------
# normalisers: each returns the canonical value or None when the value is not of that kind


def ip_observable(value: str) -> Observable | None:
    """An address or a CIDR (host bits cleared; /32 and /128 become plain addresses)."""
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if _IPV4_CANONICAL.fullmatch(text) is not None:
        # fast path: a dotted quad without leading zeros, optionally /0../32 (no leading
        # zero); anything else takes the ipaddress route below, which has the last word
        address, slash, prefix = text.partition("/")
        if not slash or prefix == "32":
            return Observable("ipv4", address)
        length = int(prefix)
        start = int.from_bytes(socket.inet_aton(address), "big") & (
            (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
        )
        return Observable("ipv4-cidr", f"{socket.inet_ntoa(start.to_bytes(4, 'big'))}/{length}")
    if ":" in text and "." not in text and "%" not in text:
        # fast path for IPv6 (optionally /0../128): inet_ntop writes the RFC 5952 form that
        # ipaddress writes too, except for embedded IPv4 (dotted: left to ipaddress)
        address, slash, prefix = text.partition("/")
        try:
            packed = socket.inet_pton(socket.AF_INET6, address)
        except OSError:
            return None  # ipaddress refuses whatever inet_pton refuses (zones excluded)
        if not slash:
            canonical = socket.inet_ntop(socket.AF_INET6, packed)
            if "." not in canonical:
                return Observable("ipv6", canonical)
        elif prefix.isascii() and prefix.isdigit() and len(prefix) <= 3 and int(prefix) <= 128:
            length = int(prefix)
            host = (1 << (128 - length)) - 1
            start = int.from_bytes(packed, "big") & ~host
            canonical = socket.inet_ntop(socket.AF_INET6, start.to_bytes(16, "big"))
            if "." not in canonical and (len(prefix) == 1 or prefix[0] != "0"):
                if length == 128:
                    return Observable("ipv6", canonical)
                return Observable("ipv6-cidr", f"{canonical}/{length}")
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            if net.prefixlen == net.max_prefixlen:
                addr = net.network_address
                return Observable("ipv4" if addr.version == 4 else "ipv6", str(addr))
            return Observable("ipv4-cidr" if net.version == 4 else "ipv6-cidr", str(net))
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return Observable("ipv4" if ip.version == 4 else "ipv6", str(ip))


def _idna(text: str) -> str | None:
    """Punycode form: IDNA 2008 with UTS #46 mapping (as browsers do), else IDNA 2003 (which
    also admits symbols such as emoji), else None."""
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _domain(value: str) -> str | None:
    text = value.strip().lower()
    if text.endswith("."):
        text = text[:-1]
    if not text or len(text) > 253:
        return None
    if not text.isascii():
        encoded = _idna(text)
        if encoded is None:
            # Not IDNA-encodable (e.g. an over-long label); keep the Unicode form if it is at
            # least a plausible host name.
            if _NO_SPACE.fullmatch(text) is None or any(c in text for c in "/@:?#"):
                return None
            return text
        text = encoded
    if _DOMAIN_ASCII.fullmatch(text) is None:
        return None
    return text


def _url(value: str) -> str | None:
    text = value.strip()
    if not text or len(text) > _MAX_VALUE:
        return None
    m = _URL_SCHEME.fullmatch(text)
    if m is None:
        return text
    scheme, authority, rest = m.groups()
    userinfo, at, host = authority.rpartition("@")
    return f"{scheme.lower()}://{userinfo}{at}{host.lower()}{rest}"


def _email(value: str) -> str | None:
    text = value.strip().lower()
    if len(text) > 320 or _EMAIL.fullmatch(text) is None:
        return None
    return text


def _hash(kind: str, value: str) -> str | None:
    text = value.strip().lower()
    if len(text) != HASH_KINDS[kind] or _HEX.fullmatch(text) is None:
        return None
    return text


def _cve(value: str) -> str | None:
    text = value.strip().upper()
    if len(text) > 32 or _CVE.fullmatch(text) is None:
        return None
    return text


def _cpe(value: str) -> str | None:
    """A CPE 2.3 formatted string: ``cpe:2.3:`` and 11 more components (13 in all); colons
    escaped with a backslash do not split. Lower-cased (CPE matching is case-insensitive)."""
    text = value.strip().lower()
    if not text.startswith("cpe:2.3:") or len(text) > 1024 or _NO_SPACE.fullmatch(text) is None:
        return None
    parts = _CPE_SPLIT.split(text)
    if len(parts) != 13 or parts[2] not in _CPE_PART or not all(parts[3:]):
        return None
    return text


def _purl(value: str) -> str | None:
    text = value.strip()
    if not text.startswith(("pkg:", "PKG:")) or len(text) > 2048:
        return None
    try:
        return PackageURL.from_string(text).to_string()
    except ValueError:
        return None


def normalize(kind: str, value: object) -> Observable | None:
    """The canonical observable for ``value`` read as ``kind``, or None if it is not one.

    For the IP kinds the result's kind follows the value: ``normalize("ipv4", "10.0.0.0/8")``
    is an ``ipv4-cidr``, and a /32 CIDR is a plain ``ipv4``.
    """
    if not isinstance(value, str) or not isinstance(kind, str):
        return None
    if kind in ("ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr"):
        obs = ip_observable(value)
        if obs is None or obs.kind[3] != kind[3]:
            return None
        return obs
    func = _NORMALIZERS.get(kind)
    if func is not None:
        result = func(value)
    elif kind in HASH_KINDS:
        result = _hash(kind, value)
    else:
        return None
    return Observable(kind, result) if result is not None else None


_NORMALIZERS: Final[Mapping[str, Callable[[str], str | None]]] = {
    "domain": _domain,
    "url": _url,
    "email": _email,
    "cve": _cve,
    "cpe": _cpe,
    "purl": _purl,
}


def hash_kind(algorithm: object) -> str | None:
    """Our hash kind for a STIX hash-algorithm name ("MD5", "SHA-256", "sha256", ...)."""
    if not isinstance(algorithm, str):
        return None
    kind = _HASH_ALGORITHMS.get(algorithm)
    if kind is not None or len(algorithm) > 16:
        return kind
    key = algorithm.upper().replace("-", "").replace("_", "").replace(" ", "")
    return _HASH_ALGORITHMS.get(key)


def guess_observable(value: str) -> Observable | None:
    """Read a free-text query value as the most specific observable kind, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    first = text[0]
    if first.isdigit() or ":" in text:
        ip = ip_observable(text)
        if ip is not None:
            return ip
    lower = text.lower()
    if lower.startswith("cve-"):
        return normalize("cve", text)
    if lower.startswith("cpe:"):
        return normalize("cpe", text)
    if lower.startswith("pkg:"):
        return normalize("purl", text)
    if "://" in text:
        return normalize("url", text)
    if "@" in text:
        return normalize("email", text)
    for kind, length in HASH_KINDS.items():
        if len(text) == length:
            obs = normalize(kind, text)
            if obs is not None:
                return obs
    return normalize("domain", text)


# ---------------------------------------------------------------------------------------------
# extraction from STIX objects


class _Collector:
    """Ordered, de-duplicated accumulation of observables."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[Observable, None] = {}

    def add(self, obs: Observable | None) -> None:
        if obs is not None:
            self.seen[obs] = None

    def add_kind(self, kind: str, value: object) -> None:
        if isinstance(value, str):
            obs = normalize(kind, value)
            if obs is not None:
                self.seen[obs] = None

    def add_ip(self, value: object) -> None:
        if isinstance(value, str):
            obs = ip_observable(value)
            if obs is not None:
                self.seen[obs] = None

    def add_hashes(self, hashes: object) -> None:
        if not isinstance(hashes, dict):
            return
        for algorithm, value in hashes.items():
            kind = hash_kind(algorithm)
            if kind is not None:
                self.add_kind(kind, value)

    def extend(self, items: Iterable[Observable]) -> None:
        for obs in items:
            self.seen[obs] = None


def _purls_in_extensions(extensions: object) -> Iterable[object]:
    if not isinstance(extensions, dict):
        return
    for ext in extensions.values():
        if isinstance(ext, dict):
            for key in ("purl", "x_purl"):
                if key in ext:
                    yield ext[key]


def _sco(obj: Mapping[str, Any], out: _Collector) -> None:
    """Observables of one SCO (a top-level 2.1 SCO or an embedded 2.0 observed-data object)."""
    typ = obj.get("type")
    if typ == "ipv4-addr" or typ == "ipv6-addr":
        out.add_ip(obj.get("value"))
    elif typ == "domain-name":
        out.add_kind("domain", obj.get("value"))
    elif typ == "url":
        out.add_kind("url", obj.get("value"))
    elif typ == "email-addr":
        out.add_kind("email", obj.get("value"))
    elif typ == "file" or typ == "artifact":
        out.add_hashes(obj.get("hashes"))
    elif typ == "software":
        out.add_kind("cpe", obj.get("cpe"))
        out.add_kind("purl", obj.get("x_purl"))
        for purl in _purls_in_extensions(obj.get("extensions")):
            out.add_kind("purl", purl)


def _vulnerability(obj: Mapping[str, Any], out: _Collector) -> None:
    name = obj.get("name")
    if isinstance(name, str) and name[:4].upper() == "CVE-":
        out.add_kind("cve", name)
    refs = obj.get("external_references")
    if isinstance(refs, list):
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            source = ref.get("source_name")
            if isinstance(source, str) and source.lower() == "cve":
                out.add_kind("cve", ref.get("external_id"))


def extract_observables(obj: dict[str, Any]) -> list[Observable]:
    """The de-duplicated observables of one STIX object, in order of discovery.

    Indicators contribute the equality comparisons of their STIX pattern (see
    :mod:`nca_share.stix.patterns`); observed-data its embedded STIX 2.0 ``objects``;
    vulnerabilities their CVE name and ``cve`` external references. Never raises.
    """
    out = _Collector()
    if not isinstance(obj, dict):
        return []
    typ = obj.get("type")
    if typ == "indicator":
        pattern_type = obj.get("pattern_type", "stix")
        pattern = obj.get("pattern")
        if (
            pattern_type == "stix"
            or (isinstance(pattern_type, str) and pattern_type.lower() == "stix")
        ) and isinstance(pattern, str):
            out.extend(_patterns.extract_from_pattern(pattern))
    elif typ == "observed-data":
        objects = obj.get("objects")
        if isinstance(objects, dict):
            for embedded in objects.values():
                if isinstance(embedded, dict):
                    _sco(embedded, out)
    elif typ == "vulnerability":
        _vulnerability(obj, out)
    else:
        _sco(obj, out)
    return list(out.seen)


def ip_range(obs: Observable) -> tuple[int, str, str] | None:
    """``(version, start, end)`` of an IP observable; start and end are the integer addresses as
    32-character zero-padded lower-case hex, so "within" is a string range comparison."""
    kind = obs.kind
    try:
        if kind == "ipv4" or kind == "ipv6":
            ip = ipaddress.ip_address(obs.value)
            start = end = int(ip)
            version = ip.version
        elif kind == "ipv4-cidr" or kind == "ipv6-cidr":
            net = ipaddress.ip_network(obs.value, strict=False)
            start = int(net.network_address)
            end = int(net.broadcast_address)
            version = net.version
        else:
            return None
    except ValueError:
        return None
    return version, f"{start:032x}", f"{end:032x}"


# patterns.py builds on the normalisers above; imported last to keep the import acyclic.
from nca_share.stix import patterns as _patterns  # noqa: E402
