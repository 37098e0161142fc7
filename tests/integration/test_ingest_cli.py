"""``nca-share ingest``: JSON output, exit codes, stdin, URLs, TLP option, re-ingest."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from nca_share.cli import context as cli_context
from nca_share.cli import main
from nca_share.db import Database
from nca_share.stix.models import StixObject
from tests.conftest import SHARED_DATA

APT1 = SHARED_DATA / "oasis-cti-documentation" / "apt1.json"


_OPENED: list[Database] = []


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    """The CLI reads its settings from the environment: point it at the test database and
    track the databases it opens so each run's connections are closed."""
    monkeypatch.setenv("NCA_SHARE_DATABASE_URL", database_url)
    monkeypatch.setenv("NCA_SHARE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NCA_SHARE_ALLOW_PRIVATE_URLS", "true")

    class TrackedDatabase(Database):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _OPENED.append(self)

    monkeypatch.setattr(cli_context, "Database", TrackedDatabase)


def _run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    try:
        result = CliRunner().invoke(main, ["ingest", *args], input=stdin, catch_exceptions=False)
    finally:
        while _OPENED:
            _OPENED.pop().dispose()
    return result.exit_code, result.stdout, result.stderr


def _indicator(**extra: Any) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[url:value = 'http://bad.example/x']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    obj.update(extra)
    return obj


@pytest.mark.usefixtures("cli_env")
def test_json_counts_and_reingest_is_a_noop() -> None:
    """--json prints exactly one object with the five counts; a second run stores nothing."""
    expected = len(json.loads(APT1.read_text())["objects"])
    code, out, _ = _run(str(APT1), "--json")
    assert code == 0
    assert json.loads(out) == {
        "read": expected,
        "stored": expected,
        "new_versions": expected,
        "unchanged": 0,
        "quarantined": 0,
    }
    code, out, _ = _run(str(APT1), "--json")
    assert code == 0
    assert json.loads(out)["new_versions"] == 0
    assert json.loads(out)["unchanged"] == expected


@pytest.mark.usefixtures("cli_env")
def test_quarantine_gives_exit_1_and_a_readable_report(tmp_path: Path) -> None:
    """A bundle with one bad object: exit 1, the good object stored, the problem printed."""
    bad = _indicator(modified="2024-02-30T00:00:00Z")
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [_indicator(), bad]}))
    code, out, _ = _run(str(path))
    assert code == 1
    assert "quarantined 1" in out
    assert f"#1 {bad['id']} modified:" in out
    assert "gelezen 2" in out


@pytest.mark.usefixtures("cli_env")
def test_unreadable_inputs_give_exit_2(tmp_path: Path) -> None:
    """Malformed JSON (with line and column) and a missing file exit with 2."""
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"type": "bundle",\n "objects": [}')
    code, out, err = _run(str(broken), "--json")
    assert code == 2
    assert json.loads(out)["read"] == 0
    assert "line 2, column" in err
    code, _, err = _run(str(tmp_path / "missing.json"))
    assert code == 2
    assert "cannot read file" in err


@pytest.mark.usefixtures("cli_env")
def test_stdin_source_and_tlp_option(database_url: str, settings: Any) -> None:
    """'-' reads standard input; --tlp and --source are recorded on unmarked objects."""
    obj = _indicator()
    code, out, _ = _run(
        "-", "--tlp", "TLP:RED", "--source", "manual", "--json", stdin=json.dumps(obj).encode()
    )
    assert code == 0
    assert json.loads(out)["new_versions"] == 1
    database = Database(settings)
    with database.session() as session:
        row = session.scalars(select(StixObject).where(StixObject.stix_id == obj["id"])).one()
        assert (row.tlp, row.tlp_defaulted, row.source) == (4, True, "manual")
    database.dispose()
    code, _, err = _run("-", "--tlp", "purple", stdin=b"{}")
    assert code == 2
    assert "TLP" in err


@pytest.fixture
def bundle_server() -> Iterator[str]:
    """A loopback HTTP server serving apt1.json at /apt1.json."""
    body = APT1.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/apt1.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("cli_env")
def test_url_input(bundle_server: str) -> None:
    """A URL is fetched through the guarded client; a 404 exits with 2."""
    code, out, _ = _run(f"{bundle_server}/apt1.json", "--json")
    assert code == 0
    assert json.loads(out)["stored"] == len(json.loads(APT1.read_text())["objects"])
    code, _, err = _run(f"{bundle_server}/nothing.json", "--json")
    assert code == 2
    assert "HTTP 404" in err


@pytest.mark.usefixtures("cli_env")
def test_url_input_is_ssrf_guarded(bundle_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without allow_private_urls a loopback URL is refused before any request: exit 2."""
    monkeypatch.setenv("NCA_SHARE_ALLOW_PRIVATE_URLS", "false")
    code, out, err = _run(f"{bundle_server}/apt1.json", "--json")
    assert code == 2
    assert json.loads(out)["read"] == 0
    assert "non-public" in err
