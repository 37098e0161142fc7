"""Product knowledge per CVE for the product dimension: NVD CVE API 2.0 CPE configurations and
the CISA Known Exploited Vulnerabilities catalogue, stored in ``vuln_products``.

Owns :func:`nvd_rows` / :func:`kev_rows` (pure readers of the documents; hostile input is
skipped with a logged reason, never raised past one bad entry), :func:`store_rows` (idempotent
insert) and :func:`vulnerability_ids_for` (current vulnerability objects of given CVEs, to
re-match after new knowledge arrived). CSAF product trees need no table: the feeds code maps
them to ``software`` objects and ``affects`` relationships, which the matcher reads directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.errors import ValidationError
from nca_share.matching.index import ProductRef
from nca_share.matching.models import VulnProduct
from nca_share.stix.models import StixObservable
from nca_share.stix.observables import normalize

log = logging.getLogger(__name__)

__all__ = ["kev_rows", "nvd_rows", "store_rows", "vulnerability_ids_for"]


def _versions(match: dict[str, Any], cpe_version: str) -> str:
    parts = []
    for key, op in (
        ("versionStartIncluding", ">="),
        ("versionStartExcluding", ">"),
        ("versionEndIncluding", "<="),
        ("versionEndExcluding", "<"),
    ):
        value = match.get(key)
        if isinstance(value, str) and value.strip() and " " not in value.strip():
            parts.append(op + value.strip()[:100])
    if parts:
        return ",".join(parts)
    if cpe_version not in ("*", "-", ""):
        return cpe_version.replace("\\", "")[:100]
    return "*"


def _cpe_matches(nodes: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(nodes, list):
        return
    for node in nodes:
        if not isinstance(node, dict):
            continue
        for match in node.get("cpeMatch") or []:
            if isinstance(match, dict):
                yield match
        yield from _cpe_matches(node.get("children"))


def nvd_rows(document: Any) -> list[dict[str, Any]]:
    """``vuln_products`` rows from one NVD CVE API 2.0 response (vulnerable CPE matches).

    :raises ValidationError: the document is not an NVD CVE API response.
    """
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        raise ValidationError("not an NVD CVE API 2.0 response", location="vulnerabilities")
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(document["vulnerabilities"]):
        cve_doc = item.get("cve") if isinstance(item, dict) else None
        if not isinstance(cve_doc, dict):
            log.warning("NVD entry %d: no cve object, skipped", i)
            continue
        cve = normalize("cve", cve_doc.get("id"))
        if cve is None:
            log.warning("NVD entry %d: bad CVE id, skipped", i)
            continue
        for config in cve_doc.get("configurations") or []:
            if not isinstance(config, dict):
                continue
            for match in _cpe_matches(config.get("nodes")):
                criteria = match.get("criteria")
                if match.get("vulnerable") is not True or not isinstance(criteria, str):
                    continue
                ref = ProductRef.from_cpe(criteria)
                if ref is None:
                    continue
                cpe_version = criteria.split(":")[5] if criteria.count(":") >= 5 else "*"
                rows.append(
                    {
                        "cve": cve.value,
                        "source": "nvd",
                        "product_key": ref.key[:400],
                        "cpe": criteria[:500],
                        "versions": _versions(match, cpe_version)[:300],
                        "label": ref.label[:300],
                        "known_exploited": False,
                    }
                )
    return rows


def kev_rows(document: Any) -> list[dict[str, Any]]:
    """``vuln_products`` rows from the CISA KEV catalogue (vendor/product, any version).

    :raises ValidationError: the document is not a KEV catalogue.
    """
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        raise ValidationError("not a CISA KEV catalogue", location="vulnerabilities")
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(document["vulnerabilities"]):
        if not isinstance(item, dict):
            continue
        cve = normalize("cve", item.get("cveID"))
        vendor, product = item.get("vendorProject"), item.get("product")
        if cve is None or not isinstance(vendor, str) or not isinstance(product, str):
            log.warning("KEV entry %d: missing cveID/vendorProject/product, skipped", i)
            continue
        ref = ProductRef.from_names(vendor, product)
        if ref is None:
            continue
        rows.append(
            {
                "cve": cve.value,
                "source": "kev",
                "product_key": ref.key[:400],
                "cpe": None,
                "versions": "*",
                "label": f"{vendor} {product}"[:300],
                "known_exploited": True,
            }
        )
    return rows


def store_rows(session: Session, rows: list[dict[str, Any]], clock: Clock | None = None) -> int:
    """Insert rows not yet known (idempotent); returns how many rows were offered."""
    if not rows:
        return 0
    now = (clock or SystemClock()).now()
    table: Table = VulnProduct.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    unique = {(r["cve"], r["source"], r["product_key"], r["versions"]): r for r in rows}
    values = [{**r, "added_at": now} for r in unique.values()]
    for start in range(0, len(values), 2000):
        stmt = insert(table).on_conflict_do_nothing(
            index_elements=["cve", "source", "product_key", "versions"]
        )
        session.execute(stmt, values[start : start + 2000])
    return len(values)


def vulnerability_ids_for(session: Session, cves: Iterable[str]) -> list[str]:
    """Ids of objects whose observables include one of ``cves`` (vulnerabilities)."""
    wanted = sorted(set(cves))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.scalars(
                select(StixObservable.stix_id).where(
                    StixObservable.kind == "cve",
                    StixObservable.value.in_(wanted[start : start + 500]),
                )
            )
        )
    return sorted(found)
