"""The in-memory constituency index: what every organisation owns and what it is, laid out so
that one STIX value is matched against the whole constituency with a few dictionary probes.

Owns :class:`ConstituencyIndex` with

- networks: per IP version, a dict per prefix length of network-integer → owners, probing only
  the prefix lengths present (radix-equivalent: nested and overlapping ranges return every
  owner), plus a sorted array of range starts for "which owned networks lie inside this
  (large) indicator CIDR";
- an ASN map, a domain suffix index (a host matches the owner of the host or of any parent
  domain; label-wise walk), a product index (CPE ``vendor:product`` and PURL
  ``type/namespace/name`` → owners with the version range they run);
- sector (STIX ``industry-sector-ov``), NIS2 annex key, NIS2 class, province and partnership
  sets of organisation ids.

Only VERIFIED assets are indexed. The index is rebuilt from the database with
:meth:`ConstituencyIndex.load` and kept current incrementally with :meth:`put_asset`,
:meth:`drop_asset`, :meth:`put_org` and :meth:`drop_org` (see ``nca_share.matching.hooks``).
No N×M loops: each lookup costs O(prefix lengths present) or O(labels) or O(owners found).
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import logging
import re
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson
from packageurl import PackageURL
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session

from nca_share.constituency.models import Asset, Membership, Organisation
from nca_share.errors import NcaShareError
from nca_share.matching.gcpause import gc_paused
from nca_share.matching.versions import VersionRange
from nca_share.sectors.taxonomy import annex_keys_for, load_taxonomy

log = logging.getLogger(__name__)

__all__ = ["AssetRef", "ConstituencyIndex", "OrgProfile", "ProductRef", "product_key"]

_BITS = {4: 32, 6: 128}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _json(value: Any) -> Any:
    """A JSON column read as text (SQLite) or already decoded (PostgreSQL JSONB)."""
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


@functools.cache
def _annex_keys(entity_types: tuple[str, ...]) -> frozenset[str]:
    try:
        return frozenset(annex_keys_for(entity_types))
    except NcaShareError:
        return frozenset()


def _parse_ip(text: str) -> tuple[int, int] | None:
    """(version, integer) of an address; socket parsing (fast), ``ipaddress`` as fallback."""
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        if text.count(".") == 3:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):  # ValueError: NUL or non-ASCII characters
        pass
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip.version, int(ip)


def product_key(vendor: str, product: str) -> str:
    """Normalised ``vendor:product``: lower case, runs of other characters become ``_``
    (so KEV's "Exchange Server" meets CPE's ``exchange_server``)."""
    v = _NON_ALNUM.sub("_", vendor.lower().replace("\\", "")).strip("_")
    p = _NON_ALNUM.sub("_", product.lower().replace("\\", "")).strip("_")
    return f"{v}:{p}"


def purl_key(ptype: str, namespace: str | None, name: str) -> str:
    """Normalised ``type/namespace/name`` (PyPI names folded per PEP 503)."""
    t = ptype.lower()
    n = name.lower()
    if t == "pypi":
        n = re.sub(r"[-_.]+", "-", n)
    ns = (namespace or "").lower()
    return f"{t}/{ns}/{n}"


def purl_scheme(ptype: str) -> str:
    return "pypi" if ptype.lower() == "pypi" else "generic"


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product named by STIX content: a key (CPE vendor:product or PURL) and versions."""

    key: str
    versions: VersionRange
    scheme: str = "generic"
    label: str = ""

    @classmethod
    def from_cpe(cls, cpe: str, versions: VersionRange | None = None) -> ProductRef | None:
        parts = re.split(r"(?<!\\):", cpe.strip().lower())
        if len(parts) < 6 or parts[0] != "cpe" or parts[1] != "2.3":
            return None
        vendor, product, version = parts[3], parts[4], parts[5]
        if vendor in ("*", "-", "") or product in ("*", "-", ""):
            return None
        if versions is None:
            versions = (
                VersionRange.any()
                if version in ("*", "-", "")
                else VersionRange.exact(version.replace("\\", ""))
            )
        label = f"{vendor} {product}".replace("\\", "").replace("_", " ")
        return cls(product_key(vendor, product), versions, "generic", label)

    @classmethod
    def from_purl(cls, purl: str, versions: VersionRange | None = None) -> ProductRef | None:
        try:
            p = PackageURL.from_string(purl.strip())
        except ValueError:
            return None
        scheme = purl_scheme(p.type)
        if versions is None:
            versions = VersionRange.exact(p.version) if p.version else VersionRange.any()
        label = f"{p.namespace}/{p.name}" if p.namespace else p.name
        return cls(purl_key(p.type, p.namespace, p.name), versions, scheme, label)

    @classmethod
    def from_names(
        cls, vendor: str, product: str, versions: VersionRange | None = None
    ) -> ProductRef | None:
        if not vendor.strip() or not product.strip():
            return None
        return cls(
            product_key(vendor, product),
            versions or VersionRange.any(),
            "generic",
            f"{vendor} {product}",
        )


