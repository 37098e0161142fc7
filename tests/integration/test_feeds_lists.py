"""MISP feeds, CSV lists, STIX files: expected indicators, TLP, warning lists, lifetime,
revocation, conditional GET."""

from __future__ import annotations

import csv
import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.models import FeedSuppression
from nca_share.feeds.service import Collector, FeedInput, FeedService
from nca_share.stix.models import StixObject

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MISP_FILES = sorted((SHARED / "misp-events-circl").glob("*.json")) + sorted(
    (SHARED / "misp-events-eset").glob("*.json")
)
# Attribute types expected to become indicators (to_ids) and how many values each carries.
VALUE_COUNTS = {
    "ip-src": 1, "ip-dst": 1, "ip-src|port": 1, "ip-dst|port": 1, "domain": 1, "hostname": 1,
    "domain|ip": 2, "url": 1, "md5": 1, "sha1": 1, "sha256": 1, "sha512": 1,
    "filename|md5": 1, "filename|sha1": 1, "filename|sha256": 1, "email-src": 1,
    "email-dst": 1,
}  # fmt: skip


def _add(database: Database, settings: Settings, **kwargs: Any) -> int:
    with database.session() as session:
        return FeedService(session, settings).add(FeedInput(**kwargs)).id


def _current(database: Database, feed_id: int) -> list[StixObject]:
    with database.session() as session:
        return list(
            session.scalars(
                select(StixObject).where(StixObject.feed_id == feed_id, StixObject.is_current)
            )
        )


def _events(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text())
    if "response" in document:
        return [e["Event"] for e in document["response"]]
    return [document.get("Event", document)]


