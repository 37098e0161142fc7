"""Read API of the versioned STIX store, for the TAXII server, the explorer and matching.

Owns: fetching current versions and version histories, queries with keyset pagination on
(date_added, pk), graph neighbours from ``stix_edges`` and observable look-ups (exact values,
"IP within CIDR", "CIDR containing IP") on ``stix_observables``. It applies no access rules
itself: callers pass the access policy's clause as ``where`` (and/or ``tlp_max``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from nca_share.errors import NotFound, ValidationError
from nca_share.stix.models import StixEdge, StixObject, StixObservable
from nca_share.stix.observables import guess_observable, normalize

__all__ = ["Edge", "ObservableHit", "Page", "StixStore"]

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query; pass ``next_cursor`` back to get the next (None: last page)."""

    items: list[StixObject]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """A relationship or reference edge (see ``nca_share.stix.models.StixEdge``)."""

    source_id: str
    target_id: str
    kind: str
    relationship_type: str | None
    via_id: str

    def other(self, stix_id: str) -> str:
        """The end of the edge that is not ``stix_id``."""
        return self.target_id if self.source_id == stix_id else self.source_id


@dataclass(frozen=True, slots=True)
class ObservableHit:
    """An indexed observable and the object it came from."""

    stix_id: str
    kind: str
    value: str


def _encode_cursor(added: datetime, pk: int) -> str:
    text = f"{added.isoformat()}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        added, pk = text.split("|", 1)
        return datetime.fromisoformat(added), int(pk)
    except (ValueError, binascii.Error, UnicodeError):
        raise ValidationError("invalid page cursor", location="cursor") from None


def _ip_bounds(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, str, str]:
    return (
        network.version,
        f"{int(network.network_address):032x}",
        f"{int(network.broadcast_address):032x}",
    )