@dataclass(frozen=True, slots=True)
class AssetRef:
    """One verified asset as the index keeps it."""

    asset_id: int
    org_id: int
    kind: str
    value: str
    #: For products: the versions the organisation runs (None for other kinds).
    versions: VersionRange | None = None
    scheme: str = "generic"
    #: Index keys this asset was filed under (for removal).
    keys: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class OrgProfile:
    """What matching needs to know about one organisation."""

    id: int
    name: str
    kvk: str = ""
    sectors: frozenset[str] = frozenset()
    nis2_keys: frozenset[str] = frozenset()
    classification: str | None = None
    province: str | None = None
    maturity: str = "M0"
    partnerships: frozenset[int] = frozenset()


@dataclass
class _Nets:
    """Networks of one IP version."""

    bits: int
    by_len: dict[int, dict[int, list[AssetRef]]] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    _starts: list[int] | None = None
    _ranges: list[tuple[int, int, int, AssetRef]] | None = None

    def add(self, plen: int, net: int, ref: AssetRef) -> None:
        table = self.by_len.get(plen)
        if table is None:
            table = self.by_len[plen] = {}
            self.lengths = sorted(self.by_len)
        table.setdefault(net, []).append(ref)
        self._starts = self._ranges = None

    def remove(self, plen: int, net: int, asset_id: int) -> None:
        table = self.by_len.get(plen)
        if table is None or net not in table:
            return
        table[net] = [r for r in table[net] if r.asset_id != asset_id]
        if not table[net]:
            del table[net]
        if not table:
            del self.by_len[plen]
            self.lengths = sorted(self.by_len)
        self._starts = self._ranges = None

    def containing(self, start: int, plen: int) -> list[AssetRef]:
        """Owners of networks that contain the range starting at ``start`` of length ``plen``."""
        found: list[AssetRef] = []
        for length in self.lengths:
            if length > plen:
                break
            shift = self.bits - length
            owners = self.by_len[length].get(start >> shift << shift)
            if owners:
                found.extend(owners)
        return found

    def inside(self, start: int, end: int) -> list[AssetRef]:
        """Owners of networks lying inside [start, end] (strictly more specific ones too)."""
        if self._ranges is None or self._starts is None:
            ranges = []
            for length, table in self.by_len.items():
                size = 1 << (self.bits - length)
                for net, owners in table.items():
                    for ref in owners:
                        ranges.append((net, net + size - 1, ref.asset_id, ref))
            ranges.sort(key=itemgetter(0, 1, 2))  # C-level key: (start, end, asset id)
            self._ranges = ranges
            self._starts = [r[0] for r in ranges]
        i = bisect.bisect_left(self._starts, start)
        found: list[AssetRef] = []
        while i < len(self._ranges) and self._ranges[i][0] <= end:
            if self._ranges[i][1] <= end:
                found.append(self._ranges[i][3])
            i += 1
        return found


