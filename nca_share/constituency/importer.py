"""Bulk import of organisations from CSV with KVK-style columns.

Header names are matched in Dutch and English (``kvk``/``KVK-nummer``, ``name``/``handelsnaam``,
``sbi``/``SBI-code``, ``employees``/``werkzame personen``, ...), case- and accent-insensitively.
The file may start with a UTF-8 BOM; the delimiter (``,``, ``;`` or tab) is sniffed; quoted
cells may span lines. Rows are validated one by one: every bad row is reported with its line
number and the column(s) at fault, every good row is kept. Good rows are upserted by KVK number
in batches (one SELECT for the batch's KVK numbers, then bulk INSERT / UPDATE), so a file of
any size streams through in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.constituency import classification
from nca_share.constituency import validation as v
from nca_share.constituency.fields import organisation_fields
from nca_share.constituency.models import Contact, Organisation
from nca_share.errors import ParseError, ValidationError

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 100_000

#: Column aliases (folded: lower-case, accents and punctuation removed) -> organisation field.
HEADER_ALIASES: dict[str, str] = {}
_ALIASES: dict[str, tuple[str, ...]] = {
    "kvk": ("kvk", "kvk nummer", "kvknummer", "kvk number", "chamber of commerce number", "coc"),
    "name": (
        "name",
        "naam",
        "handelsnaam",
        "statutaire naam",
        "trade name",
        "company name",
        "bedrijfsnaam",
        "organisatie",
        "organisation",
        "organization",
    ),
    "sbi_codes": (
        "sbi",
        "sbi code",
        "sbi codes",
        "sbicode",
        "sbi codes activiteiten",
        "activiteiten",
        "nace",
    ),
    "sbi_version": ("sbi version", "sbi versie", "sbiversie"),
    "employees": (
        "employees",
        "werkzame personen",
        "aantal werkzame personen",
        "medewerkers",
        "werknemers",
        "headcount",
        "fte",
        "staff",
    ),
    "turnover_eur": ("turnover", "turnover eur", "omzet", "jaaromzet", "annual turnover"),
    "balance_eur": (
        "balance",
        "balance eur",
        "balance sheet",
        "balanstotaal",
        "balans",
        "balance sheet total",
    ),
    "group_aggregated": ("group aggregated", "groep", "geconsolideerd", "group"),
    "province": ("province", "provincie"),
    "municipality": ("municipality", "gemeente", "plaats", "vestigingsplaats", "city"),
    "nis2_entity_types": (
        "nis2",
        "nis2 entity types",
        "nis2 entiteitstypes",
        "entity types",
        "nis2 types",
        "entiteitstype",
        "nis2 entity type",
    ),
    "cer_critical_entity": ("cer", "cer critical entity", "kritieke entiteit"),
    "contact_email": (
        "contact email",
        "email",
        "e mail",
        "e mailadres",
        "emailadres",
        "contact e mail",
        "mail",
    ),
    "contact_name": ("contact name", "contactpersoon", "contact", "naam contactpersoon"),
    "contact_phone": ("contact phone", "telefoon", "telefoonnummer", "phone"),
}
for _field, _names in _ALIASES.items():
    for _name in _names:
        HEADER_ALIASES[re.sub(r"[^a-z0-9]+", " ", v._fold(_name).replace("-", " ")).strip()] = (
            _field
        )

_CONTACT_FIELDS = ("contact_email", "contact_name", "contact_phone")


@dataclass(frozen=True)
class RowError:
    """One rejected row: where, which column, and what is wrong."""

    line: int
    column: str
    message: str
    kvk: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message, "kvk": self.kvk}

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"


@dataclass
class ImportReport:
    """Totals and every bad row of one import."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    bad_rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def good_rows(self) -> int:
        return self.rows - self.bad_rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "good_rows": self.good_rows,
            "bad_rows": self.bad_rows,
            "created": self.created,
            "updated": self.updated,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "errors": [e.as_dict() for e in self.errors],
        }


def map_headers(headers: list[str]) -> tuple[dict[int, str], list[str]]:
    """Column index -> field for recognised headers, and the names of ignored columns.

    :raises ParseError: when a field appears twice or ``kvk``/``name`` are missing.
    """
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(headers):
        target = HEADER_ALIASES.get(v.fold_header(raw))
        if target is None:
            if raw.strip():
                ignored.append(raw.strip())
            continue
        if target in seen:
            raise ParseError(
                f"columns {seen[target]!r} and {raw.strip()!r} both mean {target}",
                line=1,
                column=index + 1,
            )
        seen[target] = raw.strip()
        mapping[index] = target
    missing = [f for f in ("kvk", "name") if f not in seen]
    if missing:
        raise ParseError(
            f"required column(s) missing: {', '.join(missing)} "
            "(e.g. 'KVK-nummer' and 'Handelsnaam')",
            line=1,
            column=1,
        )
    return mapping, ignored


