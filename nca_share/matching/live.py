"""Keeping the constituency index current, and the retro-match trigger.

Owns

- :func:`live_index`: one :class:`~nca_share.matching.index.ConstituencyIndex` per database
  and process, built from the database on first use (i.e. on start of a worker or web
  process);
- ORM session hooks (:func:`install`, called when ``nca_share.matching.models`` is imported):
  after every flush they note which assets, organisations and memberships changed; after the
  commit those are re-read and applied to the live index incrementally (asset verified →
  filed, rejected/removed → dropped, organisation changed → profile replaced). A cheap
  fingerprint of the constituency tables (counts, highest ids and timestamps) catches
  changes made by other processes: when it moved for any other reason, the index is rebuilt.
- the retro-match trigger: when an asset becomes verified, a ``match_asset`` job is enqueued
  in the same transaction (so "verified but never retro-matched" cannot happen).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from nca_share.constituency.models import Asset, Membership, Organisation
from nca_share.db import Database
from nca_share.matching.index import ConstituencyIndex, profile_of

log = logging.getLogger(__name__)

__all__ = ["LiveIndex", "install", "live_index", "reset_live_indexes"]

_LOCK = threading.Lock()
_LIVE: dict[int, LiveIndex] = {}
_INFO_ASSETS = "matching.assets"
_INFO_ORGS = "matching.orgs"


def _fingerprint(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        row = conn.execute(
            select(
                select(func.count(Asset.id)).scalar_subquery(),
                select(func.max(Asset.id)).scalar_subquery(),
                select(func.max(Asset.verified_at)).scalar_subquery(),
                select(func.count(Organisation.id)).scalar_subquery(),
                select(func.max(Organisation.updated_at)).scalar_subquery(),
                select(func.count(Membership.id)).scalar_subquery(),
                select(func.max(Membership.joined_at)).scalar_subquery(),
                select(func.max(Membership.ended_at)).scalar_subquery(),
            )
        ).one()
    return tuple(row)


class LiveIndex:
    """The process's index for one database (thread-safe)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._index: ConstituencyIndex | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._pending_assets: set[int] = set()
        self._pending_orgs: set[int] = set()
        self._lock = threading.RLock()
        self.rebuilds = 0

    def get(self) -> ConstituencyIndex:
        """The current index (rebuilt or incrementally updated as needed)."""
        with self._lock:
            engine = self.database.engine
            if self._index is None:
                self._rebuild()
                assert self._index is not None
                return self._index
            if self._pending_assets or self._pending_orgs:
                self._apply_pending()
                self._fingerprint = _fingerprint(engine)
                return self._index
            if _fingerprint(engine) != self._fingerprint:
                self._rebuild()
            return self._index

    def _rebuild(self) -> None:
        fp = _fingerprint(self.database.engine)
        with Session(self.database.engine) as session:
            self._index = ConstituencyIndex.load(session)
        self._fingerprint = fp
        self._pending_assets.clear()
        self._pending_orgs.clear()
        self.rebuilds += 1

    def note(self, assets: set[int], orgs: set[int]) -> None:
        with self._lock:
            self._pending_assets |= assets
            self._pending_orgs |= orgs

    def _apply_pending(self) -> None:
        index = self._index
        assert index is not None
        assets, orgs = sorted(self._pending_assets), sorted(self._pending_orgs)
        self._pending_assets.clear()
        self._pending_orgs.clear()
        with Session(self.database.engine) as session:
            if orgs:
                partnerships: dict[int, set[int]] = {o: set() for o in orgs}
                for org_id, pid in session.execute(
                    select(Membership.organisation_id, Membership.partnership_id).where(
                        Membership.organisation_id.in_(orgs), Membership.status == "active"
                    )
                ):
                    partnerships[org_id].add(pid)
                seen: set[int] = set()
                for row in session.execute(
                    select(
                        Organisation.id,
                        Organisation.name,
                        Organisation.kvk,
                        Organisation.nis2_entity_types,
                        Organisation.classification,
                        Organisation.classification_reasons,
                        Organisation.province,
                        Organisation.maturity_level,
                    ).where(Organisation.id.in_(orgs))
                ):
                    seen.add(row[0])
                    index.put_org(
                        profile_of(*row, partnerships=frozenset(partnerships.get(row[0], ())))
                    )
                for gone in set(orgs) - seen:
                    index.drop_org(gone)
            if assets:
                rows = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(assets)))}
                for asset_id in assets:
                    a = rows.get(asset_id)
                    if a is None or a.status != "verified":
                        index.drop_asset(asset_id)
                    else:
                        index.put_asset(
                            a.id,
                            a.organisation_id,
                            a.kind,
                            a.value,
                            a.cpe,
                            a.purl,
                            a.vendor,
                            a.product,
                            a.version_range,
                        )


def live_index(database: Database) -> ConstituencyIndex:
    """This process's index for ``database`` (built on first use)."""
    return live_holder(database).get()


def live_holder(database: Database) -> LiveIndex:
    key = id(database.engine)
    with _LOCK:
        holder = _LIVE.get(key)
        if holder is None or holder.database is not database:
            holder = _LIVE[key] = LiveIndex(database)
        return holder


def reset_live_indexes() -> None:
    """Forget every live index (tests, after a database is dropped)."""
    with _LOCK:
        _LIVE.clear()


# -- session hooks ---------------------------------------------------------------------------


def _after_flush(session: Session, flush_context: Any) -> None:
    assets: set[int] = session.info.setdefault(_INFO_ASSETS, set())
    orgs: set[int] = session.info.setdefault(_INFO_ORGS, set())
    verified: list[Asset] = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Asset):
            if obj.id is not None:
                assets.add(obj.id)
            if obj in session.deleted or obj.status != "verified":
                continue
            history = inspect(obj).attrs.status.history
            if obj in session.new or history.has_changes():
                verified.append(obj)
        elif isinstance(obj, Organisation):
            if obj.id is not None:
                orgs.add(obj.id)
        elif isinstance(obj, Membership) and obj.organisation_id is not None:
            orgs.add(obj.organisation_id)
    if verified:
        from nca_share.jobs.service import JobService

        jobs = JobService(session)
        for asset in verified:
            stamp = asset.verified_at.isoformat() if asset.verified_at else "new"
            jobs.enqueue(
                "match_asset",
                {"asset_id": asset.id},
                unique_key=f"match_asset:{asset.id}:{stamp}"[:300],
            )


def _after_commit(session: Session) -> None:
    assets: set[int] = session.info.pop(_INFO_ASSETS, set())
    orgs: set[int] = session.info.pop(_INFO_ORGS, set())
    if not assets and not orgs:
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _LOCK:
        holders = [h for h in _LIVE.values() if h.database.engine is engine]
    for holder in holders:
        holder.note(assets, orgs)


def _after_rollback(session: Session) -> None:
    session.info.pop(_INFO_ASSETS, None)
    session.info.pop(_INFO_ORGS, None)


_installed = False


def install() -> None:
    """Register the session hooks once per process."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event

    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True