class ConstituencyIndex:
    """See the module docstring."""

    def __init__(self) -> None:
        self.orgs: dict[int, OrgProfile] = {}
        self.assets: dict[int, AssetRef] = {}
        self._nets = {4: _Nets(32), 6: _Nets(128)}
        self._asn: dict[str, list[AssetRef]] = {}
        self._domains: dict[str, list[AssetRef]] = {}
        self._products: dict[str, list[AssetRef]] = {}
        self._by_sector: dict[str, set[int]] = defaultdict(set)
        self._by_nis2_key: dict[str, set[int]] = defaultdict(set)
        self._by_class: dict[str, set[int]] = defaultdict(set)
        self._by_province: dict[str, set[int]] = defaultdict(set)
        self._by_partnership: dict[int, set[int]] = defaultdict(set)

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def load(cls, session: Session) -> ConstituencyIndex:
        """Build the index from the database (organisations, active memberships, verified
        assets)."""
        with gc_paused():
            return cls._load(session)

    @classmethod
    def _load(cls, session: Session) -> ConstituencyIndex:
        session.flush()  # the reads below use the connection (Core rows, no ORM processing)
        index = cls()
        partnerships: dict[int, set[int]] = defaultdict(set)
        for org_id, partnership_id in session.connection().execute(
            select(Membership.organisation_id, Membership.partnership_id).where(
                Membership.status == "active"
            )
        ):
            partnerships[org_id].add(partnership_id)
        rows = session.connection().execute(
            select(
                Organisation.id,
                Organisation.name,
                Organisation.kvk,
                type_coerce(Organisation.nis2_entity_types, Text),
                Organisation.classification,
                type_coerce(Organisation.classification_reasons, Text),
                Organisation.province,
                Organisation.maturity_level,
            )
        )
        # fetchmany in partitions, not fetchone per row
        for oid, name, kvk, types, cls_, reasons, province, maturity in chain.from_iterable(
            rows.partitions(10_000)
        ):
            index.put_org(
                profile_of(
                    oid, name, kvk, _json(types), cls_, _json(reasons), province, maturity,
                    partnerships=frozenset(partnerships.get(oid, ())),
                )
            )  # fmt: skip
        assets = session.connection().execute(
            select(
                Asset.id,
                Asset.organisation_id,
                Asset.kind,
                Asset.value,
                Asset.cpe,
                Asset.purl,
                Asset.vendor,
                Asset.product,
                Asset.version_range,
                Asset.ip_version,
                Asset.range_start,
                Asset.range_end,
            ).where(Asset.status == "verified")
        )
        asset_rows = chain.from_iterable(assets.partitions(10_000))
        nets, filed = index._nets, index.assets
        for (
            aid,
            org,
            kind,
            value,
            cpe,
            purl,
            vendor,
            product,
            versions,
            ipv,
            low,
            high,
        ) in asset_rows:
            if kind == "cidr" and ipv in (4, 6) and low and high:
                # fast path of a fresh index (nothing to drop): the stored integer range
                start = int(low, 16)
                size = int(high, 16) - start + 1
                if size > 0 and not size & (size - 1) and not start & (size - 1):
                    plen = _BITS[ipv] - (size.bit_length() - 1)
                    ref = AssetRef(aid, org, "cidr", value, keys=((ipv, plen, start),))
                    nets[ipv].add(plen, start, ref)
                    filed[aid] = ref
                    continue
            index.put_asset(aid, org, kind, value, cpe, purl, vendor, product, versions)
        log.info(
            "constituency index: %d organisations, %d verified assets",
            len(index.orgs),
            len(index.assets),
        )
        return index

    def put_org(self, profile: OrgProfile) -> None:
        """Add or replace an organisation's profile."""
        self._unfile_org(profile.id)
        self.orgs[profile.id] = profile
        for s in profile.sectors:
            self._by_sector[s].add(profile.id)
        for k in profile.nis2_keys:
            self._by_nis2_key[k].add(profile.id)
        if profile.classification:
            self._by_class[profile.classification].add(profile.id)
        if profile.province:
            self._by_province[profile.province].add(profile.id)
        for p in profile.partnerships:
            self._by_partnership[p].add(profile.id)

    def drop_org(self, org_id: int) -> None:
        """Forget an organisation and all its assets."""
        self._unfile_org(org_id)
        self.orgs.pop(org_id, None)
        for asset_id in [a.asset_id for a in self.assets.values() if a.org_id == org_id]:
            self.drop_asset(asset_id)

    def _unfile_org(self, org_id: int) -> None:
        old = self.orgs.get(org_id)
        if old is None:
            return
        for s in old.sectors:
            self._by_sector[s].discard(org_id)
        for k in old.nis2_keys:
            self._by_nis2_key[k].discard(org_id)
        if old.classification:
            self._by_class[old.classification].discard(org_id)
        if old.province:
            self._by_province[old.province].discard(org_id)
        for p in old.partnerships:
            self._by_partnership[p].discard(org_id)

    def put_asset(
        self,
        asset_id: int,
        org_id: int,
        kind: str,
        value: str,
        cpe: str | None = None,
        purl: str | None = None,
        vendor: str | None = None,
        product: str | None = None,
        version_range: str | None = None,
    ) -> AssetRef | None:
        """File one verified asset (replacing an earlier filing of the same id)."""
        self.drop_asset(asset_id)
        keys: list[Any] = []
        ref: AssetRef | None = None
        if kind == "cidr":
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                log.warning("asset %s: unreadable network %r", asset_id, value)
                return None
            key = (net.version, net.prefixlen, int(net.network_address))
            ref = AssetRef(asset_id, org_id, kind, str(net), keys=(key,))
            self._nets[net.version].add(net.prefixlen, int(net.network_address), ref)
        elif kind == "asn":
            number = value.strip().upper().removeprefix("AS")
            ref = AssetRef(asset_id, org_id, kind, number, keys=(number,))
            self._asn.setdefault(number, []).append(ref)
        elif kind == "domain":
            name = value.strip().lower().rstrip(".")
            ref = AssetRef(asset_id, org_id, kind, name, keys=(name,))
            self._domains.setdefault(name, []).append(ref)
        elif kind == "product":
            declared = VersionRange.parse(version_range) if version_range else None
            products: list[ProductRef] = []
            if cpe:
                p = ProductRef.from_cpe(cpe, declared)
                if p is not None:
                    products.append(p)
            if purl:
                p = ProductRef.from_purl(purl, declared)
                if p is not None:
                    products.append(p)
            if not products and vendor and product:
                p = ProductRef.from_names(vendor, product, declared)
                if p is not None:
                    products.append(p)
            if not products:
                return None
            # One asset may be filed under a CPE key and a PURL key; versions per filing.
            for p in products:
                keys.append(p.key)
            first = products[0]
            ref = AssetRef(
                asset_id,
                org_id,
                kind,
                value,
                versions=first.versions,
                scheme=first.scheme,
                keys=tuple(keys),
            )
            for p in products:
                filed = AssetRef(
                    asset_id, org_id, kind, value, p.versions, p.scheme, keys=tuple(keys)
                )
                self._products.setdefault(p.key, []).append(filed)
        else:
            return None
        self.assets[asset_id] = ref
        return ref

    def _put_range(
        self, asset_id: int, org_id: int, value: str, version: int, start: int, end: int
    ) -> None:
        """File a network from its stored integer range (fast path of :meth:`load`)."""
        bits = _BITS[version]
        size = end - start + 1
        plen = bits - (size.bit_length() - 1)
        if size <= 0 or size & (size - 1) or start & (size - 1):
            self.put_asset(asset_id, org_id, "cidr", value)  # not a CIDR block: parse it
            return
        self.drop_asset(asset_id)
        ref = AssetRef(asset_id, org_id, "cidr", value, keys=((version, plen, start),))
        self._nets[version].add(plen, start, ref)
        self.assets[asset_id] = ref

    def drop_asset(self, asset_id: int) -> None:
        """Forget one asset (no-op when it is not filed)."""
        ref = self.assets.pop(asset_id, None)
        if ref is None:
            return
        if ref.kind == "cidr":
            version, plen, net = ref.keys[0]
            self._nets[version].remove(plen, net, asset_id)
            return
        table = {"asn": self._asn, "domain": self._domains, "product": self._products}[ref.kind]
        for key in ref.keys:
            owners = [r for r in table.get(key, ()) if r.asset_id != asset_id]
            if owners:
                table[key] = owners
            else:
                table.pop(key, None)

    # -- lookups -----------------------------------------------------------------------------

    def lookup_ip(self, address: str) -> list[AssetRef]:
        """Every owner of a network containing ``address`` (nested ranges: every level)."""
        parsed = _parse_ip(address)
        if parsed is None:
            return []
        version, value = parsed
        nets = self._nets[version]
        if not nets.lengths:
            return []
        return nets.containing(value, nets.bits)

    def lookup_network(self, cidr: str) -> list[AssetRef]:
        """Owners of networks containing, equal to or inside ``cidr``."""
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return []
        nets = self._nets[net.version]
        start, end = int(net.network_address), int(net.broadcast_address)
        found = {r.asset_id: r for r in nets.containing(start, net.prefixlen)}
        for r in nets.inside(start, end):
            found.setdefault(r.asset_id, r)
        return list(found.values())

    def lookup_asn(self, number: int | str) -> list[AssetRef]:
        return list(self._asn.get(str(number).strip().upper().removeprefix("AS"), ()))

    def lookup_host(self, host: str) -> list[AssetRef]:
        """Owners of ``host`` or of any parent domain (label-wise walk)."""
        name = host.strip().lower().rstrip(".")
        found: list[AssetRef] = []
        while name:
            owners = self._domains.get(name)
            if owners:
                found.extend(owners)
            _, dot, name = name.partition(".")
            if not dot:
                break
        return found

    def lookup_product(self, product: ProductRef) -> list[AssetRef]:
        """Owners running ``product`` in a version within ``product.versions``."""
        found = []
        for ref in self._products.get(product.key, ()):
            mine = ref.versions or VersionRange.any()
            if mine.overlaps(product.versions, ref.scheme):
                found.append(ref)
        return found

    def orgs_in_sector(self, value: str) -> set[int]:
        """Organisations whose derived STIX sectors include ``value`` or a narrower value."""
        value = value.strip().lower()
        wanted = {value} | set(load_taxonomy().narrower.get(value, frozenset()))
        result: set[int] = set()
        for v in wanted:
            result |= self._by_sector.get(v, set())
        return result

    def orgs_with_nis2_key(self, key: str) -> set[int]:
        return set(self._by_nis2_key.get(key, ()))

    def orgs_with_class(self, classification: str) -> set[int]:
        return set(self._by_class.get(classification, ()))

    def orgs_in_province(self, province: str) -> set[int]:
        return set(self._by_province.get(province, ()))

    def orgs_in_partnership(self, partnership_id: int) -> set[int]:
        return set(self._by_partnership.get(partnership_id, ()))

    def all_orgs(self) -> set[int]:
        return set(self.orgs)

    def stats(self) -> dict[str, int]:
        return {
            "organisations": len(self.orgs),
            "assets": len(self.assets),
            "prefix_lengths_v4": len(self._nets[4].lengths),
            "prefix_lengths_v6": len(self._nets[6].lengths),
            "domains": len(self._domains),
            "products": len(self._products),
        }


def profile_of(
    org_id: int,
    name: str,
    kvk: str,
    entity_types: Iterable[str] | None,
    classification: str | None,
    reasons: dict[str, Any] | None,
    province: str | None,
    maturity: str | None,
    *,
    partnerships: frozenset[int] = frozenset(),
) -> OrgProfile:
    """An :class:`OrgProfile` from an organisation's stored columns."""
    sectors = reasons.get("stix_sectors") if isinstance(reasons, dict) else None
    if not isinstance(sectors, list):
        sectors = []
    types = tuple(t for t in entity_types or () if isinstance(t, str))
    keys = _annex_keys(types) if types else frozenset()
    return OrgProfile(
        id=org_id,
        name=name,
        kvk=kvk,
        sectors=frozenset(str(s).lower() for s in sectors if isinstance(s, str)),
        nis2_keys=keys,
        classification=classification,
        province=province,
        maturity=maturity or "M0",
        partnerships=partnerships,
    )
