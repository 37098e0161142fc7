"""STIX reads for one principal, shared by the object explorer and the REST API.

Every read goes through the access policy: lists carry ``AccessPolicy.filter`` as a WHERE
clause, single objects and versions are checked with ``AccessPolicy.visible`` (an invisible
object is "not found"), and a graph edge is shown only when the object it comes from (the
relationship, or the referring object) is visible. Its other end is described only when
visible; otherwise it is a bare id, exactly as when it is not in the store, so the two
cases cannot be told apart (the id is written in the visible object anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from nca_share.access import AccessPolicy, Principal
from nca_share.errors import NotFound
from nca_share.stix.models import StixObject
from nca_share.stix.store import Edge, ObservableHit, Page, StixStore


@dataclass(frozen=True)
class ObjectFilter:
    """Explorer and API filters; all optional."""

    types: tuple[str, ...] = ()
    text: str | None = None
    tlp: int | None = None
    source: str | None = None
    added_after: datetime | None = None
    added_from: datetime | None = None
    added_before: datetime | None = None
    include_revoked: bool = True


@dataclass(frozen=True)
class Neighbour:
    """One visible edge and what is known about its other end."""

    edge: Edge
    direction: str  # "out" or "in"
    other_id: str
    other: StixObject | None  # None: not in the store, or not visible (indistinguishable)


class StixReads:
    """The STIX store as ``principal`` may see it."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.store = StixStore(session)
        self.policy = AccessPolicy(session)

    def _visible_clause(self) -> ColumnElement[bool]:
        return self.policy.filter(self.principal, StixObject.tlp, StixObject.stix_id)

    def search(self, flt: ObjectFilter, *, limit: int, cursor: str | None) -> Page:
        """Visible current objects matching ``flt``, keyset-paginated on (date_added, pk).

        :raises ValidationError: a malformed cursor.
        """
        clauses: list[ColumnElement[bool]] = [self._visible_clause()]
        if flt.tlp is not None:
            clauses.append(StixObject.tlp == flt.tlp)
        if flt.added_from is not None:
            clauses.append(StixObject.date_added >= flt.added_from)
        if flt.added_before is not None:
            clauses.append(StixObject.date_added < flt.added_before)
        if not flt.include_revoked:
            clauses.append(StixObject.revoked.is_(False))
        return self.store.query(
            types=list(flt.types) or None,
            text=flt.text or None,
            source=flt.source or None,
            added_after=flt.added_after,
            where=and_(*clauses),
            limit=limit,
            cursor=cursor,
        )

    def types(self) -> list[str]:
        """The distinct types of visible current objects (for the filter's choices; custom
        types of objects the principal may not see are not revealed)."""
        stmt = (
            select(StixObject.type)
            .where(StixObject.is_current.is_(True), self._visible_clause())
            .distinct()
        )
        return sorted(self.session.scalars(stmt))

    def _visible(self, obj: StixObject) -> bool:
        return self.policy.visible(self.principal, obj.tlp, obj.stix_id)

    def get(self, stix_id: str) -> StixObject:
        """The current version, if visible.

        :raises NotFound: no such object, or not visible (indistinguishable on purpose).
        """
        obj = self.store.find(stix_id)
        if obj is None or not self._visible(obj):
            raise NotFound("no such object", details={"id": stix_id[:300]})
        return obj

    def versions(self, stix_id: str) -> list[StixObject]:
        """Visible versions of a visible object, oldest first.

        :raises NotFound: the current version is missing or not visible.
        """
        self.get(stix_id)
        return [v for v in self.store.versions(stix_id) if self._visible(v)]

    def neighbours(self, stix_id: str) -> list[Neighbour]:
        """Visible edges in both directions of a visible object.

        :raises NotFound: the object is missing or not visible.
        """
        self.get(stix_id)
        edges = self.store.neighbours(stix_id, "both")
        ids = {e.via_id for e in edges} | {e.other(stix_id) for e in edges}
        ids.discard(stix_id)
        visible: dict[str, StixObject] = {}
        chunk = sorted(ids)
        for start in range(0, len(chunk), 500):
            part = chunk[start : start + 500]
            for obj in self.session.scalars(
                select(StixObject).where(
                    StixObject.stix_id.in_(part),
                    StixObject.is_current.is_(True),
                    self._visible_clause(),
                )
            ):
                visible[obj.stix_id] = obj
        result = []
        for edge in edges:
            other_id = edge.other(stix_id)
            if edge.via_id == stix_id or edge.via_id in visible:
                direction = "out" if edge.source_id == stix_id else "in"
                result.append(Neighbour(edge, direction, other_id, visible.get(other_id)))
        return result

    def observables(self, stix_id: str) -> list[ObservableHit]:
        """Observables indexed from a visible object.

        :raises NotFound: the object is missing or not visible.
        """
        self.get(stix_id)
        return self.store.observables_of(stix_id)