def test_misp_feed_events_give_expected_indicators_and_tlp(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    """Each CIRCL/ESET event yields one report holding the expected number of indicators;
    tlp:white events are CLEAR, untagged ones get the feed default (GREEN)."""
    feed_dir = tmp_path / "misp"
    feed_dir.mkdir()
    manifest: dict[str, Any] = {}
    expected: dict[str, tuple[int, bool]] = {}
    for path in MISP_FILES:
        for event in _events(path):
            (feed_dir / f"{event['uuid']}.json").write_text(json.dumps({"Event": event}))
            manifest[event["uuid"]] = {"timestamp": event["timestamp"], "info": event["info"]}
            attrs = list(event.get("Attribute", []))
            for obj in event.get("Object", []):
                attrs.extend(obj.get("Attribute", []))
            count = sum(
                VALUE_COUNTS[a["type"]]
                for a in attrs
                if a["type"] in VALUE_COUNTS and a["to_ids"] and not a.get("deleted")
            )
            white = any(t["name"] == "tlp:white" for t in event.get("Tag", []))
            expected[event["uuid"]] = (count, white)
    (feed_dir / "manifest.json").write_text(json.dumps(manifest))
    feed_id = _add(
        database, settings, name="misp", type="misp-feed", url=str(feed_dir), default_tlp="GREEN"
    )
    summary = Collector(database, settings).run("misp")
    assert summary.status == "ok", summary.error
    objects = {o.stix_id: o for o in _current(database, feed_id)}
    for event_uuid, (count, white) in expected.items():
        report = objects[f"report--{event_uuid}"]
        indicators = [
            objects[r]
            for r in report.raw["object_refs"]
            if r.startswith("indicator--") and r in objects
        ]
        assert len(indicators) == count, event_uuid
        assert report.tlp == (0 if white else 1)
        assert all(i.tlp == report.tlp for i in indicators)
    again = Collector(database, settings).run("misp")
    assert again.read == 0


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a directory (ETag-less; Last-Modified from mtime)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_csv_lists_expected_indicators_conditional_get(
    database: Database, settings: Settings, http_dir: tuple[str, Path]
) -> None:
    """Feodo and Volexity CSVs over HTTP: one indicator per value; an unchanged list is not
    re-read (If-Modified-Since → 304)."""
    base, root = http_dir
    lists = [
        SHARED / "csv-ioc-lists/abusech-feodotracker/ipblocklist.csv",
        *sorted((SHARED / "csv-ioc-lists/volexity").glob("*.csv")),
    ]
    for path in lists:
        (root / path.name).write_bytes(path.read_bytes())
        if path.name == "ipblocklist.csv":
            mapping = {
                "value": "dst_ip",
                "first_seen": "first_seen_utc",
                "comment": "malware",
                "port": "dst_port",
            }
            data = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
            expected = len(list(csv.reader(data))) - 1
        else:
            header = path.read_text().splitlines()[0].split(",")
            mapping = {"value": "value", "type": header[1], "comment": header[2]}
            with path.open(newline="") as fh:
                rows = list(csv.reader(fh))[1:]
            expected = sum(len([v for v in r[0].split(",") if v]) for r in rows if r)
        feed_id = _add(
            database,
            settings,
            name=path.stem,
            type="csv",
            url=f"{base}/{path.name}",
            config={"csv": mapping},
            default_tlp="CLEAR",
        )
        summary = Collector(database, settings).run(path.stem)
        assert summary.status == "ok", summary.error
        indicators = [o for o in _current(database, feed_id) if o.type == "indicator"]
        assert len(indicators) == expected, path.name
        assert summary.suppressed == 0
        again = Collector(database, settings).run(path.stem)
        assert (again.status, again.read) == ("ok", 0)


def test_warning_lists_suppress_and_log(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    """Private, documentation, resolver, popular and allow-listed values never reach the
    store; each is logged with its reason; the other rows are stored."""
    listing = tmp_path / "list.csv"
    listing.write_text(
        "value\n10.0.0.1\n192.0.2.1\n8.8.8.8\ngoogle.com\nmail.partner.example\n"
        "185.220.101.7\nbad-domain.example\n"
    )
    with database.session() as session:
        FeedService(session, settings).allow("domain", "partner.example", "partner")
    feed_id = _add(database, settings, name="noisy", type="csv", url=str(listing))
    summary = Collector(database, settings).run("noisy")
    assert summary.suppressed == 5
    stored = {o.raw["pattern"] for o in _current(database, feed_id)}
    assert stored == {
        "[ipv4-addr:value = '185.220.101.7']",
        "[domain-name:value = 'bad-domain.example']",
    }
    with database.session() as session:
        rows = session.scalars(select(FeedSuppression).where(FeedSuppression.feed_id == feed_id))
        logged = {r.value: r.list_name for r in rows}
    assert logged == {
        "10.0.0.1": "rfc1918",
        "192.0.2.1": "documentation",
        "8.8.8.8": "public-resolver",
        "google.com": "popular-domain",
        "mail.partner.example": "allow-list",
    }


def _bundle(objects: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"type": "bundle", "id": "bundle--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e3f", "objects": objects}
    )


def test_lifetime_and_revocation_from_a_watched_file(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    """Indicators without valid_until get the feed lifetime, given ones are kept; a revoked
    newer version from the feed revokes the current one."""
    ind = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--2f9a9aa9-108a-4333-83e2-4fb25add0001",
        "created": "2025-01-01T00:00:00.000Z",
        "modified": "2025-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '185.220.101.9']",
        "pattern_type": "stix",
        "valid_from": "2025-01-01T00:00:00Z",
    }
    kept = {
        **ind,
        "id": "indicator--2f9a9aa9-108a-4333-83e2-4fb25add0002",
        "valid_until": "2025-01-03T00:00:00Z",
    }
    path = tmp_path / "bundle.json"
    path.write_text(_bundle([ind, kept]))
    feed_id = _add(
        database, settings, name="file", type="stix-file", url=str(path), lifetime_days=30
    )
    assert Collector(database, settings).run("file").added == 2
    current = {o.stix_id: o for o in _current(database, feed_id)}
    assert current[ind["id"]].raw["valid_until"] == "2025-01-31T00:00:00.000Z"
    assert current[ind["id"]].valid_until is not None
    assert current[kept["id"]].raw["valid_until"] == "2025-01-03T00:00:00Z"
    revoked = {**ind, "modified": "2025-02-01T00:00:00.000Z", "revoked": True}
    path.write_text(_bundle([revoked, kept]))
    summary = Collector(database, settings).run("file")
    assert summary.added == 1
    current = {o.stix_id: o for o in _current(database, feed_id)}
    assert current[ind["id"]].revoked
    unchanged = Collector(database, settings).run("file")
    assert unchanged.read == 0
