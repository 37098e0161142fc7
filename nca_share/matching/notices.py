"""Automatic notices (the "informatiedienst"): a network or product match on a verified asset
becomes a notice for the owning organisation.

Owns :class:`NoticeService`:

- **TLP**: a notice is TLP:AMBER+STRICT unless the source is stricter. AMBER+STRICT notices
  get one ``access_grants`` row (``notice:<id>`` → the organisation), so the access policy
  shows them to exactly that organisation (and staff). A TLP:RED source yields a RED notice
  in state ``held`` without grants: RED is only for the named recipients of the source, so an
  analyst decides (nothing leaks automatically).
- **Deduplication** per (asset, observable): a repeat within the re-notification window
  (``settings.matching``: 7 days for compromised-host notices, 30 for others) only bumps
  ``repeat_count``/``last_seen_at`` of the latest notice. Urgent matches are never delayed:
  an urgent match after a non-urgent notice in the window is notified at once.
- **Stored for delivery**: ``state`` (pending/held/delivered/acknowledged), the payload, the
  explanation in Dutch and English and ``notified_at`` let the later distribution issue
  deliver notices without changing how they are made.
- Listing for an organisation / a principal through the access policy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from nca_share.access import AMBER_STRICT, RED, AccessPolicy, Principal
from nca_share.access.models import AccessGrant
from nca_share.clock import Clock, SystemClock
from nca_share.config import MatchingSettings, Settings
from nca_share.constituency.models import Asset
from nca_share.matching.engine import Hit, one_of
from nca_share.matching.models import Notice
from nca_share.matching.store import bulk_insert

log = logging.getLogger(__name__)

__all__ = ["NoticeService", "notice_ref"]


#: Ids per query (the list is bound as one parameter, see :func:`one_of`).
_IDS = 5000


def notice_ref(notice_id: int) -> str:
    """The ``access_grants`` resource reference of a notice."""
    return f"notice:{notice_id}"


class NoticeService:
    """Create and list notices (in the caller's session; never commits)."""

    def __init__(
        self, session: Session, settings: Settings | None = None, *, clock: Clock | None = None
    ) -> None:
        self.session = session
        self.config = settings.matching if settings is not None else MatchingSettings()
        self.clock = clock or SystemClock()

    def window(self, category: str) -> timedelta:
        days = (
            self.config.renotify_compromised_days
            if category == "compromised-host"
            else self.config.renotify_other_days
        )
        return timedelta(days=days)

    def notify(self, hits: Sequence[Hit], match_ids: dict[tuple[int, str, str, str], int]) -> int:
        """Create the notices ``hits`` call for; returns how many were created."""
        candidates = [h for h in hits if h.asset_id is not None and h.observable]
        if not candidates:
            return 0
        asset_ids = sorted({h.asset_id for h in candidates if h.asset_id is not None})
        dialect = self.session.get_bind().dialect.name
        verified: set[int] = set()
        for i in range(0, len(asset_ids), _IDS):
            verified.update(
                self.session.scalars(
                    select(Asset.id).where(
                        one_of(Asset.id, asset_ids[i : i + _IDS], dialect),
                        Asset.status == "verified",
                    )
                )
            )
        # Strongest hit per (asset, observable) in this batch.
        best: dict[tuple[int, str], Hit] = {}
        for h in candidates:
            if h.asset_id is None or h.asset_id not in verified:
                continue
            key = (h.asset_id, h.observable)
            old = best.get(key)
            if old is None or (h.urgent, h.confidence) > (old.urgent, old.confidence):
                best[key] = h
        if not best:
            return 0
        # the latest notice per (asset, observable): (id, created_at, urgent)
        latest: dict[tuple[int, str], tuple[int, datetime, bool]] = {}
        assets = sorted({a for a, _ in best})
        for i in range(0, len(assets), _IDS):
            rows = self.session.execute(
                select(Notice.asset_id, Notice.observable, Notice.id, Notice.created_at,
                       Notice.urgent)
                .where(one_of(Notice.asset_id, assets[i : i + _IDS], dialect))
                .order_by(Notice.created_at, Notice.id)
            )  # fmt: skip
            for asset_id, observable, nid, created_at, urgent in rows:
                if asset_id is not None:
                    latest[(asset_id, observable)] = (nid, created_at, urgent)
        now = self.clock.now()
        repeats: list[int] = []
        new_rows: list[dict[str, Any]] = []
        for key, h in best.items():
            prev = latest.get(key)
            if (
                prev is not None
                and prev[1] + self.window(h.category) > now
                and not (h.urgent and not prev[2])
            ):
                repeats.append(prev[0])
                continue
            nl, en = h.explanation()
            tlp = max(AMBER_STRICT, h.tlp)
            new_rows.append(
                {
                    "organisation_id": h.org_id,
                    "asset_id": h.asset_id,
                    "match_id": match_ids.get(h.key),
                    "stix_id": h.stix_id,
                    "dimension": h.dimension,
                    "observable": h.observable,
                    "category": h.category,
                    "urgent": h.urgent,
                    "tlp": tlp,
                    "state": "held" if tlp >= RED else "pending",
                    "payload": _payload(h),
                    "explanation_nl": nl,
                    "explanation_en": en,
                    "repeat_count": 0,
                    "created_at": now,
                    "last_seen_at": now,
                }
            )
        table: Table = Notice.__table__  # type: ignore[assignment]
        for i in range(0, len(repeats), _IDS):
            self.session.execute(
                update(table)
                .where(one_of(table.c.id, repeats[i : i + _IDS], dialect))
                .values(repeat_count=table.c.repeat_count + 1, last_seen_at=now)
            )
        grants: list[dict[str, Any]] = []
        bulk_insert(self.session, table, new_rows)
        # ids of the rows just written (RETURNING with executemany is row-at-a-time on SQLite)
        wanted = {(r["asset_id"], r["observable"]) for r in new_rows if r["tlp"] < RED}
        new_assets = sorted({a for a, _ in wanted})
        for i in range(0, len(new_assets), _IDS):
            for nid, asset_id, observable, org_id in self.session.execute(
                select(Notice.id, Notice.asset_id, Notice.observable, Notice.organisation_id).where(
                    one_of(Notice.asset_id, new_assets[i : i + _IDS], dialect),
                    Notice.created_at == now,
                )
            ):
                if (asset_id, observable) in wanted:
                    grants.append(
                        {
                            "resource_ref": notice_ref(nid),
                            "organisation_id": org_id,
                            "granted_by": "matching",
                            "granted_at": now,
                        }
                    )
        bulk_insert(self.session, AccessGrant.__table__, grants)  # type: ignore[arg-type]
        if new_rows:
            log.info("matching: %d new notices, %d repeats", len(new_rows), len(repeats))
        return len(new_rows)

    # -- reading -----------------------------------------------------------------------------

    def visible_for(
        self, principal: Principal, *, organisation_id: int | None = None, limit: int = 100
    ) -> list[Notice]:
        """Notices ``principal`` may see (newest first), optionally of one organisation."""
        ref = _ref_column()
        stmt = (
            select(Notice)
            .where(AccessPolicy(self.session).filter(principal, Notice.tlp, ref))
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
        if organisation_id is not None:
            stmt = stmt.where(Notice.organisation_id == organisation_id)
        return list(self.session.scalars(stmt))

    def get_visible(self, principal: Principal, notice_id: int) -> Notice:
        """One notice, or NotFound when it does not exist or is not visible."""
        from nca_share.errors import NotFound

        notice = self.session.get(Notice, notice_id)
        if notice is None:
            raise NotFound(f"notice {notice_id} not found")
        AccessPolicy(self.session).check(principal, notice.tlp, notice_ref(notice.id))
        return notice

    def grants_of(self, notice_id: int) -> list[AccessGrant]:
        return list(
            self.session.scalars(
                select(AccessGrant).where(AccessGrant.resource_ref == notice_ref(notice_id))
            )
        )


def _ref_column() -> Any:
    """SQL expression ``'notice:' || notices.id`` (the grant reference of each row)."""
    from sqlalchemy import String, cast, literal

    return literal("notice:") + cast(Notice.id, String)


def _payload(h: Hit) -> dict[str, Any]:
    return {
        "stix_id": h.stix_id,
        "stix_type": h.stix_type,
        "dimension": h.dimension,
        "matched_value": h.matched_value,
        "asset_value": h.asset_value,
        "asset_kind": h.asset_kind,
        "confidence": h.confidence,
        "source": h.source,
        "category": h.category,
        "urgent": h.urgent,
        "evidence": h.evidence,
        "date": h.facts.get("date"),
    }
