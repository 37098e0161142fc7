"""The matcher: from STIX objects in the store to the organisations they concern, per dimension.

Owns :class:`Matcher`, :class:`Criteria` (explicit targeting given by a caller, e.g. a
bulletin) and :class:`Hit` (one organisation × object × dimension × reason, with evidence,
confidence and the facts for the explanation). Dimensions:

- **network**: the observable index (``stix_observables``) of indicators, SCOs and
  observed-data — IPs and CIDRs (probing the CIDR index), domains (suffix walk), URLs (their
  host), e-mail addresses (their domain) — and of the observed-data a sighting refers to;
  ``autonomous-system`` SCOs against the ASN map;
- **product**: a vulnerability's CVE → affected products from CSAF product trees (``affects``
  relationships to ``software`` objects, as ``nca_share.feeds.parsers.csaf`` maps them),
  NVD CPE configurations and KEV vendor/product (``vuln_products``); ``software`` SCOs that
  are not the target of a vulnerability relationship; explicit product criteria;
- **sector / region**: a bounded graph walk over ``targets`` relationships (indicator →
  indicates → malware/actor/campaign → attributed-to → … → targets → identity with
  ``sectors`` or location), reports' ``object_refs`` and sector ``labels``;
- **sector / nis2 / region / partnership / product** from explicit :class:`Criteria`.

Revoked objects never match; indicators whose ``valid_until`` has passed never match.
Confidence = source reliability (the feed's Admiralty letter A=100 … E=20, F/unknown=50) ×
object confidence (missing: 50) / 100.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Integer, Text, any_, bindparam, case, func, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from nca_share.clock import Clock, SystemClock
from nca_share.constituency.models import PROVINCES
from nca_share.feeds.models import Feed
from nca_share.matching.explain import explain, format_date
from nca_share.matching.index import AssetRef, ConstituencyIndex, ProductRef
from nca_share.matching.models import VulnProduct
from nca_share.matching.versions import VersionRange
from nca_share.stix.models import StixEdge, StixObject, StixObservable
from nca_share.stix.observables import ip_observable, normalize

log = logging.getLogger(__name__)

__all__ = ["Criteria", "Hit", "Matcher"]

RELIABILITY = {"A": 100, "B": 80, "C": 60, "D": 40, "E": 20, "F": 50}
ACTOR_TYPES = frozenset({"threat-actor", "intrusion-set", "campaign", "malware"})
NETWORK_TYPES = frozenset(
    {
        "indicator",
        "observed-data",
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "autonomous-system",
    }
)
#: Relationship types followed from an indicator or actor towards what is targeted.
_WALK_TYPES = ("indicates", "attributed-to", "uses", "targets")
#: Ids per query (bound as one parameter, see :func:`one_of`).
_CHUNK = 5000
#: Types whose JSON is read only when they match (see ``Matcher._load``).
LEAN_TYPES = ("indicator", "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr")
_NETWORK_KINDS = frozenset({"ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr", "domain", "url", "email"})
#: ISO 3166-2:NL codes → province slugs.
ISO_PROVINCES = {
    "NL-DR": "drenthe",
    "NL-FL": "flevoland",
    "NL-FR": "fryslan",
    "NL-GE": "gelderland",
    "NL-GR": "groningen",
    "NL-LI": "limburg",
    "NL-NB": "noord-brabant",
    "NL-NH": "noord-holland",
    "NL-OV": "overijssel",
    "NL-UT": "utrecht",
    "NL-ZE": "zeeland",
    "NL-ZH": "zuid-holland",
}
_PROVINCE_NAMES = {name.lower(): slug for slug, name in PROVINCES.items()} | {
    "friesland": "fryslan",
    "fryslân": "fryslan",
}
_C2_WORDS = ("c2", "c&c", "command-and-control", "command and control", "botnet_cc", "botnet-cc")


@dataclass(frozen=True)
class Criteria:
    """Explicit targeting criteria (bulletins): any organisation meeting one of them matches."""

    sectors: tuple[str, ...] = ()
    #: NIS2 classifications (``essential``, ``important``) or annex keys (``I.1a``).
    nis2: tuple[str, ...] = ()
    #: Province slugs (``noord-holland``) or ISO codes (``NL-NH``).
    regions: tuple[str, ...] = ()
    #: CPE 2.3 names, PURLs or ``vendor:product`` (optionally `` <range>``).
    products: tuple[str, ...] = ()
    partnerships: tuple[int, ...] = ()

    def is_empty(self) -> bool:
        return not (self.sectors or self.nis2 or self.regions or self.products or self.partnerships)


@dataclass
class Hit:
    """One reason why one organisation is concerned by one STIX object."""

    org_id: int
    stix_id: str
    stix_type: str
    dimension: str
    match_key: str
    matched_value: str
    asset_value: str | None
    confidence: int
    tlp: int
    source: str
    asset_id: int | None = None
    asset_kind: str | None = None
    #: ``kind:value`` of the matched observable (network/product), for notice dedup.
    observable: str = ""
    urgent: bool = False
    category: str = "exposure"
    evidence: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    _explained: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    def explanation(self) -> tuple[str, str]:
        if self._explained is None:
            self._explained = self._explain()
        return self._explained

    def _explain(self) -> tuple[str, str]:
        return explain(
            {
                **self.facts,
                "dimension": self.dimension,
                "matched_value": self.matched_value,
                "asset_value": self.asset_value,
                "asset_kind": self.asset_kind,
            }
        )

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.org_id, self.stix_id, self.dimension, self.match_key)


@dataclass
class _Obj:
    stix_id: str
    type: str
    raw: dict[str, Any]
    tlp: int
    source: str
    feed_id: int | None
    confidence: int | None
    revoked: bool
    valid_until: datetime | None
    when: datetime | None
    has_raw: bool = True


def _decode(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    value = orjson.loads(raw)
    return value if isinstance(value, dict) else {}


def _when(raw: dict[str, Any]) -> datetime | None:
    """When the source said it: ``valid_from``, else ``created`` (timezone-aware)."""
    for key in ("valid_from", "created"):
        value = raw.get(key)
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def one_of(column: Any, values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN values`` with the whole list bound as ONE parameter: a JSON array read by
    ``json_each`` on SQLite, an array compared with ``= ANY`` on PostgreSQL. Both plans use
    the column's index; unlike an expanding ``IN (?, ?, …)`` SQLAlchemy does no per-value
    compile work (about 1 CPU-second per 100,000 ids in the benchmark). Other dialects get
    the plain ``IN``."""
    if dialect == "sqlite":
        table = func.json_each(
            bindparam(None, orjson.dumps(list(values)).decode(), type_=Text)
        ).table_valued("value")
        return cast("ColumnElement[bool]", column.in_(select(table.c.value)))
    if dialect == "postgresql":
        item = Integer() if values and isinstance(values[0], int) else Text()
        return cast(
            "ColumnElement[bool]", column == any_(bindparam(None, list(values), type_=ARRAY(item)))
        )
    return cast("ColumnElement[bool]", column.in_(values))


