"""Warning lists: values that must never cause a notice are blocked at ingest, before objects
reach the store.

Built-in lists: RFC 1918 and other special-purpose networks (loopback, link-local,
documentation, multicast, CGNAT, unique-local, "this network", broadcast), well-known public DNS
resolvers (``data/public_resolvers.txt``) and a shipped list of very popular domains
(``data/popular_domains.txt``; exact domain and its ``www.`` host). Operators add their own
allow-list entries (``feed_allow_list`` table, ``nca-share feeds allow``); a domain entry there
covers its subdomains too.

Policy: an observable (SCO) on a list is dropped; an indicator whose pattern compares against a
listed value is dropped whole (it would fire on that value); relationships and sightings that
point at a dropped object are dropped; reports and groupings lose the dropped references (and
are dropped when nothing is left). Every drop is returned as a :class:`Suppression` so the
collector can log it per feed for review.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: (list name, network, why)
SPECIAL_NETWORKS: tuple[tuple[str, str, str], ...] = (
    ("rfc1918", "10.0.0.0/8", "private network (RFC 1918)"),
    ("rfc1918", "172.16.0.0/12", "private network (RFC 1918)"),
    ("rfc1918", "192.168.0.0/16", "private network (RFC 1918)"),
    ("loopback", "127.0.0.0/8", "loopback"),
    ("loopback", "::1/128", "loopback"),
    ("link-local", "169.254.0.0/16", "link-local"),
    ("link-local", "fe80::/10", "link-local"),
    ("documentation", "192.0.2.0/24", "documentation range (RFC 5737)"),
    ("documentation", "198.51.100.0/24", "documentation range (RFC 5737)"),
    ("documentation", "203.0.113.0/24", "documentation range (RFC 5737)"),
    ("documentation", "2001:db8::/32", "documentation range (RFC 3849)"),
    ("multicast", "224.0.0.0/4", "multicast"),
    ("multicast", "ff00::/8", "multicast"),
    ("cgnat", "100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("unique-local", "fc00::/7", "unique local IPv6 (RFC 4193)"),
    ("this-network", "0.0.0.0/8", "'this network' (RFC 1122)"),
    ("broadcast", "255.255.255.255/32", "limited broadcast"),
    ("reserved", "240.0.0.0/4", "reserved (RFC 1112)"),
)

_PATTERN_VALUE = re.compile(
    r"(?P<type>ipv4-addr|ipv6-addr|domain-name|url|email-addr)"
    r"(?::[a-z_]+_refs?\[\*\])?:value\s*(?:=|ISSUBSET|ISSUPERSET|IN)\s*"
    r"'(?P<value>(?:[^'\\]|\\.)*)'",
)
_SCO_KINDS = {
    "ipv4-addr": "ip",
    "ipv6-addr": "ip",
    "domain-name": "domain",
    "url": "url",
}
_REF_FIELDS = ("source_ref", "target_ref", "sighting_of_ref")


@dataclass(frozen=True)
class Suppression:
    """One object kept out of the store and why."""

    object_id: str
    object_type: str
    value: str
    list_name: str
    reason: str


@dataclass(frozen=True)
class AllowEntry:
    """An operator allow-list entry: ``kind`` is ``ip`` (address or CIDR), ``domain`` (with its
    subdomains) or ``url`` (exact)."""

    kind: str
    value: str
    reason: str = ""


def _read_list(name: str) -> list[str]:
    text = resources.files("nca_share.feeds.data").joinpath(name).read_text("utf-8")
    values = []
    for line in text.splitlines():
        value = line.split("#", 1)[0].strip()
        if value:
            values.append(value.lower())
    return values


@cache
def public_resolvers() -> frozenset[str]:
    """The shipped public-resolver addresses, normalised."""
    return frozenset(str(ipaddress.ip_address(v)) for v in _read_list("public_resolvers.txt"))


@cache
def popular_domains() -> frozenset[str]:
    """The shipped popular domains."""
    return frozenset(_read_list("popular_domains.txt"))


def pattern_values(pattern: str) -> list[tuple[str, str]]:
    """(kind, value) of the ip/domain/url/e-mail comparisons in a STIX pattern."""
    found = []
    for match in _PATTERN_VALUE.finditer(pattern):
        value = match["value"].replace("\\'", "'").replace("\\\\", "\\")
        found.append((match["type"], value))
    return found


class WarningLists:
    """The built-in lists plus the operator's allow-list; ``check`` answers for one value."""

    def __init__(self, allow: Iterable[AllowEntry] = ()) -> None:
        self._ranges: list[tuple[int, int, int, str, IPNetwork, str]] = []
        for name, net, why in SPECIAL_NETWORKS:
            network = ipaddress.ip_network(net)
            self._ranges.append(
                (
                    network.version,
                    int(network.network_address),
                    int(network.broadcast_address),
                    name,
                    network,
                    why,
                )
            )
        self._allow_networks: list[tuple[IPNetwork, str]] = []
        self._allow_domains: dict[str, str] = {}
        self._allow_urls: dict[str, str] = {}
        for entry in allow:
            reason = entry.reason or "operator allow-list"
            if entry.kind == "ip":
                self._allow_networks.append(
                    (ipaddress.ip_network(entry.value, strict=False), reason)
                )
            elif entry.kind == "domain":
                self._allow_domains[entry.value.lower().rstrip(".")] = reason
            elif entry.kind == "url":
                self._allow_urls[entry.value] = reason

    def check_ip(self, value: str) -> tuple[str, str] | None:
        """(list, reason) if the address or network ``value`` is listed."""
        text = value.strip()
        try:
            network = (
                ipaddress.ip_network(text, strict=False)
                if "/" in text
                else ipaddress.ip_network(ipaddress.ip_address(text))
            )
        except ValueError:
            return None
        first, last = int(network.network_address), int(network.broadcast_address)
        for version, start, end, name, listed, why in self._ranges:
            if version == network.version and first <= end and start <= last:
                return name, f"{why}: {listed}"
        if first == last and str(network.network_address) in public_resolvers():
            return "public-resolver", f"well-known public DNS resolver {network.network_address}"
        for listed_net, reason in self._allow_networks:
            if listed_net.version == network.version and (
                int(listed_net.network_address) <= first
                and last <= int(listed_net.broadcast_address)
            ):
                return "allow-list", f"{reason}: {listed_net}"
        return None

    def check_domain(self, value: str) -> tuple[str, str] | None:
        """(list, reason) if the domain is listed."""
        domain = value.strip().lower().rstrip(".")
        bare = domain.removeprefix("www.")
        if bare in popular_domains():
            return "popular-domain", f"very popular domain {bare}"
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            if candidate in self._allow_domains:
                return "allow-list", f"{self._allow_domains[candidate]}: {candidate}"
        return None

    def check_url(self, value: str) -> tuple[str, str] | None:
        """(list, reason) if the URL is allow-listed, is the front page of a listed domain, or
        its host is a listed address."""
        if value in self._allow_urls:
            return "allow-list", f"{self._allow_urls[value]}: {value}"
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
        except ValueError:
            return None
        if not host:
            return None
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return self.check_ip(host)
        if parts.path in ("", "/") and not parts.query:
            return self.check_domain(host)
        allowed = self.check_domain(host)
        if allowed and allowed[0] == "allow-list":
            return allowed
        return None

    def check(self, kind: str, value: str) -> tuple[str, str] | None:
        """(list, reason) for a value of ``kind`` (``ip``/``ipv4-addr``/``domain``/…)."""
        if kind in ("ip", "ipv4", "ipv6", "ipv4-addr", "ipv6-addr"):
            return self.check_ip(value)
        if kind in ("domain", "domain-name"):
            return self.check_domain(value)
        if kind == "url":
            return self.check_url(value)
        return None

    def filter(
        self, objects: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[Suppression]]:
        """Split ``objects`` into those to ingest and the suppressions (see module docstring).

        Malformed objects (no id, odd types) are passed on untouched: the ingest quarantines
        them with a reason.
        """
        suppressions: list[Suppression] = []
        dropped_ids: dict[str, Suppression] = {}
        dropped_index: set[int] = set()
        for index, obj in enumerate(objects):
            if not isinstance(obj, dict):
                continue
            obj_type = obj.get("type")
            if not isinstance(obj_type, str):
                continue
            hit: tuple[str, str, str] | None = None
            if obj_type in _SCO_KINDS and isinstance(obj.get("value"), str):
                found = self.check(_SCO_KINDS[obj_type], obj["value"])
                if found:
                    hit = (obj["value"], *found)
            elif obj_type == "indicator" and isinstance(obj.get("pattern"), str):
                for sco_type, value in pattern_values(obj["pattern"]):
                    found = self.check(_SCO_KINDS.get(sco_type, sco_type), value)
                    if found:
                        hit = (value, *found)
                        break
            if hit:
                obj_id = obj.get("id") if isinstance(obj.get("id"), str) else ""
                item = Suppression(str(obj_id), obj_type, *hit)
                suppressions.append(item)
                dropped_index.add(index)
                if obj_id:
                    dropped_ids[str(obj_id)] = item
        if not suppressions:
            return objects, []
        kept: list[dict[str, Any]] = []
        for index, obj in enumerate(objects):
            if index in dropped_index:
                continue
            if not isinstance(obj, dict):
                kept.append(obj)
                continue
            obj_id = obj.get("id") if isinstance(obj.get("id"), str) else ""
            obj_type = obj.get("type") if isinstance(obj.get("type"), str) else ""
            refs = [obj.get(f) for f in _REF_FIELDS if isinstance(obj.get(f), str)]
            sighted = obj.get("where_sighted_refs")
            if isinstance(sighted, list):
                refs += [r for r in sighted if isinstance(r, str)]
            gone = next((r for r in refs if r in dropped_ids), None)
            if gone is not None and obj_type in ("relationship", "sighting"):
                cause = dropped_ids[gone]
                item = Suppression(
                    str(obj_id),
                    str(obj_type),
                    cause.value,
                    cause.list_name,
                    f"refers to suppressed {gone}",
                )
                suppressions.append(item)
                if obj_id:
                    dropped_ids[str(obj_id)] = item
                continue
            object_refs = obj.get("object_refs")
            if isinstance(object_refs, list) and any(
                isinstance(r, str) and r in dropped_ids for r in object_refs
            ):
                remaining = [
                    r for r in object_refs if not (isinstance(r, str) and r in dropped_ids)
                ]
                if not remaining:
                    item = Suppression(
                        str(obj_id),
                        str(obj_type),
                        "",
                        "cascade",
                        "every referenced object was suppressed",
                    )
                    suppressions.append(item)
                    if obj_id:
                        dropped_ids[str(obj_id)] = item
                    continue
                obj = {**obj, "object_refs": remaining}
            kept.append(obj)
        return kept, suppressions
