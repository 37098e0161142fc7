"""Demo feeds for ``make run``: a few feeds pointing at LOCAL copies of real public data, so the
feed-health page shows real collected feeds without any network.

``register_demo_feeds`` copies ``<data_dir>/feeds`` (``nca_share/demo/data/feeds``: a STIX 2.1
bundle, the Feodo Tracker CSV, a MISP feed directory, a CSAF provider directory) into
``<settings.data_dir>/demo-feeds`` — local feed files must live inside the data directory — and
registers (or updates) one feed per source. ``collect_demo_feeds`` runs each once.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.service import Collector, FeedInput, FeedService

DEMO_FEEDS = ("demo-oasis-c2-indicators", "demo-feodo-tracker", "demo-circl-misp", "demo-cisa-csaf")


def register_demo_feeds(session: Session, settings: Settings, data_dir: Path) -> list[str]:
    """Register the demo feeds (idempotent); returns their names.

    :param data_dir: the demo data folder holding ``feeds/``.
    """
    target = Path(settings.data_dir) / "demo-feeds"
    shutil.copytree(Path(data_dir) / "feeds", target, dirs_exist_ok=True)
    feeds = [
        FeedInput(
            name="demo-oasis-c2-indicators",
            type="stix-file",
            url=str(target / "stix" / "indicators-for-C2-with-COA.json"),
            default_tlp="CLEAR",
            reliability="B",
            confidence=70,
            lifetime_days=365,
            interval_s=3600,
        ),
        FeedInput(
            name="demo-feodo-tracker",
            type="csv",
            url=str(target / "csv" / "ipblocklist.csv"),
            default_tlp="CLEAR",
            reliability="B",
            confidence=80,
            # The demo's Feodo snapshot is from April 2024: a long lifetime keeps its C2
            # indicators active so the demo shows network matches (a live feed uses ~30 days).
            lifetime_days=3650,
            interval_s=900,
            config={
                "csv": {
                    "value": "dst_ip",
                    "first_seen": "first_seen_utc",
                    "comment": "malware",
                    "port": "dst_port",
                    "labels": ["botnet-c2"],
                }
            },
        ),
        FeedInput(
            name="demo-circl-misp",
            type="misp-feed",
            url=str(target / "misp") + "/",
            default_tlp="GREEN",
            reliability="B",
            confidence=60,
            lifetime_days=180,
            interval_s=3600,
        ),
        FeedInput(
            name="demo-cisa-csaf",
            type="csaf-provider",
            url=str(target / "csaf" / "provider-metadata.json"),
            default_tlp="CLEAR",
            reliability="A",
            confidence=90,
            interval_s=3600,
        ),
    ]
    service = FeedService(session, settings)
    for item in feeds:
        existing = service.find(item.name)
        if existing is None:
            service.add(item)
        else:
            service.update(existing, item)
    return [f.name for f in feeds]


def collect_demo_feeds(database: Database, settings: Settings) -> dict[str, Any]:
    """Collect every demo feed once; returns name → run summary."""
    return {name: Collector(database, settings).run(name).as_dict() for name in DEMO_FEEDS}
