"""Matching benchmark: 50,000 organisations with 100,000 verified CIDRs (IPv4 with nesting,
and IPv6), 50,000 domains and 20,000 product entries; 100,000 new indicators and 2,000
vulnerabilities (with NVD-style product knowledge) matched and stored.

Setup (not timed): the constituency is written with bulk inserts, the STIX objects go through
``IngestService`` (the ingest benchmark measures that path) and the knowledge rows into
``vuln_products``. Timed end to end: building the constituency index from the database,
matching the 102,000 changed ids (reading objects, observables and edges from the store),
storing the matches (upsert) and creating the notices with their access grants, committed.

Baseline in the same run: a naive matcher (every observable compared with every asset: a
linear scan with pre-parsed integer ranges and suffix checks) on a 1% sample of the objects,
extrapolated to the full set. The last line printed is one JSON object with the figures.

    python benchmarks/matching.py                     # fresh SQLite file in a temp directory
    python benchmarks/matching.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ingest import _drop_schema, _fresh_database  # noqa: E402
from nca_share.constituency.models import Asset, Organisation  # noqa: E402
from nca_share.db import Database  # noqa: E402
from nca_share.matching.index import ConstituencyIndex, product_key  # noqa: E402
from nca_share.matching.models import Match, Notice, VulnProduct  # noqa: E402
from nca_share.matching.store import MatchingService  # noqa: E402
from nca_share.matching.versions import VersionRange  # noqa: E402
from nca_share.stix.ingest import IngestService  # noqa: E402
from nca_share.stix.tlp import TLP  # noqa: E402

ORGS, CIDRS, DOMAINS, PRODUCTS = 50_000, 100_000, 50_000, 20_000
INDICATORS, VULNS = 100_000, 2_000
STAMP = "2026-11-20T08:00:00.000Z"
PROVINCES = ["utrecht", "zeeland", "limburg", "noord-holland", "zuid-holland", "gelderland"]
SECTORS = ["energy", "healthcare", "technology", "transportation", "water", "finance"]


def _constituency(rng: random.Random) -> dict[str, Any]:
    """Rows for organisations and assets, and the pools the objects draw from."""
    orgs = [
        {
            "id": i + 1,
            "kvk": f"{10_000_000 + i}",
            "name": f"Organisatie {i + 1}",
            "sbi_codes": [],
            "sbi_version": "2025",
            "group_aggregated": False,
            "nis2_entity_types": [],
            "cer_critical_entity": False,
            "classification": rng.choice(["essential", "important", "out_of_scope"]),
            "classification_reasons": {"stix_sectors": [rng.choice(SECTORS)]},
            "province": rng.choice(PROVINCES),
            "maturity_level": rng.choice(["M0", "M1", "M2", "M3", "M4"]),
        }
        for i in range(ORGS)
    ]
    assets: list[dict[str, Any]] = []
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    seen: set[int] = set()
    v6 = CIDRS // 20
    nested = CIDRS // 20
    while len(nets) < CIDRS - v6 - nested:
        base = rng.randrange(1 << 24, 224 << 24) >> 8 << 8
        if base not in seen:
            seen.add(base)
            nets.append(ipaddress.IPv4Network((base, 24)))
    for i in range(nested):  # a /28 inside an owned /24, owned by another organisation
        parent = nets[i]
        nets.append(ipaddress.IPv4Network((int(parent.network_address) + 16, 28)))
    for i in range(v6):
        nets.append(ipaddress.IPv6Network(((0x20010DB8 << 96) | (i << 80), 48)))
    for i, net in enumerate(nets):
        start = int(net.network_address)
        end = int(net.broadcast_address)
        assets.append(
            {
                "organisation_id": i % ORGS + 1,
                "kind": "cidr",
                "value": str(net),
                "ip_version": net.version,
                "range_start": f"{start:032x}",
                "range_end": f"{end:032x}",
                "status": "verified",
            }
        )
    domains = [f"org{i}.example.nl" for i in range(DOMAINS)]
    for i, d in enumerate(domains):
        assets.append(
            {"organisation_id": (i * 7) % ORGS + 1, "kind": "domain", "value": d,
             "status": "verified"}
        )  # fmt: skip
    products = [(f"vendor{i % 800}", f"product{i}") for i in range(PRODUCTS // 4)]
    for i in range(PRODUCTS):
        vendor, prod = products[i % len(products)]
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}"
        assets.append(
            {
                "organisation_id": (i * 13) % ORGS + 1,
                "kind": "product",
                "value": f"cpe:2.3:a:{vendor}:{prod}:{version}:*:*:*:*:*:*:*",
                "cpe": f"cpe:2.3:a:{vendor}:{prod}:{version}:*:*:*:*:*:*:*",
                "vendor": vendor,
                "product": prod,
                "status": "verified",
            }
        )
    return {"orgs": orgs, "assets": assets, "nets": nets, "domains": domains, "products": products}


def _objects(
    rng: random.Random, pools: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """100,000 indicators (about a third hit an owned network or domain) and 2,000
    vulnerabilities with NVD-style knowledge rows."""
    nets, domains = pools["nets"], pools["domains"]
    objects: list[dict[str, Any]] = []
    for i in range(INDICATORS):
        roll = rng.random()
        if roll < 0.55:
            if rng.random() < 0.3:
                net = nets[rng.randrange(len(nets) - len(nets) // 20)]
                ip = str(net.network_address + rng.randrange(net.num_addresses))
            else:
                ip = str(ipaddress.IPv4Address(rng.randrange(1 << 24, 224 << 24)))
            kind = "ipv6-addr" if ":" in ip else "ipv4-addr"
            pattern = f"[{kind}:value = '{ip}']"
        elif roll < 0.80:
            d = rng.choice(domains) if rng.random() < 0.3 else f"x{i}.elsewhere.com"
            pattern = f"[domain-name:value = 'h{i}.{d}']"
        elif roll < 0.95:
            d = rng.choice(domains) if rng.random() < 0.3 else f"x{i}.elsewhere.com"
            pattern = f"[url:value = 'http://{d}/p/{i}']"
        else:
            base = ipaddress.IPv4Address(rng.randrange(1 << 24, 224 << 24) >> 8 << 8)
            pattern = f"[ipv4-addr:value = '{base}/24']"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created": STAMP,
                "modified": STAMP,
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": STAMP,
                "indicator_types": ["malicious-activity"],
            }
        )
    knowledge: list[dict[str, Any]] = []
    for i in range(VULNS):
        cve = f"CVE-2026-{10000 + i}"
        objects.append(
            {
                "type": "vulnerability",
                "spec_version": "2.1",
                "id": f"vulnerability--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created": STAMP,
                "modified": STAMP,
                "name": cve,
            }
        )
        vendor, prod = rng.choice(pools["products"])
        knowledge.append(
            {
                "cve": cve,
                "source": "nvd",
                "product_key": product_key(vendor, prod),
                "cpe": f"cpe:2.3:a:{vendor}:{prod}:*:*:*:*:*:*:*:*",
                "versions": f"<{rng.randint(2, 9)}.0",
                "label": f"{vendor} {prod}",
                "known_exploited": False,
            }
        )
    return objects, knowledge


def _naive(database: Database, sample: list[str]) -> tuple[float, int]:
    """Every observable of the sample against every asset (no index): seconds, matches."""
    from nca_share.stix.models import StixObservable

    started = time.perf_counter()
    with database.session() as session:
        assets = session.execute(
            select(Asset.organisation_id, Asset.kind, Asset.value, Asset.ip_version,
                   Asset.range_start, Asset.range_end, Asset.vendor, Asset.product,
                   Asset.cpe).where(Asset.status == "verified")
        ).all()  # fmt: skip
        nets = [
            (a[3], int(a[4] or "0", 16), int(a[5] or "0", 16), a[0])
            for a in assets
            if a[1] == "cidr"
        ]
        doms = [(a[2], a[0]) for a in assets if a[1] == "domain"]
        prods = [
            (product_key(a[6] or "", a[7] or ""), (a[8] or "").split(":")[5], a[0])
            for a in assets
            if a[1] == "product"
        ]
        obs = session.execute(
            select(StixObservable.stix_id, StixObservable.kind, StixObservable.value,
                   StixObservable.ip_version, StixObservable.ip_start, StixObservable.ip_end)
            .where(StixObservable.stix_id.in_(sample))
        ).all()  # fmt: skip
        know = session.execute(select(VulnProduct.cve, VulnProduct.product_key,
                                      VulnProduct.versions)).all()  # fmt: skip
    found = 0
    for _sid, kind, value, version, start, end in obs:
        if kind in ("ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr"):
            s, e = int(start or "0", 16), int(end or "0", 16)
            found += sum(1 for v, a, b, _o in nets if v == version and a <= e and b >= s)
        elif kind in ("domain", "url"):
            host = value.split("/")[2] if kind == "url" else value
            found += sum(1 for d, _o in doms if host == d or host.endswith("." + d))
        elif kind == "cve":
            for cve, key, versions in know:
                if cve != value:
                    continue
                rng = VersionRange.parse(versions)
                found += sum(1 for k, v, _o in prods if k == key and rng.contains(v))
    return time.perf_counter() - started, found


def run(url: str | None) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    rng = random.Random(20261128)
    with tempfile.TemporaryDirectory() as tmp:
        database, schema = _fresh_database(url, Path(tmp))
        try:
            t = time.perf_counter()
            pools = _constituency(rng)
            with database.session() as session:
                session.execute(insert(Organisation), pools["orgs"])
                session.execute(insert(Asset), pools["assets"])
            objects, knowledge = _objects(rng, pools)
            with database.session() as session:
                session.execute(insert(VulnProduct), knowledge)
            setup_s = time.perf_counter() - t
            t = time.perf_counter()
            report = IngestService(database).ingest_objects(
                objects, source="benchmark", default_tlp=TLP.AMBER
            )
            ingest_s = time.perf_counter() - t
            ids = report.changed_ids

            started = time.perf_counter()
            cpu_started = time.process_time()
            with database.session() as session:
                index = ConstituencyIndex.load(session)
            index_s = time.perf_counter() - started
            with database.session() as session:
                result = MatchingService(session, index).run(ids)
            seconds = time.perf_counter() - started
            cpu_s = time.process_time() - cpu_started

            with database.session() as session:
                stored = session.scalar(select(func.count()).select_from(Match)) or 0
                notices = session.scalar(select(func.count()).select_from(Notice)) or 0
                linked = session.scalar(select(func.count(Notice.match_id))) or 0
            sample = ids[::100]
            naive_s, naive_found = _naive(database, sample)
            # the same sample through the real matcher, for a like-for-like count
            with database.session() as session:
                sample_hits = MatchingService(session, index).matcher.match(sample)
        finally:
            database.engine.dispose()
            if schema and url:
                _drop_schema(url, schema)
    naive_full = naive_s * len(ids) / max(len(sample), 1)
    return {
        "backend": "postgresql" if url and url.startswith("postgresql") else "sqlite",
        "organisations": ORGS,
        "cidrs": CIDRS,
        "domains": DOMAINS,
        "products": PRODUCTS,
        "objects": len(ids),
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu_s, 3),
        "index_build_s": round(index_s, 3),
        "matches": stored,
        "notices": notices,
        "notices_with_match": linked,
        "per_dimension": result.per_dimension,
        "matches_per_s": round(stored / seconds, 1),
        "objects_per_s": round(len(ids) / seconds, 1),
        "setup_s": round(setup_s, 1),
        "ingest_s": round(ingest_s, 1),
        "naive_sample_objects": len(sample),
        "naive_sample_s": round(naive_s, 3),
        "naive_sample_matches": naive_found,
        "indexed_sample_matches": len(sample_hits),
        "naive_extrapolated_s": round(naive_full, 1),
        "speedup": round(naive_full / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.database_url)))


if __name__ == "__main__":
    main()
