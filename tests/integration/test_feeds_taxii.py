"""TAXII 2.1 collection against a real medallion server and our own breakable server."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.models import FeedCursor
from nca_share.feeds.service import Collector, FeedInput, FeedService
from nca_share.stix.models import StixObject
from tests.fixtures.taxii import Medallion, MiniTaxiiServer

pytestmark = pytest.mark.slow


def _add(database: Database, settings: Settings, **kwargs: Any) -> int:
    with database.session() as session:
        feed = FeedService(session, settings).add(FeedInput(**kwargs))
        return feed.id


def _stored(database: Database, feed_id: int) -> Counter[str]:
    with database.session() as session:
        ids = session.scalars(select(StixObject.stix_id).where(StixObject.feed_id == feed_id))
        return Counter(ids)


def test_medallion_collect_then_nothing_new(
    database: Database, settings: Settings, medallion_server: Medallion
) -> None:
    """Every readable collection is collected (latest version of each object, once); a second
    run adds nothing; the basic-auth password is stored encrypted and used."""
    feed_id = _add(
        database,
        settings,
        name="medallion",
        type="taxii21",
        url=medallion_server.api_root,
        auth_type="basic",
        auth_config={"username": medallion_server.username},
        secrets={"password": medallion_server.password},
        config={"page_size": 100},
    )
    first = Collector(database, settings).run("medallion")
    assert first.status == "ok", first.error
    expected: set[str] = set()
    for objects in medallion_server.expected.values():
        expected |= {o["id"] for o in objects}
    stored = _stored(database, feed_id)
    assert set(stored) == expected
    assert max(stored.values()) == 1
    assert first.added == len(expected)
    second = Collector(database, settings).run("medallion")
    assert second.status == "ok", second.error
    assert second.added == 0
    assert _stored(database, feed_id) == stored
    with database.session() as session:
        cursors = session.scalars(select(FeedCursor).where(FeedCursor.feed_id == feed_id)).all()
        assert {c.key for c in cursors} >= {
            f"taxii:{medallion_server.api_root}collections/{cid}/"
            for cid, objs in medallion_server.expected.items()
            if objs
        }


def test_wrong_password_is_a_recorded_failure(
    database: Database, settings: Settings, medallion_server: Medallion
) -> None:
    """A refused login fails the run with a message and starts the back-off."""
    _add(
        database,
        settings,
        name="bad",
        type="taxii21",
        url=medallion_server.api_root,
        auth_type="basic",
        auth_config={"username": "analyst"},
        secrets={"password": "nope"},
    )
    summary = Collector(database, settings).run("bad")
    assert summary.status == "error"
    assert "401" in (summary.error or "")
    with database.session() as session:
        feed = FeedService(session, settings).get("bad")
        assert feed.consecutive_failures == 1
        assert feed.retry_after is not None
        assert feed.last_error


def _objects(n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--00000000-0000-4000-8000-{i:012d}",
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '81.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}']",
            "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z",
        }
        for i in range(n)
    ]


def test_broken_pagination_resumes_without_gaps_or_duplicates(
    database: Database, settings: Settings
) -> None:
    """The server drops the connection on the 4th page: the run fails after storing 3 pages;
    the next run resumes after them and ends with every object stored exactly once."""
    objects = _objects(500)
    with MiniTaxiiServer(objects, max_page=100, break_on_request=4) as server:
        feed_id = _add(
            database,
            settings,
            name="mini",
            type="taxii21",
            url=server.api_root,
            config={"page_size": 100},
        )
        first = Collector(database, settings).run("mini")
        assert first.status == "error"
        assert first.added == 300
        second = Collector(database, settings).run("mini")
        assert second.status == "ok", second.error
        assert second.added == 200
        assert second.read <= 201 + 100  # resumed, not restarted
    stored = _stored(database, feed_id)
    assert set(stored) == {o["id"] for o in objects}
    assert max(stored.values()) == 1
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(StixObject))
        assert total == 500


def test_taxii20_range_pagination_and_cursor(database: Database, settings: Settings) -> None:
    """A TAXII 2.0 collection is read with Range pages (STIX 2.0 objects stored as 2.1) and
    a second run reads nothing new."""
    objects = [{k: v for k, v in o.items() if k != "spec_version"} for o in _objects(250)]
    with MiniTaxiiServer(objects, max_page=100, version="2.0") as server:
        feed_id = _add(
            database,
            settings,
            name="t20",
            type="taxii20",
            url=server.api_root,
            config={"page_size": 100},
        )
        first = Collector(database, settings).run("t20")
        assert first.status == "ok", first.error
        assert first.added == 250
        second = Collector(database, settings).run("t20")
        assert (second.status, second.added) == ("ok", 0)
        assert server.object_requests == 4
    stored = _stored(database, feed_id)
    assert set(stored) == {o["id"] for o in objects}


def test_medallion_discovery_url_reads_every_api_root(
    database: Database, settings: Settings, medallion_server: Medallion
) -> None:
    """A discovery URL (…/taxii2/) is followed to every API root and its readable collections."""
    feed_id = _add(
        database,
        settings,
        name="disc",
        type="taxii21",
        url=f"{medallion_server.url}/taxii2/",
        auth_type="basic",
        auth_config={"username": medallion_server.username},
        secrets={"password": medallion_server.password},
        config={"page_size": 100},
    )
    summary = Collector(database, settings).run("disc")
    assert summary.status == "ok", summary.error
    expected = {o["id"] for objs in medallion_server.expected.values() for o in objs}
    assert set(_stored(database, feed_id)) == expected


def test_more_without_next_pages_by_date_added(database: Database, settings: Settings) -> None:
    """A server that says "more" but gives no "next" is paged by X-TAXII-Date-Added-Last."""
    objects = _objects(230)
    with MiniTaxiiServer(objects, max_page=100, send_next=False) as server:
        feed_id = _add(
            database,
            settings,
            name="nonext",
            type="taxii21",
            url=server.api_root,
            config={"page_size": 100},
        )
        summary = Collector(database, settings).run("nonext")
        assert summary.status == "ok", summary.error
        assert server.object_requests == 3
    assert set(_stored(database, feed_id)) == {o["id"] for o in objects}
