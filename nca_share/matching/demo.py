"""Matching step of the demo (``make run`` / ``nca-share demo``): match every current object
of the demo store against the demo constituency, storing matches and notices, so company
pages show notices with explanations at once. Idempotent (matches upsert, notices dedup).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.matching.live import live_index
from nca_share.matching.store import MatchingService, RunResult
from nca_share.stix.models import StixObject

log = logging.getLogger(__name__)

BATCH = 5000


def run_demo_matching(settings: Settings, database: Database) -> dict[str, Any]:
    """Match the whole demo store; returns the totals per dimension."""
    with database.session() as session:
        ids = list(
            session.scalars(
                select(StixObject.stix_id)
                .where(StixObject.is_current.is_(True))
                .order_by(StixObject.date_added, StixObject.pk)
            )
        )
    index = live_index(database)
    total = RunResult()
    for start in range(0, len(ids), BATCH):
        with database.session() as session:
            result = MatchingService(session, index, settings).run(ids[start : start + BATCH])
        total.objects += result.objects
        total.matches += result.matches
        total.notices += result.notices
        for dim, n in result.per_dimension.items():
            total.per_dimension[dim] = total.per_dimension.get(dim, 0) + n
    log.info("demo matching: %s", total.as_dict())
    return total.as_dict()