class StixStore:
    """Reads the STIX store through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ objects

    def find(self, stix_id: str) -> StixObject | None:
        """The current version of ``stix_id``, or None."""
        return self.session.scalars(
            select(StixObject).where(StixObject.stix_id == stix_id, StixObject.is_current)
        ).first()

    def get(self, stix_id: str) -> StixObject:
        """The current version of ``stix_id``; raises NotFound."""
        obj = self.find(stix_id)
        if obj is None:
            raise NotFound(f"no STIX object {stix_id[:300]!r}")
        return obj

    def versions(self, stix_id: str) -> list[StixObject]:
        """Every stored version of ``stix_id``, oldest first."""
        return list(
            self.session.scalars(
                select(StixObject)
                .where(StixObject.stix_id == stix_id)
                .order_by(StixObject.version_key, StixObject.pk)
            )
        )

    def query(
        self,
        *,
        types: Sequence[str] | None = None,
        modified_after: datetime | None = None,
        modified_before: datetime | None = None,
        added_after: datetime | None = None,
        text: str | None = None,
        tlp_max: int | None = None,
        where: ColumnElement[bool] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        all_versions: bool = False,
        source: str | None = None,
    ) -> Page:
        """Current versions (or all with ``all_versions``) in (date_added, pk) order.

        :param text: case-insensitive substring of the name.
        :param tlp_max: only objects whose effective TLP rank is at most this.
        :param where: an extra clause on ``StixObject`` (the access policy's filter).
        :param cursor: the ``next_cursor`` of the previous page.
        """
        limit = max(1, min(int(limit), MAX_LIMIT))
        stmt = select(StixObject)
        conditions: list[ColumnElement[bool]] = []
        if not all_versions:
            conditions.append(StixObject.is_current.is_(True))
        if types:
            conditions.append(StixObject.type.in_(list(types)))
        if modified_after is not None:
            conditions.append(StixObject.modified > modified_after)
        if modified_before is not None:
            conditions.append(StixObject.modified < modified_before)
        if added_after is not None:
            conditions.append(StixObject.date_added > added_after)
        if text:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(StixObject.name.ilike(f"%{escaped}%", escape="\\"))
        if tlp_max is not None:
            conditions.append(StixObject.tlp <= int(tlp_max))
        if source is not None:
            conditions.append(StixObject.source == source)
        if where is not None:
            conditions.append(where)
        if cursor:
            added, pk = _decode_cursor(cursor)
            conditions.append(
                or_(
                    StixObject.date_added > added,
                    and_(StixObject.date_added == added, StixObject.pk > pk),
                )
            )
        stmt = (
            stmt.where(*conditions).order_by(StixObject.date_added, StixObject.pk).limit(limit + 1)
        )
        rows = list(self.session.scalars(stmt))
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = _encode_cursor(last.date_added, last.pk)
        return Page(rows, next_cursor)

    # ------------------------------------------------------------------ graph

    def neighbours(
        self, stix_id: str, direction: str = "both", kinds: Sequence[str] | None = None
    ) -> list[Edge]:
        """Edges touching ``stix_id``: ``out`` (it refers to / is source), ``in`` or ``both``.

        :param kinds: restrict to edge kinds (``relationship``, ``object_refs``, …).
        """
        if direction not in ("in", "out", "both"):
            raise ValidationError("direction must be in, out or both", location="direction")
        sides: list[ColumnElement[bool]] = []
        if direction in ("out", "both"):
            sides.append(StixEdge.source_id == stix_id)
        if direction in ("in", "both"):
            sides.append(StixEdge.target_id == stix_id)
        stmt = select(StixEdge).where(or_(*sides))
        if kinds:
            stmt = stmt.where(StixEdge.kind.in_(list(kinds)))
        stmt = stmt.order_by(StixEdge.id)
        return [
            Edge(e.source_id, e.target_id, e.kind, e.relationship_type, e.via_id)
            for e in self.session.scalars(stmt)
        ]

    # ------------------------------------------------------------------ observables

    def observables(self, value: str, kind: str | None = None) -> list[ObservableHit]:
        """Objects whose current version has exactly this observable.

        The value is normalised first and looked up under the kind the normaliser returns
        (``kind="ipv4"`` with ``"10.0.0.0/8"`` finds the ``ipv4-cidr``); without ``kind`` the
        most specific kind is guessed. A value no normaliser accepts is matched verbatim.
        """
        obs = normalize(kind, value) if kind is not None else guess_observable(value)
        stmt = select(StixObservable.stix_id, StixObservable.kind, StixObservable.value)
        if obs is not None:
            stmt = stmt.where(StixObservable.kind == obs.kind, StixObservable.value == obs.value)
        elif kind is not None:
            stmt = stmt.where(StixObservable.kind == kind, StixObservable.value == value)
        else:
            values = {value, value.strip(), value.strip().lower()}
            stmt = stmt.where(StixObservable.value.in_(sorted(values)))
        stmt = stmt.order_by(StixObservable.id)
        return [ObservableHit(*row) for row in self.session.execute(stmt)]

    def observables_of(self, stix_id: str) -> list[ObservableHit]:
        """Every observable indexed from the current version of ``stix_id``."""
        stmt = (
            select(StixObservable.stix_id, StixObservable.kind, StixObservable.value)
            .where(StixObservable.stix_id == stix_id)
            .order_by(StixObservable.kind, StixObservable.value)
        )
        return [ObservableHit(*row) for row in self.session.execute(stmt)]

    def objects_with_ip_in(self, cidr: str) -> list[ObservableHit]:
        """IP observables (single addresses and CIDRs) lying entirely within ``cidr``."""
        try:
            network = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            raise ValidationError(f"not an IP network: {cidr[:60]!r}", location="cidr") from None
        version, start, end = _ip_bounds(network)
        stmt = (
            select(StixObservable.stix_id, StixObservable.kind, StixObservable.value)
            .where(
                StixObservable.ip_version == version,
                StixObservable.ip_start >= start,
                StixObservable.ip_end <= end,
            )
            .order_by(StixObservable.id)
        )
        return [ObservableHit(*row) for row in self.session.execute(stmt)]

    def cidrs_containing(self, ip: str) -> list[ObservableHit]:
        """IP and CIDR observables whose range contains the address ``ip``."""
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            raise ValidationError(f"not an IP address: {ip[:60]!r}", location="ip") from None
        point = f"{int(address):032x}"
        stmt = (
            select(StixObservable.stix_id, StixObservable.kind, StixObservable.value)
            .where(
                StixObservable.ip_version == address.version,
                StixObservable.ip_start <= point,
                StixObservable.ip_end >= point,
            )
            .order_by(StixObservable.id)
        )
        return [ObservableHit(*row) for row in self.session.execute(stmt)]

    def raw(self, stix_id: str) -> dict[str, Any]:
        """The stored JSON of the current version of ``stix_id``; raises NotFound."""
        return self.get(stix_id).raw
