"""Storing matches idempotently and running the whole pipeline for a batch of objects.

Owns :class:`MatchStore` (upsert of :class:`~nca_share.matching.engine.Hit` into ``matches``:
one row per (organisation, object, dimension, reason); a repeat only moves ``last_seen`` and
refreshes confidence and explanation) and :class:`MatchingService` (match a batch of STIX ids
or retro-match one asset, store the matches, create notices). Bulk writes use one
``INSERT … ON CONFLICT DO UPDATE`` executemany per batch on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Table, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.constituency.models import Asset
from nca_share.matching.engine import Criteria, Hit, Matcher, one_of, parse_product
from nca_share.matching.gcpause import gc_paused
from nca_share.matching.index import ConstituencyIndex, ProductRef
from nca_share.matching.models import Match, VulnProduct
from nca_share.stix.models import StixEdge, StixObject, StixObservable

log = logging.getLogger(__name__)

__all__ = ["MatchStore", "MatchingService", "RunResult"]

_CHUNK = 500
#: Ids per query when the list is bound as one parameter (:func:`one_of`).
_ID_CHUNK = 5000


class MatchStore:
    """Idempotent storage of hits in ``matches``."""

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self.session = session
        self.clock = clock or SystemClock()

    def save(self, hits: Sequence[Hit]) -> dict[tuple[int, str, str, str], int]:
        """Upsert ``hits``; returns hit key → match id for every hit."""
        if not hits:
            return {}
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        for h in hits:
            nl, en = h.explanation()
            rows.append(
                {
                    "organisation_id": h.org_id,
                    "asset_id": h.asset_id,
                    "stix_id": h.stix_id,
                    "stix_type": h.stix_type[:60],
                    "dimension": h.dimension,
                    "match_key": h.match_key,
                    "matched_value": h.matched_value,
                    "asset_value": h.asset_value,
                    "evidence": h.evidence,
                    "confidence": h.confidence,
                    "tlp": h.tlp,
                    "source": h.source,
                    "explanation_nl": nl,
                    "explanation_en": en,
                    "first_seen": now,
                    "last_seen": now,
                }
            )
        bulk_insert(
            self.session,
            Match.__table__,  # type: ignore[arg-type]
            rows,
            conflict=("organisation_id", "stix_id", "dimension", "match_key"),
            update=("last_seen", "confidence", "tlp", "evidence", "explanation_nl",
                    "explanation_en"),
        )  # fmt: skip
        ids: dict[tuple[int, str, str, str], int] = {}
        wanted = {h.key for h in hits}
        stix_ids = sorted({h.stix_id for h in hits})
        dialect = self.session.get_bind().dialect.name
        for i in range(0, len(stix_ids), _ID_CHUNK):
            chunk = stix_ids[i : i + _ID_CHUNK]
            for mid, org, sid, dim, key in self.session.execute(
                select(
                    Match.id,
                    Match.organisation_id,
                    Match.stix_id,
                    Match.dimension,
                    Match.match_key,
                ).where(one_of(Match.stix_id, chunk, dialect))
            ):
                k = (org, sid, dim, key)
                if k in wanted:
                    ids[k] = mid
        return ids


@functools.lru_cache(maxsize=4096)
def _sqlite_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_value(value: Any) -> Any:
    """A Python value as SQLAlchemy would bind it on SQLite (UTCDateTime, JSON, Boolean)."""
    if isinstance(value, datetime):
        return _sqlite_datetime(value)
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode("utf-8")
    if isinstance(value, bool):
        return int(value)
    return value


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
) -> None:
    """Insert ``rows`` (all with the same keys) in batches; with ``conflict``, update the
    ``update`` columns of existing rows (upsert). On SQLite the driver's executemany is used
    directly (SQLAlchemy's per-row parameter processing dominated the benchmark); on
    PostgreSQL ``COPY`` (see :func:`_copy_insert`); elsewhere SQLAlchemy Core."""
    if not rows:
        return
    columns = tuple(rows[0])
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        if conflict:
            sets = ", ".join(f"{c} = excluded.{c}" for c in update)
            sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
        # column-wise: convert only the columns whose values need it, then zip (hot path)
        values: list[list[Any]] = []
        for c in columns:
            column = [r[c] for r in rows]
            sample = next((v for v in column if v is not None), None)
            if isinstance(sample, datetime | dict | list | bool):
                column = [None if v is None else _sqlite_value(v) for v in column]
            values.append(column)
        params = list(zip(*values, strict=True))
        conn = session.connection()
        for start in range(0, len(params), 5000):
            conn.exec_driver_sql(sql, params[start : start + 5000])
        return
    if dialect == "postgresql":
        _copy_insert(session, table, columns, rows, conflict, update)
        return
    for start in range(0, len(rows), 5000):
        stmt = pg_insert(table)
        if conflict:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(conflict), set_={c: stmt.excluded[c] for c in update}
            )
        session.execute(stmt, list(rows[start : start + 5000]))


@dataclass
class RunResult:
    """What one matching run did."""

    objects: int = 0
    hits: int = 0
    matches: int = 0
    notices: int = 0
    per_dimension: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "hits": self.hits,
            "matches": self.matches,
            "notices": self.notices,
            "per_dimension": dict(self.per_dimension),
        }


class MatchingService:
    """Match, store and notify, in the caller's session (never commits)."""

    def __init__(
        self,
        session: Session,
        index: ConstituencyIndex,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.session = session
        self.index = index
        self.settings = settings
        self.clock = clock or SystemClock()
        timezone = settings.timezone if settings is not None else "Europe/Amsterdam"
        self.matcher = Matcher(session, index, clock=self.clock, timezone=timezone)

    def run(
        self,
        stix_ids: Iterable[str],
        *,
        criteria: Criteria | None = None,
        notify: bool = True,
        asset_id: int | None = None,
    ) -> RunResult:
        """Match ``stix_ids``, store the matches and (``notify``) create notices.

        :param asset_id: keep only network/product hits on this asset (retro-match).
        """
        with gc_paused():
            return self._run(stix_ids, criteria, notify, asset_id)

    def _run(
        self,
        stix_ids: Iterable[str],
        criteria: Criteria | None,
        notify: bool,
        asset_id: int | None,
    ) -> RunResult:
        from nca_share.matching.notices import NoticeService

        ids = list(dict.fromkeys(stix_ids))
        hits = self.matcher.match(ids, criteria)
        if asset_id is not None:
            hits = [h for h in hits if h.asset_id == asset_id]
        result = RunResult(objects=len(ids), hits=len(hits))
        for h in hits:
            result.per_dimension[h.dimension] = result.per_dimension.get(h.dimension, 0) + 1
        match_ids = MatchStore(self.session, self.clock).save(hits)
        result.matches = len(match_ids)
        if notify:
            result.notices = NoticeService(self.session, self.settings, clock=self.clock).notify(
                [h for h in hits if h.dimension in ("network", "product")], match_ids
            )
        return result

    def retro_match_asset(self, asset_id: int, *, notify: bool = True) -> RunResult:
        """Match one (newly verified) asset against active indicators and open
        vulnerabilities already in the store."""
        asset = self.session.get(Asset, asset_id)
        if asset is None or asset.status != "verified":
            return RunResult()
        ref = self.index.assets.get(asset_id)
        if ref is None:
            ref = self.index.put_asset(
                asset.id,
                asset.organisation_id,
                asset.kind,
                asset.value,
                asset.cpe,
                asset.purl,
                asset.vendor,
                asset.product,
                asset.version_range,
            )
        candidates = candidate_objects(self.session, asset)
        return self.run(candidates, notify=notify, asset_id=asset_id)


def candidate_objects(session: Session, asset: Asset) -> list[str]:
    """Current objects that may concern ``asset`` (a superset; the matcher decides)."""
    ids: set[str] = set()
    obs = StixObservable
    if asset.kind == "cidr" and asset.range_start and asset.range_end:
        stmt = select(obs.stix_id).where(
            obs.ip_version == asset.ip_version,
            obs.ip_start <= asset.range_end,
            obs.ip_end >= asset.range_start,
        )
        ids.update(session.scalars(stmt))
        # URLs with literal IPs are not range-indexed: a text probe on the first octets.
    elif asset.kind == "domain":
        d = asset.value
        e = d.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = select(obs.stix_id).where(
            or_(
                (obs.kind == "domain") & (obs.value == d),
                (obs.kind == "domain") & obs.value.like("%." + e, escape="\\"),
                (obs.kind == "email") & obs.value.like("%@" + e, escape="\\"),
                (obs.kind == "email") & obs.value.like("%." + e, escape="\\"),
                (obs.kind == "url") & obs.value.like("%" + e + "%", escape="\\"),
            )
        )
        ids.update(session.scalars(stmt))
    elif asset.kind == "asn":
        ids.update(
            session.scalars(
                select(StixObject.stix_id).where(
                    StixObject.type == "autonomous-system", StixObject.is_current.is_(True)
                )
            )
        )
    elif asset.kind == "product":
        products: list[ProductRef] = []
        for text in (asset.cpe, asset.purl):
            if text:
                p = parse_product(text)
                if p is not None:
                    products.append(p)
        if asset.vendor and asset.product:
            p = parse_product(f"{asset.vendor}:{asset.product}")
            if p is not None:
                products.append(p)
        keys = sorted({p.key for p in products})
        if keys:
            cves = set(
                session.scalars(select(VulnProduct.cve).where(VulnProduct.product_key.in_(keys)))
            )
            for i in range(0, len(cves), _CHUNK):
                chunk = sorted(cves)[i : i + _CHUNK]
                ids.update(
                    session.scalars(
                        select(obs.stix_id).where(obs.kind == "cve", obs.value.in_(chunk))
                    )
                )
        # CSAF: vulnerabilities with an "affects" edge to a software object naming the product
        names = {x for x in (asset.product,) if x}
        soft = select(StixObject.stix_id).where(
            StixObject.type == "software", StixObject.is_current.is_(True)
        )
        if asset.cpe:
            parts = asset.cpe.split(":")
            prefix = ":".join(parts[3:5])
            cpe_ids = set(
                session.scalars(
                    select(obs.stix_id).where(
                        obs.kind == "cpe", obs.value.like(f"cpe:2.3:_:{prefix}:%")
                    )
                )
            )
            ids.update(cpe_ids)
            soft_ids = cpe_ids
        else:
            soft_ids = set()
        if names:
            soft_ids |= set(
                session.scalars(
                    soft.where(
                        StixObject.name.is_not(None),
                        StixObject.name.ilike("%" + next(iter(names)).replace("_", " ") + "%")
                        | StixObject.name.ilike("%" + next(iter(names)) + "%"),
                    )
                )
            )
        if asset.purl:
            purl_base = asset.purl.split("@", 1)[0]
            ids.update(
                session.scalars(
                    select(obs.stix_id).where(obs.kind == "purl", obs.value.like(purl_base + "%"))
                )
            )
        ids.update(soft_ids)
        soft_list = sorted(soft_ids)
        for i in range(0, len(soft_list), _CHUNK):
            ids.update(
                session.scalars(
                    select(StixEdge.source_id).where(
                        StixEdge.target_id.in_(soft_list[i : i + _CHUNK]),
                        StixEdge.relationship_type == "affects",
                    )
                )
            )
    return sorted(ids)


def _copy_insert(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
) -> None:
    """PostgreSQL: stream ``rows`` with ``COPY`` (one round trip per batch instead of one per
    row); with ``conflict``, into a temporary table first and then one
    ``INSERT … SELECT … ON CONFLICT DO UPDATE``."""
    names = ", ".join(columns)
    json_cols = {c for c in columns if isinstance(table.c[c].type, JSON | JSONB)}
    target = table.name
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        if conflict:
            target = f"_bulk_{table.name}"
            cur.execute(
                f"CREATE TEMP TABLE {target} AS SELECT {names} FROM {table.name} WITH NO DATA"  # noqa: S608 - fixed names
            )
        with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    [
                        orjson.dumps(r[c]).decode("utf-8")
                        if c in json_cols and r[c] is not None
                        else r[c]
                        for c in columns
                    ]
                )
        if conflict:
            sets = ", ".join(f"{c} = excluded.{c}" for c in update)
            cur.execute(
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {target} "  # noqa: S608 - fixed names
                f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
            )
            cur.execute(f"DROP TABLE {target}")
