"""TAXII 2.1 collection of the WHOLE ATT&CK ICS release (plus the TAXII server dataset) from
a real medallion server: every object once, and nothing new on the second run. The other
medallion tests in ``test_feeds_taxii.py`` use a 400-object subset to stay quick."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.service import Collector, FeedInput, FeedService
from nca_share.stix.models import StixObject
from tests.fixtures.taxii import Medallion, ics_objects, start_medallion

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def medallion_full_ics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medallion]:
    """medallion loaded with the TAXII dataset and every ATT&CK ICS 18.1 object."""
    process, server = start_medallion(
        Path(tmp_path_factory.mktemp("medallion-full")), ics_objects(limit=10**9)
    )
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_whole_ics_release_collected_once(
    database: Database, settings: Settings, medallion_full_ics: Medallion
) -> None:
    """All objects of every readable collection arrive exactly once; a second run adds none."""
    expected: set[str] = set()
    for objects in medallion_full_ics.expected.values():
        expected |= {o["id"] for o in objects}
    assert len(expected) > 1800
    with database.session() as session:
        feed_id = (
            FeedService(session, settings)
            .add(
                FeedInput(
                    name="medallion-full",
                    type="taxii21",
                    url=medallion_full_ics.api_root,
                    auth_type="basic",
                    auth_config={"username": medallion_full_ics.username},
                    secrets={"password": medallion_full_ics.password},
                    config={"page_size": 100},
                )
            )
            .id
        )
    first = Collector(database, settings).run("medallion-full")
    assert first.status == "ok", first.error
    with database.session() as session:
        stored = Counter(
            session.scalars(select(StixObject.stix_id).where(StixObject.feed_id == feed_id))
        )
    assert set(stored) == expected
    assert max(stored.values()) == 1
    second = Collector(database, settings).run("medallion-full")
    assert second.status == "ok", second.error
    assert second.added == 0
