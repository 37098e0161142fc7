"""``nca-share feeds``: add with a secret from stdin, list, show (secret as 'set'), run, allow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nca_share.cli import main
from nca_share.config import Settings
from nca_share.db import Database


@pytest.fixture
def cli_env(settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCA_SHARE_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("NCA_SHARE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NCA_SHARE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("NCA_SHARE_ALLOW_PRIVATE_URLS", "1")


@pytest.mark.usefixtures("cli_env")
def test_feeds_cli_round_trip(tmp_path: Path) -> None:
    """A feed is added (secret via stdin), shown without the secret, run, and listed."""
    runner = CliRunner()
    listing = tmp_path / "l.csv"
    listing.write_text("value\n185.220.101.5\n127.0.0.1\n")
    added = runner.invoke(
        main,
        [
            "feeds",
            "add",
            "list",
            "--type",
            "csv",
            "--url",
            str(listing),
            "--auth",
            "bearer",
            "--secret-stdin",
        ],
        input='{"token": "tok-very-secret"}',
    )
    assert added.exit_code == 0, added.output
    shown = runner.invoke(main, ["feeds", "show", "list"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["secrets"] == "set"
    assert "tok-very-secret" not in shown.output
    ran = runner.invoke(main, ["feeds", "run", "list", "--json"])
    assert ran.exit_code == 0, ran.output
    result = json.loads(ran.output)
    assert (result["added"], result["suppressed"]) == (1, 1)
    listed = runner.invoke(main, ["feeds", "list"])
    assert "list" in listed.output
    suppressed = runner.invoke(main, ["feeds", "suppressed", "--feed", "list"])
    assert "loopback" in suppressed.output
    allowed = runner.invoke(main, ["feeds", "allow", "domain", "Example.NL", "--reason", "own"])
    assert allowed.output.strip() == "allow-listed domain example.nl"
    missing = runner.invoke(main, ["feeds", "run", "nope"])
    assert missing.exit_code != 0
    assert "no feed" in missing.output