def _host_of_url(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


class Matcher:
    """Match STIX objects (by id, current versions) against a :class:`ConstituencyIndex`.

    :param session: read access to the STIX store and ``vuln_products``.
    :param index: the constituency index.
    :param max_depth: hops of the targeting graph walk (indicator → … → identity).
    """

    def __init__(
        self,
        session: Session,
        index: ConstituencyIndex,
        *,
        clock: Clock | None = None,
        timezone: str = "Europe/Amsterdam",
        max_depth: int = 3,
    ) -> None:
        self.session = session
        self.index = index
        self.clock = clock or SystemClock()
        self.timezone = timezone
        self.max_depth = max_depth
        self._feeds: dict[int, tuple[str, int]] | None = None
        self._dialect = session.get_bind().dialect.name

    # -- loading -----------------------------------------------------------------------------

    def _read(self, stmt: Any) -> Any:
        """Rows of a Core ``select`` of columns, on the session's connection (the bulk reads
        skip the ORM's per-row result processing; pending ORM changes are flushed first)."""
        if self.session.dirty or self.session.new or self.session.deleted:
            self.session.flush()
        return self.session.connection().execute(stmt).all()  # one fetchall

    def _feed(self, feed_id: int | None) -> tuple[str | None, int]:
        if self._feeds is None:
            self._feeds = {
                fid: (name, RELIABILITY.get((rel or "F").upper(), 50))
                for fid, name, rel in self.session.execute(
                    select(Feed.id, Feed.name, Feed.reliability)
                )
            }
        if feed_id is None or feed_id not in self._feeds:
            return None, 50
        return self._feeds[feed_id]

    def _load(self, ids: Iterable[str]) -> dict[str, _Obj]:
        """Current versions of ``ids``; the JSON of indicators and network SCOs is not read
        here (most never match): :meth:`_fill_raw` reads it for the ones that do."""
        wanted = sorted(set(ids))
        found: dict[str, _Obj] = {}
        raw_col = case((StixObject.type.in_(LEAN_TYPES), None), else_=StixObject.raw)
        for chunk in _chunks(wanted):
            rows = self._read(
                select(
                    StixObject.stix_id,
                    StixObject.type,
                    type_coerce(raw_col, Text),
                    StixObject.tlp,
                    StixObject.source,
                    StixObject.feed_id,
                    StixObject.confidence,
                    StixObject.revoked,
                    StixObject.valid_until,
                ).where(
                    one_of(StixObject.stix_id, chunk, self._dialect),
                    StixObject.is_current.is_(True),
                )
            )
            for sid, typ, raw, tlp, source, feed_id, conf, revoked, valid_until in rows:
                obj = _Obj(sid, typ, _decode(raw), tlp, source, feed_id, conf, revoked,
                           valid_until, None, raw is not None or typ not in LEAN_TYPES)  # fmt: skip
                if raw is not None:
                    obj.when = _when(obj.raw)
                found[sid] = obj
        return found

    def _fill_raw(self, objects: Iterable[_Obj]) -> None:
        """Read the JSON of objects loaded without it."""
        missing = {o.stix_id: o for o in objects if not o.has_raw}
        keys = sorted(missing)
        for chunk in _chunks(keys):
            for sid, raw, added in self._read(
                select(
                    StixObject.stix_id, type_coerce(StixObject.raw, Text), StixObject.date_added
                ).where(
                    one_of(StixObject.stix_id, chunk, self._dialect),
                    StixObject.is_current.is_(True),
                )
            ):
                obj = missing[sid]
                obj.raw = _decode(raw)
                obj.has_raw = True
                obj.when = _when(obj.raw) or added

    def _active(self, obj: _Obj) -> bool:
        if obj.revoked:
            return False
        if obj.type == "indicator" and obj.valid_until is not None:
            return obj.valid_until > self.clock.now()
        return True

    def _edges(
        self, sources: Iterable[str], kinds: Sequence[str], rel_types: Sequence[str] = ()
    ) -> list[tuple[str, str, str, str | None, str]]:
        """(source, target, kind, relationship_type, via) of current edges from ``sources``."""
        out: list[tuple[str, str, str, str | None, str]] = []
        wanted = sorted(set(sources))
        for chunk in _chunks(wanted):
            stmt = select(
                StixEdge.source_id,
                StixEdge.target_id,
                StixEdge.kind,
                StixEdge.relationship_type,
                StixEdge.via_id,
            ).where(one_of(StixEdge.source_id, chunk, self._dialect), StixEdge.kind.in_(kinds))
            if rel_types:
                stmt = stmt.where(StixEdge.relationship_type.in_(rel_types))
            out.extend((a, b, c, d, e) for a, b, c, d, e in self._read(stmt))
        return out

    # -- facts -------------------------------------------------------------------------------

    def _base(self, obj: _Obj) -> tuple[int, str, dict[str, Any]]:
        feed_name, reliability = self._feed(obj.feed_id)
        conf = obj.confidence if obj.confidence is not None else 50
        confidence = max(0, min(100, round(reliability * conf / 100)))
        source = feed_name or obj.source
        facts: dict[str, Any] = {
            "source": source,
            "date": format_date(obj.when, self.timezone),
        }
        return confidence, source, facts

    def _role(self, obj: _Obj, families: dict[str, list[str]]) -> tuple[str, str]:
        raw = obj.raw
        text = " ".join(
            str(x)
            for x in (raw.get("name"), raw.get("description"), *_str_list(raw.get("labels")))
            if isinstance(x, str)
        ).lower()
        types = _str_list(raw.get("indicator_types"))
        if any(w in text for w in _C2_WORDS):
            role = "c2"
        elif "compromised" in types:
            role = "compromised"
        elif obj.type == "sighting":
            role = "sighting"
        elif obj.type != "indicator":
            role = "observed"
        elif types:
            role = (
                types[0]
                if types[0] in ("malicious-activity", "anomalous-activity", "attribution")
                else "malicious-activity"
            )
        else:
            role = "indicator"
        names = families.get(obj.stix_id) or []
        family = ", ".join(sorted(set(names))[:3])
        if not family:
            desc = raw.get("description")
            if isinstance(desc, str):
                head = desc.split("(port", 1)[0].strip()
                if head and len(head) <= 40 and len(head.split()) <= 3:
                    family = head
        return role, family

    # -- the matcher -------------------------------------------------------------------------

    def match(self, stix_ids: Iterable[str], criteria: Criteria | None = None) -> list[Hit]:
        """Every hit of the current versions of ``stix_ids`` (relationships pull in their
        source), plus the explicit ``criteria`` applied to each object."""
        ids = list(dict.fromkeys(stix_ids))
        objects = self._load(ids)
        extra: set[str] = set()
        for obj in objects.values():
            if obj.type == "relationship":
                for key in ("source_ref", "target_ref"):
                    ref = obj.raw.get(key)
                    if isinstance(ref, str) and ref not in objects:
                        extra.add(ref)
        if extra:
            objects.update(self._load(extra))
        active = {sid: o for sid, o in objects.items() if self._active(o)}
        hits: dict[tuple[int, str, str, str], Hit] = {}

        def add(hit: Hit) -> None:
            old = hits.get(hit.key)
            if old is None or hit.confidence > old.confidence:
                hits[hit.key] = hit

        targeting = self._targeting(active)
        families = targeting.families
        for hit in self._network(active, families):
            add(hit)
        for hit in self._product(active):
            add(hit)
        for hit in self._sector_region(active, targeting):
            add(hit)
        if criteria is not None and not criteria.is_empty():
            for obj in active.values():
                if obj.type == "relationship":
                    continue
                for hit in self._criteria(obj, criteria):
                    add(hit)
        return list(hits.values())

    # network --------------------------------------------------------------------------------

    def _network(self, active: dict[str, _Obj], families: dict[str, list[str]]) -> list[Hit]:
        network_ids = [sid for sid, o in active.items() if o.type in NETWORK_TYPES]
        sightings = [sid for sid, o in active.items() if o.type == "sighting"]
        # observable owner → the object whose match it is
        owners: dict[str, list[str]] = defaultdict(list)
        for sid in network_ids:
            owners[sid].append(sid)
        for src, target, _kind, _rt, _via in self._edges(sightings, ("observed_data_refs",)):
            owners[target].append(src)
        hits: list[Hit] = []
        if not owners:
            return hits
        observables: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for chunk in _chunks(sorted(owners)):
            for sid, kind, value in self._read(
                # no kind filter in SQL: the planner must use the stix_id index
                select(StixObservable.stix_id, StixObservable.kind, StixObservable.value).where(
                    one_of(StixObservable.stix_id, chunk, self._dialect)
                )
            ):
                if kind in _NETWORK_KINDS:
                    observables[sid].append((kind, value))
        for sid, o in active.items():
            if o.type == "autonomous-system" and isinstance(o.raw.get("number"), int):
                observables[sid].append(("asn", str(o.raw["number"])))
        found: list[tuple[str, str, str, list[tuple[AssetRef, str]]]] = []
        for holder, values in observables.items():
            for kind, value in values:
                refs = self._network_refs(kind, value)
                if refs:
                    found.append((holder, kind, value, refs))
        self._fill_raw(
            active[sid] for holder, _k, _v, _r in found for sid in owners.get(holder, [holder])
            if sid in active
        )  # fmt: skip
        for holder, kind, value, refs in found:
            for sid in owners.get(holder, [holder]):
                obj = active.get(sid)
                if obj is None:
                    continue
                confidence, source, base = self._base(obj)
                role, family = self._role(obj, families)
                types = _str_list(obj.raw.get("indicator_types"))
                compromised = role in ("c2", "compromised") or kind.startswith("ip")
                for ref, matched in refs:
                    hits.append(
                        Hit(
                            org_id=ref.org_id,
                            stix_id=sid,
                            stix_type=obj.type,
                            dimension="network",
                            match_key=f"{ref.asset_id}|{kind}:{value}"[:500],
                            matched_value=matched[:500],
                            asset_value=ref.value,
                            confidence=confidence,
                            tlp=obj.tlp,
                            source=source[:200],
                            asset_id=ref.asset_id,
                            asset_kind=ref.kind,
                            observable=f"{kind}:{value}"[:500],
                            urgent=role == "compromised" or "compromised" in types,
                            category="compromised-host" if compromised else "exposure",
                            evidence={
                                "objects": [sid] if holder == sid else [sid, holder],
                                "observable": {"kind": kind, "value": value},
                                "asset": {"id": ref.asset_id, "kind": ref.kind, "value": ref.value},
                            },  # fmt: skip
                            facts={**base, "role": role, "family": family},
                        )
                    )
        return hits

    def _network_refs(self, kind: str, value: str) -> list[tuple[AssetRef, str]]:
        index = self.index
        if kind in ("ipv4", "ipv6"):
            return [(r, value) for r in index.lookup_ip(value)]
        if kind in ("ipv4-cidr", "ipv6-cidr"):
            return [(r, value) for r in index.lookup_network(value)]
        if kind == "asn":
            return [(r, f"AS{value}") for r in index.lookup_asn(value)]
        host: str | None = None
        if kind == "domain":  # already normalised by the observable index
            return [(r, value) for r in index.lookup_host(value)]
        if kind == "url":
            host = _host_of_url(value)
        elif kind == "email":
            host = value.rpartition("@")[2]
        if not host:
            return []
        ip = ip_observable(host.strip("[]"))
        if ip is not None:
            return [(r, value) for r in index.lookup_ip(ip.value)]
        obs = normalize("domain", host)
        if obs is None:
            return []
        return [(r, value) for r in index.lookup_host(obs.value)]

    # product --------------------------------------------------------------------------------

    def _product(self, active: dict[str, _Obj]) -> list[Hit]:
        hits: list[Hit] = []
        vulns = [o for o in active.values() if o.type == "vulnerability"]
        software = [o for o in active.values() if o.type == "software"]
        if software:
            targeted = {
                target
                for (target,) in self.session.execute(
                    select(StixEdge.target_id).where(
                        StixEdge.target_id.in_([o.stix_id for o in software]),
                        StixEdge.relationship_type.in_(("affects", "fixed-in", "does-not-affect")),
                    )
                )
            }
            for obj in software:
                if obj.stix_id in targeted:
                    continue
                for product in software_products(obj.raw):
                    hits.extend(self._product_hits(obj, product, None, [obj.stix_id], False))
        if not vulns:
            return hits
        cves: dict[str, str] = {}
        for v in vulns:
            cve = _cve_of(v.raw)
            if cve:
                cves[v.stix_id] = cve
        knowledge: dict[str, list[tuple[ProductRef, str, bool]]] = defaultdict(list)
        exploited: set[str] = set()
        cve_list = sorted(set(cves.values()))
        for chunk in _chunks(cve_list):
            for cve, source, key, _cpe, versions, label, kev in self.session.execute(
                select(
                    VulnProduct.cve,
                    VulnProduct.source,
                    VulnProduct.product_key,
                    VulnProduct.cpe,
                    VulnProduct.versions,
                    VulnProduct.label,
                    VulnProduct.known_exploited,
                ).where(one_of(VulnProduct.cve, chunk, self._dialect))
            ):
                if kev:
                    exploited.add(cve)
                ref = ProductRef(key, VersionRange.parse(versions), "generic", label)
                knowledge[cve].append((ref, source, bool(kev)))
        affects = self._edges([v.stix_id for v in vulns], ("relationship",), ("affects",))
        soft_ids = {target for _s, target, _k, _r, _v in affects}
        soft_objs = self._load(soft_ids) if soft_ids else {}
        by_vuln: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for src, target, _kind, _rt, via in affects:
            by_vuln[src].append((target, via))
        for v in vulns:
            cve = cves.get(v.stix_id)
            kev = cve in exploited if cve else False
            for target, via in by_vuln.get(v.stix_id, []):
                sw = soft_objs.get(target)
                if sw is None:
                    continue
                for product in software_products(sw.raw):
                    hits.extend(self._product_hits(v, product, cve, [v.stix_id, via, target], kev))
            for ref, source, _k in knowledge.get(cve or "", []):
                hits.extend(
                    self._product_hits(v, ref, cve, [v.stix_id], kev, knowledge_source=source)
                )
        return hits

    def _product_hits(
        self,
        obj: _Obj,
        product: ProductRef,
        cve: str | None,
        path: list[str],
        kev: bool,
        *,
        knowledge_source: str | None = None,
    ) -> list[Hit]:
        refs = self.index.lookup_product(product)
        if not refs:
            return []
        confidence, source, base = self._base(obj)
        out = []
        observable = f"cve:{cve}" if cve else f"product:{product.key}"
        for ref in refs:
            facts = {
                **base,
                "cve": cve or "",
                "versions": str(product.versions),
                "kev": kev,
                "software_only": cve is None and obj.type == "software",
            }
            out.append(
                Hit(
                    org_id=ref.org_id,
                    stix_id=obj.stix_id,
                    stix_type=obj.type,
                    dimension="product",
                    match_key=f"{ref.asset_id}|{product.key}|{product.versions}"[:500],
                    matched_value=(product.label or product.key)[:500],
                    asset_value=ref.value,
                    confidence=confidence,
                    tlp=obj.tlp,
                    source=source[:200],
                    asset_id=ref.asset_id,
                    asset_kind="product",
                    observable=observable[:500],
                    urgent=kev,
                    category="vulnerable-product",
                    evidence={
                        "objects": path,
                        "product": product.key,
                        "versions": str(product.versions),
                        "asset_versions": str(ref.versions) if ref.versions else "*",
                        "cve": cve,
                        "knowledge": knowledge_source or ("csaf" if len(path) > 1 else "stix"),
                        "asset": {"id": ref.asset_id, "kind": ref.kind, "value": ref.value},
                    },
                    facts=facts,
                )
            )
        return out

    # sector / region -------------------------------------------------------------------------

    @dataclass
    class _Targeting:
        #: object id → [(target id, path of ids)]
        targets: dict[str, list[tuple[str, list[str]]]]
        objects: dict[str, _Obj]
        families: dict[str, list[str]]

    def _targeting(self, active: dict[str, _Obj]) -> Matcher._Targeting:
        """Bounded walk from every active object to the identities/locations it targets."""
        starts = [
            sid
            for sid, o in active.items()
            if o.type in ACTOR_TYPES or o.type in ("indicator", "report", "sighting")
        ]
        paths: dict[str, list[list[str]]] = {sid: [[sid]] for sid in starts}
        targets: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
        families: dict[str, list[str]] = defaultdict(list)
        # reports: object_refs are first hops
        report_ids = [sid for sid in starts if active[sid].type == "report"]
        frontier: dict[str, list[list[str]]] = {}
        for src, target, _k, _rt, _via in self._edges(report_ids, ("object_refs",)):
            frontier.setdefault(target, []).append([src, target])
        sighting_ids = [sid for sid in starts if active[sid].type == "sighting"]
        for src, target, _k, _rt, _via in self._edges(sighting_ids, ("sighting_of_ref",)):
            frontier.setdefault(target, []).append([src, target])
        for sid in starts:
            if active[sid].type not in ("report", "sighting"):
                frontier.setdefault(sid, []).extend(paths[sid])
        known: dict[str, _Obj] = dict(active)
        for _depth in range(self.max_depth + 1):
            if not frontier:
                break
            missing = [sid for sid in frontier if sid not in known]
            if missing:
                known.update(self._load(missing))
            next_frontier: dict[str, list[list[str]]] = {}
            walkable = [sid for sid in frontier if sid in known and self._active(known[sid])]
            for sid in walkable:
                obj = known[sid]
                if obj.type in ("identity", "location"):
                    for path in frontier[sid]:
                        targets[path[0]].append((sid, path))
                if obj.type == "malware" and isinstance(obj.raw.get("name"), str):
                    for path in frontier[sid]:
                        families[path[0]].append(obj.raw["name"])
            for src, target, _k, rt, via in self._edges(walkable, ("relationship",), _WALK_TYPES):
                if rt == "uses" and known[src].type == "indicator":
                    continue
                if target.startswith(("identity--", "location--")) and rt != "targets":
                    continue
                for path in frontier[src]:
                    if target in path or len(path) > 2 * self.max_depth + 1:
                        continue
                    next_frontier.setdefault(target, []).append([*path, via, target])
            frontier = next_frontier
        return Matcher._Targeting(targets, known, families)

    def _sector_region(self, active: dict[str, _Obj], targeting: Matcher._Targeting) -> list[Hit]:
        hits: list[Hit] = []
        for sid, found in targeting.targets.items():
            obj = active[sid]
            confidence, source, base = self._base(obj)
            for target_id, path in found:
                target = targeting.objects[target_id]
                via_names = [
                    str(targeting.objects[p].raw.get("name"))
                    for p in path[1:-1]
                    if p in targeting.objects
                    and targeting.objects[p].type in ACTOR_TYPES
                    and targeting.objects[p].raw.get("name")
                ]
                via = ", ".join(dict.fromkeys(via_names))
                if obj.type in ACTOR_TYPES and not via and isinstance(obj.raw.get("name"), str):
                    via = obj.raw["name"]
                evidence = {"objects": path, "target": target_id}
                if target.type == "identity":
                    for sector in _sectors(target.raw):
                        for org in self.index.orgs_in_sector(sector):
                            hits.append(
                                self._criterion_hit(
                                    obj,
                                    org,
                                    "sector",
                                    sector,
                                    confidence,
                                    source,
                                    base,
                                    evidence,
                                    via,
                                )
                            )
                else:
                    for province in _provinces(target.raw, self.index):
                        orgs = (
                            self.index.all_orgs()
                            if province == "*"
                            else self.index.orgs_in_province(province)
                        )
                        label = "Nederland" if province == "*" else PROVINCES.get(province, "")
                        for org in orgs:
                            hits.append(
                                self._criterion_hit(
                                    obj,
                                    org,
                                    "region",
                                    label or province,
                                    confidence,
                                    source,
                                    base,
                                    evidence,
                                    via,
                                )
                            )
        for sid, obj in active.items():
            if obj.type != "report":
                continue
            confidence, source, base = self._base(obj)
            for label in _str_list(obj.raw.get("labels")):
                if not isinstance(label, str):
                    continue
                for org in self.index.orgs_in_sector(label):
                    hits.append(
                        self._criterion_hit(
                            obj,
                            org,
                            "sector",
                            label.strip().lower(),
                            confidence,
                            source,
                            base,
                            {"objects": [sid], "label": label},
                            "",
                        )
                    )
        return hits

    def _criterion_hit(
        self,
        obj: _Obj,
        org_id: int,
        dimension: str,
        value: str,
        confidence: int,
        source: str,
        base: dict[str, Any],
        evidence: dict[str, Any],
        via: str,
    ) -> Hit:
        profile = self.index.orgs.get(org_id)
        asset_value: str | None = None
        if profile is not None:
            if dimension == "region":
                asset_value = PROVINCES.get(profile.province or "", profile.province)
            elif dimension == "nis2":
                asset_value = profile.classification
        return Hit(
            org_id=org_id,
            stix_id=obj.stix_id,
            stix_type=obj.type,
            dimension=dimension,
            match_key=f"{dimension}:{value}"[:500],
            matched_value=value[:500],
            asset_value=asset_value,
            confidence=confidence,
            tlp=obj.tlp,
            source=source[:200],
            evidence=evidence,
            facts={**base, "via": via},
        )

    # explicit criteria -----------------------------------------------------------------------

    def _criteria(self, obj: _Obj, criteria: Criteria) -> list[Hit]:
        confidence, source, base = self._base(obj)
        hits: list[Hit] = []
        evidence = {"objects": [obj.stix_id], "criteria": True}
        for sector in criteria.sectors:
            for org in self.index.orgs_in_sector(sector):
                hits.append(
                    self._criterion_hit(
                        obj, org, "sector", sector.lower(), confidence, source, base, evidence, ""
                    )
                )
        for item in criteria.nis2:
            orgs = (
                self.index.orgs_with_class(item)
                if item in ("essential", "important", "registration_only", "out_of_scope")
                else self.index.orgs_with_nis2_key(item)
            )
            for org in orgs:
                hits.append(
                    self._criterion_hit(
                        obj, org, "nis2", item, confidence, source, base, evidence, ""
                    )
                )
        for region in criteria.regions:
            slug = ISO_PROVINCES.get(region.upper(), _PROVINCE_NAMES.get(region.lower(), region))
            for org in self.index.orgs_in_province(slug):
                hits.append(
                    self._criterion_hit(
                        obj,
                        org,
                        "region",
                        PROVINCES.get(slug, slug),
                        confidence,
                        source,
                        base,
                        evidence,
                        "",
                    )
                )
        for pid in criteria.partnerships:
            for org in self.index.orgs_in_partnership(pid):
                hits.append(
                    self._criterion_hit(
                        obj, org, "partnership", str(pid), confidence, source, base, evidence, ""
                    )
                )
        for text in criteria.products:
            product = parse_product(text)
            if product is not None:
                hits.extend(
                    self._product_hits(
                        obj,
                        product,
                        _cve_of(obj.raw),
                        [obj.stix_id],
                        False,
                        knowledge_source="criteria",
                    )
                )
        return hits


# -- helpers ------------------------------------------------------------------------------------


def _cve_of(raw: dict[str, Any]) -> str | None:
    if raw.get("type") != "vulnerability":
        return None
    name = raw.get("name")
    if isinstance(name, str):
        obs = normalize("cve", name)
        if obs is not None:
            return obs.value
    for ref in raw.get("external_references") or []:
        if isinstance(ref, dict) and str(ref.get("source_name", "")).lower() == "cve":
            obs = normalize("cve", ref.get("external_id"))
            if obs is not None:
                return obs.value
    return None


def software_products(raw: dict[str, Any]) -> list[ProductRef]:
    """Products a ``software`` object names: its CPE, its PURL, else vendor + name; versions
    from ``x_version_range`` (CSAF ranges), ``version`` or the CPE/PURL version."""
    declared: VersionRange | None = None
    rng = raw.get("x_version_range")
    if isinstance(rng, str) and rng.strip():
        declared = VersionRange.parse(rng)
    elif isinstance(raw.get("version"), str) and raw["version"].strip():
        declared = VersionRange.exact(raw["version"].strip())
    out: list[ProductRef] = []
    cpe = raw.get("cpe")
    if isinstance(cpe, str):
        p = ProductRef.from_cpe(cpe, declared)
        if p is not None:
            out.append(p)
    for purl in (raw.get("x_purl"), *_ext_purls(raw.get("extensions"))):
        if isinstance(purl, str):
            p = ProductRef.from_purl(purl, declared)
            if p is not None:
                out.append(p)
    vendor = raw.get("vendor")
    if not out and isinstance(vendor, str):
        # ``name`` is the product as a company declares it ("Experion PKS"); CSAF's full
        # product name (``x_product_name``) adds vendor and version, so it is a second key.
        keys: set[str] = set()
        for name in (raw.get("name"), raw.get("x_product_name")):
            if not isinstance(name, str):
                continue
            p = ProductRef.from_names(vendor, name, declared)
            if p is not None and p.key not in keys:
                keys.add(p.key)
                out.append(p)
    return out


def _ext_purls(extensions: object) -> list[object]:
    if not isinstance(extensions, dict):
        return []
    return [e.get("purl") for e in extensions.values() if isinstance(e, dict) and "purl" in e]


def parse_product(text: str) -> ProductRef | None:
    """A product criterion: a CPE, a PURL, or ``vendor:product``, optionally followed by a
    blank and a version range."""
    head, _, rng = text.strip().partition(" ")
    versions = VersionRange.parse(rng) if rng.strip() else None
    if head.lower().startswith("cpe:"):
        return ProductRef.from_cpe(head, versions)
    if head.lower().startswith("pkg:"):
        return ProductRef.from_purl(head, versions)
    vendor, sep, product = head.partition(":")
    if not sep:
        return None
    return ProductRef.from_names(vendor, product, versions)


def _sectors(raw: dict[str, Any]) -> list[str]:
    return [s.strip().lower() for s in _str_list(raw.get("sectors"))]


def _str_list(value: object) -> list[str]:
    """The strings of a list property (anything else: none; hostile input never iterates)."""
    if not isinstance(value, list):
        return []
    return [v for v in value[:1000] if isinstance(v, str)]


def _provinces(raw: dict[str, Any], index: ConstituencyIndex) -> list[str]:
    """Province slugs a location names; ``*`` for the Netherlands as a whole."""
    del index
    found: list[str] = []
    area = raw.get("administrative_area")
    if isinstance(area, str):
        slug = ISO_PROVINCES.get(area.strip().upper()) or _PROVINCE_NAMES.get(area.strip().lower())
        if slug:
            found.append(slug)
    if not found:
        for key in ("name", "city", "region"):
            value = raw.get(key)
            if isinstance(value, str) and value.strip().lower() in _PROVINCE_NAMES:
                found.append(_PROVINCE_NAMES[value.strip().lower()])
                break
    if not found:
        country = raw.get("country")
        name = raw.get("name")
        if (isinstance(country, str) and country.strip().upper() in ("NL", "NLD")) or (
            isinstance(name, str)
            and name.strip().lower() in ("netherlands", "nederland", "the netherlands")
        ):
            found.append("*")
    return found
