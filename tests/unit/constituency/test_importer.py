"""Bulk import of organisations from KVK-style CSV files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from benchmarks.orgs_import import BAD_VALUES, generate_csv
from nca_share.constituency.importer import OrganisationImporter
from nca_share.constituency.models import Contact, Organisation
from nca_share.constituency.organisations import OrganisationService
from nca_share.db import Database
from nca_share.errors import ParseError

DATA = Path(__file__).resolve().parents[2] / "data" / "constituency"


def _import(database: Database, text: str) -> tuple[dict[str, object], list[Organisation]]:
    with database.session() as session:
        report = OrganisationImporter(session, batch_size=3).import_text(text)
    with database.session() as session:
        orgs = list(session.scalars(select(Organisation).order_by(Organisation.kvk)))
    return report.as_dict(), orgs


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_dutch_headers_any_delimiter(database: Database, delimiter: str) -> None:
    """Dutch KVK headers are recognised whatever the delimiter, and every field is stored."""
    rows = [
        ["KVK-nummer", "Handelsnaam", "SBI-code", "Werkzame personen", "Omzet", "Provincie",
         "Gemeente"],
        ["12345678", "Alfa Zorg B.V.", "86101", "300", "60000000", "Fryslân", "Leeuwarden"],
        ["23456789", "Bravo ICT", "6202", "8", "900000", "noord-holland", "Haarlem"],
    ]  # fmt: skip
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    report, orgs = _import(database, text)
    assert report["bad_rows"] == 0
    assert report["created"] == 2
    alfa = orgs[0]
    assert (alfa.kvk, alfa.name, alfa.sbi_codes, alfa.employees) == (
        "12345678", "Alfa Zorg B.V.", ["86101"], 300
    )  # fmt: skip
    assert (alfa.turnover_eur, alfa.province, alfa.municipality) == (
        60_000_000, "fryslan", "Leeuwarden"
    )  # fmt: skip
    assert orgs[1].province == "noord-holland"


def test_bom_quoting_and_multi_value_cells(database: Database, tmp_path: Path) -> None:
    """A BOM is skipped; quoted cells may hold delimiters and newlines; SBI lists split."""
    path = tmp_path / "orgs.csv"
    path.write_text(
        "kvk,name,sbi,employees,turnover,balance,province,contact email\n"
        '12345678,"Alfa, Zorg\nen Welzijn","86101; 8610, 7211",250,"1.250.000","€ 900000",'
        "Utrecht,Security@Alfa.NL\n",
        encoding="utf-8-sig",
    )
    with database.session() as session:
        report = OrganisationImporter(session).import_path(path)
    assert report.bad_rows == 0, report.errors
    with database.session() as session:
        org = session.scalars(select(Organisation)).one()
        assert org.name == "Alfa, Zorg en Welzijn"
        assert org.sbi_codes == ["86101", "8610", "7211"]
        assert (org.turnover_eur, org.balance_eur) == (1_250_000, 900_000)
        contact = session.scalars(select(Contact)).one()
        assert (contact.email, contact.role) == ("Security@alfa.nl", "primary")


def test_every_bad_row_is_reported_with_line_and_column(database: Database) -> None:
    """Each bad row names its file line and the column at fault; good rows around it stay."""
    text = (DATA / "organisations_mixed.csv").read_text(encoding="utf-8")
    report, orgs = _import(database, text)
    errors = {(e["line"], e["column"]) for e in report["errors"]}  # type: ignore[attr-defined]
    assert errors == {
        (3, "kvk"),
        (4, "name"),
        (5, "sbi_codes"),
        (5, "employees"),
        (7, "province"),
        (8, "contact_email"),
        (10, "*"),
    }
    assert report["bad_rows"] == 6
    assert [o.kvk for o in orgs] == ["10000001", "10000006", "10000009", "10000011"]


def test_upsert_by_kvk_keeps_other_fields(database: Database) -> None:
    """Re-importing a KVK number updates the given columns and keeps the rest."""
    with database.session() as session:
        OrganisationService(session).create(
            {"kvk": "12345678", "name": "Oud", "municipality": "Delft", "employees": 5}
        )
    report, orgs = _import(database, "kvk;naam;werkzame personen\n12345678;Nieuw;40\n")
    assert (report["created"], report["updated"]) == (0, 1)
    assert (orgs[0].name, orgs[0].employees, orgs[0].municipality) == ("Nieuw", 40, "Delft")


def test_unusable_header_is_a_parse_error(database: Database) -> None:
    """A file without KVK or name column is refused before anything is imported."""
    with database.session() as session, pytest.raises(ParseError, match="kvk"):
        OrganisationImporter(session).import_text("naam,plaats\nAlfa,Delft\n")
    with database.session() as session, pytest.raises(ParseError, match="both mean"):
        OrganisationImporter(session).import_text("kvk,KVK-nummer,naam\n1,2,3\n")
    with database.session() as session, pytest.raises(ParseError, match="empty"):
        OrganisationImporter(session).import_text("")


@pytest.mark.slow
def test_ten_thousand_rows_with_two_percent_bad(database: Database, tmp_path: Path) -> None:
    """10,000 generated organisations, 2% bad: every bad row reported, the rest kept."""
    path = tmp_path / "orgs.csv"
    bad_lines = generate_csv(path, rows=10_000, bad_ratio=0.02)
    assert len(bad_lines) == 200
    with database.session() as session:
        report = OrganisationImporter(session).import_path(path)
    assert (report.rows, report.bad_rows, report.created) == (10_000, 200, 9_800)
    assert {e.line for e in report.errors} == bad_lines
    expected_columns = {
        "KVK-nummer": "kvk", "Handelsnaam": "name", "SBI-code": "sbi_codes",
        "Werkzame personen": "employees", "Omzet": "turnover_eur", "Provincie": "province",
        "E-mailadres": "contact_email",
    }  # fmt: skip
    assert {e.column for e in report.errors} == {expected_columns[c] for c, _ in BAD_VALUES}
    assert all(e.message for e in report.errors)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 9_800
        assert session.scalar(select(func.count()).select_from(Contact)) == 9_800


def test_windows_1252_file(database: Database, tmp_path: Path) -> None:
    """A spreadsheet export in Windows-1252 is read as such (accents survive)."""
    path = tmp_path / "export.csv"
    path.write_bytes(
        "KVK-nummer;Handelsnaam;Provincie\r\n12345678;Café Ñandú;Fryslân\r\n".encode("cp1252")
    )
    with database.session() as session:
        report = OrganisationImporter(session).import_path(path)
    assert (report.created, report.bad_rows) == (1, 0)
    with database.session() as session:
        org = session.scalars(select(Organisation)).one()
        assert (org.name, org.province) == ("Café Ñandú", "fryslan")


_FAULTS = {
    "kvk": ("123", "kvk"),
    "name": ("", "name"),
    "employees": ("-1", "employees"),
    "province": ("Atlantis", "province"),
    "email": ("no-at-sign", "contact_email"),
}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([None, *sorted(_FAULTS)]),
            st.text(alphabet="abc ,;\"'\n", max_size=12),
        ),
        min_size=1,
        max_size=30,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_every_bad_row_reported_property(
    database: Database, rows: list[tuple[str | None, str]], delimiter: str
) -> None:
    """Whatever the mix, exactly the broken rows are reported (with their line and column)
    and every other row is stored; quoted names with delimiters and newlines survive."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["KVK-nummer", "Handelsnaam", "Werkzame personen", "Provincie", "E-mail"])
    expected: dict[int, str] = {}
    good: dict[str, str] = {}
    line = 2
    for index, (fault, noise) in enumerate(rows):
        cells = {
            "kvk": f"{20_000_000 + index:08d}",
            "name": f"Org {noise}".strip() or "Org",
            "employees": "12",
            "province": "Utrecht",
            "email": f"info{index}@example.nl",
        }
        if fault is not None:
            cells[fault] = _FAULTS[fault][0]
            expected[line] = _FAULTS[fault][1]
        else:
            good[cells["kvk"]] = " ".join(cells["name"].split())
        writer.writerow(cells.values())
        line += 1 + cells["name"].count("\n")
    with database.session() as session:
        report = OrganisationImporter(session, batch_size=7).import_text(buffer.getvalue())
        stored = dict(
            session.execute(
                select(Organisation.kvk, Organisation.name).where(Organisation.kvk.in_(list(good)))
            ).all()
        )
    assert {e.line: e.column for e in report.errors} == expected
    assert report.bad_rows == len(expected)
    assert stored == good