def _sniff(sample: str) -> type[csv.Dialect]:
    """The dialect of the file: Excel quoting rules with the delimiter (``,``, ``;`` or tab)
    that occurs most often in the header row outside quotes.

    ``csv.Sniffer`` is not used: on a header without quotes it guesses ``doublequote=False``,
    which breaks every later cell holding an escaped quote.
    """
    header = sample.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))

    class _Dialect(csv.excel):
        delimiter = best

    return _Dialect


class OrganisationImporter:
    """Streams a CSV into the organisations table; see the module docstring."""

    def __init__(
        self, session: Session, *, clock: Clock | None = None, batch_size: int = BATCH_SIZE
    ) -> None:
        self.session = session
        self.clock = clock or SystemClock()
        self.batch_size = batch_size

    def import_path(self, path: Path) -> ImportReport:
        """Import a CSV file (UTF-8, optionally with BOM; Windows-1252 when not UTF-8)."""
        encoding = "utf-8-sig" if _is_utf8(path) else "cp1252"
        if encoding == "cp1252":
            log.warning("%s is not UTF-8; reading it as Windows-1252", path)
        with path.open(encoding=encoding, newline="") as fh:
            return self.import_stream(fh)

    def import_text(self, text: str) -> ImportReport:
        return self.import_stream(io.StringIO(text.removeprefix("\ufeff")))

    def import_stream(self, stream: IO[str]) -> ImportReport:
        """Import from an open text stream; commits nothing (the caller owns the transaction,
        but batches are flushed as they fill).

        :raises ParseError: when the header row is unusable (nothing is imported then).
        """
        sample = stream.read(64 * 1024)
        if sample.startswith("\ufeff"):
            sample = sample[1:]
        if not sample.strip():
            raise ParseError("the file is empty", line=1, column=1)
        dialect = _sniff(sample)
        if stream.seekable():
            stream.seek(0)
            if sample and stream.read(1) != "\ufeff":
                stream.seek(0)
            text: IO[str] = stream
        else:
            text = io.StringIO(sample + stream.read())
        reader = csv.reader(text, dialect)
        report = ImportReport()
        try:
            headers = next(reader)
        except csv.Error as exc:
            raise ParseError(f"unreadable header row: {exc}", line=1, column=1) from exc
        mapping, report.ignored_columns = map_headers(headers)
        report.columns = {headers[i].strip(): f for i, f in mapping.items()}
        batch: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {}
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                report.rows += 1
                report.bad_rows += 1
                self._error(report, RowError(line, "*", f"unreadable CSV: {exc}"))
                continue
            if not any(c.strip() for c in cells):
                continue
            report.rows += 1
            parsed = self._parse_row(line, cells, mapping, len(headers), report)
            if parsed is None:
                report.bad_rows += 1
                continue
            fields, contact = parsed
            batch[fields["kvk"]] = (line, fields, contact)
            if len(batch) >= self.batch_size:
                self._flush(batch, report)
                batch = {}
        if batch:
            self._flush(batch, report)
        log.info(
            "organisation import: %s rows, %s bad, %s created, %s updated",
            report.rows,
            report.bad_rows,
            report.created,
            report.updated,
        )
        return report

    def _error(self, report: ImportReport, error: RowError) -> None:
        if len(report.errors) < MAX_REPORTED_ERRORS:
            report.errors.append(error)

    def _parse_row(
        self,
        line: int,
        cells: list[str],
        mapping: dict[int, str],
        width: int,
        report: ImportReport,
    ) -> tuple[dict[str, Any], dict[str, str]] | None:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            self._error(
                report,
                RowError(line, "*", f"{len(cells)} cells but the header has {width} columns"),
            )
            return None
        data: dict[str, Any] = {}
        contact: dict[str, str] = {}
        for index, target in mapping.items():
            value = cells[index].strip() if index < len(cells) else ""
            if target in _CONTACT_FIELDS:
                if value:
                    contact[target] = value
            elif value or target in ("kvk", "name"):
                data[target] = value
        kvk = data.get("kvk") or None
        problems: list[RowError] = []
        try:
            fields = organisation_fields(data)
        except ValidationError as exc:
            for item in exc.details.get("errors", []):
                problems.append(RowError(line, item["field"], item["message"], kvk))
            fields = {}
        if contact:
            try:
                contact["contact_email"] = v.email(
                    contact.get("contact_email", ""), field="contact_email"
                )
                if "contact_phone" in contact:
                    contact["contact_phone"] = v.phone(
                        contact["contact_phone"], field="contact_phone"
                    )
            except ValidationError as exc:
                problems.append(RowError(line, exc.location or "contact", exc.message, kvk))
        if problems:
            for problem in problems:
                self._error(report, problem)
            return None
        return fields, contact

    def _flush(
        self, batch: dict[str, tuple[int, dict[str, Any], dict[str, str]]], report: ImportReport
    ) -> None:
        now = self.clock.now()
        existing = dict(
            self.session.execute(
                select(Organisation.kvk, Organisation.id).where(Organisation.kvk.in_(list(batch)))
            ).all()
        )
        inserts: list[dict[str, Any]] = []
        to_update: dict[str, dict[str, Any]] = {}
        for kvk, (_line, fields, _contact) in batch.items():
            if kvk in existing:
                to_update[kvk] = fields
            else:
                row = _with_classification(fields)
                inserts.append({**_insert_defaults(), **row, "created_at": now, "updated_at": now})
        if inserts:
            # Homogeneous keys let SQLAlchemy use one executemany for the whole batch.
            keys = set().union(*(r.keys() for r in inserts))
            rows = [{k: r.get(k, _insert_defaults().get(k)) for k in keys} for r in inserts]
            self.session.execute(insert(cast(Table, Organisation.__table__)), rows)
        if to_update:
            # Updates go through the ORM so the classification sees the whole organisation
            # (its designation and any figures the file leaves out).
            orgs = self.session.scalars(
                select(Organisation).where(Organisation.kvk.in_(list(to_update)))
            )
            for org in orgs:
                for key, value in to_update[org.kvk].items():
                    setattr(org, key, value)
                org.updated_at = now
                classification.refresh(org)
        report.created += len(inserts)
        report.updated += len(to_update)
        contacts = {kvk: c for kvk, (_l, _f, c) in batch.items() if c}
        if contacts:
            self._upsert_contacts(contacts, now)
        self.session.flush()

    def _upsert_contacts(self, contacts: dict[str, dict[str, str]], now: Any) -> None:
        ids = dict(
            self.session.execute(
                select(Organisation.kvk, Organisation.id).where(
                    Organisation.kvk.in_(list(contacts))
                )
            ).all()
        )
        known = {
            (org_id, email)
            for org_id, email in self.session.execute(
                select(Contact.organisation_id, Contact.email).where(
                    Contact.organisation_id.in_(list(ids.values()))
                )
            ).all()
        }
        rows = []
        for kvk, contact in contacts.items():
            org_id = ids[kvk]
            email = contact["contact_email"]
            if (org_id, email) in known:
                continue
            rows.append(
                {
                    "organisation_id": org_id,
                    "name": contact.get("contact_name") or email,
                    "email": email,
                    "phone": contact.get("contact_phone"),
                    "role": "primary",
                    "language": "nl",
                    "created_at": now,
                }
            )
        if rows:
            self.session.execute(insert(cast(Table, Contact.__table__)), rows)


def _insert_defaults() -> dict[str, Any]:
    return {
        "sbi_codes": [],
        "sbi_version": "2025",
        "employees": None,
        "turnover_eur": None,
        "balance_eur": None,
        "group_aggregated": False,
        "province": None,
        "municipality": None,
        "nis2_entity_types": [],
        "cer_critical_entity": False,
        "maturity_level": "M0",
    }


def _with_classification(fields: dict[str, Any]) -> dict[str, Any]:
    """A new row plus its derived size class and NIS2 classification (absent figures are
    unknown, which is what the file says about them)."""
    row = {**_insert_defaults(), **fields}
    return {
        **fields,
        **classification.derive(
            employees=row["employees"],
            turnover_eur=row["turnover_eur"],
            balance_eur=row["balance_eur"],
            group_aggregated=row["group_aggregated"],
            entity_types=row["nis2_entity_types"],
            designation=None,
            cer_critical_entity=row["cer_critical_entity"],
            sbi_codes=row["sbi_codes"],
            kvk=row.get("kvk", ""),
        ),
    }


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True
