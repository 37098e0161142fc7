"""Background work of matching: the ``match_objects`` job (one per ingest run or batch, with
the ids whose current version changed) and the ``match_asset`` job (retro-match of an asset
that became verified), plus :func:`enqueue_match` for the ingest paths.

Both handlers are idempotent: matches are upserted and notices deduplicated, so a job that
runs twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from nca_share.errors import ValidationError
from nca_share.jobs.registry import JobContext
from nca_share.jobs.service import JobService

__all__ = ["BATCH", "enqueue_match", "match_asset", "match_objects"]

#: Ids per ``match_objects`` job.
BATCH = 5000


def enqueue_match(session: Session, stix_ids: Sequence[str], *, origin: str = "") -> list[int]:
    """Enqueue ``match_objects`` jobs for ``stix_ids`` in the caller's transaction."""
    jobs = JobService(session)
    created: list[int] = []
    for start in range(0, len(stix_ids), BATCH):
        chunk = list(stix_ids[start : start + BATCH])
        job_id = jobs.enqueue("match_objects", {"stix_ids": chunk, "origin": origin[:200]})
        if job_id is not None:
            created.append(job_id)
    return created


def _ids(payload: dict[str, Any]) -> list[str]:
    ids = payload.get("stix_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and len(i) <= 300 for i in ids):
        raise ValidationError("payload needs stix_ids: a list of STIX ids", location="stix_ids")
    return ids


def match_objects(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Match the objects of payload ``{"stix_ids": [...]}`` and store matches and notices."""
    from nca_share.matching.live import live_index
    from nca_share.matching.store import MatchingService

    ids = _ids(payload)
    index = live_index(ctx.database)
    with ctx.database.session() as session:
        result = MatchingService(session, index, ctx.settings, clock=ctx.clock).run(ids)
    ctx.logger.info("matched %d objects: %s", len(ids), result.per_dimension)
    return result.as_dict()


def match_asset(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Retro-match one verified asset (payload ``{"asset_id": N}``) against active
    indicators and open vulnerabilities."""
    from nca_share.matching.live import live_index
    from nca_share.matching.store import MatchingService

    asset_id = payload.get("asset_id")
    if isinstance(asset_id, bool) or not isinstance(asset_id, int):
        raise ValidationError("payload needs an integer asset_id", location="asset_id")
    index = live_index(ctx.database)
    with ctx.database.session() as session:
        result = MatchingService(session, index, ctx.settings, clock=ctx.clock).retro_match_asset(
            asset_id
        )
    return result.as_dict()
