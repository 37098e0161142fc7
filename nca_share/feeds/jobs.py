"""Background work of feeds: the ``collect_feed`` job and the schedule provider that enqueues
it once per feed and time slot.

Slots are aligned to the Unix epoch with the feed's interval, so every scheduler computes the
same unique key (``collect_feed:<id>:<slot start>``): two schedulers at once enqueue one job.
A feed is due when enabled, not yet run in the current slot and past its back-off
(``retry_after``). A failed collection is recorded on the feed (with back-off) and the job
itself succeeds, so the job engine does not retry on top of the feed's own back-off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.errors import NcaShareError, ValidationError
from nca_share.feeds.models import Feed
from nca_share.jobs.registry import JobContext, ScheduledJob

log = logging.getLogger(__name__)


def slot_of(now: datetime, interval_s: int) -> datetime:
    """Start of the epoch-aligned slot of length ``interval_s`` holding ``now``."""
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % max(interval_s, 1), UTC)


def unique_key(feed_id: int, slot: datetime) -> str:
    return f"collect_feed:{feed_id}:{slot.strftime('%Y%m%dT%H%M%S')}"


_RECONCILED: set[str] = set()
_LOCK = threading.Lock()


def reconcile_once(session: Session) -> None:
    """Reconcile the feed catalogue (``settings.effective_feeds_catalogue``) into this database
    once per process: the scheduler's first tick is "on start". A bad catalogue is logged and
    tried again on the next tick."""
    key = str(session.get_bind().engine.url)
    with _LOCK:
        if key in _RECONCILED:
            return
        from nca_share.config import load_settings
        from nca_share.feeds.service import FeedService

        settings = load_settings()
        path = settings.effective_feeds_catalogue
        if path.is_file():
            try:
                with session.begin_nested():
                    names = FeedService(session, settings).reconcile_catalogue(path)
            except NcaShareError:
                log.exception("feed catalogue %s not reconciled", path)
                return
            log.info("feed catalogue %s reconciled: %d feeds", path, len(names))
        _RECONCILED.add(key)


def due_feed_jobs(session: Session, now: datetime) -> Iterator[ScheduledJob]:
    """One ``collect_feed`` job per due feed (see the module docstring); reconciles the
    feed catalogue on the first call in a process."""
    reconcile_once(session)
    for feed in session.scalars(select(Feed).where(Feed.enabled.is_(True)).order_by(Feed.id)):
        slot = slot_of(now, feed.interval_s)
        if feed.last_run_at is not None and feed.last_run_at >= slot:
            continue
        if feed.retry_after is not None and feed.retry_after > now:
            continue
        yield ScheduledJob(
            kind="collect_feed",
            payload={"feed_id": feed.id},
            unique_key=unique_key(feed.id, slot),
            run_after=None,
        )


def collect_feed(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Collect one feed (payload ``{"feed_id": N}``)."""
    from nca_share.errors import NotFound
    from nca_share.feeds.service import Collector

    feed_id = payload.get("feed_id")
    if not isinstance(feed_id, int):
        raise ValidationError("payload needs an integer feed_id", location="feed_id")
    try:
        summary = Collector(ctx.database, ctx.settings, ctx.clock).run(feed_id)
    except NotFound as exc:
        raise ValidationError(str(exc), location="feed_id") from None
    return summary.as_dict()


__all__ = ["collect_feed", "due_feed_jobs", "reconcile_once", "slot_of", "unique_key"]
