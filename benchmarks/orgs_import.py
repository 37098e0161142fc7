"""Benchmark: bulk import of organisations from a KVK-style CSV.

Generates ``--rows`` organisations (default 10,000) of which ``--bad-ratio`` (default 2 %) are
broken in one column each, imports the file into a fresh SQLite database through the same code
path as ``nca-share orgs import`` and prints the throughput as a JSON last line::

    {"benchmark": "orgs_import", "rows": 10000, "bad_rows": 200, "rows_per_s": ...}
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from nca_share.config import load_settings
from nca_share.constituency.importer import OrganisationImporter
from nca_share.db import Database

_PROVINCES = (
    "Drenthe", "Flevoland", "Fryslân", "Gelderland", "Groningen", "Limburg", "Noord-Brabant",
    "Noord-Holland", "Overijssel", "Utrecht", "Zeeland", "Zuid-Holland",
)  # fmt: skip
_SBI = ("6202", "62.01", "3511", "86101", "1011", "2611", "4941", "6419", "3600", "8411", "4711")
_WORDS = ("Noord", "Delta", "Polder", "Haven", "Duin", "Molen", "Gracht", "Dijk", "Veen", "Brug")
_KINDS = ("B.V.", "N.V.", "Holding B.V.", "Stichting", "Coöperatie U.A.")

#: Ways a generated row is broken: (column, bad value).
BAD_VALUES: tuple[tuple[str, str], ...] = (
    ("KVK-nummer", "1234567"),
    ("KVK-nummer", "12AB5678"),
    ("Handelsnaam", ""),
    ("SBI-code", "62-02x"),
    ("Werkzame personen", "veel"),
    ("Omzet", "-5"),
    ("Provincie", "Brussel"),
    ("E-mailadres", "info(at)example.nl"),
)

HEADER = (
    "KVK-nummer", "Handelsnaam", "SBI-code", "Werkzame personen", "Omzet", "Balanstotaal",
    "Provincie", "Gemeente", "E-mailadres",
)  # fmt: skip


def generate_csv(
    path: Path, *, rows: int = 10_000, bad_ratio: float = 0.02, seed: int = 2026
) -> set[int]:
    """Write ``rows`` organisations to ``path`` (``;``-separated, UTF-8 with BOM).

    :returns: the 1-based file line numbers of the rows made bad on purpose (every
        ``1/bad_ratio``-th row, so exactly ``rows * bad_ratio`` of them).
    """
    rng = random.Random(seed)
    every = round(1 / bad_ratio) if bad_ratio else 0
    bad_lines: set[int] = set()
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(HEADER)
        for n in range(rows):
            kvk = f"{10_000_000 + n * 7:08d}"
            name = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}techniek {n} {rng.choice(_KINDS)}"
            sbi = ";".join(rng.sample(_SBI, rng.randint(1, 2)))
            employees = rng.choice((3, 12, 45, 120, 260, 1200))
            row = {
                "KVK-nummer": kvk,
                "Handelsnaam": name,
                "SBI-code": sbi,
                "Werkzame personen": str(employees),
                "Omzet": str(employees * rng.randint(80_000, 250_000)),
                "Balanstotaal": str(employees * rng.randint(40_000, 200_000)),
                "Provincie": rng.choice(_PROVINCES),
                "Gemeente": f"{rng.choice(_WORDS)}dam",
                "E-mailadres": f"security@org{n}.example.nl",
            }
            if every and (n + 1) % every == 0:
                column, value = BAD_VALUES[(n // every) % len(BAD_VALUES)]
                row[column] = value
                bad_lines.add(n + 2)  # line 1 is the header
            writer.writerow([row[h] for h in HEADER])
    return bad_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad-ratio", type=float, default=0.02)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orgs-import-") as tmp:
        path = Path(tmp) / "organisations.csv"
        generate_csv(path, rows=args.rows, bad_ratio=args.bad_ratio)
        settings = load_settings(data_dir=Path(tmp) / "var")
        database = Database(settings)
        database.upgrade()
        started = time.perf_counter()
        with database.session() as session:
            report = OrganisationImporter(session).import_path(path)
        elapsed = time.perf_counter() - started
        database.dispose()
    result = {
        "benchmark": "orgs_import",
        "rows": report.rows,
        "bad_rows": report.bad_rows,
        "created": report.created,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(report.rows / elapsed, 1),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
