"""Recipient preview for analysts: for any object or set of objects (later: a bulletin), who
would receive it and why, without storing anything.

Owns :class:`PreviewService` and :class:`Preview`: the matched organisations with their
dimensions and reasons, and counts per dimension, STIX sector, NIS2 class, maturity level and
partnership. Staff-only (the surfaces check the role); it reads the constituency index and
the STIX store through :class:`~nca_share.matching.engine.Matcher`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.clock import Clock
from nca_share.constituency.models import Partnership
from nca_share.matching.engine import Criteria, Matcher
from nca_share.matching.index import ConstituencyIndex

__all__ = ["Preview", "PreviewService"]

MAX_OBJECTS = 5000


@dataclass
class Preview:
    """Who would receive the given objects."""

    objects: int = 0
    recipients: list[dict[str, Any]] = field(default_factory=list)
    per_dimension: dict[str, int] = field(default_factory=dict)
    per_sector: dict[str, int] = field(default_factory=dict)
    per_nis2_class: dict[str, int] = field(default_factory=dict)
    per_maturity: dict[str, int] = field(default_factory=dict)
    per_partnership: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "recipient_count": len(self.recipients),
            "recipients": self.recipients,
            "per_dimension": self.per_dimension,
            "per_sector": self.per_sector,
            "per_nis2_class": self.per_nis2_class,
            "per_maturity": self.per_maturity,
            "per_partnership": self.per_partnership,
        }


class PreviewService:
    """Compute previews (never writes)."""

    def __init__(
        self,
        session: Session,
        index: ConstituencyIndex,
        *,
        clock: Clock | None = None,
        timezone: str = "Europe/Amsterdam",
    ) -> None:
        self.session = session
        self.index = index
        self.matcher = Matcher(session, index, clock=clock, timezone=timezone)

    def preview(
        self, stix_ids: Iterable[str], criteria: Criteria | None = None, *, locale: str = "nl"
    ) -> Preview:
        """Recipients of ``stix_ids`` (at most :data:`MAX_OBJECTS`) plus ``criteria``."""
        ids = list(dict.fromkeys(stix_ids))[:MAX_OBJECTS]
        hits = self.matcher.match(ids, criteria)
        by_org: dict[int, list[Any]] = defaultdict(list)
        for h in hits:
            by_org[h.org_id].append(h)
        result = Preview(objects=len(ids))
        dims: Counter[str] = Counter()
        sectors: Counter[str] = Counter()
        classes: Counter[str] = Counter()
        maturity: Counter[str] = Counter()
        partnerships: Counter[int] = Counter()
        for org_id, org_hits in sorted(by_org.items()):
            profile = self.index.orgs.get(org_id)
            org_dims = sorted({h.dimension for h in org_hits})
            dims.update(org_dims)
            if profile is not None:
                sectors.update(profile.sectors or {"—"})
                classes[profile.classification or "unknown"] += 1
                maturity[profile.maturity] += 1
                partnerships.update(profile.partnerships)
            reasons = []
            for h in sorted(org_hits, key=lambda x: (x.dimension, x.match_key))[:20]:
                nl, en = h.explanation()
                reasons.append(
                    {
                        "dimension": h.dimension,
                        "object": h.stix_id,
                        "value": h.matched_value,
                        "asset": h.asset_value,
                        "confidence": h.confidence,
                        "explanation": nl if locale == "nl" else en,
                    }
                )
            result.recipients.append(
                {
                    "organisation_id": org_id,
                    "name": profile.name if profile else str(org_id),
                    "kvk": profile.kvk if profile else "",
                    "dimensions": org_dims,
                    "reasons": reasons,
                }
            )
        names: dict[int, str] = {
            pid: name
            for pid, name in self.session.execute(
                select(Partnership.id, Partnership.name).where(
                    Partnership.id.in_(sorted(partnerships))
                )
            )
        }
        result.per_dimension = dict(sorted(dims.items()))
        result.per_sector = dict(sorted(sectors.items()))
        result.per_nis2_class = dict(sorted(classes.items()))
        result.per_maturity = dict(sorted(maturity.items()))
        result.per_partnership = {
            names.get(pid, str(pid)): n for pid, n in sorted(partnerships.items())
        }
        return result
