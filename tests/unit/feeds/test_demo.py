"""The demo feeds register and collect from the shipped local data."""

from __future__ import annotations

from pathlib import Path

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.demo import collect_demo_feeds, register_demo_feeds

DEMO_DATA = Path(__file__).resolve().parents[3] / "nca_share" / "demo" / "data"


def test_demo_feeds_collect(database: Database, settings: Settings) -> None:
    """Every demo feed collects successfully and adds objects; registering twice is harmless."""
    plain = settings.model_copy(update={"allow_private_urls": False})
    with database.session() as session:
        names = register_demo_feeds(session, plain, DEMO_DATA)
    with database.session() as session:
        assert register_demo_feeds(session, plain, DEMO_DATA) == names
    results = collect_demo_feeds(database, plain)
    for name, result in results.items():
        assert result["status"] == "ok", (name, result["error"])
        assert result["added"] > 0, name
