"""``nca-share orgs`` and ``nca-share partnerships`` end to end on a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nca_share.cli import context as cli_context
from nca_share.cli import main
from nca_share.db import Database


@pytest.fixture
def run(database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Invoke the CLI against the test database."""
    monkeypatch.setenv("NCA_SHARE_DATABASE_URL", database_url)
    monkeypatch.setenv("NCA_SHARE_DATA_DIR", str(tmp_path / "var"))
    opened: list[Database] = []

    class TrackedDatabase(Database):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(cli_context, "Database", TrackedDatabase)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        while opened:
            opened.pop().dispose()
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_import_show_assets_partnerships(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Import a CSV, show an organisation with its NIS2 reasons, claim an asset, manage a
    partnership's members."""
    csv = tmp_path / "orgs.csv"
    csv.write_text(
        "KVK-nummer;Handelsnaam;SBI-code;Werkzame personen;Provincie;NIS2 entity types\n"
        "12345678;Alfa Net;3513;300;Utrecht;electricity_dso\n"
        "1234;Kapot;;;;\n",
        encoding="utf-8",
    )
    code, out, err = run("orgs", "import", str(csv))
    assert code == 2
    assert "1 created" in out
    assert "line 3: kvk:" in err
    code, out, _ = run("orgs", "import", str(csv), "--json")
    report = json.loads(out)
    assert (report["updated"], report["errors"][0]["line"]) == (1, 3)
    code, out, _ = run("orgs", "show", "12345678")
    assert code == 0
    assert "NIS2: essential (rule 7)" in out
    assert "bijlage I" in out
    code, out, _ = run("orgs", "assets", "add", "12345678", "cidr", "192.0.2.0/24")
    assert "claimed (pending)" in out
    code, out, _ = run("orgs", "assets", "approve", "1", "--by", "analist")
    assert "verified" in out
    code, out, _ = run("partnerships", "create", "--name", "Energie ISAC", "--kind", "sector")
    assert code == 0
    run("partnerships", "add-member", "energie-isac", "12345678")
    code, out, _ = run("partnerships", "members", "energie-isac", "--json")
    assert [m["kvk"] for m in json.loads(out)] == ["12345678"]
    code, out, _ = run("partnerships", "remove", "energie-isac", "12345678")
    assert "removed" in out
    code, out, _ = run("partnerships", "members", "energie-isac", "--all", "--json")
    assert json.loads(out)[0]["status"] == "removed"
    code, out, _ = run("orgs", "show", "12345678", "--json")
    data = json.loads(out)
    assert data["assets"][0]["status"] == "verified"
    assert data["partnerships"] == [
        {"slug": "energie-isac", "name": "Energie ISAC", "status": "removed"}
    ]
    code, out, _ = run(
        "orgs", "designate", "12345678", "--as", "important", "--reason", "x", "--by", "ann"
    )
    assert "NIS2 essential" in out  # a designation never lowers what the law makes essential
    code, out, _ = run("orgs", "maturity", "12345678", "--level", "M2", "--reason", "audit")
    assert "maturity M2" in out
    code, _, err = run("orgs", "designate", "12345678", "--as", "essential")
    assert code == 1
    assert "reason" in err
    code, _, err = run("orgs", "show", "99999999")
    assert code == 1
    assert "no organisation" in err


def test_join_requests_on_the_command_line(run, database: Database) -> None:  # type: ignore[no-untyped-def]
    """Pending join requests are listed and decided by coordinators from the CLI."""
    from nca_share.constituency.organisations import OrganisationService
    from nca_share.constituency.partnerships import PartnershipService

    with database.session() as session:
        org = OrganisationService(session).create({"kvk": "12345678", "name": "Alfa"})
        service = PartnershipService(session, database.settings)
        partnership = service.create(name="Keten Glas", kind="chain")
        request_id = service.request_join(partnership.id, org.id, by="eva", message="graag").id
    code, out, _ = run("partnerships", "requests", "keten-glas")
    assert f"#{request_id} 12345678 Alfa: graag" in out
    code, out, _ = run("partnerships", "decide", "keten-glas", str(request_id), "--approve")
    assert "approved" in out
    code, out, _ = run("partnerships", "members", "keten-glas", "--json")
    assert json.loads(out)[0]["status"] == "active"
    code, _, err = run("partnerships", "decide", "keten-glas", str(request_id), "--reject")
    assert code == 1
    assert "already approved" in err
