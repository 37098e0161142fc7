"""Benchmark: collect a 100,000-object TAXII 2.1 collection served on loopback.

Our own minimal TAXII 2.1 server (``tests.fixtures.taxii.MiniTaxiiServer``: keyset pagination
on (date_added, id), page cost independent of the collection size) serves 100,000 synthetic
objects; the real collector (taxii2-client through our guarded session → warning lists →
bulk ingest → cursor per page) collects them into a fresh SQLite database. For a side-by-side
figure the same collector then reads 2,000 objects from medallion (its memory backend is
quadratic, so only 2,000) and from our server.

Usage: ``python benchmarks/feeds_taxii.py [--objects N] [--database-url URL] [--no-medallion]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nca_share.config import load_settings  # noqa: E402
from nca_share.db import Database  # noqa: E402
from nca_share.feeds.service import Collector, FeedInput, FeedService  # noqa: E402
from tests.fixtures.taxii import MiniTaxiiServer, start_medallion  # noqa: E402


def synthetic(n: int) -> list[dict[str, Any]]:
    """Indicators (ip/domain/url/hash patterns), malware and relationships, TLP-marked."""
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    objects: list[dict[str, Any]] = []
    for i in range(n):
        ident = f"{i:012d}"
        kind = i % 10
        stamp = "2024-05-01T00:00:00.000Z"
        if kind == 9:
            objects.append(
                {
                    "type": "malware",
                    "spec_version": "2.1",
                    "id": f"malware--00000000-0000-4000-8000-{ident}",
                    "created": stamp,
                    "modified": stamp,
                    "name": f"family {i}",
                    "is_family": True,
                    "object_marking_refs": [green],
                }
            )
            continue
        if kind == 8:
            objects.append(
                {
                    "type": "relationship",
                    "spec_version": "2.1",
                    "id": f"relationship--00000000-0000-4000-8000-{ident}",
                    "created": stamp,
                    "modified": stamp,
                    "relationship_type": "indicates",
                    "source_ref": f"indicator--00000000-0000-4000-8000-{i - 1:012d}",
                    "target_ref": f"malware--00000000-0000-4000-8000-{i + 1:012d}",
                    "object_marking_refs": [green],
                }
            )
            continue
        if kind < 4:
            pattern = f"[ipv4-addr:value = '45.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}']"
        elif kind < 6:
            pattern = f"[domain-name:value = 'host{i}.bad-example.net']"
        elif kind == 6:
            pattern = f"[url:value = 'http://host{i}.bad-example.net/x']"
        else:
            pattern = f"[file:hashes.'SHA-256' = '{i:064x}']"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--00000000-0000-4000-8000-{ident}",
                "created": stamp,
                "modified": stamp,
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": stamp,
                "object_marking_refs": [green],
            }
        )
    return objects


def collect(
    url: str, database_url: str | None, workdir: Path, name: str, auth: dict[str, Any] | None = None
) -> tuple[int, float]:
    """Collect ``url`` into a fresh database; returns (objects added, seconds)."""
    settings = load_settings(
        data_dir=workdir / name,
        database_url=database_url,
        secret_key="benchmark",  # noqa: S106 - a throwaway benchmark database
        allow_private_urls=True,
    )
    database = Database(settings)
    database.upgrade()
    with database.session() as session:
        FeedService(session, settings).add(
            FeedInput(
                name=name, type="taxii21", url=url, config={"page_size": 1000}, **(auth or {})
            )
        )
    started = time.perf_counter()
    summary = Collector(database, settings).run(name)
    seconds = time.perf_counter() - started
    database.dispose()
    if summary.status != "ok":
        raise SystemExit(f"{name}: collection failed: {summary.error}")
    return summary.added, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--side-by-side", type=int, default=2_000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL of an EMPTY database (default: fresh SQLite)",
    )
    parser.add_argument("--no-medallion", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="nca-bench-feeds-"))
    objects = synthetic(args.objects)
    with MiniTaxiiServer(objects, max_page=1000) as server:
        added, seconds = collect(server.api_root, args.database_url, workdir, "ours")
    print(f"ours: {added} objects in {seconds:.1f} s = {added / seconds:,.0f} objects/s")
    result: dict[str, Any] = {
        "benchmark": "feeds_taxii",
        "objects": added,
        "seconds": round(seconds, 2),
        "ours_per_s": round(added / seconds),
    }
    small = synthetic(args.side_by_side)
    with MiniTaxiiServer(small, max_page=1000) as server:
        s_added, s_seconds = collect(server.api_root, None, workdir, "ours-small")
    result["side_by_side_objects"] = s_added
    result["ours_small_per_s"] = round(s_added / s_seconds)
    print(f"ours ({s_added}): {s_seconds:.1f} s = {s_added / s_seconds:,.0f} objects/s")
    if not args.no_medallion:
        process, medallion = start_medallion(workdir, small)
        try:
            m_added, m_seconds = collect(
                medallion.api_root,
                None,
                workdir,
                "medallion",
                {
                    "auth_type": "basic",
                    "auth_config": {"username": medallion.username},
                    "secrets": {"password": medallion.password},
                },
            )
        finally:
            process.terminate()
            process.wait(timeout=10)
        # medallion also serves the 8 objects of its default dataset's other collection
        result["medallion_objects"] = m_added
        result["medallion_per_s"] = round(m_added / m_seconds, 1)
        result["ratio_small"] = round((s_added / s_seconds) / (m_added / m_seconds), 1)
        print(f"medallion ({m_added}): {m_seconds:.1f} s = {m_added / m_seconds:,.1f} objects/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
